"""An imbalanced multi-label generator."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.datasets import make_multilabel_classification
from sklearn.utils import check_random_state

from .._compat import Interval, validate_params
from ._long_tail import long_tail_counts

__all__ = ["make_imbalanced_multilabel"]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_labels": [Interval(Integral, 2, None, closed="left")],
        "avg_labels": [Interval(Integral, 1, None, closed="left")],
        "imbalance_ratio": [Interval(Real, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_imbalanced_multilabel(
    n_samples=2000, n_features=40, n_labels=20, avg_labels=3, imbalance_ratio=50, random_state=None
):
    """Multi-label data whose label frequencies follow an exponential long tail.

    Starts from :func:`sklearn.datasets.make_multilabel_classification` and removes
    positives of later labels at random so that label ``j`` keeps about
    ``n_max * imbalance_ratio ** (-j / (n_labels - 1))`` positives (at least one), where
    ``n_max`` is the count of the most frequent label. Features are left unchanged, so
    the removed positives are label noise the model must not be punished for: the
    generator models rare tags that annotators seldom assign.

    Parameters
    ----------
    n_samples, n_features : int
        Size of the data.
    n_labels : int, default=20
        Number of labels (columns of ``Y``).
    avg_labels : int, default=3
        Average number of labels per sample before thinning.
    imbalance_ratio : float >= 1, default=50
        Positives of the most frequent label over those of the rarest.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of int of shape (n_samples, n_labels)
        Indicator matrix, columns ordered from the most to the least frequent label.

    Examples
    --------
    >>> from sk_imbalance.datasets import make_imbalanced_multilabel
    >>> X, Y = make_imbalanced_multilabel(1000, 10, n_labels=5, random_state=0)
    >>> bool(Y.sum(axis=0)[0] > 10 * Y.sum(axis=0)[-1])
    True
    """
    rng = check_random_state(random_state)
    X, Y = make_multilabel_classification(
        n_samples,
        n_features,
        n_classes=n_labels,
        n_labels=avg_labels,
        allow_unlabeled=True,
        random_state=rng.randint(np.iinfo(np.int32).max),
    )
    order = np.argsort(-Y.sum(axis=0), kind="stable")
    Y = Y[:, order]
    counts = Y.sum(axis=0)
    target = long_tail_counts(int(max(counts[0], 1)), n_labels, imbalance_ratio, "exponential")
    for j in range(n_labels):
        pos = np.flatnonzero(Y[:, j])
        if len(pos) > target[j]:
            drop = rng.choice(pos, size=len(pos) - target[j], replace=False)
            Y[drop, j] = 0
    return X, Y.astype(int)
