"""G-mean of every FocalClassifier loss on the issue's imbalanced binary problem.

``make_classification(4000, 20, n_informative=8, weights=[0.97], class_sep=0.8,
random_state=0)``, split 50/50 stratified (``random_state=0``), StandardScaler fitted on
the training half in front of every network, ``random_state=0`` everywhere, one torch
thread. Prints one row per configuration: G-mean
(``imblearn.metrics.geometric_mean_score``), balanced accuracy, ROC AUC and accuracy.

Run from the repository root::

    python benchmarks/focal_gmean.py
"""

from __future__ import annotations

import time

import torch
from imblearn.metrics import geometric_mean_score
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_imbalance import FocalClassifier, LogitAdjustedClassifier


def load_data():
    X, y = make_classification(
        4000, 20, n_informative=8, weights=[0.97], class_sep=0.8, random_state=0
    )
    return train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)


CONFIGS = {
    "cross_entropy (alpha=None)": FocalClassifier(loss="cross_entropy", alpha=None),
    "LogitAdjusted(adjustment='none')": LogitAdjustedClassifier(adjustment="none"),
    "focal gamma=2, alpha=None": FocalClassifier(alpha=None),
    "focal DEFAULT (gamma=2, alpha='balanced')": FocalClassifier(),
    "focal focus='all' (Lin et al.), balanced": FocalClassifier(focus="all"),
    "cross_entropy alpha='balanced'": FocalClassifier(loss="cross_entropy"),
    "truncated margin=0.7 (alpha=None)": FocalClassifier(loss="truncated", alpha=None),
    "truncated margin=0.7, alpha='balanced'": FocalClassifier(loss="truncated"),
    "truncated smooth k=20, alpha='balanced'": FocalClassifier(loss="truncated", sharpness=20.0),
    "ghm bins=10 (alpha=None)": FocalClassifier(loss="ghm", alpha=None),
    "ghm bins=10, alpha='balanced'": FocalClassifier(loss="ghm"),
    "label_smoothing=0.1 CE (alpha=None)": FocalClassifier(
        loss="cross_entropy", alpha=None, label_smoothing=0.1
    ),
    "label_smoothing=0.1 CE, alpha='balanced'": FocalClassifier(
        loss="cross_entropy", label_smoothing=0.1
    ),
}


def main():
    torch.set_num_threads(1)
    X_tr, X_te, y_tr, y_te = load_data()
    print(f"train {len(y_tr)} ({y_tr.sum()} positives), test {len(y_te)} ({y_te.sum()} positives)")
    print(
        f"{'configuration':45s} {'G-mean':>7s} {'bal.acc':>7s} {'ROC AUC':>7s} {'acc':>7s} {'s':>5s}"
    )
    for name, clf in CONFIGS.items():
        clf.set_params(random_state=0)
        t0 = time.perf_counter()
        model = make_pipeline(StandardScaler(), clf).fit(X_tr, y_tr)
        pred = model.predict(X_te)
        score = model.predict_proba(X_te)[:, 1]
        print(
            f"{name:45s} {geometric_mean_score(y_te, pred):7.4f} "
            f"{balanced_accuracy_score(y_te, pred):7.4f} {roc_auc_score(y_te, score):7.4f} "
            f"{accuracy_score(y_te, pred):7.4f} {time.perf_counter() - t0:5.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
