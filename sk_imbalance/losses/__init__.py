"""Pure PyTorch losses for imbalanced learning (no scikit-learn or skorch inside).

Every loss takes raw logits, is numerically stable and reduces to a PyTorch built-in in
its degenerate case.
"""

from ._am_softmax import AMSoftmaxLoss, am_softmax_loss, cosine_logits
from ._logit_adjusted import LogitAdjustedLoss, logit_adjusted_loss, logit_adjusted_loss_pairwise

__all__ = [
    "AMSoftmaxLoss",
    "LogitAdjustedLoss",
    "am_softmax_loss",
    "cosine_logits",
    "logit_adjusted_loss",
    "logit_adjusted_loss_pairwise",
]
