"""What the losses share: the reduction, class weighting by the true class, and a
criterion that trains with one loss's gradient while reporting another's value."""

from __future__ import annotations

from torch import nn

__all__ = ["MemberMean", "ReportedLoss", "class_weighted", "reduce_loss"]

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


class MemberMean(nn.Module):
    """Apply a per-sample criterion to every member of an ensemble's outputs, then average.

    Outputs of shape ``(batch, n_members, ...)`` (an :class:`~sk_imbalance.networks.
    EnsembleMLP`'s) are scored member by member against the same targets (and sample
    weights), and each sample's loss is the mean over members: every member is trained
    on the whole batch. Outputs with one dimension fewer than that (a single network)
    pass straight through. ``set_progress`` is forwarded to the wrapped criterion.

    Parameters
    ----------
    criterion : torch.nn.Module
        Returns per-sample losses from ``(outputs, target)``.
    output_dim : int, default=2
        The number of dimensions of a single network's outputs (2: ``(batch, n_out)``).
    """

    def __init__(self, criterion, output_dim=2):
        super().__init__()
        self.criterion = criterion
        self.output_dim = int(output_dim)
        self.uses_sample_weight = getattr(criterion, "uses_sample_weight", False)

    def set_progress(self, fraction):
        """Tell the wrapped criterion how far training is (see ``LDAMLoss``).

        Parameters
        ----------
        fraction : float
            Epochs done over the epochs planned.
        """
        if hasattr(self.criterion, "set_progress"):
            self.criterion.set_progress(fraction)

    def forward(self, outputs, target, **kwargs):
        if outputs.ndim == self.output_dim:
            return self.criterion(outputs, target, **kwargs)
        batch, k = outputs.shape[:2]
        flat = outputs.reshape(batch * k, *outputs.shape[2:])
        kwargs = {name: value.repeat_interleave(k, dim=0) for name, value in kwargs.items()}
        per_sample = self.criterion(flat, target.repeat_interleave(k, dim=0), **kwargs)
        return per_sample.view(batch, k).mean(dim=1)
