"""Vector-scaling loss (Kini, Paraskevas, Oymak and Thrampoulidis, NeurIPS 2021)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["VSLoss", "vs_loss"]


def vs_loss(logits, target, log_prior, gamma=0.2, tau=1.0, reduction="mean"):
    r"""Vector-scaling (VS) loss: multiplicative and additive logit adjustment.

    .. math:: \ell = -\log \operatorname{softmax}(\Delta \odot f(x) + \tau \log \pi)_y,
              \qquad \Delta_c = (\pi_c / \max_k \pi_k)^\gamma

    The multiplicative term shrinks the logits of rare classes during training, so they
    need larger raw margins; it keeps acting after the network separates the training
    data, where an additive adjustment fades (the paper's motivation). ``gamma=0`` is
    :func:`~sk_imbalance.losses.logit_adjusted_loss`; ``gamma=0, tau=0`` is
    cross-entropy. The reference code (``orparask/VS-Loss``) writes
    :math:`\Delta_c = (n_c / n_{\max})^\gamma` and :math:`\iota_c = \tau \log(n_c/n)`,
    the same thing. Predict with the raw logits :math:`f`.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        Raw scores :math:`f(x)`.
    target : LongTensor of shape (n_samples,)
        Class indices.
    log_prior : Tensor of shape (n_classes,)
        :math:`\log \pi` (finite).
    gamma : float >= 0, default=0.2
        Exponent of the multiplicative adjustment.
    tau : float, default=1.0
        Temperature of the additive adjustment.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.

    Returns
    -------
    Tensor
        The loss, reduced as asked.
    """
    log_prior = log_prior.to(dtype=logits.dtype, device=logits.device)
    delta = torch.exp(gamma * (log_prior - log_prior.max()))
    return F.cross_entropy(logits * delta + tau * log_prior, target, reduction=reduction)


class VSLoss(nn.Module):
    r"""The VS loss as a module; see :func:`vs_loss`.

    Parameters
    ----------
    log_prior : Tensor of shape (n_classes,)
        Logarithm of the (smoothed) training class prior.
    gamma : float >= 0, default=0.2
        Exponent of the multiplicative adjustment.
    tau : float, default=1.0
        Temperature of the additive adjustment.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.
    """

    def __init__(self, log_prior, gamma=0.2, tau=1.0, reduction="mean"):
        super().__init__()
        self.register_buffer("log_prior", torch.as_tensor(log_prior).detach().clone())
        self.gamma = float(gamma)
        self.tau = float(tau)
        self.reduction = reduction

    def forward(self, logits, target):
        return vs_loss(logits, target, self.log_prior, self.gamma, self.tau, self.reduction)
