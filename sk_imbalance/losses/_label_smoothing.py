"""Label-smoothed cross-entropy (Szegedy et al., CVPR 2016)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._common import class_weighted, reduce_loss

__all__ = ["LabelSmoothingLoss", "label_smoothing_loss"]


def label_smoothing_loss(logits, target, label_smoothing=0.1, alpha=None, reduction="mean"):
    r"""Cross-entropy against smoothed targets, from logits.

    .. math:: \ell = -\alpha_y \sum_k q_k \log p_k
              = \alpha_y\Big[(1-\varepsilon)(-\log p_y)
                + \frac{\varepsilon}{K}\sum_k (-\log p_k)\Big],
              \qquad q = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon / K

    A regulariser against over-confident logits. Without ``alpha`` it equals
    ``F.cross_entropy(logits, target, label_smoothing=eps)``; ``label_smoothing=0`` is
    plain cross-entropy.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
    target : LongTensor of shape (n_samples,)
    label_smoothing : float in [0, 1), default=0.1
        :math:`\varepsilon`.
    alpha : Tensor of shape (n_classes,) or None, default=None
        Weight of each sample by its true class (unlike ``F.cross_entropy``'s
        ``weight``, it does not reweight the smoothing term class by class).
    reduction : {"mean", "sum", "none"}, default="mean"

    Returns
    -------
    Tensor
        The loss, reduced as asked (shape ``(n_samples,)`` for ``"none"``).
    """
    eps = float(label_smoothing)
    if not 0.0 <= eps < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing!r}.")
    if eps == 0.0:
        loss = F.cross_entropy(logits, target, reduction="none")
    else:
        log_p = F.log_softmax(logits, dim=1)
        nll = -log_p.gather(1, target[:, None])[:, 0]
        loss = (1.0 - eps) * nll - eps * log_p.mean(dim=1)
    return reduce_loss(class_weighted(loss, alpha, target), reduction)


class LabelSmoothingLoss(nn.Module):
    r"""Label-smoothed cross-entropy as a module; see :func:`label_smoothing_loss`.

    Parameters
    ----------
    label_smoothing : float in [0, 1), default=0.1
        :math:`\varepsilon`.
    alpha : Tensor of shape (n_classes,) or None, default=None
        Weight of each sample by its true class.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.
    """

    def __init__(self, label_smoothing=0.1, alpha=None, reduction="mean"):
        super().__init__()
        self.label_smoothing = float(label_smoothing)
        self.reduction = reduction
        alpha = None if alpha is None else torch.as_tensor(alpha).detach().clone()
        self.register_buffer("alpha", alpha)

    def forward(self, logits, target):
        return label_smoothing_loss(
            logits, target, self.label_smoothing, self.alpha, self.reduction
        )
