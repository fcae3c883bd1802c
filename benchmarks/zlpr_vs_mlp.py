"""Default ZLPRMultiLabelClassifier vs scikit-learn's MLPClassifier: macro-F1 on
``make_multilabel_classification`` (the "Done when" figure of issue 4).

Data: ``make_multilabel_classification(3000, 40, n_classes=30, n_labels=3, length=60,
allow_unlabeled=False, random_state=s)`` for s in {0, 1}; labels with fewer than 10
positives dropped; 70/30 split (``random_state=s``); features standardised on the
training part. Both models use their defaults, ``random_state=0``; the MLP is
``MLPClassifier((100,), max_iter=200)``.

Run from the repository root::

    python benchmarks/zlpr_vs_mlp.py [--seeds 0 1] [--threads 1]
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sk_imbalance import ZLPRMultiLabelClassifier


def make_data(seed, min_positives=10):
    """The issue's data set: split, rare labels dropped, standardised."""
    X, Y = make_multilabel_classification(
        3000, 40, n_classes=30, n_labels=3, length=60, allow_unlabeled=False, random_state=seed
    )
    Y = Y[:, Y.sum(axis=0) >= min_positives]
    X_tr, X_te, Y_tr, Y_te = train_test_split(X, Y, test_size=0.3, random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), Y_tr, Y_te


def models():
    return {
        "ZLPR (default)": ZLPRMultiLabelClassifier(random_state=0),
        "MLPClassifier((100,), max_iter=200)": MLPClassifier((100,), max_iter=200, random_state=0),
    }


def run(seeds=(0, 1)):
    """Return rows ``(seed, n_labels, model, macro_f1, micro_f1, samples_f1, seconds)``."""
    rows = []
    for seed in seeds:
        X_tr, X_te, Y_tr, Y_te = make_data(seed)
        for name, model in models().items():
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                pred = model.fit(X_tr, Y_tr).predict(X_te)
            seconds = time.perf_counter() - t0
            scores = [
                f1_score(Y_te, pred, average=avg, zero_division=0)
                for avg in ("macro", "micro", "samples")
            ]
            rows.append((seed, Y_tr.shape[1], name, *scores, seconds))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = run(args.seeds)
    print(
        f"{'seed':>4} {'labels':>6}  {'model':<38} {'macroF1':>8} {'microF1':>8} {'sampF1':>8} {'s':>6}"
    )
    for seed, n_labels, name, macro, micro, samples, sec in rows:
        print(
            f"{seed:>4} {n_labels:>6}  {name:<38} {macro:8.4f} {micro:8.4f} {samples:8.4f} {sec:6.1f}"
        )
    by_seed = {}
    for seed, _, name, macro, *_ in rows:
        by_seed.setdefault(seed, {})[name] = macro
    for seed, d in by_seed.items():
        zlpr, mlp = d["ZLPR (default)"], d["MLPClassifier((100,), max_iter=200)"]
        print(f"seed {seed}: ZLPR macro-F1 - MLP macro-F1 = {zlpr - mlp:+.4f}")
    return rows


if __name__ == "__main__":
    main()
