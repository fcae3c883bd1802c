"""sk_imbalance: loss-based answers to class imbalance as scikit-learn estimators.

The estimators train PyTorch networks (through skorch, on CUDA when available) with
imbalance-aware objectives and drop into ``Pipeline``, ``GridSearchCV`` and side-by-side
comparisons with imbalanced-learn.
"""

from ._base import ConstantPredictionWarning, InconsistentVersionWarning, UnscaledFeaturesWarning
from ._cost_sensitive import CostSensitiveClassifier
from ._focal import FocalClassifier
from ._logit_adjusted import LogitAdjustedClassifier
from ._logit_adjusted_cv import LogitAdjustedClassifierCV
from ._siamese import SiameseAMSoftmaxEncoder
from ._version import __version__
from ._zlpr import ZLPRMultiLabelClassifier

__all__ = [
    "ConstantPredictionWarning",
    "CostSensitiveClassifier",
    "FocalClassifier",
    "InconsistentVersionWarning",
    "LogitAdjustedClassifier",
    "LogitAdjustedClassifierCV",
    "SiameseAMSoftmaxEncoder",
    "UnscaledFeaturesWarning",
    "ZLPRMultiLabelClassifier",
    "__version__",
]
