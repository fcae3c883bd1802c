"""Long-tailed versions of any data set and of data that scikit-learn bundles."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch, check_random_state

from .._compat import Interval, StrOptions, validate_params

__all__ = ["long_tail_counts", "make_long_tailed", "load_long_tailed"]

_BUNDLED = {
    "digits": load_digits,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "iris": load_iris,
}


@validate_params(
    {
        "n_max": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 1, None, closed="left")],
        "imbalance_ratio": [Interval(Real, 1, None, closed="left")],
        "profile": [StrOptions({"exponential", "step"})],
        "step_fraction": [Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def long_tail_counts(n_max, n_classes, imbalance_ratio, profile="exponential", step_fraction=0.5):
    """Per-class sample counts of a long-tailed profile.

    ``"exponential"``: class ``k`` keeps ``n_max * imbalance_ratio ** (-k / (K - 1))``;
    ``"step"``: the first ``ceil((1 - step_fraction) * K)`` classes keep ``n_max``, the
    others ``n_max / imbalance_ratio`` (Cao et al. 2019). Counts are rounded and at
    least 1, so the largest over the smallest is about ``imbalance_ratio``.

    Parameters
    ----------
    n_max : int >= 1
        Count of the largest class.
    n_classes : int >= 1
        Number of classes.
    imbalance_ratio : float >= 1
        Largest count over smallest.
    profile : {"exponential", "step"}, default="exponential"
        The shape of the tail.
    step_fraction : float in (0, 1), default=0.5
        Fraction of minority classes of the ``"step"`` profile.

    Returns
    -------
    ndarray of int of shape (n_classes,)
    """
    k = np.arange(n_classes)
    if profile == "exponential":
        frac = imbalance_ratio ** (-k / max(n_classes - 1, 1))
    else:
        n_many = int(np.ceil((1 - step_fraction) * n_classes))
        frac = np.where(k < n_many, 1.0, 1.0 / imbalance_ratio)
    return np.maximum(1, np.round(n_max * frac)).astype(int)


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "imbalance_ratio": [Interval(Real, 1, None, closed="left")],
        "profile": [StrOptions({"exponential", "step"})],
        "class_order": [None, "array-like"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_long_tailed(
    X, y, imbalance_ratio=100, profile="exponential", class_order=None, random_state=None
):
    """Thin the classes of a data set to a long-tailed profile.

    The most frequent position in ``class_order`` keeps as many samples as the
    smallest class has; each later class keeps fewer, following
    :func:`long_tail_counts`. Samples are drawn without replacement.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data (NumPy or pandas; rows are selected, not copied column-wise).
    y : array-like of shape (n_samples,)
        Class labels.
    imbalance_ratio : float >= 1, default=100
        Size of the head class over the size of the tail class.
    profile : {"exponential", "step"}, default="exponential"
        Shape of the tail.
    class_order : array-like or None, default=None
        Labels from head to tail; ``None`` uses the sorted labels.
    random_state : int, RandomState instance or None, default=None
        Seeds which samples are kept.

    Returns
    -------
    X_lt : same type as ``X``
    y_lt : same type as ``y``

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_imbalance.datasets import make_long_tailed
    >>> X, y = load_digits(return_X_y=True)
    >>> X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=10, random_state=0)
    >>> import numpy as np; np.bincount(y_lt)
    array([174, 135, 104,  81,  63,  48,  37,  29,  22,  17])
    """
    rng = check_random_state(random_state)
    y_arr = np.asarray(y)
    labels, counts = np.unique(y_arr, return_counts=True)
    order = labels if class_order is None else np.asarray(class_order)
    if set(order.tolist()) != set(labels.tolist()) or len(order) != len(labels):
        raise ValueError("`class_order` must list every class label exactly once.")
    keep_counts = long_tail_counts(int(counts.min()), len(order), imbalance_ratio, profile)
    keep = []
    for label, n_keep in zip(order, keep_counts, strict=False):
        idx = np.flatnonzero(y_arr == label)
        keep.append(rng.choice(idx, size=n_keep, replace=False))
    keep = np.sort(np.concatenate(keep))
    take = getattr(X, "iloc", None)
    X_lt = X.iloc[keep] if take is not None else np.asarray(X)[keep]
    y_lt = y.iloc[keep] if hasattr(y, "iloc") else y_arr[keep]
    return X_lt, y_lt


@validate_params(
    {
        "name": [StrOptions(set(_BUNDLED))],
        "imbalance_ratio": [Interval(Real, 1, None, closed="left")],
        "profile": [StrOptions({"exponential", "step"})],
        "test_size": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_long_tailed(
    name="digits", imbalance_ratio=100, profile="exponential", test_size=0.5, random_state=0
):
    """A long-tailed training split and a balanced test split of bundled data.

    The data set is split stratified into train and test; only the training split is
    thinned with :func:`make_long_tailed`, so the test split keeps the original class
    balance (for ``digits``, about 90 images per class). Nothing is downloaded. The
    digits' pixel intensities (0 to 16) are divided by 16; other data sets are
    returned as bundled (standardise them inside your pipeline).

    Parameters
    ----------
    name : {"digits", "wine", "breast_cancer", "iris"}, default="digits"
    imbalance_ratio : float >= 1, default=100
    profile : {"exponential", "step"}, default="exponential"
    test_size : float in (0, 1), default=0.5
    random_state : int, RandomState instance or None, default=0
        Seeds the split and the thinning.

    Returns
    -------
    data : Bunch
        ``X_train``, ``X_test``, ``y_train``, ``y_test``, ``class_counts`` (training
        count per class) and ``name``.

    Examples
    --------
    >>> from sk_imbalance.datasets import load_long_tailed
    >>> data = load_long_tailed("digits", imbalance_ratio=100, random_state=0)
    >>> int(data.class_counts.max()), int(data.class_counts.min())
    (87, 1)
    """
    rng = check_random_state(random_state)
    X, y = _BUNDLED[name](return_X_y=True)
    if name == "digits":
        X = X / 16.0  # pixel intensities 0..16 to [0, 1], a fixed, data-independent scaling
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=rng.randint(np.iinfo(np.int32).max)
    )
    X_train, y_train = make_long_tailed(
        X_train, y_train, imbalance_ratio=imbalance_ratio, profile=profile, random_state=rng
    )
    counts = np.bincount(y_train, minlength=len(np.unique(y)))
    return Bunch(
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        class_counts=counts,
        name=name,
    )
