"""Prior shift: estimate a deployment class prior from unlabelled data and correct
posteriors for it (Saerens, Latinne and Decaestecker, 2002).

Works on the probabilities of any classifier whose ``predict_proba`` estimates
``p(y | x)`` under its training prior; the package's classifiers use it through
``fit_prior_shift``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["adjust_to_prior", "estimate_deployment_prior"]


def _check(proba, prior, name="training_prior"):
    proba = np.asarray(proba, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != prior.shape[0]:
        raise ValueError(
            f"`proba` must have shape (n_samples, {prior.shape[0]}); got {proba.shape}."
        )
    if not np.all(np.isfinite(proba)) or np.any(proba < 0):
        raise ValueError("`proba` must hold finite, non-negative probabilities.")
    if np.any(prior <= 0) or not np.isfinite(prior).all():
        raise ValueError(f"`{name}` must be finite and strictly positive; got {prior}.")
    return proba, prior / prior.sum()


def adjust_to_prior(proba, training_prior, new_prior):
    r"""Bayes correction of posteriors for a new class prior.

    .. math:: p_q(y \mid x) \propto \frac{q_y}{\pi_y}\, p_\pi(y \mid x)

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Posteriors under the training prior.
    training_prior, new_prior : array-like of shape (n_classes,)

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Rows sum to 1.
    """
    proba, pi = _check(proba, training_prior)
    q = np.asarray(new_prior, dtype=np.float64)
    q = q / q.sum()
    out = proba * (q / pi)
    total = out.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return out / total


def estimate_deployment_prior(proba, training_prior, *, max_iter=1000, tol=1e-8):
    r"""Estimate the class prior of unlabelled data by expectation-maximisation.

    Starting from the training prior :math:`\pi`, alternate

    - E-step: :math:`w_{iy} \propto (q_y / \pi_y)\, p_\pi(y \mid x_i)` (posteriors
      corrected for the current estimate);
    - M-step: :math:`q_y = \frac{1}{n} \sum_i w_{iy}`;

    until the L1 change of :math:`q` is below ``tol``. This is the maximum-likelihood
    estimate of the deployment prior when the class-conditional densities are unchanged
    and the posteriors are calibrated; over-confident posteriors bias it.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Posteriors of the unlabelled samples under the training prior.
    training_prior : array-like of shape (n_classes,)
        Strictly positive.
    max_iter : int, default=1000
    tol : float, default=1e-8

    Returns
    -------
    prior : ndarray of shape (n_classes,)
    n_iter : int

    References
    ----------
    .. [1] M. Saerens, P. Latinne and C. Decaestecker, "Adjusting the outputs of a
       classifier to new a priori probabilities: a simple procedure", Neural
       Computation 14(1), 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_imbalance.prior_shift import estimate_deployment_prior
    >>> proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.1, 0.9]])
    >>> prior, _ = estimate_deployment_prior(proba, [0.5, 0.5])
    >>> bool(prior[1] > 0.6)
    True
    """
    proba, pi = _check(proba, training_prior)
    if proba.shape[0] == 0:
        raise ValueError("At least one unlabelled sample is needed to estimate a prior.")
    q = pi.copy()
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        new_q = adjust_to_prior(proba, pi, q).mean(axis=0)
        change = np.abs(new_q - q).sum()
        q = new_q
        if change < tol:
            break
    return q, n_iter
