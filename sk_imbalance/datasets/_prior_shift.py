"""A data set with a known class-prior shift between training and deployment."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch, check_random_state

__all__ = ["make_prior_shift"]


def make_prior_shift(
    train_prior=(0.6, 0.25, 0.1, 0.05),
    deploy_prior=(0.1, 0.2, 0.3, 0.4),
    n_train=1200,
    n_deploy=1400,
    class_sep=2.0,
    random_state=0,
):
    """Training and deployment samples of the same classes, with different class mixes.

    ``make_classification`` (10 standardised features, one cluster per class) is split in
    half; each half is subsampled without replacement to its prior, so only the class mix
    changes, not :math:`p(x \\mid y)`: the setting of prior-shift correction.

    Parameters
    ----------
    train_prior, deploy_prior : sequence of float
        Class mixes (one entry per class) of the two parts.
    n_train, n_deploy : int
        Sizes of the two parts (each class keeps ``int(prior * n)`` samples).
    class_sep : float, default=2.0
        Separation of the classes (``make_classification``).
    random_state : int, default=0

    Returns
    -------
    data : Bunch
        ``X_train``, ``y_train``, ``X_deploy``, ``y_deploy``.

    Examples
    --------
    >>> from sk_imbalance.datasets import make_prior_shift
    >>> d = make_prior_shift(random_state=0)
    >>> import numpy as np; np.bincount(d.y_deploy).tolist()
    [140, 280, 420, 560]
    """
    rng = check_random_state(random_state)
    k = len(train_prior)
    if len(deploy_prior) != k:
        raise ValueError("train_prior and deploy_prior need one entry per class each.")
    X, y = make_classification(
        3000 * k // 2,
        10,
        n_informative=6,
        n_redundant=0,
        n_classes=k,
        n_clusters_per_class=1,
        class_sep=class_sep,
        random_state=rng.randint(np.iinfo(np.int32).max),
    )
    X = StandardScaler().fit_transform(X)
    X_a, X_b, y_a, y_b = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=rng.randint(np.iinfo(np.int32).max)
    )

    def take(y_part, prior, n):
        return np.concatenate(
            [
                rng.choice(np.flatnonzero(y_part == c), int(p * n), replace=False)
                for c, p in enumerate(prior)
            ]
        )

    tr, te = take(y_a, train_prior, n_train), take(y_b, deploy_prior, n_deploy)
    return Bunch(X_train=X_a[tr], y_train=y_a[tr], X_deploy=X_b[te], y_deploy=y_b[te])
