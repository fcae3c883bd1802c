"""Helpers shared by the calibration research scripts (public sk_imbalance API only).

The package's estimators do not calibrate yet (issue 18 waits for the core refactor), so
the scripts fit ``LogitAdjustedClassifier`` from outside and calibrate its training-prior
logits (``objective="accuracy"``) with ``sk_imbalance.calibration``.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold

from sk_imbalance import LogitAdjustedClassifier


def quiet():
    warnings.filterwarnings("ignore")


def fit_la(X, y, classes, seed, **params):
    """A LogitAdjustedClassifier on (X, y) with an output for every class of ``classes``.

    A class absent from ``y`` (a fold without the rarest class) gets one zero-weight row
    (the mean of X): it contributes no gradient, its prior is smoothed as for an empty
    class, and every fold network scores all classes (as LogitAdjustedClassifierCV does
    internally).
    """
    missing = np.setdiff1d(classes, np.unique(y))
    w = np.ones(len(y))
    if missing.size:
        X = np.vstack([X, np.repeat(X.mean(axis=0, keepdims=True), missing.size, axis=0)])
        y = np.concatenate([y, missing])
        w = np.concatenate([w, np.zeros(missing.size)])
    clf = LogitAdjustedClassifier(random_state=seed, **params)
    return clf.fit(X, y, sample_weight=w if missing.size else None)


def train_prior_logits(clf, X):
    """Scores whose softmax is the network's p(y | x) under its training prior (n, K)."""
    objective = clf.objective
    clf.set_params(objective="accuracy")
    try:
        d = clf.decision_function(X)
    finally:
        clf.set_params(objective=objective)
    return np.column_stack([np.zeros_like(d), d]) if d.ndim == 1 else d


def cross_fit(X, y, classes, seed, n_splits=5, **params):
    """Out-of-fold training-prior logits of ``n_splits`` fold networks.

    Returns (oof_logits, fold_networks, splits).
    """
    skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    splits = list(skf.split(X, y))
    oof = np.zeros((len(y), len(classes)))
    nets = []
    for tr, te in splits:
        net = fit_la(X[tr], y[tr], classes, seed, **params)
        oof[te] = train_prior_logits(net, X[te])
        nets.append(net)
    return oof, nets, splits


def stratified_holdout(y, fraction, seed):
    """Indices (train, held_out): ``floor(fraction * n_k)`` of each class held out (so a
    class with fewer than ``1 / fraction`` samples has none held out)."""
    rng = np.random.default_rng(seed)
    held = []
    for k in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == k))
        held.append(idx[: int(np.floor(fraction * idx.size))])
    held = np.sort(np.concatenate(held))
    return np.setdiff1d(np.arange(len(y)), held), held


def resample_to_prior(y, prior, n, rng):
    """Indices of ``n`` samples (with replacement) whose class counts are multinomial."""
    counts = rng.multinomial(n, prior)
    return np.concatenate(
        [rng.choice(np.flatnonzero(y == k), c, replace=True) for k, c in enumerate(counts)]
    )
