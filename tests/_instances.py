"""The one table of fast estimator instances used by the common checks."""

import numpy as np
from sklearn.linear_model import LogisticRegression

from sk_imbalance import (
    CostSensitiveClassifier,
    FocalClassifier,
    LogitAdjustedClassifier,
    LogitAdjustedClassifierCV,
    SiameseAMSoftmaxEncoder,
    ZLPRMultiLabelClassifier,
)

FAST = dict(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=1e-2, random_state=0)


class UniformErrorCosts:
    """``cost_matrix(classes)``: cost 2 for every error. It runs the callable and matrix
    paths with the argmax's decisions, as the checks require ``predict ==
    argmax(predict_proba)`` (other costs: tests/test_cost_sensitive.py). A class with a
    fixed repr keeps the test ids stable; module level, so that it pickles."""

    def __call__(self, classes):
        return 2.0 * (1.0 - np.eye(len(classes)))

    def __repr__(self):
        return "UniformErrorCosts()"


INSTANCES = [
    LogitAdjustedClassifier(**FAST),
    LogitAdjustedClassifier(adjustment="post_hoc", **FAST),
    LogitAdjustedClassifier(adjustment="bias_init", objective="accuracy", **FAST),
    LogitAdjustedClassifierCV(cv=2, taus=[0.5, 1.0], **FAST),
    FocalClassifier(**FAST),
    FocalClassifier(loss="truncated", sharpness=10.0, alpha=None, **FAST),
    FocalClassifier(loss="ghm", class_weight="balanced", alpha=None, **FAST),
    FocalClassifier(loss="truncated", margin=0.8, **FAST),
    FocalClassifier(loss="cross_entropy", label_smoothing=0.1, **FAST),
    ZLPRMultiLabelClassifier(**FAST),
    ZLPRMultiLabelClassifier(loss="bce", pos_weight="balanced", **FAST),
    ZLPRMultiLabelClassifier(loss="focal", **FAST),
    SiameseAMSoftmaxEncoder(**FAST),
    SiameseAMSoftmaxEncoder(embedding_dim=3, margin=0.0, scale=10.0, **FAST),
    CostSensitiveClassifier(LogisticRegression(), cost_matrix=UniformErrorCosts()),
]

#: Every public estimator with its default parameters: ``check_estimator(Estimator())``.
DEFAULTS = [
    LogitAdjustedClassifier(),
    FocalClassifier(),
    ZLPRMultiLabelClassifier(),
    SiameseAMSoftmaxEncoder(),
    CostSensitiveClassifier(),
]

#: Defaults whose battery takes minutes (5-fold internal CV of 400-epoch networks): run
#: with ``pytest -m exhaustive``. The fast CV instance above runs the same battery in CI.
EXHAUSTIVE_DEFAULTS = [LogitAdjustedClassifierCV()]
