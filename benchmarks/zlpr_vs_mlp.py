"""Default ZLPRMultiLabelClassifier vs scikit-learn's MLPClassifier: macro-F1 on
``make_multilabel_classification`` (the "Done when" figure of issue 4).

Data: ``make_multilabel_classification(3000, 40, n_classes=30, n_labels=3, length=60,
allow_unlabeled=False, random_state=s)`` for s in {0, 1}; labels with fewer than 10
positives dropped; 70/30 split (``random_state=s``); features standardised on the
training part. Both models use their defaults and the same ``random_state`` (the
model seed: network initialisation and batch order); the MLP is
``MLPClassifier((100,), max_iter=200)``. The table has one row per data seed, model
seed and model, then the macro-F1 difference per data seed, averaged over model seeds.

Run from the repository root::

    python benchmarks/zlpr_vs_mlp.py [--seeds 0 1] [--model-seeds 0 1 2 3 4] [--threads 1]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from tqdm import tqdm

from sk_imbalance import ZLPRMultiLabelClassifier


def issue_data(seed):
    """The issue's ``(X, Y)`` for one data seed, before the split."""
    return make_multilabel_classification(
        3000, 40, n_classes=30, n_labels=3, length=60, allow_unlabeled=False, random_state=seed
    )


def prepare(X, Y, seed, min_positives=10):
    """Rare labels dropped, 70/30 split with ``seed``, standardised on the training part."""
    Y = Y[:, Y.sum(axis=0) >= min_positives]
    X_tr, X_te, Y_tr, Y_te = train_test_split(X, Y, test_size=0.3, random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), Y_tr, Y_te


def make_data(seed):
    """The issue's data set: split, rare labels dropped, standardised."""
    return prepare(*issue_data(seed), seed)


ZLPR = "ZLPR (default)"
MLP = "MLPClassifier((100,), max_iter=200)"


def models(model_seed=0):
    return {
        ZLPR: ZLPRMultiLabelClassifier(random_state=model_seed),
        MLP: MLPClassifier((100,), max_iter=200, random_state=model_seed),
    }


def run(seeds=(0, 1), model_seeds=(0,), progress=None):
    """Return rows ``(seed, model_seed, n_labels, model, macro_f1, micro_f1, samples_f1,
    seconds)``; ``progress`` (a tqdm bar or None) is advanced once per fit."""
    rows = []
    for seed in seeds:
        X_tr, X_te, Y_tr, Y_te = make_data(seed)
        for model_seed, (name, model) in (
            (ms, item) for ms in model_seeds for item in models(ms).items()
        ):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                pred = model.fit(X_tr, Y_tr).predict(X_te)
            seconds = time.perf_counter() - t0
            scores = [
                f1_score(Y_te, pred, average=avg, zero_division=0)
                for avg in ("macro", "micro", "samples")
            ]
            rows.append((seed, model_seed, Y_tr.shape[1], name, *scores, seconds))
            if progress is not None:
                progress.update()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="data seeds")
    parser.add_argument(
        "--model-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="random_state"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tqdm(total=2 * len(args.seeds) * len(args.model_seeds), desc="fits") as bar:
        rows = run(args.seeds, args.model_seeds, progress=bar)
    print(
        f"{'seed':>4} {'model seed':>10} {'labels':>6}  {'model':<36} "
        f"{'macroF1':>8} {'microF1':>8} {'sampF1':>8} {'s':>6}"
    )
    for seed, model_seed, n_labels, name, macro, micro, samples, sec in rows:
        print(
            f"{seed:>4} {model_seed:>10} {n_labels:>6}  {name:<36} "
            f"{macro:8.4f} {micro:8.4f} {samples:8.4f} {sec:6.1f}"
        )
    for seed in args.seeds:
        mean = {
            name: np.mean([r[4] for r in rows if r[0] == seed and r[3] == name])
            for name in (ZLPR, MLP)
        }
        print(
            f"data seed {seed}, mean over model seeds {args.model_seeds}: macro-F1 ZLPR "
            f"{mean[ZLPR]:.4f}, MLP {mean[MLP]:.4f}, difference {mean[ZLPR] - mean[MLP]:+.4f}"
        )
    return rows


if __name__ == "__main__":
    main()
