"""sk_imbalance: loss-based answers to class imbalance as scikit-learn estimators.

The estimators train PyTorch networks (through skorch, on CUDA when available) with
imbalance-aware objectives and drop into ``Pipeline``, ``GridSearchCV`` and side-by-side
comparisons with imbalanced-learn.
"""

from ._base import InconsistentVersionWarning
from ._cost_sensitive import CostSensitiveClassifier
from ._focal import FocalClassifier
from ._logit_adjusted import LogitAdjustedClassifier
from ._logit_adjusted_cv import LogitAdjustedClassifierCV
from ._siamese import SiameseAMSoftmaxEncoder
from ._zlpr import ZLPRMultiLabelClassifier

__version__ = "0.1.0.dev0"

__all__ = [
    "CostSensitiveClassifier",
    "FocalClassifier",
    "InconsistentVersionWarning",
    "LogitAdjustedClassifier",
    "LogitAdjustedClassifierCV",
    "SiameseAMSoftmaxEncoder",
    "ZLPRMultiLabelClassifier",
    "__version__",
]
