"""Class priors: estimation from (weighted) counts, validation and smoothing, and
prior shift: estimate a deployment class prior from unlabelled data and correct
posteriors for it (Saerens, Latinne and Decaestecker, 2002).

Works on the probabilities of any classifier whose ``predict_proba`` estimates
``p(y | x)`` under its training prior; the package's classifiers use it through
``fit_prior_shift``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["adjust_to_prior", "check_prior", "estimate_deployment_prior", "smooth_prior"]


def smooth_prior(mass):
    """Normalise class masses into a prior with no zero entry.

    A class with zero mass (all its samples have zero weight, or a user prior gives it
    0) gets half the prior of the rarest class that has mass, then the vector is
    renormalised. Classes with mass keep their exact relative frequencies, so the
    estimate equals ``n_y / n`` whenever every class is present, and ``log(prior)`` is
    always finite: an empty class never becomes ``-inf`` and never receives a boost
    larger than the rarest observed class's.

    Parameters
    ----------
    mass : array-like of shape (n_classes,)
        Non-negative (weighted) class counts or probabilities, not all zero.

    Returns
    -------
    ndarray of shape (n_classes,)
        A probability vector with strictly positive entries.

    Raises
    ------
    ValueError
        If no entry is positive.
    """
    mass = np.asarray(mass, dtype=np.float64)
    positive = mass > 0
    if not positive.any():
        raise ValueError("The class prior has no positive entry.")
    prior = mass / mass[positive].sum()
    if not positive.all():
        prior = np.where(positive, prior, 0.5 * prior[positive].min())
        prior = prior / prior.sum()
    return prior


def check_prior(prior, n_classes, name="prior"):
    """Validate a user-given prior (length, finiteness, sign) and smooth it.

    Parameters
    ----------
    prior : array-like of shape (n_classes,)
        Non-negative class weights; normalised to sum to 1.
    n_classes : int
        The number of classes it must have.
    name : str, default="prior"
        The parameter's name, for the error message.

    Returns
    -------
    ndarray of shape (n_classes,)
        The prior, normalised and smoothed as by :func:`smooth_prior`.

    Raises
    ------
    ValueError
        If it has the wrong length, a negative or non-finite entry, or sums to 0.
    """
    arr = np.asarray(prior, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n_classes:
        raise ValueError(
            f"`{name}` must have one entry per class ({n_classes}); got shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
        raise ValueError(
            f"`{name}` must be finite, non-negative and sum to a positive value; got {arr}."
        )
    return smooth_prior(arr)


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
