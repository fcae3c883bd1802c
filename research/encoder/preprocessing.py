"""Fitted preprocessing for the encoder (NumPy): the starting projection ``P0``.

``within_class_whitening(X, groups)`` returns the matrix ``P0 = S_w^{-power}`` of the
shrunk pooled within-group covariance, used as the encoder's fixed starting
projection (the LDA result on text embeddings: spreading the directions in which
items of one group vary little is what transfers to unseen groups).
"""

from __future__ import annotations

import numpy as np


def within_class_scatter(X, groups, sample_weight=None):
    """Pooled within-group covariance ``sum_i w_i (x_i - mu_{g(i)})(...)^T / sum_i w_i``."""
    X = np.asarray(X, dtype=np.float64)
    w = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    _, g = np.unique(groups, return_inverse=True)
    wsum = np.bincount(g, weights=w)
    means = np.stack([np.bincount(g, weights=w * X[:, j]) for j in range(X.shape[1])], 1)
    means /= np.maximum(wsum, 1e-300)[:, None]
    R = (X - means[g]) * np.sqrt(w)[:, None]
    return R.T @ R / w.sum(), R


def _ledoit_wolf_shrinkage(R, S):
    """Ledoit-Wolf shrinkage intensity towards ``mu I`` for residual rows ``R``."""
    n, d = R.shape
    mu = np.trace(S) / d
    delta = np.sum((S - mu * np.eye(d)) ** 2) / d
    beta = np.sum(((R**2).T @ (R**2)) / n - S**2) / (n * d)  # mean of ||x x^T - S||^2 / n
    return float(np.clip(min(beta, delta) / delta if delta > 0 else 1.0, 0.0, 1.0))


def within_class_whitening(X, groups, shrinkage="auto", power=0.5, sample_weight=None):
    r"""``P0 = (\,(1-a) S_w + a \frac{\mathrm{tr} S_w}{d} I\,)^{-power}``, scaled to unit mean eigenvalue.

    Parameters
    ----------
    X : ndarray (n, d)
    groups : array (n,)
    shrinkage : "auto" or float in [0, 1], default="auto"
        ``"auto"``: the Ledoit-Wolf intensity of the within-group residuals (as
        ``LinearDiscriminantAnalysis(shrinkage="auto")``).
    power : float, default=0.5
        0.5 is full whitening, 0 the identity.

    Returns
    -------
    P0 : ndarray (d, d), symmetric
    shrinkage : float, the intensity used
    """
    S, R = within_class_scatter(X, groups, sample_weight)
    d = S.shape[0]
    a = _ledoit_wolf_shrinkage(R, S) if shrinkage == "auto" else float(shrinkage)
    mu = np.trace(S) / d
    S = (1 - a) * S + a * mu * np.eye(d)
    evals, V = np.linalg.eigh(S)
    evals = np.maximum(evals, 1e-12 * max(evals.max(), 1e-300))
    P = (V * (evals / mu) ** -power) @ V.T
    return P, a


def fisher_whitening(X, groups, q=0.5, shrinkage="auto", power=0.5, sample_weight=None):
    r"""Within-group whitening, then each direction weighted by its Fisher ratio to the ``q``.

    ``P0 = P_w V \mathrm{diag}((\lambda / \lambda_{max})^q)``, where ``P_w`` is
    :func:`within_class_whitening` and ``V, \lambda`` are the eigenvectors and
    eigenvalues of the between-group scatter of the whitened training items (the
    Fisher ratios). ``q=0`` is plain whitening (up to a rotation, which a cosine does
    not see); ``q>0`` shrinks the directions in which the training groups do not
    differ, and drops those with a zero ratio (at most ``n_groups - 1`` survive); LDA's
    projection keeps ``n_groups - 1`` directions with equal weight instead.

    Returns
    -------
    P0 : ndarray (d, d)
    shrinkage : float
    """
    P, a = within_class_whitening(X, groups, shrinkage, power, sample_weight)
    Z = np.asarray(X, dtype=np.float64) @ P
    w = np.ones(Z.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    _, g = np.unique(groups, return_inverse=True)
    wsum = np.bincount(g, weights=w)
    means = np.stack([np.bincount(g, weights=w * Z[:, j]) for j in range(Z.shape[1])], 1)
    means = means / wsum[:, None] - (w @ Z) / w.sum()
    Sb = (means * wsum[:, None]).T @ means / w.sum()
    lam, V = np.linalg.eigh(Sb)
    lam = np.maximum(lam, 0.0)
    return P @ V * (lam / max(lam.max(), 1e-300)) ** q, a


def leave_one_out_recall(Z, groups):
    """Leave-one-out recall@1 by cosine (as ``sk_imbalance``'s; unweighted, NumPy)."""
    Z = np.asarray(Z, dtype=np.float64)
    Z = Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)
    _, g, counts = np.unique(groups, return_inverse=True, return_counts=True)
    q = np.flatnonzero(counts[g] > 1)
    sim = Z[q] @ Z.T
    sim[np.arange(q.size), q] = -np.inf
    return float(np.mean(g[np.argmax(sim, axis=1)] == g[q]))


def select_start_projection(X, groups, held_out, candidates=(0.0, 0.25, 0.5), shrinkage="auto"):
    """Choose the encoder's starting projection on held-out groups, before any training.

    Each candidate ``q`` (``None``: the identity) gives
    ``P = fisher_whitening(X[~held_out], q)`` fitted on the other groups; the one with
    the best leave-one-out recall@1 of ``X[held_out] @ P`` wins (ties: the first).
    ``held_out`` is the early-stopping split, so this costs one eigendecomposition
    per candidate and no training.

    Returns
    -------
    q : the chosen candidate
    scores : list of float, one per candidate
    """
    scores = []
    for q in candidates:
        if q is None:
            P = np.eye(X.shape[1])
        else:
            P, _ = fisher_whitening(X[~held_out], groups[~held_out], q, shrinkage)
        scores.append(leave_one_out_recall(X[held_out] @ P, groups[held_out]))
    return candidates[int(np.argmax(scores))], scores


def token_idf(ids, n_tokens):
    """Smooth IDF ``log((1 + n) / (1 + df)) + 1`` of integer token ids (0 = padding).

    ``ids`` : (n_texts, max_len) integer array; ``n_tokens`` : size of the id space
    (hash buckets + 1), so ids absent from training get ``df = 0`` (the largest idf).
    Returns an array of shape ``(max(n_tokens, ids.max() + 1),)``; entry 0 is unused.
    """
    ids = np.asarray(ids).astype(np.int64)
    df = np.zeros(max(int(n_tokens), int(ids.max()) + 1))
    rows = np.repeat(np.arange(ids.shape[0]), ids.shape[1])
    pairs = np.unique(np.stack([rows, ids.ravel()], 1)[ids.ravel() > 0], axis=0)
    np.add.at(df, pairs[:, 1], 1)
    return np.log((1 + ids.shape[0]) / (1 + df)) + 1
