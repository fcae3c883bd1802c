"""Metrics that scikit-learn and imbalanced-learn do not have."""

from __future__ import annotations

import numpy as np

__all__ = ["leave_one_out_recall"]


def leave_one_out_recall(embeddings, groups, chunk=2048, sample_weight=None):
    """Leave-one-out top-1 retrieval accuracy (recall@1) by cosine similarity.

    Every item whose group has another member is a query; it is correct when its
    most similar other item (cosine) is of its group. Ties go to the first index.
    With ``sample_weight`` the result is the weighted mean of the queries' hits (the
    items retrieved from do not change), as a classifier's weighted accuracy.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_dims)
        The items' embeddings (need not be normalised).
    groups : array-like of shape (n_samples,)
        The group of each item.
    chunk : int, default=2048
        Queries compared at once (bounds the memory to ``chunk * n_samples``).
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the queries.

    Returns
    -------
    float
        Recall@1 in [0, 1].

    Raises
    ------
    ValueError
        If no group has two members, or the queries' weights sum to zero.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_imbalance.metrics import leave_one_out_recall
    >>> Z = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> leave_one_out_recall(Z, [0, 0, 1, 1])
    1.0
    """
    Z = np.asarray(embeddings, dtype=np.float64)
    Z = Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)
    _, g, counts = np.unique(groups, return_inverse=True, return_counts=True)
    queries = np.flatnonzero(counts[g] > 1)
    if queries.size == 0:
        raise ValueError("No group has two members: leave-one-out retrieval is undefined.")
    w = np.ones(Z.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    if not np.sum(w[queries]) > 0:
        raise ValueError("The queries' sample_weight sums to zero: the recall is undefined.")
    hits = 0.0
    for start in range(0, queries.size, chunk):
        q = queries[start : start + chunk]
        sim = Z[q] @ Z.T
        sim[np.arange(q.size), q] = -np.inf
        hits += np.sum(w[q] * (g[np.argmax(sim, axis=1)] == g[q]))
    return float(hits / np.sum(w[queries]))
