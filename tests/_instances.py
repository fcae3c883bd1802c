"""The one table of fast estimator instances used by the common checks."""

from sk_imbalance import LogitAdjustedClassifier, SiameseAMSoftmaxEncoder

FAST = dict(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=1e-2, random_state=0)

INSTANCES = [
    LogitAdjustedClassifier(**FAST),
    LogitAdjustedClassifier(adjustment="post_hoc", **FAST),
    LogitAdjustedClassifier(adjustment="bias_init", objective="accuracy", **FAST),
    SiameseAMSoftmaxEncoder(**FAST),
    SiameseAMSoftmaxEncoder(embedding_dim=3, margin=0.0, scale=10.0, **FAST),
]
