"""Additive-margin softmax (AM-Softmax, Wang et al. 2018; CosFace, Wang et al. 2018)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["AMSoftmaxLoss", "am_softmax_loss"]


def am_softmax_loss(
    cosine, target, scale=30.0, margin=0.35, reduction="mean", log_prior=None, tau=0.0
):
    r"""AM-Softmax loss on cosine logits, optionally logit-adjusted after scaling.

    .. math::

        \ell = -\log \operatorname{softmax}\big(s(\cos - m\,1_y) + \tau \log \pi\big)_y

    computed stably as ``cross_entropy(s * (cos - m * onehot(y)) + tau * log_prior, y)``.
    The log-prior is added to the *scaled* logits: the cosines are bounded, and a
    log-prior added before scaling (``s tau log pi``) would swamp them for any usual
    ``s``. With ``margin=0``, ``scale=1`` and ``tau=0`` it is
    ``F.cross_entropy(cosine, target)``.

    Parameters
    ----------
    cosine : Tensor of shape (n_samples, n_classes)
        Cosines between normalised embeddings and normalised class weights
        (see :func:`sk_imbalance.networks.cosine_logits`).
    target : LongTensor of shape (n_samples,)
        Class (group) indices.
    scale : float, default=30.0
        The scale :math:`s` (the paper's default is 30).
    margin : float, default=0.35
        The additive cosine margin :math:`m` (the paper's default is 0.35).
    reduction : {"mean", "sum", "none"}, default="mean"
    log_prior : Tensor of shape (n_classes,) or None, default=None
        :math:`\log \pi` of the training classes (finite); ``None`` is no adjustment.
    tau : float, default=0.0
        Temperature of the logit adjustment (Menon et al., 2021); 0 is none.

    Returns
    -------
    Tensor
        The loss, reduced as asked (shape ``(n_samples,)`` for ``"none"``).
    """
    onehot = F.one_hot(target, cosine.shape[1]).to(cosine.dtype)
    logits = scale * (cosine - margin * onehot)
    if tau and log_prior is not None:
        logits = logits + tau * log_prior.to(dtype=cosine.dtype, device=cosine.device)
    return F.cross_entropy(logits, target, reduction=reduction)


class AMSoftmaxLoss(nn.Module):
    r"""AM-Softmax loss as a module; the input is cosine logits.

    ``AMSoftmaxLoss(scale, margin)(cosine, target)`` is :func:`am_softmax_loss`.
    The network supplies the cosines between its normalised embeddings and its
    normalised class weights (:func:`sk_imbalance.networks.cosine_logits`), so this
    criterion has no parameters of its own.

    Parameters
    ----------
    scale : float, default=30.0
    margin : float, default=0.35
    reduction : {"mean", "sum", "none"}, default="mean"
    log_prior : Tensor of shape (n_classes,) or None, default=None
        Log-prior of the training classes, added to the scaled logits with weight ``tau``.
    tau : float, default=0.0

    Examples
    --------
    >>> import torch
    >>> import torch.nn.functional as F
    >>> cos = torch.tensor([[0.9, 0.1], [0.2, 0.4]])
    >>> y = torch.tensor([0, 1])
    >>> bool(torch.isclose(AMSoftmaxLoss(scale=1.0, margin=0.0)(cos, y), F.cross_entropy(cos, y)))
    True
    """

    def __init__(self, scale=30.0, margin=0.35, reduction="mean", log_prior=None, tau=0.0):
        super().__init__()
        self.scale = float(scale)
        self.margin = float(margin)
        self.reduction = reduction
        self.tau = float(tau)
        self.register_buffer("log_prior", None if log_prior is None else torch.as_tensor(log_prior))

    def forward(self, cosine, target):
        return am_softmax_loss(
            cosine, target, self.scale, self.margin, self.reduction, self.log_prior, self.tau
        )
