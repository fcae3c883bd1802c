"""sk_imbalance: loss-based answers to class imbalance as scikit-learn estimators.

The estimators train PyTorch networks (through skorch, on CUDA when available) with
imbalance-aware objectives and drop into ``Pipeline``, ``GridSearchCV`` and side-by-side
comparisons with imbalanced-learn.
"""

from ._logit_adjusted import LogitAdjustedClassifier
from ._siamese import SiameseAMSoftmaxEncoder

__version__ = "0.1.0.dev0"

__all__ = ["LogitAdjustedClassifier", "SiameseAMSoftmaxEncoder", "__version__"]
