"""
=================================================
Calibrated probabilities, then costly decisions
=================================================

Two steps that come after a classifier is trained on imbalanced data:

1. **Calibrate at the training prior.** ``calibration="bcts"`` fits bias-corrected
   temperature scaling on out-of-sample logits (here from 5-fold cross-fitting) and
   applies it to the network's training-prior scores; the shift to the ``objective``'s
   prior comes after. We draw the reliability diagram before and after.
2. **Decide by expected cost.** When errors cost differently,
   :class:`~sk_imbalance.CostSensitiveClassifier` predicts the class of least expected
   cost under the (calibrated) probabilities; we compare its mean cost with the argmax.

Small data and small networks, so that the example runs in seconds on a CPU.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from sk_imbalance import CostSensitiveClassifier, LogitAdjustedClassifier
from sk_imbalance.calibration import expected_calibration_error, reliability_curve

torch.set_num_threads(1)  # small networks: one thread is fastest and reproducible

X, y = make_classification(
    n_samples=1300,
    n_features=10,
    n_informative=6,
    n_classes=3,
    class_sep=0.5,
    weights=[0.6, 0.3, 0.1],
    random_state=2,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=300, stratify=y, random_state=0
)

# %%
# 1. Reliability before and after calibration
# -------------------------------------------
# An unregularised network trained until it separates its training data is
# over-confident. ``objective="accuracy"``: the probabilities are posteriors under the
# training class mix, the mix of the test split here.
params = dict(
    hidden_layer_sizes=(32,),
    max_iter=100,
    batch_size=300,
    learning_rate_init=1e-2,
    learning_rate_schedule="constant",
    n_members=1,
    weight_decay=0.0,
    objective="accuracy",
    random_state=0,
)
plain = LogitAdjustedClassifier(**params).fit(X_train, y_train)
calibrated = LogitAdjustedClassifier(**params, calibration="bcts").fit(X_train, y_train)
print(
    f"fitted on {calibrated.calibration_source_} logits: temperature "
    f"{calibrated.calibration_.temperature:.2f}, biases {calibrated.calibration_.bias.round(2)}"
)

fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1)
for name, clf in [("uncalibrated", plain), ('calibration="bcts"', calibrated)]:
    proba = clf.predict_proba(X_test)
    conf, acc, _ = reliability_curve(y_test, proba, n_bins=10)
    ece = expected_calibration_error(y_test, proba, n_bins=10)
    ax.plot(
        conf,
        acc,
        marker="o",
        label=f"{name}: ECE {ece:.3f}, log loss {log_loss(y_test, proba):.3f}",
    )
ax.set_xlabel("confidence (top-label probability)")
ax.set_ylabel("accuracy")
ax.set_title("Reliability diagram (test split)")
ax.legend(fontsize=7, loc="upper left")
fig.tight_layout()

# %%
# Temperature scaling keeps the argmax of the training-prior scores (BCTS's biases may
# move it); ``predict`` is always the argmax of ``predict_proba``. Changing
# ``objective`` after the fit shifts the *calibrated* posterior: the balanced scores are
# the calibrated ones minus the log training prior.
calibrated.set_params(objective="balanced")
print("balanced-objective prediction counts:", np.bincount(calibrated.predict(X_test)))
calibrated.set_params(objective="accuracy")

# %%
# 2. Expected cost against the argmax
# ------------------------------------
# Missing class 2 costs 10, confusing class 1 with 0 costs 3, any other error 1.
# The calibrated network is frozen (no refit), and every decision is
# :math:`\arg\min_j \sum_i p_i(x)\, C_{ij}`.
costs = np.array(
    [
        [0.0, 1.0, 1.0],
        [3.0, 0.0, 1.0],
        [10.0, 10.0, 0.0],
    ]
)
decide = CostSensitiveClassifier(FrozenEstimator(calibrated), cost_matrix=costs).fit(
    X_train, y_train
)


def mean_cost(pred):
    return costs[y_test, pred].mean()


# The same decision for a range of costs of missing class 2.
miss = np.array([1, 2, 5, 10, 20, 50])
argmax_cost, bayes_cost, bayes_plain = [], [], []
for c in miss:
    C = costs.copy()
    C[2, :2] = c
    argmax_cost.append(C[y_test, calibrated.predict(X_test)].mean())
    bayes_cost.append(C[y_test, decide.set_params(cost_matrix=C).predict(X_test)].mean())
    uncal = CostSensitiveClassifier(FrozenEstimator(plain), cost_matrix=C).fit(X_train, y_train)
    bayes_plain.append(C[y_test, uncal.predict(X_test)].mean())
decide.set_params(cost_matrix=costs)
print(f"mean cost at C[2, :2] = 10: argmax {mean_cost(calibrated.predict(X_test)):.3f}, "
      f"least expected cost {mean_cost(decide.predict(X_test)):.3f}")  # fmt: skip

fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(miss, argmax_cost, marker="o", label="argmax of predict_proba")
ax.plot(miss, bayes_plain, marker="^", label="least expected cost, uncalibrated")
ax.plot(miss, bayes_cost, marker="s", label="least expected cost, calibrated")
ax.set_xscale("log")
ax.set_xlabel("cost of missing class 2")
ax.set_ylabel("mean cost on the test split")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
