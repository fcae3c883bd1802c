"""Every public class, method and function documents its signature (numpydoc).

numpydoc's validation (what scikit-learn's ``test_docstrings`` uses) over the public
API: each documented parameter exists, each parameter is documented, a docstring has a
summary and, where it returns something, a Returns section; and every
``default=...`` a parameter's description states is the signature's default (the
shared-parameter template is filled per estimator, so this catches a wrong one).
"""

import importlib
import inspect
import re

import pytest
from numpydoc.docscrape import NumpyDocString
from numpydoc.validate import validate

import sk_imbalance

#: The public modules whose ``__all__`` is the API.
MODULES = [
    "sk_imbalance",
    "sk_imbalance.losses",
    "sk_imbalance.networks",
    "sk_imbalance.metrics",
    "sk_imbalance.calibration",
    "sk_imbalance.prior_shift",
    "sk_imbalance.datasets",
    "sk_imbalance.benchmark",
]

#: The checks run: no docstring (GL08), unknown or undocumented parameters (PR01,
#: PR02), parameters out of order (PR03), no summary (SS01..SS03), no Returns (RT01).
CHECKED = {"GL08", "PR01", "PR02", "PR03", "SS01", "SS02", "SS03", "RT01"}


def _public_objects():
    seen = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or obj in seen:
                continue
            if inspect.isclass(obj) and issubclass(obj, Warning):
                continue  # warnings document their constructor in the class docstring
            seen.add(obj)
            path = f"{obj.__module__}.{obj.__qualname__}"
            yield path, obj
            if inspect.isclass(obj) and not issubclass(obj, Exception):
                for meth_name, meth in vars(obj).items():
                    if meth_name.startswith("_") or not inspect.isfunction(meth):
                        continue
                    if meth_name == "forward":  # a module's call, documented by its class
                        continue
                    yield f"{path}.{meth_name}", meth
                # methods inherited from the package's own base classes
                for base in obj.__mro__[1:]:
                    if not base.__module__.startswith("sk_imbalance"):
                        continue
                    for meth_name, meth in vars(base).items():
                        if (
                            not meth_name.startswith("_")
                            and inspect.isfunction(meth)
                            and meth_name not in vars(obj)
                        ):
                            yield f"{base.__module__}.{base.__qualname__}.{meth_name}", meth


OBJECTS = dict(_public_objects())


@pytest.mark.parametrize("path", sorted(OBJECTS))
def test_docstring_matches_signature(path):
    obj = OBJECTS[path]
    result = validate(path)
    errors = [(code, msg) for code, msg in result["errors"] if code in CHECKED]
    if inspect.isclass(obj):
        # a class documents its __init__'s parameters; RT01 does not apply
        errors = [(c, m) for c, m in errors if c != "RT01"]
    assert not errors, "\n".join(f"{path}: {code} {msg}" for code, msg in errors)


def _stated_defaults(cls):
    doc = NumpyDocString(inspect.getdoc(cls))
    for param in doc["Parameters"]:
        match = re.search(r"default=(.+)$", param.type)
        if match:
            for name in [n.strip() for n in param.name.split(",")]:
                yield name, match.group(1).strip()


@pytest.mark.parametrize(
    "name",
    [n for n in sk_imbalance.__all__ if inspect.isclass(getattr(sk_imbalance, n))
     and not issubclass(getattr(sk_imbalance, n), Warning)],
)  # fmt: skip
def test_documented_defaults_are_the_signature_defaults(name):
    cls = getattr(sk_imbalance, name)
    signature = inspect.signature(cls.__init__).parameters
    stated = dict(_stated_defaults(cls))
    assert stated, f"{name} states no default"
    for param, text in stated.items():
        assert param in signature, f"{name} documents an unknown parameter {param!r}"
        default = signature[param].default
        expected = {repr(default), f'"{default}"', str(default)}
        assert text in expected, f"{name}.{param}: documented default={text}, signature {default!r}"
