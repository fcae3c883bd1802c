"""Pure PyTorch losses for imbalanced learning (no scikit-learn or skorch inside).

Every loss takes raw logits, is numerically stable and reduces to a PyTorch built-in in
its degenerate case.
"""

from ._am_softmax import AMSoftmaxLoss, am_softmax_loss
from ._common import MemberMean, ReportedLoss
from ._focal import FocalLoss, binary_focal_loss, focal_loss
from ._ghm import GHMCLoss, ghm_c_loss, ghm_weights
from ._label_smoothing import LabelSmoothingLoss, label_smoothing_loss
from ._ldam import LDAMLoss, effective_number_weights, ldam_loss, ldam_margins
from ._logit_adjusted import LogitAdjustedLoss, logit_adjusted_loss, logit_adjusted_loss_pairwise
from ._truncated import TruncatedLoss, truncated_loss
from ._vs import VSLoss, vs_loss
from ._zlpr import (
    MultiLabelBCELoss,
    MultiLabelFocalLoss,
    ShiftedScoresLoss,
    ZLPRLoss,
    multilabel_bce_loss,
    multilabel_focal_loss,
    shift_scores,
    zlpr_loss,
    zlpr_loss_pairwise,
)

__all__ = [
    "AMSoftmaxLoss",
    "FocalLoss",
    "GHMCLoss",
    "LDAMLoss",
    "LabelSmoothingLoss",
    "LogitAdjustedLoss",
    "MemberMean",
    "MultiLabelBCELoss",
    "MultiLabelFocalLoss",
    "ReportedLoss",
    "ShiftedScoresLoss",
    "TruncatedLoss",
    "VSLoss",
    "ZLPRLoss",
    "am_softmax_loss",
    "binary_focal_loss",
    "effective_number_weights",
    "focal_loss",
    "ghm_c_loss",
    "ghm_weights",
    "label_smoothing_loss",
    "ldam_loss",
    "ldam_margins",
    "logit_adjusted_loss",
    "logit_adjusted_loss_pairwise",
    "multilabel_bce_loss",
    "multilabel_focal_loss",
    "shift_scores",
    "truncated_loss",
    "vs_loss",
    "zlpr_loss",
    "zlpr_loss_pairwise",
]
