"""Label-distribution-aware margin loss with deferred re-weighting (Cao et al., 2019)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._common import reduce_loss

__all__ = ["LDAMLoss", "effective_number_weights", "ldam_loss", "ldam_margins"]


def ldam_margins(class_counts, max_margin=0.5):
    r"""LDAM's class margins :math:`m_c = C / n_c^{1/4}`, the largest equal to ``max_margin``.

    Parameters
    ----------
    class_counts : Tensor of shape (n_classes,)
        (Weighted) training counts; a class with none counts as one sample.
    max_margin : float >= 0, default=0.5
        The margin of the rarest class (the paper's 0.5).

    Returns
    -------
    Tensor of shape (n_classes,)
        The margins.
    """
    m = torch.as_tensor(class_counts, dtype=torch.float64).clamp_min(1.0).pow(-0.25)
    return m * (float(max_margin) / m.max())


def effective_number_weights(class_counts, beta=0.9999):
    r"""Class-balanced weights by the effective number of samples (Cui et al., 2019).

    :math:`w_c \propto (1 - \beta) / (1 - \beta^{n_c})`, normalised to sum to the number
    of classes: what LDAM-DRW switches on in its second phase.

    Parameters
    ----------
    class_counts : Tensor of shape (n_classes,)
        (Weighted) training counts; a class with none counts as one sample.
    beta : float in [0, 1), default=0.9999
        The paper's 0.9999; ``beta=0`` gives equal weights.

    Returns
    -------
    Tensor of shape (n_classes,)
        The weights.
    """
    n = torch.as_tensor(class_counts, dtype=torch.float64).clamp_min(1.0)
    w = (1.0 - beta) / (1.0 - beta**n)
    return w * (len(n) / w.sum())


def ldam_loss(logits, target, margins, scale=1.0, weight=None, reduction="mean"):
    r"""LDAM loss: cross-entropy after subtracting the true class's margin from its logit.

    .. math:: \ell = -w_y \log \frac{e^{s (f_y - m_y)}}{e^{s (f_y - m_y)} + \sum_{j \ne y} e^{s f_j}}

    ``margins=0, scale=1, weight=None`` is cross-entropy. The reference code
    (``kaidic/LDAM-DRW``) uses a normalised (cosine) head with ``s = 30``; on an MLP's
    unnormalised logits the scale is a temperature and 1 keeps their own scale.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        Raw scores :math:`f(x)`.
    target : LongTensor of shape (n_samples,)
        Class indices.
    margins : Tensor of shape (n_classes,)
        :math:`m` (see :func:`ldam_margins`).
    scale : float > 0, default=1.0
        :math:`s`.
    weight : Tensor of shape (n_classes,) or None, default=None
        Class weights :math:`w` (each sample's by its true class).
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.

    Returns
    -------
    Tensor
        The loss, reduced as asked.
    """
    margins = margins.to(dtype=logits.dtype, device=logits.device)
    onehot = F.one_hot(target, logits.shape[-1]).to(logits.dtype)
    loss = F.cross_entropy(scale * (logits - onehot * margins), target, reduction="none")
    if weight is not None:
        loss = loss * weight.to(dtype=loss.dtype, device=loss.device)[target]
    return reduce_loss(loss, reduction)


class LDAMLoss(nn.Module):
    r"""LDAM with deferred re-weighting (LDAM-DRW) as a module.

    Unweighted :func:`ldam_loss` for the first ``drw_start`` of training, then the
    class-balanced weights :func:`effective_number_weights` (the paper switches at
    epoch 160 of 200: ``drw_start=0.8``). The training loop reports its progress
    through :meth:`set_progress`; without it the loss stays unweighted.

    Parameters
    ----------
    class_counts : Tensor of shape (n_classes,)
        (Weighted) training counts.
    max_margin : float >= 0, default=0.5
        The rarest class's margin.
    scale : float > 0, default=1.0
        Temperature of the logits (see :func:`ldam_loss`).
    drw_start : float in [0, 1], default=0.8
        Fraction of training after which the class weights are switched on (1: never).
    beta : float in [0, 1), default=0.9999
        Of :func:`effective_number_weights`.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.
    """

    def __init__(
        self, class_counts, max_margin=0.5, scale=1.0, drw_start=0.8, beta=0.9999, reduction="mean"
    ):
        super().__init__()
        self.register_buffer("margins", ldam_margins(class_counts, max_margin))
        self.register_buffer("drw_weight", effective_number_weights(class_counts, beta))
        self.scale = float(scale)
        self.drw_start = float(drw_start)
        self.reduction = reduction
        self.progress = 0.0

    def set_progress(self, fraction):
        """Record the fraction of training done (0 at the start, 1 at the end).

        Parameters
        ----------
        fraction : float
            Epochs done over the epochs planned.
        """
        self.progress = float(fraction)

    def forward(self, logits, target):
        weight = self.drw_weight if self.progress >= self.drw_start else None
        return ldam_loss(logits, target, self.margins, self.scale, weight, self.reduction)
