"""Fitted starting projections of the similarity encoder (NumPy and scikit-learn).

``fisher_whitening(X, groups, q)`` returns the matrix ``P`` (``z = x @ P``) of a
within-group whitening (Ledoit-Wolf-shrunk pooled within-group covariance, as
``LinearDiscriminantAnalysis(shrinkage="auto")`` shrinks its covariance) followed by
a weighting of the whitened directions by their Fisher ratio to the power ``q``.
``q = 0`` is plain whitening (up to a rotation, which cosines do not see).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from sklearn.covariance import ledoit_wolf
from sklearn.utils.extmath import svd_flip

__all__ = ["fisher_whitening"]

#: Integer sample weights are expanded into repeated residual rows (so that they are
#: exactly repeated items) while their total is at most this many times the rows.
_MAX_REPEAT = 8


def _group_means(X, g, w, n_groups):
    sums = np.zeros((n_groups, X.shape[1]))
    np.add.at(sums, g, w[:, None] * X)
    wsum = np.bincount(g, weights=w, minlength=n_groups)
    return sums / np.maximum(wsum, np.finfo(float).tiny)[:, None], wsum


def _shrunk_within_covariance(R, w):
    """Ledoit-Wolf shrunk covariance of within-group residual rows ``R`` with weights ``w``.

    ``sklearn.covariance.ledoit_wolf`` takes no weights: integer weights repeat rows
    (exact), other weights scale them by ``sqrt(w / mean(w))`` (the covariance is the
    weighted one; the shrinkage intensity is an approximation).
    """
    if np.all(w == np.round(w)) and w.sum() <= _MAX_REPEAT * w.size:
        R = np.repeat(R, w.astype(np.int64), axis=0)
    else:
        R = R * np.sqrt(w / w.mean())[:, None]
    if R.shape[1] == 1:
        return np.atleast_2d(np.mean(R**2)), 0.0
    cov, shrinkage = ledoit_wolf(R, assume_centered=True)
    return cov, float(shrinkage)


def fisher_whitening(X, groups, q=0.0, sample_weight=None):
    r"""Within-group whitening, then each direction weighted by its Fisher ratio to the ``q``.

    ``P = V_w (\Lambda_w / \bar\lambda_w)^{-1/2} V_w^T \, V_b (\Lambda_b / \lambda_{b,max})^q``:
    the first factor whitens the Ledoit-Wolf-shrunk pooled within-group covariance
    (scaled to unit mean eigenvalue); ``V_b, \Lambda_b`` are the eigenvectors and
    eigenvalues of the between-group scatter of the whitened items (the Fisher
    ratios). ``q = 0`` is plain whitening; ``q > 0`` shrinks the directions in which
    the groups do not differ and drops those with a zero ratio.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    groups : ndarray of shape (n_samples,)
    q : float, default=0.0
    sample_weight : ndarray of shape (n_samples,) or None
        Zero-weight items are left out; integer weights equal repeated items.

    Returns
    -------
    P : ndarray of shape (n_features, n_features)
        Embeddings are ``X @ P``. For ``q = 0`` the symmetric whitening matrix; else
        its columns are the whitened Fisher directions (signs made deterministic).
    """
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        finite = bool(np.isfinite(np.einsum("ij,ij->", X, X)))
    if not finite:  # finite values whose squares overflow: no covariance to whiten with
        raise ValueError(
            "The features are too large to whiten: their second moments are not finite "
            "in float64. Scale the input (e.g. with sklearn.preprocessing.StandardScaler)."
        )
    w = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    keep = w > 0
    X, w = X[keep], w[keep]
    _, g = np.unique(np.asarray(groups)[keep], return_inverse=True)
    n_groups = int(g.max()) + 1
    means, wsum = _group_means(X, g, w, n_groups)
    cov, _ = _shrunk_within_covariance(X - means[g], w)
    evals, V = linalg.eigh(cov)
    mu = evals.mean()
    if not mu > 0:  # no within-group variation at all: nothing to whiten
        P = np.eye(X.shape[1])
    else:
        evals = np.maximum(evals, 1e-12 * evals.max())
        P = (V * (evals / mu) ** -0.5) @ V.T
    if not q:
        return P  # symmetric: no arbitrary rotation (or sign) for training to start from
    centred = (means - (wsum @ means) / wsum.sum()) @ P
    between = (centred * wsum[:, None]).T @ centred / wsum.sum()
    lam, Vb = linalg.eigh(between)
    lam = np.maximum(lam, 0.0)
    Vb, _ = svd_flip(Vb, Vb.T)  # deterministic signs
    weights = (lam / lam.max()) ** q if lam.max() > 0 else np.ones_like(lam)
    return (P @ Vb) * weights
