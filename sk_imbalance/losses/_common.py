"""What the losses share: the reduction, class weighting by the true class, and a
criterion that trains with one loss's gradient while reporting another's value."""

from __future__ import annotations

from torch import nn

__all__ = ["ReportedLoss", "class_weighted", "reduce_loss"]

_REDUCTIONS = ("mean", "sum", "none")


def reduce_loss(loss, reduction):
    """Reduce per-sample losses: ``"mean"``, ``"sum"`` or ``"none"`` (unchanged)."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be one of {_REDUCTIONS}; got {reduction!r}.")


def class_weighted(loss, alpha, target):
    """Per-sample losses times the weight ``alpha[target]`` of each sample's true class.

    ``alpha=None`` leaves the losses unchanged.
    """
    if alpha is None:
        return loss
    return loss * alpha.to(dtype=loss.dtype, device=loss.device)[target]


class ReportedLoss(nn.Module):
    r"""Train with ``loss``'s gradient, report ``report``'s value.

    The returned value equals ``report(logits, target)`` and its gradient is that of
    ``loss(logits, target)``. Useful for a reweighting loss whose weights move while
    the network learns (GHM-C), so that its value does not decrease as the network
    improves: the stopping rule and ``loss_curve_`` then track ``report`` instead.
    Keyword arguments (``sample_weight``) reach ``loss`` only;
    ``uses_sample_weight`` is ``loss``'s.

    Parameters
    ----------
    loss : torch.nn.Module
        The training criterion (per-sample losses).
    report : torch.nn.Module
        The criterion whose value is returned (per-sample losses).
    """

    def __init__(self, loss, report):
        super().__init__()
        self.loss = loss
        self.report = report
        self.uses_sample_weight = getattr(loss, "uses_sample_weight", False)

    def forward(self, logits, target, **kwargs):
        train = self.loss(logits, target, **kwargs)
        shown = self.report(logits.detach(), target)
        return shown.detach() + (train - train.detach())
