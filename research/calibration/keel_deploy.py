"""Which network should the cross-fitted calibration be applied to? (issue 18, KEEL ECE)

``calibration=`` without early stopping fits the calibration on the out-of-fold logits
of 5 fold networks (each trained on 4/5 of the rows) and applies it to the network
trained on all the rows. This script measures, on the development suite with the
protocol of ``benchmarks/calibration_keel_ece.py`` (main job's 3 outer folds, seed 0,
``StandardScaler`` + ``LogitAdjustedClassifier(objective="accuracy", random_state=0)``,
pooled out-of-fold top-label ECE, 15 bins), the same calibration applied to

- ``full``: the network on all the rows (what the estimator ships), and
- ``folds``: the mean of the 5 fold networks' log-probabilities (the networks the
  calibration was fitted on; as ``CalibratedClassifierCV(ensemble=True)``),

each with ``None`` / ``"temperature"`` / ``"bcts"``. The fold networks and the
calibration are exactly the estimator's (same seed, folds and row weights), so
``full`` reproduces ``benchmarks/calibration_keel_ece.py``'s figures.

    python research/calibration/keel_deploy.py [--data-dir DIR] [--n-jobs 2]
"""

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from scipy.special import log_softmax, softmax
from sklearn.base import clone
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from sk_imbalance import LogitAdjustedClassifier
from sk_imbalance._classifier import CALIBRATION_FOLDS, leave_out_rarely_seen
from sk_imbalance.benchmark import make_folds
from sk_imbalance.calibration import expected_calibration_error, fit_calibration
from sk_imbalance.datasets import load_csv

METHODS = [None, "temperature", "bcts"]


def training_scores(est, X, calibration=None):
    rule = est._training_prior_rule().calibrated(calibration)
    return est._forward(X, post=rule)


def one_fold(path, fold):
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    X, y = load_csv(path, "target")
    X, y = X.to_numpy(dtype=np.float32), np.asarray(y)
    tr, te = make_folds(y, cv=3, random_state=0)[fold]
    scaler = StandardScaler().fit(X[tr])
    Xtr, Xte = scaler.transform(X[tr]), scaler.transform(X[te])
    ytr = np.searchsorted(np.unique(y[tr]), y[tr])
    full = LogitAdjustedClassifier(objective="accuracy", random_state=0).fit(Xtr, ytr)
    seed = int(check_random_state(0).randint(np.iinfo(np.int32).max))
    splits = list(StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=seed).split(Xtr, ytr))
    oof = np.empty((len(ytr), 2))
    weights = np.ones(len(ytr))
    nets = []
    for train, test in splits:
        est = clone(full).fit(Xtr[train], ytr[train])
        oof[test] = training_scores(est, Xtr[test])
        leave_out_rarely_seen(weights, ytr, train, test, 2)
        nets.append(est)
    out = {"dataset": Path(path).stem, "fold": fold, "test_index": te.tolist()}
    for m in METHODS:
        cal = None if m is None else fit_calibration(oof, ytr, method=m, sample_weight=weights)
        p_full = softmax(training_scores(full, Xte, cal), axis=1)
        mean_logp = np.mean([log_softmax(training_scores(n, Xte, cal), axis=1) for n in nets], axis=0)
        p_folds = softmax(mean_logp, axis=1)
        out[f"full_{m}"] = p_full.tolist()
        out[f"folds_{m}"] = p_folds.tolist()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="../shared/data/keel_dev")
    parser.add_argument("--cache", default="keel_deploy.jsonl")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    paths = sorted(p for p in Path(args.data_dir).glob("*.csv") if p.name != "INDEX.csv")
    cache = Path(args.cache)
    done = [json.loads(line) for line in cache.read_text().splitlines()] if cache.exists() else []
    seen = {(r["dataset"], r["fold"]) for r in done}
    tasks = [(str(p), f) for p in paths for f in range(3) if (p.stem, f) not in seen]
    print(f"{len(tasks)} outer folds to run ({len(seen)} cached)", flush=True)
    with cache.open("a") as fh:
        for row in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
            delayed(one_fold)(*t) for t in tasks
        ):
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            done.append(row)
            print(f"  {row['dataset']} fold {row['fold']}", flush=True)
    variants = [f"{d}_{m}" for d in ("full", "folds") for m in METHODS]
    ece, ll = {v: [] for v in variants}, {v: [] for v in variants}
    names = []
    for p in paths:
        _, y = load_csv(str(p), "target")
        y = np.searchsorted(np.unique(y), np.asarray(y))
        rows = [r for r in done if r["dataset"] == p.stem]
        if len(rows) < 3:
            continue
        names.append(p.stem)
        for v in variants:
            P = np.zeros((len(y), 2))
            for r in rows:
                P[r["test_index"]] = r[v]
            ece[v].append(expected_calibration_error(y, P, labels=[0, 1]))
            ll[v].append(log_loss(y, P, labels=[0, 1]))
    print("\n| data set | " + " | ".join(variants) + " |")
    print("|---|" + "---|" * len(variants))
    for i, n in enumerate(names):
        print(f"| {n} | " + " | ".join(f"{ece[v][i]:.4f}" for v in variants) + " |")
    base = np.array(ece["full_None"])
    print("\n| deployed network, calibration | mean ECE | median ECE | ECE lower than full_None "
          "| mean log loss | log loss lower than full_None |")
    print("|---|---|---|---|---|---|")
    for v in variants:
        e, lv = np.array(ece[v]), np.array(ll[v])
        w = int((e < base).sum())
        w2 = int((lv < np.array(ll["full_None"])).sum())
        print(f"| {v} | {e.mean():.4f} | {np.median(e):.4f} | {w}/{len(e)} | {lv.mean():.4f} | {w2}/{len(e)} |")


if __name__ == "__main__":
    main()
