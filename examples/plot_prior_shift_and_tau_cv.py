"""
========================================================
Choosing tau by cross-validation; adapting to a new mix
========================================================

Two things the logit-adjustment paper leaves to the user:

1. **tau without an oracle.** :class:`~sk_imbalance.LogitAdjustedClassifierCV` chooses
   the post-hoc temperature by internal cross-validation (one network per fold; every
   ``tau`` is a new decision rule on it). We compare its curve with the test-set
   "oracle" curve on long-tailed digits.
2. **a deployment prior nobody told us.** A model trained on a skewed class mix is
   deployed where the mix is reversed. ``fit_prior_shift`` estimates the new mix from
   unlabelled data by EM (Saerens et al., 2002) and corrects the probabilities.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score, log_loss

from sk_imbalance import LogitAdjustedClassifier, LogitAdjustedClassifierCV
from sk_imbalance.datasets import load_long_tailed, make_prior_shift

torch.set_num_threads(1)  # small networks: one thread is fastest and reproducible

# %%
# 1. The cross-validated tau against the test-set oracle
# -------------------------------------------------------
d = load_long_tailed("digits", imbalance_ratio=100, random_state=0)
cv = LogitAdjustedClassifierCV(cv=5, random_state=0).fit(d.X_train, d.y_train)
taus = cv.cv_results_["taus"]
net = LogitAdjustedClassifier(adjustment="post_hoc", random_state=0).fit(d.X_train, d.y_train)
test_curve = [
    balanced_accuracy_score(d.y_test, net.set_params(tau=t).predict(d.X_test)) for t in taus
]
print(
    f"tau chosen by CV: {cv.tau_}; test balanced accuracy "
    f"{balanced_accuracy_score(d.y_test, cv.predict(d.X_test)):.3f} "
    f"(oracle {max(test_curve):.3f} at tau={taus[int(np.argmax(test_curve))]})"
)

fig, ax = plt.subplots(figsize=(6, 3.5))
mean, std = cv.cv_results_["mean_test_score"], cv.cv_results_["std_test_score"]
ax.plot(taus, mean, marker="o", label="5-fold CV (training data)")
ax.fill_between(taus, mean - std, mean + std, alpha=0.2)
ax.plot(taus, test_curve, marker="s", label="test set (the oracle)")
ax.axvline(cv.tau_, color="k", ls="--", lw=1, label=f"chosen tau = {cv.tau_}")
ax.set_xlabel("tau (post-hoc)")
ax.set_ylabel("balanced accuracy")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# 2. Estimating and correcting for an unknown deployment prior
# ------------------------------------------------------------
# Same classes, other mix: trained on (0.6, 0.25, 0.1, 0.05), deployed on (0.1, 0.2, 0.3, 0.4).
shift = make_prior_shift(random_state=0)
X_dep, y_dep = shift.X_deploy, shift.y_deploy
clf = LogitAdjustedClassifier(random_state=0).fit(shift.X_train, shift.y_train)
before = log_loss(y_dep, clf.set_params(objective="accuracy").predict_proba(X_dep))
clf.fit_prior_shift(X_dep)  # unlabelled deployment data
after = log_loss(y_dep, clf.predict_proba(X_dep))
true_mix = np.bincount(y_dep) / len(y_dep)
print("true deployment mix:", np.round(true_mix, 3))
print(
    "EM estimate:        ",
    np.round(clf.deployment_prior_, 3),
    f"(L1 error {np.abs(clf.deployment_prior_ - true_mix).sum():.3f})",
)
print(f"log loss: {before:.3f} with the training prior -> {after:.3f} after the correction")

fig, ax = plt.subplots(figsize=(6, 3.5))
x = np.arange(4)
for i, (label, v) in enumerate(
    [
        ("training mix", clf.class_prior_),
        ("true deployment mix", true_mix),
        ("EM estimate", clf.deployment_prior_),
    ]
):
    ax.bar(x + (i - 1) * 0.27, v, 0.27, label=label)
ax.set_xticks(x)
ax.set_xlabel("class")
ax.set_ylabel("prior")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
