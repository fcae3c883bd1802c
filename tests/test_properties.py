"""Property-based tests over every public estimator (hypothesis).

Whatever a data frame holds, an estimator either fits and predicts correctly or raises
a ``ValueError``/``TypeError`` whose message names the problem. A failed fit leaves the
estimator unfitted, or its previous fit intact; inputs are never modified.

The number of examples comes from the hypothesis profile (``tests/conftest.py``):
``ci`` (default, bounded and reproducible) or ``HYPOTHESIS_PROFILE=thorough``. The cases
that ran are counted per estimator and printed at the end of the pytest run.
"""

import copy
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sk_imbalance import SiameseAMSoftmaxEncoder

from .conftest import CASES, NAMES, SINGLE_LABEL, TINY, fitted_attrs, make, outputs

# A hang fails the test instead of blocking CI (pytest-timeout, a dev dependency).
pytestmark = pytest.mark.timeout(300)

ESTIMATORS = {name: partial(make, name, TINY) for name in NAMES}
#: A few examples per (estimator, bad-input kind): every kind runs for every estimator.
FEW = max(2, settings.default.max_examples // 8)

X_KINDS = [
    "float64", "float32", "int64", "int32", "uint8", "bool", "object", "list", "fortran",
    "readonly", "pd_float", "pd_Float64", "pd_Int64", "pd_boolean", "pd_mixed",
    # views and layouts: strides and byte orders NumPy allows, read-only memory maps
    "reversed rows", "reversed columns", "flipped", "step rows", ">f8", ">f4", "float16",
    "memmap",
]  # fmt: skip
_MEMMAPS = tempfile.TemporaryDirectory(prefix="sk_imbalance-properties-")
Y_KINDS = ["int", "str", "float", "bool", "uint8", "object", "list", "category", "pd_Int64"]


# ------------------------------------------------------------------------------ data
@dataclass
class Case:
    X: object
    y: object
    X_pred: object
    sample_weight: object = None
    params: dict = field(default_factory=dict)
    allowed: list = field(default_factory=list)  # errors this legal input may raise


def _frame(X, dtypes):
    df = pd.DataFrame({f"f{j}": X[:, j] for j in range(X.shape[1])})
    return df.astype({c: dtypes[j % len(dtypes)] for j, c in enumerate(df.columns)})


def _container(X, kind):
    """``X`` (float64, finite) as the container and dtype a user might pass."""
    ints = np.rint(np.clip(X, -1e9, 1e9))
    if kind == "float64":
        return X
    if kind == "float32":
        with np.errstate(over="ignore"):  # huge values become inf: a case of its own
            return X.astype(np.float32)
    if kind in ("int64", "int32"):
        return ints.astype(kind)
    if kind == "uint8":
        return np.abs(np.clip(ints, -255, 255)).astype(np.uint8)
    if kind == "bool":
        return X > 0
    if kind == "object":
        return X.astype(object)
    if kind == "list":
        return X.tolist()
    if kind == "fortran":
        return np.asfortranarray(X)
    if kind == "readonly":
        X = X.copy()
        X.setflags(write=False)
        return X
    if kind == "pd_float":
        return _frame(X, ["float64"])
    if kind == "pd_Float64":
        return _frame(X, ["Float64"])
    if kind == "pd_Int64":
        return _frame(ints, ["Int64"])
    if kind == "pd_boolean":
        return _frame(X > 0, ["boolean"])
    if kind == "reversed rows":
        return np.ascontiguousarray(X[::-1])[::-1]  # the same rows, a negative stride
    if kind == "reversed columns":
        return np.ascontiguousarray(X[:, ::-1])[:, ::-1]
    if kind == "flipped":
        return np.flip(np.ascontiguousarray(np.flip(X)))
    if kind == "step rows":
        wide = np.empty((2 * X.shape[0],) + X.shape[1:])
        wide[::2] = X
        return wide[::2]
    if kind in (">f8", ">f4"):
        with np.errstate(over="ignore"):
            return X.astype(kind)
    if kind == "float16":
        with np.errstate(over="ignore"):
            return X.astype(np.float16)
    if kind == "memmap":
        path = Path(_MEMMAPS.name) / f"X{len(list(Path(_MEMMAPS.name).iterdir()))}.npy"
        np.save(path, X)
        return np.load(path, mmap_mode="r")
    if kind == "pd_mixed":
        return _frame(np.where(np.arange(X.shape[1]) % 5 == 2, X > 0, ints), ["float32", "int64", "bool", "Float64", "Int64"])  # fmt: skip
    raise AssertionError(kind)


def _labels(rng, n, k, kind):
    """``n`` labels of ``k`` classes (each present when ``n >= k``) in a user's container."""
    idx = rng.integers(0, k, n)
    m = min(n, k)
    idx[:m] = np.arange(m)
    rng.shuffle(idx)
    names = [f"class {i}" for i in idx]
    if kind == "int":
        return idx * 3 - 2
    if kind == "str":
        return np.array(names)
    if kind == "float":
        return idx.astype(np.float64)
    if kind == "bool" and k <= 2:
        return idx.astype(bool)
    if kind == "uint8":
        return idx.astype(np.uint8)
    if kind == "object":
        return np.array(names, dtype=object)
    if kind == "list":
        return names
    if kind == "category":  # with an unused category
        return pd.Series(pd.Categorical(names, categories=[f"class {i}" for i in range(k + 1)]))
    return pd.Series(idx, dtype="Int64")  # "pd_Int64", and "bool" with k > 2


def _indicator(rng, n, n_labels, kind):
    Y = (rng.random((n, n_labels)) < 0.4).astype(np.int64)
    if kind == "sparse":  # as MultiLabelBinarizer(sparse_output=True) gives
        return sp.csr_matrix(Y)
    if kind == "bool":
        return Y.astype(bool)
    if kind == "float":
        return Y.astype(np.float64)
    if kind == "frame":
        return pd.DataFrame(Y, columns=[f"label{j}" for j in range(n_labels)]).astype("Int64")
    return Y


def _label_set(y):
    y = y.toarray() if sp.issparse(y) else y
    return set(pd.Series(np.asarray(y, dtype=object).ravel()).tolist())


@st.composite
def valid_cases(draw, name):
    """Random shapes, containers, dtypes, weights and scales of a legal input."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)

    def rarely(value, otherwise):  # a boundary case about once in twenty examples
        return value if draw(st.integers(0, 19)) == 7 else draw(otherwise)

    n = rarely(1, st.integers(2, 40))
    d = draw(st.one_of(st.integers(1, 6), st.integers(n + 1, n + 40)))  # incl. d > n
    k = rarely(1, st.integers(2, 12))
    scale = draw(st.sampled_from([1.0, 1.0, 1.0, 1e-3, 1e4, 1e300]))
    X_all = rng.standard_normal((n + 7, d)) * scale
    structure = draw(st.sampled_from(["random", "duplicate rows", "constant column", "zeros"]))
    if structure == "duplicate rows":
        X_all[1 : n // 2 + 1] = X_all[0]
    elif structure == "constant column":
        X_all[:, 0] = 3.0
    elif structure == "zeros":
        X_all[::2] = 0.0
    x_kind = draw(st.sampled_from(X_KINDS))
    X, X_pred = _container(X_all[:n], x_kind), _container(X_all[n:], x_kind)

    if name == "ZLPRMultiLabelClassifier" and draw(st.booleans()):
        y = _indicator(rng, n, draw(st.integers(1, 8)), draw(st.sampled_from(["int", "bool", "float", "frame", "sparse"])))  # fmt: skip
        dense = y.toarray() if sp.issparse(y) else np.asarray(y)
        n_classes = 2 if dense.shape[1] > 1 else len(_label_set(dense))
    else:
        y = _labels(rng, n, k, draw(st.sampled_from(Y_KINDS)))
        n_classes = len(_label_set(y))
    sw_kind = draw(st.sampled_from([None, None, "uniform", "integers", "scalar", "list", "huge"]))
    sw = {
        None: None,
        "uniform": rng.uniform(0.1, 3.0, n),
        "huge": rng.uniform(0.5, 1.5, n) * 1e308,  # finite, but their sum overflows
        "integers": rng.integers(0, 4, n),
        "scalar": 2.0,
        "list": rng.uniform(0.5, 2.0, n).tolist(),
    }[sw_kind]
    params = {
        "early_stopping": draw(st.booleans()),
        "batch_size": draw(st.sampled_from(["auto", "auto", 1, 3])),
        "dtype": draw(st.sampled_from(["auto", "auto", "float32", "float64"])),
    }
    allowed = []
    if n_classes < 2:
        allowed.append(r"at least 2 (classes|groups)")
    if n < 2:  # scikit-learn's own check, before any label check
        allowed.append(r"1 sample\(s\).*minimum of 2 is required")
    if sw_kind == "integers" and np.any(sw == 0):
        allowed.append(r"positive sample_weight|sum to zero|non-zero")
    if scale > 1e100 or (scale > 6e4 and x_kind == "float16"):  # finite, but overflows
        allowed.append(r"non-finite|not finite|too large|infinity")
    if params["early_stopping"] and n < 10:
        allowed.append(r"early_stopping=True needs more samples|train set will be empty")
    if name == "LogitAdjustedClassifierCV":
        # too few samples for 2 folds, or a fold (named) that the causes above leave
        # without two weighted classes or without a validation split
        allowed.append(
            r"n_splits=2 cannot be greater|Cross-validation fold [12] of 2 could not be "
            r"fitted: \S+ needs (at least 2 classes with positive sample_weight|more samples)"
            r"|Cross-validation fold [12] of 2 could not be fitted: The sample weights"
        )
    return Case(X, y, X_pred, sw, params, allowed)


@st.composite
def good_cases(draw, name):
    """A small legal input of 2-3 classes (each at least 4 times) to corrupt."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.integers(2, 3))
    n = draw(st.integers(4 * k, 24))
    d = draw(st.integers(2, 5))
    X = rng.standard_normal((n + 5, d))
    if name == "ZLPRMultiLabelClassifier":
        y = _indicator(rng, n, k + 1, "int")
        y[:2] = [[0] * (k + 1), [1] * (k + 1)]
    else:
        y = np.repeat(np.arange(k), n // k + 1)[:n] * 2 + 1
        if draw(st.booleans()):
            y = np.array([f"class {v}" for v in y], dtype=object)
        rng.shuffle(y)
    frame = draw(st.booleans())
    X_fit, X_pred = X[:n], X[n:]
    if frame:
        X_fit, X_pred = _frame(X_fit, ["float64"]), _frame(X_pred, ["float64"])
    return Case(X_fit, y, X_pred)


# ------------------------------------------------------------------------ the oracle
def _snapshot(obj):
    return copy.deepcopy(obj)


def _same(a, b):
    if isinstance(a, pd.DataFrame | pd.Series):
        return a.equals(b) and list(a.dtypes if a.ndim == 2 else [a.dtype]) == list(
            b.dtypes if b.ndim == 2 else [b.dtype]
        )
    if sp.issparse(a):
        return (a != b).nnz == 0
    if isinstance(a, np.ndarray) and a.dtype == object:  # None, NaN, pandas.NA
        flat = [pd.Series(v.ravel(), dtype=object) for v in (a, b)]
        return b.dtype == object and a.shape == b.shape and flat[0].equals(flat[1])
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    return a == b or (a != a and b != b)


def _assert_unmodified(before, after):
    for b, a in zip(before, after, strict=True):
        assert _same(b, a), "an input was modified in place"


def _check_outputs(est, case, n_pred):
    """The outputs of a successful fit are correct in shape, range and consistency."""
    Xp = case.X_pred
    d = np.asarray(case.X, dtype=object).shape[1]
    assert est.n_features_in_ == d
    if isinstance(case.X, pd.DataFrame):
        assert list(est.feature_names_in_) == list(case.X.columns)
    else:
        assert not hasattr(est, "feature_names_in_")
    if isinstance(est, SiameseAMSoftmaxEncoder):
        Z = est.transform(Xp)
        assert Z.shape == (n_pred, est.embedding_dim_) and Z.dtype.kind == "f"
        assert np.isfinite(Z).all()
        norms = np.linalg.norm(Z.astype(np.float64), axis=1)
        zero_in = ~np.asarray(Xp, dtype=np.float64).any(axis=1)
        unit = np.abs(norms - 1) < 1e-4
        # a linear encoder maps an all-zero row to the zero vector (no direction)
        assert np.all(unit | (zero_in & (norms == 0))), norms
        sim = est.similarity(Xp, Xp)
        assert sim.shape == (n_pred,) and np.all(np.abs(sim[unit] - 1) < 1e-4)
        return
    pred, proba, scores = outputs(est, Xp)
    tol = 1e-4 if proba.dtype == np.float32 else 1e-9
    assert proba.dtype.kind == "f" and np.isfinite(proba).all() and np.isfinite(scores).all()
    assert np.all((proba >= 0) & (proba <= 1))
    if getattr(est, "target_type_", "labels") == "multilabel":
        n_labels = case.y.shape[1]
        assert pred.shape == proba.shape == scores.shape == (n_pred, n_labels)
        assert set(np.unique(pred)) <= {0, 1}
        np.testing.assert_array_equal(pred, (scores > est.threshold).astype(int))
        return
    assert set(np.asarray(est.classes_, dtype=object).tolist()) == _label_set(case.y)
    n_classes = len(est.classes_)
    assert pred.shape == (n_pred,) and proba.shape == (n_pred, n_classes)
    assert np.isin(pred, est.classes_).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=tol)
    idx = np.searchsorted(est.classes_, pred)
    # predict is the argmax of the probabilities (up to ties made by rounding)
    assert np.all(proba[np.arange(n_pred), idx] >= proba.max(axis=1) - tol)
    if n_classes == 2:
        assert scores.shape == (n_pred,)
    else:
        assert scores.shape == (n_pred, n_classes)


def _check_clear_error(exc, pattern):
    assert isinstance(exc, ValueError | TypeError), f"{type(exc).__name__}: {exc}"
    assert re.search(pattern, str(exc)), f"unclear error for {pattern!r}: {exc}"


def _check_nothing_half_fitted(est, previous):
    """After a failed fit: unfitted, or the previous fit (outputs and attributes) intact."""
    if previous is None:
        with pytest.raises(NotFittedError):
            check_is_fitted(est)
        assert fitted_attrs(est) == []
    else:
        est_prev, X_ref, reference = previous
        assert fitted_attrs(est) == fitted_attrs(est_prev)
        for a, b in zip(outputs(est, X_ref), reference, strict=True):
            np.testing.assert_array_equal(a, b)


_REFERENCE = {}


def _reference_data(name, frame=False):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    if name == "ZLPRMultiLabelClassifier":
        y = (rng.random((30, 3)) < 0.5).astype(int)
    else:
        y = np.arange(30) % 3
    return (_frame(X, ["float64"]) if frame else X), y


def _prefitted(name, frame=False):
    """A copy of ``name`` fitted on fixed good data, and (original, X, its outputs)."""
    if (name, frame) not in _REFERENCE:
        X, y = _reference_data(name, frame)
        est = ESTIMATORS[name]().fit(X, y)
        _REFERENCE[name, frame] = (est, X, outputs(est, X))
    est, X, reference = _REFERENCE[name, frame]
    return copy.deepcopy(est), (est, X, reference)


def _fit_and_check(name, est, case, previous=None):
    """Fit; on success check the outputs, on failure the error and the state."""
    inputs = (case.X, case.y, case.sample_weight, case.X_pred)
    before = _snapshot(inputs)
    n_pred = len(case.X_pred)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.set_params(**case.params).fit(case.X, case.y, sample_weight=case.sample_weight)
            _check_outputs(est, case, n_pred)
    except (ValueError, TypeError) as exc:
        if not case.allowed:
            raise
        _check_clear_error(exc, "|".join(case.allowed))
        _check_nothing_half_fitted(est, previous)
        CASES[name, "clear error (legal but degenerate input)"] += 1
    else:
        CASES[name, "fitted and predicted"] += 1
    _assert_unmodified(before, inputs)


# ---------------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", NAMES)
def test_any_legal_input_fits_and_predicts_correctly(name):
    @given(case=valid_cases(name), refit=st.booleans())
    def run(case, refit):
        if refit:  # also a refit over an earlier fit on other data
            est, previous = _prefitted(name)
        else:
            est, previous = ESTIMATORS[name](), None
        _fit_and_check(name, est, case, previous)

    before = CASES[name, "fitted and predicted"]
    run()
    # a third of the legal inputs at least fit and predict (in the "ci" profile 19 of 30
    # for LogitAdjustedClassifier, 11 for the CV one): degenerate inputs, which must
    # raise a clear error, do not crowd them out and leave the test vacuous
    fitted = CASES[name, "fitted and predicted"] - before
    assert fitted >= settings.default.max_examples // 3, fitted


def _bad_fit(kind, case, name, rng):
    """Corrupt a good case; returns (X, y, sample_weight, params, expected message)."""
    X, y = case.X, case.y
    Xa = np.asarray(X, dtype=np.float64)
    n, d = Xa.shape
    sw, params = None, {}
    i, j = int(rng.integers(n)), int(rng.integers(d))

    def with_value(v, dtype=np.float64):
        Xb = Xa.astype(dtype)
        Xb[i, j] = v
        return Xb

    if kind == "nan":
        return with_value(np.nan), y, sw, params, r"NaN"
    if kind == "inf":
        return with_value(-np.inf), y, sw, params, r"infinity"
    if kind == "nullable NA":
        frame = _frame(Xa, ["Float64"])
        frame.iloc[i, j] = pd.NA
        return frame, y, sw, params, r"NaN"
    if kind == "empty":
        return Xa[:0], np.asarray(y)[:0], sw, params, r"0 sample"
    if kind == "no features":
        return Xa[:, :0], y, sw, params, r"0 feature"
    if kind == "ragged":
        rows = Xa.tolist()
        rows[i] = rows[i][:-1]
        return rows, y, sw, params, r"inhomogeneous|sequence"
    if kind == "sparse":
        return sp.csr_matrix(Xa), y, sw, params, r"[Ss]parse"
    if kind == "strings":
        return with_value("twelve", object), y, sw, params, r"could not convert|string"
    if kind == "complex":
        return Xa + 1j, y, sw, params, r"[Cc]omplex"
    if kind == "3-D":
        return Xa[:, :, None], y, sw, params, r"2D|dim"
    if kind == "y length":
        return Xa, np.asarray(y)[:-1], sw, params, r"inconsistent numbers of samples"
    if kind in ("y NaN", "y None", "y pandas.NA"):  # a missing label
        numeric = np.asarray(y).dtype.kind in "iuf" and kind == "y NaN"
        yb = np.asarray(y, dtype=np.float64 if numeric else object).copy()
        yb.flat[i] = {"y NaN": np.nan, "y None": None, "y pandas.NA": pd.NA}[kind]
        return Xa, yb, sw, params, r"NaN|missing"
    if kind == "one class":
        yb = np.full(n, np.asarray(y).ravel()[0]) if name != "ZLPRMultiLabelClassifier" else np.zeros(n)  # fmt: skip
        return Xa, yb, sw, params, r"at least 2 (classes|groups)"
    if kind == "sparse y":  # legal for the multi-label classifier only
        return Xa, sp.csr_matrix((np.arange(n) % 2)[:, None]), sw, params, r"[Ss]parse"
    if kind == "continuous y":
        return Xa, rng.standard_normal(n), sw, params, r"[Uu]nknown label type|continuous"
    if kind == "mixed label types":
        yb = np.array([1 if t % 2 else "one" for t in range(n)], dtype=object)
        return Xa, yb, sw, params, r"mix types"
    if kind == "indicator values":
        yb = np.asarray(y).copy()
        yb[i, 0] = 2
        return Xa, yb, sw, params, r"0 and 1|[Uu]nknown label type"
    if kind == "weights NaN":
        sw = np.ones(n)
        sw[i] = np.nan
        return Xa, y, sw, params, r"NaN"
    if kind == "weights negative":
        sw = np.ones(n)
        sw[i] = -1.0
        return Xa, y, sw, params, r"[Nn]egative"
    if kind == "weights length":
        return Xa, y, np.ones(n + 1), params, r"sample_weight"
    if kind == "weights all zero":
        return Xa, y, np.zeros(n), params, r"non-zero|sum to zero|positive sample_weight"
    if kind == "weights 2-D":
        return Xa, y, np.ones((n, 2)), params, r"1D|sample_weight"
    if kind == "unseen label in class_weight":
        first = np.unique(np.asarray(y))[0]
        unseen = "never seen" if isinstance(first, str) else 999
        key = "alpha" if name == "FocalClassifier" else "class_weight"  # Focal's weights
        params = {key: {unseen: 2.0, first: 1.0}}
        return Xa, y, sw, params, r"not in class_weight|not in the training data"
    if kind == "one prior per class":
        n_out = len(np.unique(np.asarray(y))) + 1
        key = {"FocalClassifier": "alpha", "ZLPRMultiLabelClassifier": "pos_weight"}.get(
            name, "class_prior"
        )
        params = {key: [1.0 / n_out] * n_out}
        if name == "ZLPRMultiLabelClassifier":
            params = {"loss": "bce", "pos_weight": [1.0] * (np.asarray(y).shape[1] + 1)}
        return Xa, y, sw, params, key
    raise AssertionError(kind)


BAD_FIT = [
    "nan", "inf", "nullable NA", "empty", "no features", "ragged", "sparse", "strings",
    "complex", "3-D", "y length", "y NaN", "y None", "y pandas.NA", "sparse y", "one class", "continuous y", "mixed label types",
    "weights NaN", "weights negative", "weights length", "weights all zero", "weights 2-D",
    "unseen label in class_weight", "one prior per class", "indicator values",
]  # fmt: skip


def _applies(kind, name):
    if kind == "indicator values":
        return name == "ZLPRMultiLabelClassifier"
    if kind == "unseen label in class_weight":
        return name in SINGLE_LABEL
    if kind == "one prior per class":
        return name != "SiameseAMSoftmaxEncoder"
    if kind == "sparse y":
        return name != "ZLPRMultiLabelClassifier"
    return True


@pytest.mark.parametrize(
    "name,kind", [(n, k) for n in NAMES for k in BAD_FIT if _applies(k, n)], ids=str
)
def test_bad_fit_input_raises_clear_error_and_fits_nothing(name, kind):
    @settings(max_examples=FEW)
    @given(case=good_cases(name), seed=st.integers(0, 2**16), refit=st.booleans())
    def run(case, seed, refit):
        X, y, sw, params, pattern = _bad_fit(kind, case, name, np.random.default_rng(seed))
        est, previous = _prefitted(name) if refit else (ESTIMATORS[name](), None)
        before = _snapshot((X, y, sw))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises((ValueError, TypeError)) as info:
                est.set_params(**params).fit(X, y, sample_weight=sw)
        _check_clear_error(info.value, pattern)
        est.set_params(**{k: getattr(ESTIMATORS[name](), k) for k in params})
        _check_nothing_half_fitted(est, previous)
        _assert_unmodified(before, (X, y, sw))
        CASES[name, "clear error (bad fit input)"] += 1

    run()


BAD_PREDICT = {
    "nan": r"NaN",
    "inf": r"infinity",
    "empty": r"0 sample",
    "n_features": r"features|[Ff]eature names",
    "sparse": r"[Ss]parse",
    "ragged": r"inhomogeneous|sequence",
    "strings": r"could not convert|string",
    "1-D": r"2D|reshape",
    "3-D": r"2D|dim",
    "feature names": r"[Ff]eature names",
}


def _bad_predict(kind, X_pred, fitted_on_frame, rng):
    Xa = np.asarray(X_pred, dtype=np.float64).copy()
    n, d = Xa.shape
    i, j = int(rng.integers(n)), int(rng.integers(d))
    if kind in ("nan", "inf"):
        Xa[i, j] = np.nan if kind == "nan" else np.inf
        return Xa
    if kind == "empty":
        return Xa[:0]
    if kind == "n_features":
        extra = np.hstack([Xa, Xa[:, :1]])
        return _frame(extra, ["float64"]) if fitted_on_frame else extra
    if kind == "sparse":
        return sp.csr_matrix(Xa)
    if kind == "ragged":
        rows = Xa.tolist() + [Xa[0].tolist()]
        rows[i] = rows[i] + [1.0]
        return rows
    if kind == "strings":
        Xo = Xa.astype(object)
        Xo[i, j] = "n/a"
        return Xo
    if kind == "1-D":
        return Xa[0]
    if kind == "3-D":
        return Xa[:, :, None]
    if kind == "feature names":  # other names than in fit (or names after a fit without)
        return pd.DataFrame(Xa, columns=[f"other{c}" for c in range(d)])
    raise AssertionError(kind)


@pytest.mark.parametrize("name,kind", [(n, k) for n in NAMES for k in BAD_PREDICT], ids=str)
def test_bad_predict_input_raises_clear_error_and_keeps_the_fit(name, kind):
    @settings(max_examples=FEW)
    @given(n_pred=st.integers(1, 12), seed=st.integers(0, 2**16), frame=st.booleans())
    def run(n_pred, seed, frame):
        est, (_, X_ref, reference) = _prefitted(name, frame)
        rng = np.random.default_rng(seed)
        X_pred = rng.standard_normal((n_pred, 3))
        X_bad = _bad_predict(kind, X_pred, frame, rng)
        if kind == "feature names" and not frame:
            # scikit-learn only warns when names appear after a fit without them
            with pytest.warns(UserWarning, match="feature names"):
                outputs(est, X_bad)
            return
        before = _snapshot(X_bad)
        methods = ["transform"] if name == "SiameseAMSoftmaxEncoder" else ["predict", "predict_proba", "decision_function"]  # fmt: skip
        for method in methods:
            with warnings.catch_warnings(), pytest.raises((ValueError, TypeError)) as info:
                warnings.simplefilter("ignore")  # e.g. "X does not have valid feature names"
                getattr(est, method)(X_bad)
            _check_clear_error(info.value, BAD_PREDICT[kind])
        _assert_unmodified([before], [X_bad])
        for a, b in zip(outputs(est, X_ref), reference, strict=True):
            np.testing.assert_array_equal(a, b)
        CASES[name, "clear error (bad predict input)"] += 1

    run()


@pytest.mark.parametrize("name", SINGLE_LABEL + ["SiameseAMSoftmaxEncoder"])
def test_score_with_unseen_labels_is_a_score_not_an_error(name):
    @settings(max_examples=FEW)
    @given(case=good_cases(name))
    def run(case):
        est = ESTIMATORS[name]()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(case.X, case.y)
        n_pred = len(case.X_pred)
        if isinstance(np.asarray(case.y).ravel()[0], str):
            unseen = np.array([f"new group {t % 2}" for t in range(n_pred)], dtype=object)
        else:
            unseen = 1000 + np.arange(n_pred) % 2
        score = est.score(case.X_pred, unseen)
        if name == "SiameseAMSoftmaxEncoder":  # retrieval of new groups: a valid recall
            assert 0.0 <= score <= 1.0
        else:  # no prediction can be right
            assert score == 0.0
        CASES[name, "scored unseen labels"] += 1

    run()
