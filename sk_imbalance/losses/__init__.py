"""Pure PyTorch losses for imbalanced learning (no scikit-learn or skorch inside).

Every loss takes raw logits, is numerically stable and reduces to a PyTorch built-in in
its degenerate case.
"""

from ._focal import FocalLoss, binary_focal_loss, focal_loss
from ._ghm import GHMCLoss, ghm_c_loss, ghm_weights
from ._label_smoothing import LabelSmoothingLoss, label_smoothing_loss
from ._logit_adjusted import LogitAdjustedLoss, logit_adjusted_loss, logit_adjusted_loss_pairwise
from ._truncated import TruncatedLoss, truncated_loss

__all__ = [
    "FocalLoss",
    "GHMCLoss",
    "LabelSmoothingLoss",
    "LogitAdjustedLoss",
    "TruncatedLoss",
    "binary_focal_loss",
    "focal_loss",
    "ghm_c_loss",
    "ghm_weights",
    "label_smoothing_loss",
    "logit_adjusted_loss",
    "logit_adjusted_loss_pairwise",
    "truncated_loss",
]
