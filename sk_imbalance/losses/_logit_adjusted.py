"""Logit-adjusted softmax cross-entropy (Menon et al., ICLR 2021)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._common import reduce_loss

__all__ = ["LogitAdjustedLoss", "logit_adjusted_loss", "logit_adjusted_loss_pairwise"]


def logit_adjusted_loss(logits, target, log_prior, tau=1.0, reduction="mean"):
    r"""Logit-adjusted cross-entropy, softmax form.

    .. math:: \ell(y, f(x)) = -\log \operatorname{softmax}(f(x) + \tau \log \pi)_y

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        Raw scores :math:`f(x)`.
    target : LongTensor of shape (n_samples,)
        Class indices.
    log_prior : Tensor of shape (n_classes,)
        :math:`\log \pi` (finite; smooth empty classes before taking the log).
    tau : float, default=1.0
        Temperature; ``tau=0`` is plain cross-entropy.
    reduction : {"mean", "sum", "none"}, default="mean"

    Returns
    -------
    Tensor
        The loss, reduced as asked.
    """
    adjusted = logits + tau * log_prior.to(dtype=logits.dtype, device=logits.device)
    return F.cross_entropy(adjusted, target, reduction=reduction)


def logit_adjusted_loss_pairwise(logits, target, log_prior, tau=1.0, reduction="mean"):
    r"""The same loss written in its pairwise-margin form.

    .. math:: \ell = \log\Big[1 + \sum_{i \ne y} (\pi_i / \pi_y)^\tau e^{f_i - f_y}\Big]

    Computed as ``logsumexp`` over ``f_i - f_y + tau (log pi_i - log pi_y)`` with the
    ``i = y`` term equal to 0, which is the "1 +". Mathematically equal to
    :func:`logit_adjusted_loss`; kept as an independent reference for tests.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        Raw scores :math:`f(x)`.
    target : LongTensor of shape (n_samples,)
        Class indices.
    log_prior : Tensor of shape (n_classes,)
        :math:`\log \pi`.
    tau : float, default=1.0
        Temperature.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.

    Returns
    -------
    Tensor
        The loss, reduced as asked.
    """
    log_prior = log_prior.to(dtype=logits.dtype, device=logits.device)
    f_y = logits.gather(1, target[:, None])
    lp_y = log_prior[target][:, None]
    margins = logits - f_y + tau * (log_prior[None, :] - lp_y)
    return reduce_loss(torch.logsumexp(margins, dim=1), reduction)


class LogitAdjustedLoss(nn.Module):
    r"""Logit-adjusted softmax cross-entropy as a module.

    ``LogitAdjustedLoss(log_prior, tau)(logits, target)`` equals
    ``F.cross_entropy(logits + tau * log_prior, target)``. With ``tau = 1`` this is also
    the Balanced Softmax loss of Ren et al. (2020); with ``tau = 0`` it is
    ``F.cross_entropy``.

    Parameters
    ----------
    log_prior : Tensor of shape (n_classes,)
        Logarithm of the (smoothed) training class prior.
    tau : float, default=1.0
        Temperature of the adjustment.
    reduction : {"mean", "sum", "none"}, default="mean"
    """

    def __init__(self, log_prior, tau=1.0, reduction="mean"):
        super().__init__()
        self.register_buffer("log_prior", torch.as_tensor(log_prior).detach().clone())
        self.tau = float(tau)
        self.reduction = reduction

    def forward(self, logits, target):
        return logit_adjusted_loss(logits, target, self.log_prior, self.tau, self.reduction)
