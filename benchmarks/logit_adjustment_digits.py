"""Balanced accuracy of every logit-adjustment mode on long-tailed digits.

The spine issue's acceptance figure: default parameters, imbalance ratio 100
(exponential profile), balanced test split, mean over seeds 0, 1, 2.

    python benchmarks/logit_adjustment_digits.py [--seeds 0 1 2] [--threads 2]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import balanced_accuracy_score

from sk_imbalance import LogitAdjustedClassifier
from sk_imbalance.datasets import load_long_tailed

MODES = ["none", "loss", "post_hoc", "bias_init"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--imbalance-ratio", type=float, default=100)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    scores = {m: [] for m in MODES}
    start = time.perf_counter()
    for seed in args.seeds:
        d = load_long_tailed("digits", imbalance_ratio=args.imbalance_ratio, random_state=seed)
        for mode in MODES:
            clf = LogitAdjustedClassifier(adjustment=mode, random_state=seed)
            clf.fit(d.X_train, d.y_train)
            scores[mode].append(balanced_accuracy_score(d.y_test, clf.predict(d.X_test)))
        print(f"seed {seed}: " + ", ".join(f"{m}={scores[m][-1]:.4f}" for m in MODES), flush=True)

    base = np.mean(scores["none"])
    print(f"\nlong-tailed digits, imbalance ratio {args.imbalance_ratio:g}, seeds {args.seeds}")
    print("| adjustment | mean balanced accuracy | std | gain over none |")
    print("|---|---|---|---|")
    for m in MODES:
        mean = np.mean(scores[m])
        print(f"| {m} | {mean:.4f} | {np.std(scores[m]):.4f} | {mean - base:+.4f} |")
    print(f"({time.perf_counter() - start:.1f} s, {args.threads} torch threads)")


if __name__ == "__main__":
    main()
