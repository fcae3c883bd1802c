"""Stage 1 for (b): networks on the 28 KEEL development sets, logits cached.

For each data set (``/work/shared/data/keel_dev/*.csv``, ``target`` column; a set larger
than 1500 samples is first subsampled to 1500, stratified, seed 0, to bound the CPU time on
the shared 2-core machine), 2 outer stratified folds (shuffled, seed 0); on each outer
training part (standardised on it):

- ``full``: ``LogitAdjustedClassifier(random_state=0)`` (defaults: adjusted loss, tau=1);
- ``cf``: 3-fold cross-fitting on the outer training part: out-of-fold logits;
- ``split``: the network on 80% of each class, with the logits of the held-out 20%.

Logits are training-prior scores (``objective="accuracy"``), saved with the outer test
labels to ``cache/keel_{name}.npz``.

    python research/calibration/keel_logits.py [--data DIR] [--only NAME ...]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from common import cross_fit, fit_la, quiet, stratified_holdout, train_prior_logits
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).parent
MAX_SAMPLES = 1500
N_OUTER = 2


def run_set(path, out):
    df = pd.read_csv(path)
    X = df.drop(columns="target").to_numpy(dtype=float)
    y = df["target"].to_numpy().astype(int)
    classes = np.array([0, 1])
    if len(y) > MAX_SAMPLES:
        keep, _ = train_test_split(
            np.arange(len(y)), train_size=MAX_SAMPLES, stratify=y, random_state=0
        )
        keep = np.sort(keep)
        X, y = X[keep], y[keep]
    arrays = {"y": y}
    outer = StratifiedKFold(N_OUTER, shuffle=True, random_state=0)
    for i, (tr, te) in enumerate(outer.split(X, y)):
        scaler = StandardScaler().fit(X[tr])
        Xtr, Xte, ytr = scaler.transform(X[tr]), scaler.transform(X[te]), y[tr]
        arrays[f"f{i}_test_idx"] = te
        full = fit_la(Xtr, ytr, classes, 0)
        arrays[f"f{i}_full_test"] = train_prior_logits(full, Xte)
        oof, _, _ = cross_fit(Xtr, ytr, classes, 0, n_splits=3)
        arrays[f"f{i}_cf_oof"], arrays[f"f{i}_cf_y"] = oof, ytr
        a, ho = stratified_holdout(ytr, 0.2, 0)
        net = fit_la(Xtr[a], ytr[a], classes, 0)
        arrays[f"f{i}_split_heldout"], arrays[f"f{i}_split_y"] = (
            train_prior_logits(net, Xtr[ho]),
            ytr[ho],
        )
        arrays[f"f{i}_split_test"] = train_prior_logits(net, Xte)
    np.savez_compressed(out / f"keel_{path.stem}.npz", **arrays)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/keel_dev"))
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    quiet()
    out = HERE / "cache"
    out.mkdir(exist_ok=True)
    paths = sorted(p for p in args.data.glob("*.csv") if p.stem != "INDEX")
    if args.only:
        paths = [p for p in paths if p.stem in args.only]
    # Smallest first, so that partial results come early.
    paths.sort(key=lambda p: p.stat().st_size)
    for path in paths:
        if (out / f"keel_{path.stem}.npz").exists():
            continue
        t0 = time.time()
        run_set(path, out)
        print(f"{path.stem}: {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
