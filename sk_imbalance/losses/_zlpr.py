r"""Multi-label losses: ZLPR (Su et al., 2022) and, for comparison, per-label BCE and focal.

All three take raw scores ``s`` of shape ``(n_samples, n_labels)`` and a 0/1 target matrix
of the same shape (entries above 0.5 count as positive), return per-sample losses with
``reduction="none"`` and are written so that they stay finite in float16 and bfloat16:
no huge masking constants, only ``-inf`` masks inside ``logsumexp`` (whose appended zero
keeps every row finite) and ``logsigmoid``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._common import reduce_loss

__all__ = [
    "ZLPRLoss",
    "zlpr_loss",
    "zlpr_loss_pairwise",
    "MultiLabelBCELoss",
    "multilabel_bce_loss",
    "MultiLabelFocalLoss",
    "multilabel_focal_loss",
    "ShiftedScoresLoss",
    "shift_scores",
]


def _check_shapes(scores, target):
    if scores.ndim != 2 or scores.shape != target.shape:
        raise ValueError(
            "scores and target must both have shape (n_samples, n_labels); got "
            f"{tuple(scores.shape)} and {tuple(target.shape)}."
        )


def _positive_mask(target):
    return target if target.dtype == torch.bool else target > 0.5


def _lse_with_zero(x):
    """``log(1 + sum_i exp(x_i))`` row-wise, as ``logsumexp([x, 0])``; ``-inf`` entries drop out."""
    zero = x.new_zeros(x.shape[:-1] + (1,))
    return torch.logsumexp(torch.cat([x, zero], dim=-1), dim=-1)


def zlpr_loss(scores, target, reduction="mean"):
    r"""ZLPR ("zero-bounded log-sum-exp & pairwise rank-based") multi-label loss.

    .. math::

        \ell(s, y) = \log\Big(1 + \sum_{i \in N} e^{s_i}\Big)
                   + \log\Big(1 + \sum_{j \in P} e^{-s_j}\Big)

    with :math:`P` the positive and :math:`N` the negative labels of the sample. It
    pushes every positive score above 0 and every negative score below 0, so the
    decision threshold is 0 and needs no tuning. Each term is a ``logsumexp`` over the
    scores of one side with an appended 0 (the other side masked with ``-inf``, which
    ``logsumexp`` and its gradient ignore exactly), so it is stable for any number of
    labels and in half precision; a sample with no positive (or no negative) label
    gets 0 for that term.

    Expanding the product of the two terms gives the pairwise form
    :math:`\log(1 + \sum_{i \in N \cup \{0\},\, j \in P \cup \{0\},\, (i, j) \ne (0, 0)}
    e^{s_i - s_j})` with a "threshold" class of score :math:`s_0 = 0` that ranks
    below every positive and above every negative (:func:`zlpr_loss_pairwise`). With
    one label it is the logistic loss ``binary_cross_entropy_with_logits``.

    Parameters
    ----------
    scores : Tensor of shape (n_samples, n_labels)
        Raw label scores.
    target : Tensor of shape (n_samples, n_labels)
        0/1 (or boolean) indicator of the positive labels; values above 0.5 count as
        positive.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"none"`` returns the per-sample losses, shape ``(n_samples,)``.

    Returns
    -------
    Tensor
        The loss, reduced as asked.

    References
    ----------
    .. [1] J. Su, M. Zhu, A. Murtadha, S. Pan, B. Wen and Y. Liu, "ZLPR: A Novel Loss
       for Multi-label Classification", arXiv:2208.02955, 2022.

    Examples
    --------
    >>> import torch
    >>> s = torch.tensor([[2.0, -1.0, 0.5]])
    >>> y = torch.tensor([[1.0, 0.0, 0.0]])
    >>> round(float(zlpr_loss(s, y)), 4)  # log(1 + e^-1 + e^0.5) + log(1 + e^-2)
    1.2311
    """
    _check_shapes(scores, target)
    pos = _positive_mask(target)
    neg_inf = torch.tensor(float("-inf"), dtype=scores.dtype, device=scores.device)
    loss_neg = _lse_with_zero(torch.where(pos, neg_inf, scores))
    loss_pos = _lse_with_zero(torch.where(pos, -scores, neg_inf))
    return reduce_loss(loss_neg + loss_pos, reduction)


def zlpr_loss_pairwise(scores, target, reduction="mean"):
    r"""The same loss in its pairwise-ranking form (an independent reference for tests).

    .. math:: \ell = \log\Big(1 + \sum_{i \in N \cup \{0\}}\ \sum_{j \in P \cup \{0\}}
              [(i, j) \ne (0, 0)]\; e^{s_i - s_j}\Big), \qquad s_0 = 0

    Uses ``O(n_labels^2)`` memory per sample; prefer :func:`zlpr_loss`.

    Parameters
    ----------
    scores : Tensor of shape (n_samples, n_labels)
        Raw scores.
    target : Tensor of shape (n_samples, n_labels)
        0/1 labels.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.

    Returns
    -------
    Tensor
        The loss, reduced as asked.
    """
    _check_shapes(scores, target)
    pos = _positive_mask(target)
    n = scores.shape[0]
    s = torch.cat([scores.new_zeros(n, 1), scores], dim=1)  # index 0: the threshold
    ones = torch.ones(n, 1, dtype=torch.bool, device=scores.device)
    is_neg = torch.cat([ones, ~pos], dim=1)  # i ranges over N and the threshold
    is_pos = torch.cat([ones, pos], dim=1)  # j ranges over P and the threshold
    diff = s[:, :, None] - s[:, None, :]
    keep = is_neg[:, :, None] & is_pos[:, None, :]
    keep[:, 0, 0] = False
    diff = diff.masked_fill(~keep, float("-inf"))
    return reduce_loss(_lse_with_zero(diff.flatten(1)), reduction)


def multilabel_bce_loss(scores, target, pos_weight=None, reduction="mean"):
    r"""Binary cross-entropy of one sigmoid per label, summed over the labels.

    .. math:: \ell(s, y) = -\sum_i \big[w_i\, y_i \log \sigma(s_i)
              + (1 - y_i) \log \sigma(-s_i)\big]

    with :math:`w_i` the optional ``pos_weight`` (e.g. ``n_negative_i / n_positive_i``;
    1 when not given). Summing over labels (rather than averaging) keeps the per-sample
    loss on the scale of the ZLPR loss. Equals
    ``F.binary_cross_entropy_with_logits(scores, target, pos_weight=pos_weight,
    reduction="none").sum(1)``.

    Parameters
    ----------
    scores : Tensor of shape (n_samples, n_labels)
    target : Tensor of shape (n_samples, n_labels)
        0/1 (or boolean) targets.
    pos_weight : Tensor of shape (n_labels,) or None, default=None
        Weight of the positive term of each label.
    reduction : {"mean", "sum", "none"}, default="mean"

    Returns
    -------
    Tensor
        The loss, reduced as asked (shape ``(n_samples,)`` for ``"none"``).
    """
    _check_shapes(scores, target)
    y = _positive_mask(target).to(scores.dtype)
    pos_term = -F.logsigmoid(scores)
    if pos_weight is not None:
        pos_term = pos_term * pos_weight.to(dtype=scores.dtype, device=scores.device)
    loss = y * pos_term + (1 - y) * -F.logsigmoid(-scores)
    return reduce_loss(loss.sum(dim=1), reduction)


def multilabel_focal_loss(scores, target, gamma=2.0, pos_weight=None, reduction="mean"):
    r"""Sigmoid focal loss (Lin et al., 2017) per label, summed over the labels.

    .. math:: \ell(s, y) = -\sum_i w_i^{y_i} (1 - p_{t,i})^\gamma \log p_{t,i}, \qquad
              p_{t,i} = \sigma\big((2 y_i - 1)\, s_i\big)

    The modulating factor is computed as ``exp(gamma * logsigmoid(-(2y - 1) s))`` and
    the log-probability with ``logsigmoid``, never ``log(p)``, so it is finite for
    extreme scores. ``gamma=0`` gives :func:`multilabel_bce_loss`. ``pos_weight``
    plays the role of the paper's class weight :math:`\alpha` (as a ratio, not in
    [0, 1]).

    Parameters
    ----------
    scores : Tensor of shape (n_samples, n_labels)
    target : Tensor of shape (n_samples, n_labels)
        0/1 (or boolean) targets.
    gamma : float >= 0, default=2.0
        Focusing parameter (the paper's default).
    pos_weight : Tensor of shape (n_labels,) or None, default=None
    reduction : {"mean", "sum", "none"}, default="mean"

    Returns
    -------
    Tensor
        The loss, reduced as asked (shape ``(n_samples,)`` for ``"none"``).
    """
    _check_shapes(scores, target)
    y = _positive_mask(target).to(scores.dtype)
    signed = (2 * y - 1) * scores
    loss = -F.logsigmoid(signed)
    if gamma:
        loss = loss * torch.exp(gamma * F.logsigmoid(-signed))
    if pos_weight is not None:
        w = pos_weight.to(dtype=scores.dtype, device=scores.device)
        loss = loss * (y * w + (1 - y))
    return reduce_loss(loss.sum(dim=1), reduction)


class ZLPRLoss(nn.Module):
    """:func:`zlpr_loss` as a module: ``ZLPRLoss(reduction)(scores, target)``.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.
    """

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, scores, target):
        return zlpr_loss(scores, target, self.reduction)


class MultiLabelBCELoss(nn.Module):
    """:func:`multilabel_bce_loss` as a module, with an optional ``pos_weight`` buffer.

    Parameters
    ----------
    pos_weight : Tensor of shape (n_labels,) or None, default=None
        Weight of each label's positive term.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.
    """

    def __init__(self, pos_weight=None, reduction="mean"):
        super().__init__()
        pw = None if pos_weight is None else torch.as_tensor(pos_weight).detach().clone()
        self.register_buffer("pos_weight", pw)
        self.reduction = reduction

    def forward(self, scores, target):
        return multilabel_bce_loss(scores, target, self.pos_weight, self.reduction)


class MultiLabelFocalLoss(nn.Module):
    """:func:`multilabel_focal_loss` as a module.

    Parameters
    ----------
    gamma : float >= 0, default=2.0
        Focusing parameter.
    pos_weight : Tensor of shape (n_labels,) or None, default=None
        Weight of each label's positive term.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.
    """

    def __init__(self, gamma=2.0, pos_weight=None, reduction="mean"):
        super().__init__()
        pw = None if pos_weight is None else torch.as_tensor(pos_weight).detach().clone()
        self.register_buffer("pos_weight", pw)
        self.gamma = float(gamma)
        self.reduction = reduction

    def forward(self, scores, target):
        return multilabel_focal_loss(scores, target, self.gamma, self.pos_weight, self.reduction)


def shift_scores(scores, offset, bound=None):
    r"""Scores shifted by a per-label ``offset`` inside their bound.

    For bounded scores :math:`s = b \tanh(f / b)` of network outputs :math:`f` (see
    :class:`~sk_imbalance.networks.BoundedScores`) this returns
    :math:`b \tanh((f + \delta) / b)`, the bounded score of the shifted output, computed
    from :math:`s` by the addition formula of tanh,
    :math:`b\,(t + u) / (1 + t u)` with :math:`t = s / b`, :math:`u = \tanh(\delta / b)`
    (exact, with no inverse tanh: its denominator stays above :math:`1 - |u| > 0`).
    Without a bound it is :math:`s + \delta`. A loss applied to the shifted scores trains
    the network's own scores to absorb :math:`-\delta`: the logit adjustment of each
    label (Menon et al., 2021) for multi-label scores.

    Parameters
    ----------
    scores : Tensor of shape (n_samples, n_labels)
        Scores, inside ``(-bound, bound)`` when ``bound`` is given.
    offset : Tensor of shape (n_labels,)
        :math:`\delta`, one per label.
    bound : float > 0 or None, default=None
        :math:`b`.

    Returns
    -------
    Tensor of shape (n_samples, n_labels)
    """
    offset = offset.to(dtype=scores.dtype, device=scores.device)
    if bound is None:
        return scores + offset
    u = torch.tanh(offset / bound)
    return (scores + bound * u) / (1 + scores * (u / bound))


class ShiftedScoresLoss(nn.Module):
    """A multi-label loss applied to :func:`shift_scores` of its input.

    Parameters
    ----------
    loss : torch.nn.Module
        E.g. :class:`ZLPRLoss`; called as ``loss(shifted_scores, target)``.
    offset : Tensor of shape (n_labels,)
        The per-label shift (a buffer).
    bound : float > 0 or None, default=None
        The bound of the scores the loss receives (None: unbounded).
    """

    def __init__(self, loss, offset, bound=None):
        super().__init__()
        self.loss = loss
        self.register_buffer("offset", torch.as_tensor(offset).detach().clone())
        self.bound = None if bound is None else float(bound)

    def forward(self, scores, target):
        return self.loss(shift_scores(scores, self.offset, self.bound), target)
