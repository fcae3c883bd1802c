"""Focal loss (Lin et al., ICCV 2017), softmax and sigmoid forms."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._common import class_weighted, reduce_loss

__all__ = ["FocalLoss", "focal_loss", "binary_focal_loss"]


def _modulating(log_p, gamma):
    """``(1 - p)^gamma`` from ``log p``, finite with finite gradients at ``p -> 1``."""
    one_minus_p = -torch.expm1(log_p)
    # (1 - p)^gamma has an infinite derivative at p = 1 when gamma < 1; clamping to the
    # dtype's smallest normal number keeps it finite where the loss is ~0 anyway.
    return one_minus_p.clamp_min(torch.finfo(log_p.dtype).tiny).pow(gamma)


def focal_loss(logits, target, gamma=2.0, alpha=None, label_smoothing=0.0, reduction="mean"):
    r"""Softmax focal loss computed from logits.

    .. math:: \ell(y, f(x)) = -\alpha_y \sum_k q_k (1 - p_k)^\gamma \log p_k,
              \qquad p = \operatorname{softmax}(f(x))

    with :math:`q` the one-hot target, or :math:`(1-\varepsilon)\,\mathrm{onehot}(y) +
    \varepsilon / K` with label smoothing. Without smoothing this is the familiar
    :math:`-\alpha_y (1 - p_y)^\gamma \log p_y`. ``gamma=0, alpha=None,
    label_smoothing=0`` is exactly ``F.cross_entropy(logits, target)``.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        Raw scores.
    target : LongTensor of shape (n_samples,)
        Class indices.
    gamma : float >= 0 or Tensor of shape (n_classes,), default=2.0
        Focusing parameter; 2 is the paper's default. A tensor gives one per class,
        :math:`\gamma_k` in the term of class :math:`k` (without smoothing: the
        sample's true class, :math:`-(1 - p_y)^{\gamma_y} \log p_y`), e.g. 0 for the
        classes whose examples should not be down-weighted when easy.
    alpha : Tensor of shape (n_classes,) or None, default=None
        Per-class weight :math:`\alpha_y` of each sample (by its true class).
    label_smoothing : float in [0, 1), default=0.0
        :math:`\varepsilon` above.
    reduction : {"mean", "sum", "none"}, default="mean"

    Returns
    -------
    Tensor
        The loss, reduced as asked (shape ``(n_samples,)`` for ``"none"``).
    """
    if torch.is_tensor(gamma) and gamma.ndim > 0:
        return _per_class_focal_loss(logits, target, gamma, alpha, label_smoothing, reduction)
    gamma = float(gamma)
    if gamma == 0.0 and alpha is None and label_smoothing == 0.0:
        return F.cross_entropy(logits, target, reduction=reduction)
    if label_smoothing == 0.0:
        if gamma == 0.0:
            loss = F.cross_entropy(logits, target, reduction="none")
        else:
            log_p_t = F.log_softmax(logits, dim=1).gather(1, target[:, None])[:, 0]
            loss = -_modulating(log_p_t, gamma) * log_p_t
    else:
        log_p = F.log_softmax(logits, dim=1)
        factor = _modulating(log_p, gamma) if gamma != 0.0 else 1.0
        loss = -(_smoothed_target(log_p, target, label_smoothing) * factor * log_p).sum(dim=1)
    return reduce_loss(class_weighted(loss, alpha, target), reduction)


def _per_class_focal_loss(logits, target, gamma, alpha, label_smoothing, reduction):
    """:func:`focal_loss` with one focusing parameter per class (``gamma[k]``)."""
    if gamma.shape != (logits.shape[1],):
        raise ValueError(
            f"gamma must be a number or hold one value per class ({logits.shape[1]}); "
            f"got shape {tuple(gamma.shape)}."
        )
    gamma = gamma.to(logits)  # its values are checked once, by FocalLoss (no sync here)
    if label_smoothing == 0.0:
        log_p_t = F.log_softmax(logits, dim=1).gather(1, target[:, None])[:, 0]
        loss = -_modulating(log_p_t, gamma[target]) * log_p_t
    else:
        log_p = F.log_softmax(logits, dim=1)
        q = _smoothed_target(log_p, target, label_smoothing)
        loss = -(q * _modulating(log_p, gamma) * log_p).sum(dim=1)
    return reduce_loss(class_weighted(loss, alpha, target), reduction)


def _smoothed_target(log_p, target, label_smoothing):
    """``(1 - eps) onehot(y) + eps / K`` in the shape and dtype of ``log_p``."""
    q = torch.full_like(log_p, label_smoothing / log_p.shape[1])
    q.scatter_add_(1, target[:, None], torch.full_like(log_p[:, :1], 1.0 - label_smoothing))
    return q


def binary_focal_loss(logits, target, gamma=2.0, alpha=None, reduction="mean"):
    r"""Sigmoid (binary) focal loss from one logit per sample.

    .. math:: \ell = -\alpha_t (1 - p_t)^\gamma \log p_t, \qquad
              \log p_t = \operatorname{logsigmoid}(\pm z)

    with :math:`+z` for positives (``target=1``) and :math:`-z` for negatives,
    :math:`\alpha_t = \alpha` for positives and :math:`1 - \alpha` for negatives
    (Lin et al. use :math:`\alpha=0.25` in detection). ``gamma=0, alpha=None`` is
    exactly ``F.binary_cross_entropy_with_logits``. A two-class softmax focal loss
    (:func:`focal_loss`) is this loss on the logit difference :math:`z = f_1 - f_0`.

    Parameters
    ----------
    logits : Tensor of shape (n_samples,)
    target : Tensor of shape (n_samples,)
        0/1 labels (any dtype).
    gamma : float >= 0, default=2.0
    alpha : float in [0, 1] or None, default=None
    reduction : {"mean", "sum", "none"}, default="mean"

    Returns
    -------
    Tensor
        The loss, reduced as asked (shape ``(n_samples,)`` for ``"none"``).
    """
    target = target.to(logits.dtype)
    if float(gamma) == 0.0:
        loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    else:
        signed = torch.where(target > 0.5, logits, -logits)
        log_p_t = F.logsigmoid(signed)
        loss = -_modulating(log_p_t, float(gamma)) * log_p_t
    if alpha is not None:
        loss = loss * (alpha * target + (1.0 - alpha) * (1.0 - target))
    return reduce_loss(loss, reduction)


class FocalLoss(nn.Module):
    r"""Softmax focal loss as a module; see :func:`focal_loss`.

    Parameters
    ----------
    gamma : float >= 0 or Tensor of shape (n_classes,), default=2.0
        One focusing parameter, or one per class (kept as a buffer; a ValueError
        unless finite and non-negative).
    alpha : Tensor of shape (n_classes,) or None, default=None
    label_smoothing : float in [0, 1), default=0.0
    reduction : {"mean", "sum", "none"}, default="mean"
    """

    def __init__(self, gamma=2.0, alpha=None, label_smoothing=0.0, reduction="mean"):
        super().__init__()
        if torch.is_tensor(gamma) and gamma.ndim > 0:
            if not bool(torch.all(torch.isfinite(gamma) & (gamma >= 0))):
                raise ValueError(f"gamma must be finite and non-negative; got {gamma.tolist()}.")
            self.register_buffer("gamma", gamma.detach().clone())
        else:
            self.gamma = float(gamma)
        self.label_smoothing = float(label_smoothing)
        self.reduction = reduction
        alpha = None if alpha is None else torch.as_tensor(alpha).detach().clone()
        self.register_buffer("alpha", alpha)

    def forward(self, logits, target):
        return focal_loss(
            logits, target, self.gamma, self.alpha, self.label_smoothing, self.reduction
        )
