"""Hard-truncated cross-entropy and its smoothed form (the idea focal loss softens)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._common import class_weighted, reduce_loss

__all__ = ["TruncatedLoss", "truncated_loss"]


def truncated_loss(logits, target, margin=0.7, sharpness=None, alpha=None, reduction="mean"):
    r"""Cross-entropy that ignores examples already classified with confidence.

    .. math:: \ell = -\alpha_y\, \theta(m - p_y) \log p_y,
              \qquad p = \operatorname{softmax}(f(x))

    A sample whose true-class probability exceeds the margin :math:`m` contributes no
    loss (and no gradient). For two classes this is the binary rule "a positive above
    :math:`m` or a negative below :math:`1 - m` is left alone". With ``sharpness``
    :math:`k` the step :math:`\theta(x)` is replaced by the smooth
    :math:`\operatorname{sigmoid}(k x)`, differentiated through. Computed from
    ``log_softmax`` (the step compares :math:`\log p_y` with :math:`\log m`).

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
    target : LongTensor of shape (n_samples,)
    margin : float in (0, 1), default=0.7
        :math:`m`; 0.6 to 0.8 is the usual range.
    sharpness : float > 0 or None, default=None
        :math:`k` of the smooth step; ``None`` is the hard step.
    alpha : Tensor of shape (n_classes,) or None, default=None
        Per-class weight of each sample by its true class.
    reduction : {"mean", "sum", "none"}, default="mean"

    Returns
    -------
    Tensor
        The loss, reduced as asked (shape ``(n_samples,)`` for ``"none"``).
    """
    if not 0.0 < margin < 1.0:
        raise ValueError(f"margin must be in (0, 1); got {margin!r}.")
    log_p_t = F.log_softmax(logits, dim=1).gather(1, target[:, None])[:, 0]
    nll = -log_p_t
    if sharpness is None:
        loss = torch.where(log_p_t > math.log(margin), torch.zeros_like(nll), nll)
    else:
        loss = torch.sigmoid(float(sharpness) * (margin - log_p_t.exp())) * nll
    return reduce_loss(class_weighted(loss, alpha, target), reduction)


class TruncatedLoss(nn.Module):
    """Hard (or smoothly) truncated cross-entropy as a module; see :func:`truncated_loss`.

    Parameters
    ----------
    margin : float in (0, 1), default=0.7
        :math:`m`.
    sharpness : float > 0 or None, default=None
        :math:`k` of the smooth step; ``None`` is the hard step.
    alpha : Tensor of shape (n_classes,) or None, default=None
        Weight of each sample by its true class.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.
    """

    def __init__(self, margin=0.7, sharpness=None, alpha=None, reduction="mean"):
        super().__init__()
        self.margin = float(margin)
        self.sharpness = None if sharpness is None else float(sharpness)
        self.reduction = reduction
        alpha = None if alpha is None else torch.as_tensor(alpha).detach().clone()
        self.register_buffer("alpha", alpha)

    def forward(self, logits, target):
        return truncated_loss(
            logits, target, self.margin, self.sharpness, self.alpha, self.reduction
        )
