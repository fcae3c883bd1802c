"""Fit-time ratios measured in one process, interleaved (the machine is shared and noisy).

    python research/quality/timing.py RECIPE_JSON [--datasets a b ...] [--ks 1 4 8 16]

For every data set (fold 0 of the dev protocol, StandardScaler outside, one thread):
today's ``LogitAdjustedClassifier()`` (package defaults, float64), then the recipe
(``train.fit_predict``) for each ``k`` in ``--ks``, alternating, twice. Prints the
median fit time of each and the ratio to today's default, and the cost per member.
"""

import argparse
import json
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
import time
import warnings

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from common import dataset_names, folds, load
from train import fit_predict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recipe")
    ap.add_argument("--datasets", nargs="*")
    ap.add_argument("--ks", nargs="+", type=int, default=[8])
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    from sk_imbalance import LogitAdjustedClassifier

    cfg = json.loads(args.recipe)
    names = args.datasets or dataset_names()
    times = {"today": []}
    times.update({f"k={k}": [] for k in args.ks})
    def with_k(k):
        wd = cfg.get("wd", 0.1)
        if isinstance(wd, list):  # cost does not depend on the values: cycle the list
            wd = [wd[i % len(wd)] for i in range(k)]
        return {**cfg, "k": k, "wd": wd}

    fit_predict({**with_k(1), "steps": 5}, np.random.randn(50, 3), np.r_[np.zeros(40, int), np.ones(10, int)], np.zeros((2, 3)))
    for name in names:
        X, y = load(name)
        tr, te = folds(y)[0]
        sc = StandardScaler().fit(X[tr])
        Xtr, Xte = sc.transform(X[tr]), sc.transform(X[te])
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            LogitAdjustedClassifier(random_state=0).fit(Xtr, y[tr])
            times["today"].append(time.perf_counter() - t0)
            for k in args.ks:
                _, s, _ = fit_predict(with_k(k), Xtr, y[tr], Xte, seed=0)
                times[f"k={k}"].append(s)
        print(name, {m: round(v[-1], 3) for m, v in times.items()}, flush=True)
    base = np.median(times["today"])
    print(f"median fit s: today {base:.3f}")
    for m, v in times.items():
        ratios = np.array(v) / np.array(times["today"])
        print(f"{m}: median {np.median(v):.3f} s, ratio of medians {np.median(v) / base:.2f}, "
              f"median of per-set ratios {np.median(ratios):.2f}")


if __name__ == "__main__":
    main()
