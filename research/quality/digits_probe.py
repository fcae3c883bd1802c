"""Long-tailed digits (imbalance ratio 100, seeds 0-2, raw input) for package estimators.

    python research/quality/digits_probe.py NAME=JSON [NAME=JSON ...]

``JSON`` holds keyword arguments of ``LogitAdjustedClassifier`` (``{}``: the defaults).
Prints balanced accuracy and the mean recall of the 3 classes rarest in training, per
seed and averaged (the protocol of ``benchmarks/logit_adjustment_digits.py``).
"""

import json
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import balanced_accuracy_score, recall_score

from sk_imbalance import LogitAdjustedClassifier
from sk_imbalance.datasets import load_long_tailed


def rare3(y_train, y_test, pred):
    classes, counts = np.unique(y_train, return_counts=True)
    rare = classes[np.argsort(counts, kind="stable")[:3]]
    return float(np.mean(recall_score(y_test, pred, labels=rare, average=None)))


def main(argv):
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    print("| candidate | BA per seed | rare 3 per seed | mean BA | mean rare 3 | s |")
    print("|---|---|---|---|---|---|")
    for arg in argv:
        name, _, js = arg.partition("=")
        kw = json.loads(js or "{}")
        ba, r3, start = [], [], time.perf_counter()
        for seed in (0, 1, 2):
            d = load_long_tailed("digits", imbalance_ratio=100, random_state=seed)
            pred = (
                LogitAdjustedClassifier(random_state=seed, **kw)
                .fit(d.X_train, d.y_train)
                .predict(d.X_test)
            )
            ba.append(balanced_accuracy_score(d.y_test, pred))
            r3.append(rare3(d.y_train, d.y_test, pred))
        print(
            f"| {name} | {' / '.join(f'{v:.3f}' for v in ba)} | {' / '.join(f'{v:.3f}' for v in r3)} "
            f"| {np.mean(ba):.4f} | {np.mean(r3):.3f} | {time.perf_counter() - start:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
