"""Gradient harmonizing classification loss, GHM-C (Li et al., AAAI 2019)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._common import class_weighted, reduce_loss

__all__ = ["GHMCLoss", "ghm_c_loss", "ghm_weights"]


def _bin_index(g, bins):
    return torch.clamp((g * bins).floor().long(), 0, bins - 1)


def _normalise(raw, sample_weight):
    """Scale ``raw`` so that its (sample-weighted) mean is 1."""
    if sample_weight is None:
        return raw * (raw.numel() / raw.sum())
    return raw * (sample_weight.sum() / (sample_weight * raw).sum())


def ghm_weights(g, bins=10, sample_weight=None, density=None):
    r"""GHM-C weights of examples with gradient norms ``g`` in [0, 1].

    :math:`[0, 1]` is split into ``bins`` equal bins; the gradient density of a bin is
    its (weighted) share of the examples divided by the bin width. Each example gets
    :math:`w_i \propto 1 / GD(g_i)`, normalised so that the weights average 1
    (weighted by ``sample_weight`` when given). Crowded bins, the many easy examples
    and the very hard outliers alike, are down-weighted.

    Parameters
    ----------
    g : Tensor of shape (n_samples,)
        Gradient norms, :math:`|p - y|`.
    bins : int, default=10
    sample_weight : Tensor of shape (n_samples,) or None
        Weighted counts (integer weights act as repeated samples).
    density : Tensor of shape (bins,) or None
        Bin shares to use instead of this batch's own (e.g. a moving average).

    Returns
    -------
    weights : Tensor of shape (n_samples,)
        Detached weights, mean 1.
    """
    g = g.detach()
    idx = _bin_index(g, bins)
    if density is None:
        density = batch_density(g, bins, sample_weight)
    d = density.to(g.dtype)[idx]
    # An empty bin can only hold zero-weight samples: give them weight 0, not 1/0.
    raw = torch.where(d > 0, 1.0 / torch.where(d > 0, d, torch.ones_like(d)), torch.zeros_like(d))
    sw = None if sample_weight is None else sample_weight.detach().to(g.dtype)
    return _normalise(raw, sw)


def batch_density(g, bins, sample_weight=None):
    """Share of the (weighted) examples falling in each of ``bins`` bins of [0, 1]."""
    idx = _bin_index(g.detach(), bins)
    w = torch.ones_like(g) if sample_weight is None else sample_weight.detach().to(g.dtype)
    counts = torch.zeros(bins, dtype=g.dtype, device=g.device).index_add_(0, idx, w)
    return counts / counts.sum()


def _gradient_norm(logits, target):
    log_p = F.log_softmax(logits, dim=1)
    log_p_t = log_p.gather(1, target[:, None])[:, 0]
    return -torch.expm1(log_p_t).detach(), -log_p_t  # g = 1 - p_y, and the NLL


def ghm_c_loss(logits, target, bins=10, alpha=None, sample_weight=None, reduction="mean"):
    r"""GHM-C loss of one batch (no moving average), from logits.

    .. math:: \ell_i = \alpha_{y_i}\, w_i \cdot (-\log p_{y_i}), \qquad
              w_i = \frac{1}{GD(g_i)} \Big/ \overline{\frac{1}{GD(g)}},
              \qquad g_i = 1 - p_{y_i}

    :math:`g` is the norm of the cross-entropy gradient with respect to the true
    class's logit (:math:`|p - y|` in the binary case); the weights :math:`w` are
    those of :func:`ghm_weights` (mean 1, detached, as in the paper). ``bins=1`` is
    exactly cross-entropy.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
    target : LongTensor of shape (n_samples,)
    bins : int >= 1, default=10
    alpha : Tensor of shape (n_classes,) or None, default=None
    sample_weight : Tensor of shape (n_samples,) or None, default=None
        Used for the bin counts only (apply it to the returned losses yourself).
    reduction : {"mean", "sum", "none"}, default="mean"

    Returns
    -------
    Tensor
        The loss, reduced as asked (shape ``(n_samples,)`` for ``"none"``).
    """
    g, nll = _gradient_norm(logits, target)
    loss = ghm_weights(g, bins, sample_weight) * nll
    return reduce_loss(class_weighted(loss, alpha, target), reduction)


class GHMCLoss(nn.Module):
    r"""GHM-C loss with an exponential moving average of the gradient density.

    In training mode each call updates ``density`` (the share of examples per bin)
    as ``momentum * density + (1 - momentum) * batch_density`` (the first batch sets
    it) and weights the batch by it; in eval mode the batch's own density is used and
    nothing is updated. ``momentum=0`` is :func:`ghm_c_loss`. The weights are
    renormalised to average 1 on every batch, so the loss keeps the scale of
    cross-entropy. The module accepts ``sample_weight`` (weighted bin counts, so
    integer weights act as repeated samples); ``uses_sample_weight = True`` tells the
    package's training loop to pass it.

    Parameters
    ----------
    bins : int >= 1, default=10
        Number of equal bins of [0, 1] (the paper uses 30 in detection).
    momentum : float in [0, 1), default=0.75
        Momentum of the density's moving average (the paper's 0.75).
    alpha : Tensor of shape (n_classes,) or None, default=None
    reduction : {"mean", "sum", "none"}, default="mean"
    """

    uses_sample_weight = True

    def __init__(self, bins=10, momentum=0.75, alpha=None, reduction="mean"):
        super().__init__()
        if int(bins) < 1:
            raise ValueError(f"bins must be a positive integer; got {bins!r}.")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1); got {momentum!r}.")
        self.bins = int(bins)
        self.momentum = float(momentum)
        self.reduction = reduction
        alpha = None if alpha is None else torch.as_tensor(alpha).detach().clone()
        self.register_buffer("alpha", alpha)
        self.register_buffer("density", None)

    def forward(self, logits, target, sample_weight=None):
        g, nll = _gradient_norm(logits, target)
        density = batch_density(g, self.bins, sample_weight)
        if self.training and self.momentum > 0:
            if self.density is not None:
                density = self.momentum * self.density.to(density) + (1 - self.momentum) * density
            self.density = density
        loss = ghm_weights(g, self.bins, sample_weight, density=density) * nll
        return reduce_loss(class_weighted(loss, self.alpha, target), self.reduction)
