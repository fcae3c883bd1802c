"""Issue 18's KEEL criterion: expected calibration error under the training prior,
with and without ``calibration=``, on the development suite.

For each data set of ``--data-dir`` (the 28 KEEL development sets by default): the main
job's folds (3 stratified folds, seed 0, one repeat; :func:`sk_imbalance.benchmark.make_folds`),
``StandardScaler`` + ``LogitAdjustedClassifier(objective="accuracy", calibration=c,
random_state=0)`` with every other parameter at its default, for ``c`` in None,
"temperature" and "bcts"; features as float32, as the main job gives them. The
out-of-fold ``predict_proba`` of the 3 folds are pooled and scored once per data set:
top-label ECE (15 equal-width bins, :func:`sk_imbalance.calibration.expected_calibration_error`),
log loss and Brier score. Printed: the per-set ECE table, then per calibration the number
of sets where it has a lower ECE (and log loss) than ``calibration=None``, and the ECE
noise floor (the ECE of the uncalibrated probabilities with labels drawn from them, i.e.
exactly calibrated; mean of 20 draws).

Results are cached per (data set, fold, calibration) in ``--cache`` (JSON lines), so an
interrupted run resumes.

    python benchmarks/calibration_keel_ece.py [--data-dir DIR] [--n-jobs 2]
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_imbalance import LogitAdjustedClassifier
from sk_imbalance.benchmark import make_folds
from sk_imbalance.calibration import expected_calibration_error
from sk_imbalance.datasets import load_csv

CALIBRATIONS = [None, "temperature", "bcts"]


def load(path):
    X, y = load_csv(path, "target")
    return X.to_numpy(dtype=np.float32), np.asarray(y)


def one_fold(path, fold, calibration):
    torch.set_num_threads(1)
    X, y = load(path)
    tr, te = make_folds(y, cv=3, random_state=0)[fold]
    est = make_pipeline(
        StandardScaler(),
        LogitAdjustedClassifier(objective="accuracy", calibration=calibration, random_state=0),
    )
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X[tr], y[tr])
    seconds = time.process_time() - start
    classes = est.classes_.tolist()
    return {
        "dataset": Path(path).stem,
        "fold": fold,
        "calibration": calibration,
        "test_index": te.tolist(),
        "proba": est.predict_proba(X[te]).tolist(),
        "classes": classes,
        "cpu_seconds": seconds,
    }


def pooled_scores(rows, y):
    classes = rows[0]["classes"]
    P = np.zeros((len(y), len(classes)))
    for r in rows:
        P[r["test_index"]] = r["proba"]
    y_idx = np.searchsorted(classes, y)
    return P, {
        "ece": expected_calibration_error(y_idx, P, labels=[0, 1]),
        "log_loss": log_loss(y_idx, P, labels=[0, 1]),
        "brier": brier_score_loss(y_idx, P[:, 1]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="../shared/data/keel_dev")
    parser.add_argument("--cache", default="calibration_keel_ece.jsonl")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    paths = sorted(p for p in Path(args.data_dir).glob("*.csv") if p.name != "INDEX.csv")
    cache = Path(args.cache)
    done = []
    if cache.exists():
        done = [json.loads(line) for line in cache.read_text().splitlines() if line]
    seen = {(r["dataset"], r["fold"], r["calibration"]) for r in done}
    tasks = [
        (str(p), f, c)
        for p in paths
        for c in CALIBRATIONS
        for f in range(3)
        if (p.stem, f, c) not in seen
    ]
    print(f"{len(paths)} data sets, {len(tasks)} fits to run ({len(seen)} cached)", flush=True)
    with cache.open("a") as out:
        for row in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
            delayed(one_fold)(*t) for t in tasks
        ):
            out.write(json.dumps(row) + "\n")
            out.flush()
            done.append(row)
            print(f"  {row['dataset']} fold {row['fold']} {row['calibration']}", flush=True)

    res, floors, seconds = {}, [], {c: [] for c in CALIBRATIONS}
    for p in paths:
        _, y = load(p)
        res[p.stem] = {}
        for c in CALIBRATIONS:
            rows = [r for r in done if r["dataset"] == p.stem and r["calibration"] == c]
            P, res[p.stem][c] = pooled_scores(rows, y)
            seconds[c] += [r["cpu_seconds"] for r in rows]
            if c is None:
                rng = np.random.default_rng(0)
                floors.append(
                    np.mean(
                        [
                            expected_calibration_error(
                                (rng.random(len(y)) < P[:, 1]).astype(int), P, labels=[0, 1]
                            )
                            for _ in range(20)
                        ]
                    )
                )
    names = [str(c) for c in CALIBRATIONS]
    print("\n| data set | " + " | ".join(f"ECE, calibration={n}" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for ds, r in res.items():
        print(f"| {ds} | " + " | ".join(f"{r[c]['ece']:.4f}" for c in CALIBRATIONS) + " |")
    n = len(res)
    print(
        "\n| calibration | mean ECE | median ECE | ECE lower than None | mean log loss "
        "| log loss lower than None | mean Brier | median fit CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for c in CALIBRATIONS:
        ece = np.array([r[c]["ece"] for r in res.values()])
        ll = np.array([r[c]["log_loss"] for r in res.values()])
        br = np.array([r[c]["brier"] for r in res.values()])
        if c is None:
            wins = ll_wins = "-"
        else:
            w = sum(r[c]["ece"] < r[None]["ece"] for r in res.values())
            w2 = sum(r[c]["log_loss"] < r[None]["log_loss"] for r in res.values())
            wins, ll_wins = f"{w}/{n} ({w / n:.0%})", f"{w2}/{n} ({w2 / n:.0%})"
        print(
            f"| {c} | {ece.mean():.4f} | {np.median(ece):.4f} | {wins} | {ll.mean():.4f} "
            f"| {ll_wins} | {br.mean():.4f} | {np.median(seconds[c]):.2f} |"
        )
    print(
        f"\nECE noise floor (calibration=None's probabilities with labels drawn from them): "
        f"mean {np.mean(floors):.4f}, median {np.median(floors):.4f} over {n} sets."
    )


if __name__ == "__main__":
    main()
