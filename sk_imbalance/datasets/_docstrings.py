"""Real text available offline: docstrings of installed packages, grouped by module."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import warnings

import numpy as np

__all__ = ["load_docstrings"]

_DEFAULT_PACKAGES = ("numpy", "scipy", "sklearn", "torch")


def _summary(doc, max_words):
    """The docstring's description: text before the first numpydoc/Google section."""
    doc = inspect.cleandoc(doc)
    doc = re.split(
        r"\n\s*(Parameters|Args|Arguments|Returns|Examples?|See Also|Notes)\s*:?\s*\n", doc
    )[0]
    words = re.sub(r"\s+", " ", doc).strip().split(" ")
    return " ".join(words[:max_words])


def load_docstrings(packages=_DEFAULT_PACKAGES, min_per_group=8, min_words=8, max_words=80):
    """Docstrings of the public functions and classes of installed packages.

    A real public text collection that needs no download: each item is the
    description part of a docstring (before its "Parameters" section), and its group
    is the module that defines the object (e.g. ``scipy.stats._distn_infrastructure``
    or ``sklearn.linear_model._logistic``). Packages that are not installed are
    skipped; modules that fail to import are skipped silently. The result depends on
    the installed versions.

    Parameters
    ----------
    packages : tuple of str, default=("numpy", "scipy", "sklearn", "torch")
    min_per_group : int, default=8
        Keep the modules defining at least this many documented objects.
    min_words : int, default=8
        Drop descriptions shorter than this.
    max_words : int, default=80
        Truncate descriptions to this many words.

    Returns
    -------
    texts : list of str
    groups : ndarray of str
        The defining module of each text.
    """
    seen, texts, groups = set(), [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for pkg_name in packages:
            try:
                pkg = importlib.import_module(pkg_name)
            except ImportError:
                continue
            names = [pkg_name] + [
                m.name
                for m in pkgutil.walk_packages(pkg.__path__, pkg_name + ".", onerror=lambda _: None)
                if not any(
                    p.startswith("_") or p in ("tests", "testing") for p in m.name.split(".")[1:]
                )
            ]
            for name in sorted(names):
                try:
                    mod = importlib.import_module(name)
                except Exception:  # noqa: BLE001 - optional deps, platform-only modules
                    continue
                for attr, obj in sorted(vars(mod).items()):
                    if attr.startswith("_") or not (
                        inspect.isfunction(obj) or inspect.isclass(obj)
                    ):
                        continue
                    owner = getattr(obj, "__module__", None) or ""
                    doc = getattr(obj, "__doc__", None)
                    if (
                        id(obj) in seen
                        or not owner.startswith(pkg_name)
                        or not isinstance(doc, str)
                    ):
                        continue
                    seen.add(id(obj))
                    text = _summary(doc, max_words)
                    if len(text.split(" ")) >= min_words:
                        texts.append(text)
                        groups.append(owner)
    groups = np.asarray(groups, dtype=object)
    uniq, counts = np.unique(groups, return_counts=True)
    keep = np.isin(groups, uniq[counts >= min_per_group])
    return [t for t, k in zip(texts, keep, strict=True) if k], groups[keep].astype(str)
