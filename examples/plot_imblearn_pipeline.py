"""
===================================================================
Resamplers and losses: side by side and combined (imbalanced-learn)
===================================================================

imbalanced-learn's resamplers change the *data* a network sees; the estimators of
``sk_imbalance`` change its *objective*. Both are scikit-learn estimators, so they go
into the same :class:`imblearn.pipeline.Pipeline` and are compared on the same folds
with imbalanced-learn's metrics. Here, on a three-class problem with a class mix of
about 42:4:1, the same small network is trained

* with plain cross-entropy, alone and behind each of
  :class:`~imblearn.under_sampling.RandomUnderSampler`,
  :class:`~imblearn.over_sampling.RandomOverSampler` and
  :class:`~imblearn.over_sampling.SMOTE`;
* with logit adjustment (:class:`~sk_imbalance.LogitAdjustedClassifier`) and the focal
  loss (:class:`~sk_imbalance.FocalClassifier`), which keep every sample;
* with both at once: a partial under-sampler (the majority class cut to four times the
  middle class, which makes training cheaper) in front of logit adjustment, which
  corrects for the imbalance that is left (it reads the class prior of the data it is
  trained on).

The comparison is what ``sk-imbalance benchmark`` does (see :ref:`benchmark`): the same
stratified folds for every method, the resamplers fitted inside the training folds, the
test folds never resampled.
"""

# %%
# Data and methods
# ----------------
import matplotlib.pyplot as plt
import numpy as np
import torch
from imblearn.metrics import classification_report_imbalanced
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import make_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sk_imbalance import FocalClassifier, LogitAdjustedClassifier
from sk_imbalance.benchmark import Method, format_table, run_benchmark, summarize

torch.set_num_threads(1)  # small networks: one thread is fastest and reproducible

X, y = make_classification(
    2000, 20, n_informative=6, n_classes=3, weights=[50 / 56, 5 / 56, 1 / 56],
    n_clusters_per_class=1, class_sep=0.8, random_state=0,
)  # fmt: skip
print("samples per class:", np.bincount(y))

net = dict(hidden_layer_sizes=(32,), max_iter=60, random_state=0)


def cross_entropy(s):
    return LogitAdjustedClassifier(adjustment="none", **net)


def cap_majority(y_train):
    """Sampling strategy: cut the majority class to 4x the middle class."""
    counts = np.bincount(y_train)
    return {0: 4 * int(np.sort(counts)[-2])}


methods = [
    Method(
        "cross_entropy", lambda s: make_pipeline(StandardScaler(), cross_entropy(s)), "incumbent"
    ),
    Method(
        "under + CE",
        lambda s: make_pipeline(
            StandardScaler(), RandomUnderSampler(random_state=0), cross_entropy(s)
        ),
        "incumbent",
    ),
    Method(
        "over + CE",
        lambda s: make_pipeline(
            StandardScaler(), RandomOverSampler(random_state=0), cross_entropy(s)
        ),
        "incumbent",
    ),
    Method(
        "SMOTE + CE",
        lambda s: make_pipeline(StandardScaler(), SMOTE(random_state=0), cross_entropy(s)),
        "incumbent",
    ),
    Method(
        "logit adjusted",
        lambda s: make_pipeline(StandardScaler(), LogitAdjustedClassifier(**net)),
        "ours",
    ),
    Method("focal", lambda s: make_pipeline(StandardScaler(), FocalClassifier(**net)), "ours"),
    Method(
        "partial under + logit adjusted",
        lambda s: make_pipeline(
            StandardScaler(),
            RandomUnderSampler(sampling_strategy=cap_majority, random_state=0),
            LogitAdjustedClassifier(**net),
        ),
        "ours",
    ),
]

# %%
# Every method on the same three stratified folds
# -----------------------------------------------
# ``run_benchmark`` takes in-memory data and ``Method``
# objects; ``register_method`` would add them to the ``sk-imbalance benchmark`` command.
scores = run_benchmark(methods, [("three_classes", X, y)], cv=3, progress=False)
print(format_table(summarize(scores, sort_by="g_mean")["three_classes"]))

# %%
# G-mean (the geometric mean of the per-class recalls) with its spread over the folds.
# Plain cross-entropy never recognises the rarest class (G-mean 0). Full under-sampling
# is the fastest but leaves the network only a few dozen majority samples; the losses
# keep every sample; the partial under-sampler keeps about 40% of the majority class and
# lets logit adjustment correct for the imbalance that is left, in about half the time.
g = scores[scores.metric == "g_mean"].groupby("method")["value"]
order = g.mean().sort_values().index
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.barh(order, g.mean()[order], xerr=g.std()[order], color="tab:blue")
ax.set_xlabel("G-mean over 3 folds (mean and std)")
ax.set_xlim(0, 1)
fig.tight_layout()
plt.show()

# %%
# The combined pipeline on a held-out split
# -----------------------------------------
# The resampler acts in ``fit`` only: the network is trained on the reduced data, whose
# class prior it records in ``class_prior_`` and adjusts for; prediction goes through
# the scaler and the network. :func:`~imblearn.metrics.classification_report_imbalanced`
# adds specificity, G-mean and the index of balanced accuracy to the usual report.
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
combined = make_pipeline(
    StandardScaler(),
    RandomUnderSampler(sampling_strategy=cap_majority, random_state=0),
    LogitAdjustedClassifier(**net),
).fit(X_train, y_train)
print("training counts :", np.bincount(y_train))
print("class_prior_    :", combined[-1].class_prior_.round(3))
print(classification_report_imbalanced(y_test, combined.predict(X_test), digits=3))
