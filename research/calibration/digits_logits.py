"""Stage 1 for (a) and (c): fit the networks on long-tailed digits and cache their logits.

For each seed and each adjustment ("loss", the default, and "post_hoc"):

- the network on the whole training split (``full``);
- networks on an internal split holding out 10% and 25% of each class (``split10``,
  ``split25``), with their held-out logits;
- 5-fold cross-fitting (stratified, shuffled with the seed): out-of-fold training-prior
  logits and every fold network's logits on the test set; for ``post_hoc``, 3 repetitions
  of the 5 folds (for the repeated-folds tau rules of (c));
- for ``post_hoc``: ``LogitAdjustedClassifierCV(random_state=seed)`` as shipped (its
  ``tau_``, ``cv_results_``).

Logits are the training-prior scores (``objective="accuracy"``); the class priors the
networks used are stored with them. Everything goes to ``cache/digits_seed{seed}.npz``.

    python research/calibration/digits_logits.py --seeds 0 1 2 3 4
    python research/calibration/digits_logits.py --imbalance-ratio 10 --adjustments loss \
        --no-shipped   # the same with ratio 10 (cache/digits_ir10_seed*.npz)
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from common import cross_fit, fit_la, quiet, stratified_holdout, train_prior_logits

from sk_imbalance import LogitAdjustedClassifierCV
from sk_imbalance.datasets import load_long_tailed

HERE = Path(__file__).parent


def run_seed(seed, out, ratio=100, adjustments=("loss", "post_hoc"), shipped=True):
    d = load_long_tailed("digits", imbalance_ratio=ratio, random_state=seed)
    X, y, X_te = d.X_train, d.y_train, d.X_test
    classes = np.arange(10)
    arrays = {"y_train": y, "y_test": d.y_test}
    meta = {"seed": seed, "class_counts": d.class_counts.tolist()}
    t0 = time.time()
    for adj in adjustments:
        full = fit_la(X, y, classes, seed, adjustment=adj)
        arrays[f"{adj}_full_test"] = train_prior_logits(full, X_te)
        arrays[f"{adj}_full_prior"] = full.class_prior_
        for frac in (0.10, 0.25):
            tag = f"{adj}_split{int(frac * 100)}"
            tr, ho = stratified_holdout(y, frac, seed)
            net = fit_la(X[tr], y[tr], classes, seed, adjustment=adj)
            arrays[f"{tag}_idx"] = ho
            arrays[f"{tag}_heldout"] = train_prior_logits(net, X[ho])
            arrays[f"{tag}_test"] = train_prior_logits(net, X_te)
            arrays[f"{tag}_prior"] = net.class_prior_
        for rep in range(3 if adj == "post_hoc" and shipped else 1):
            tag = f"{adj}_cf{rep}"
            oof, nets, splits = cross_fit(X, y, classes, seed + 1000 * rep, adjustment=adj)
            arrays[f"{tag}_oof"] = oof
            arrays[f"{tag}_fold_of"] = np.concatenate(
                [np.full(len(te), i) for i, (_, te) in enumerate(splits)]
            )[np.argsort(np.concatenate([te for _, te in splits]))]
            arrays[f"{tag}_fold_test"] = np.stack([train_prior_logits(n, X_te) for n in nets])
            arrays[f"{tag}_fold_prior"] = np.stack([n.class_prior_ for n in nets])
        print(f"seed {seed} {adj}: {time.time() - t0:.0f} s", flush=True)
    if shipped:
        cv = LogitAdjustedClassifierCV(random_state=seed).fit(X, y)
        arrays["shipped_cv_test"] = train_prior_logits(cv, X_te)
        meta["shipped_tau"] = cv.tau_
        meta["shipped_cv_results"] = {k: np.asarray(v).tolist() for k, v in cv.cv_results_.items()}
        print(f"seed {seed} shipped CV: tau_={cv.tau_} ({time.time() - t0:.0f} s)", flush=True)
    stem = f"digits_seed{seed}" if ratio == 100 else f"digits_ir{ratio:g}_seed{seed}"
    np.savez_compressed(out / f"{stem}.npz", **arrays)
    (out / f"{stem}.json").write_text(json.dumps(meta, indent=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--imbalance-ratio", type=float, default=100)
    parser.add_argument("--adjustments", nargs="+", default=["loss", "post_hoc"])
    parser.add_argument("--no-shipped", action="store_true", help="skip the CV estimator")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    quiet()
    out = HERE / "cache"
    out.mkdir(exist_ok=True)
    for seed in args.seeds:
        run_seed(seed, out, args.imbalance_ratio, args.adjustments, not args.no_shipped)


if __name__ == "__main__":
    main()
