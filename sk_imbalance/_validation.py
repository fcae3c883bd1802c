"""Input validation of the facade: labels, sample weights, and prediction input.

scikit-learn's ``validate_data`` does the standard checks; the helpers here add what
it leaves to the estimator: clear messages for unusable labels, overflow-safe sample
weights, and input that PyTorch can read without another copy.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import _check_sample_weight

__all__ = ["check_labels", "check_weights", "torch_ready", "validate_predict_input"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def check_labels(y):
    """Missing or mutually incomparable labels in ``y`` raise a clear error.

    Object labels (strings, pandas string or categorical columns) are sorted to find
    the classes; a missing value or a mix of strings and numbers would otherwise fail
    there, or in scikit-learn's checks, with an unrelated message.
    """
    if y is None or hasattr(y, "toarray"):  # sparse targets are validated elsewhere
        return
    try:
        flat = np.asarray(y).ravel()
    except (ValueError, TypeError):  # ragged: validation reports it
        return
    if flat.dtype != object or flat.size == 0:
        return
    import pandas as pd

    if pd.isna(flat).any():
        raise ValueError(
            "y contains missing labels (NaN, None or pandas.NA): drop those samples or "
            "fill in their labels."
        )
    try:
        np.unique(flat)
    except TypeError:
        kinds = ", ".join(sorted({type(v).__name__ for v in flat}))
        raise TypeError(
            f"The labels in y mix types that cannot be compared ({kinds}): use labels of "
            "one type, all strings or all numbers."
        ) from None


def check_weights(sample_weight, X):
    """Validated non-negative float64 sample weights, rescaled if their sum overflows.

    Only the ratios of the weights matter. Weights near the float64 maximum would make
    their sums (class masses, the mean that normalises the loss) infinite and the
    training weights silently zero; they are divided by their maximum instead.
    """
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if not np.isfinite(sw.sum()):
        sw = sw / sw.max()
    return sw


def torch_ready(X):
    """``X`` as the network reads it: C-contiguous, in native byte order.

    Returns ``X`` itself when it already is; otherwise one C-ordered copy. Any view
    (negative or step strides, Fortran order, another byte order) then predicts
    exactly as its contiguous copy: the same rows meet the same kernels.
    """
    if X.dtype.isnative and X.flags.c_contiguous:
        return X
    return np.ascontiguousarray(X, dtype=X.dtype.newbyteorder("="))


def validate_predict_input(estimator, X):
    """Validate prediction input of a fitted estimator; returns a float array.

    Fast path for the common case (a C-contiguous, finite float ndarray, model fitted
    without feature names): scikit-learn's full validation costs ~100 us, which would
    dominate single-row prediction. Anything else goes through ``validate_data``,
    which raises the standard errors, and :func:`torch_ready`.
    """
    check_is_fitted(estimator)
    if (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in _FLOATS
        and X.flags.c_contiguous
        and X.shape[0] > 0
        and X.shape[1] == estimator.n_features_in_
        and not hasattr(estimator, "feature_names_in_")
        and (np.isfinite(X.sum()) or np.isfinite(X).all())
    ):
        return X
    return torch_ready(validate_data(estimator, X, reset=False, dtype=[np.float64, np.float32]))
