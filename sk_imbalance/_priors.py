"""Class priors: estimation from (weighted) counts, validation and smoothing."""

from __future__ import annotations

import numpy as np

__all__ = ["smooth_prior", "check_prior"]


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


def check_prior(prior, n_classes, name):
    """Validate a user-given prior (length, finiteness, sign) and smooth it.

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
