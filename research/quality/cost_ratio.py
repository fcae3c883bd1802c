"""Issue 17's cost target: the default's fit time against the default at the issue's filing.

    python research/quality/cost_ratio.py [--repeats 3]

On 8 development sets (two thirds of each as training data: fold 0 of the main job's
3 stratified folds, seed 0), ``StandardScaler`` + each estimator, float32 features, one
torch thread; the process CPU time of each fit, interleaved (every repeat fits every
estimator once per set, in turn), best of ``--repeats``; printed per set and the median
over sets, and the ratio of the medians. "filing" is ``LogitAdjustedClassifier`` with
the defaults before the recipe (one network, weight decay 0.1, lr 1e-3, constant rate,
up to 400 epochs stopped by the training loss, no encoding; the "before" column of the
recipe page's defaults table). Run it alone: the machine's speed varies.
"""

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import time
import warnings
from pathlib import Path

import numpy as np
import torch
from imblearn.ensemble import BalancedRandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_imbalance import FocalClassifier, LogitAdjustedClassifier
from sk_imbalance.benchmark import make_folds
from sk_imbalance.datasets import load_csv

DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "keel_dev"
SETS = ["glass0", "ecoli4", "yeast3", "vehicle0", "page_blocks0", "kc1", "cm1", "abalone_3_vs_11"]
FILING = dict(
    n_members=1,
    weight_decay=0.1,
    learning_rate_init=1e-3,
    learning_rate_schedule="constant",
    max_iter=400,
    n_iter_no_change=10,
    feature_encoding=None,
)
ESTIMATORS = {
    "filing default": lambda: LogitAdjustedClassifier(random_state=0, **FILING),
    "LogitAdjustedClassifier()": lambda: LogitAdjustedClassifier(random_state=0),
    "FocalClassifier()": lambda: FocalClassifier(random_state=0),
    "one member of today's default": lambda: LogitAdjustedClassifier(
        random_state=0, n_members=1, feature_encoding=None
    ),
    "balanced random forest": lambda: BalancedRandomForestClassifier(
        n_estimators=100, sampling_strategy="all", replacement=True, bootstrap=False, random_state=0
    ),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    best = {name: {} for name in ESTIMATORS}
    for name_set in SETS:
        X, y = load_csv(DEV / f"{name_set}.csv", "target")
        X, y = X.to_numpy(dtype=np.float32), np.asarray(y)
        tr, _ = make_folds(y, cv=3, random_state=0)[0]
        for _ in range(args.repeats):
            for name, make in ESTIMATORS.items():
                est = make_pipeline(StandardScaler(), make())
                start = time.process_time()
                est.fit(X[tr], y[tr])
                t = time.process_time() - start
                best[name][name_set] = min(t, best[name].get(name_set, np.inf))
        print(name_set, " ".join(f"{n}: {best[n][name_set]:.2f}" for n in ESTIMATORS), flush=True)
    med = {n: float(np.median(list(v.values()))) for n, v in best.items()}
    print("\n| estimator | median CPU s per fit | ratio to the filing default |")
    print("|---|---|---|")
    for n, m in med.items():
        print(f"| {n} | {m:.2f} | {m / med['filing default']:.2f} |")


if __name__ == "__main__":
    main()
