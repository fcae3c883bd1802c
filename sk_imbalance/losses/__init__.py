"""Pure PyTorch losses for imbalanced learning (no scikit-learn or skorch inside).

Every loss takes raw logits, is numerically stable and reduces to a PyTorch built-in in
its degenerate case.
"""

from ._logit_adjusted import LogitAdjustedLoss, logit_adjusted_loss, logit_adjusted_loss_pairwise
from ._zlpr import (
    MultiLabelBCELoss,
    MultiLabelFocalLoss,
    ZLPRLoss,
    multilabel_bce_loss,
    multilabel_focal_loss,
    zlpr_loss,
    zlpr_loss_pairwise,
)

__all__ = [
    "LogitAdjustedLoss",
    "logit_adjusted_loss",
    "logit_adjusted_loss_pairwise",
    "MultiLabelBCELoss",
    "MultiLabelFocalLoss",
    "ZLPRLoss",
    "multilabel_bce_loss",
    "multilabel_focal_loss",
    "zlpr_loss",
    "zlpr_loss_pairwise",
]
