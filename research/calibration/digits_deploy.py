"""Which network should the cross-fitted calibration be applied to? Long-tailed digits.

The companion of ``keel_deploy.py`` for issue 18's prior-shift criterion: long-tailed
digits (imbalance ratio 100), the deployment sample of
``benchmarks/calibration_prior_shift.py`` (the balanced test split resampled to 1,000
samples of a Dirichlet(2)-drawn prior, same draws), ``LogitAdjustedClassifier(
random_state=seed)`` with its defaults. The calibration is fitted exactly as the
estimator fits it (5-fold cross-fitting, same seed and folds, rarely seen rows left out)
and applied to

- ``full``: the network trained on all the rows (what the estimator ships), or
- ``folds``: the mean of the 5 fold networks' posteriors (the networks the calibration
  was fitted on), in probability (``folds_p``) or log-probability (``folds_logp``) space.

EM (``estimate_deployment_prior``) runs on the resulting training-prior posteriors;
printed: L1 error of the estimated prior and the log loss after the shift.

    python research/calibration/digits_deploy.py [--seeds 0 1 2 3 4]
"""

import argparse
import dataclasses
import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy.special import log_softmax, softmax
from sklearn.base import clone
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state

from sk_imbalance import LogitAdjustedClassifier
from sk_imbalance._classifier import CALIBRATION_FOLDS, leave_out_rarely_seen
from sk_imbalance.calibration import fit_calibration
from sk_imbalance.datasets import load_long_tailed
from sk_imbalance.prior_shift import adjust_to_prior, estimate_deployment_prior, smooth_prior

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keel_deploy import training_scores  # noqa: E402  (this folder's sibling script)

_spec = importlib.util.spec_from_file_location(
    "cps", Path(__file__).resolve().parents[2] / "benchmarks" / "calibration_prior_shift.py"
)
cps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    res = {}
    for seed in args.seeds:
        d = load_long_tailed("digits", imbalance_ratio=100, random_state=seed)
        X_dep, y_dep, true_prior = cps.deployment_sample(d, seed, 1000)
        classes, y = np.unique(d.y_train, return_inverse=True)
        full = LogitAdjustedClassifier(random_state=seed).fit(d.X_train, y)
        rs = int(check_random_state(seed).randint(np.iinfo(np.int32).max))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            splits = list(StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=rs).split(d.X_train, y))
        oof = np.empty((len(y), len(classes)))
        weights = np.ones(len(y))
        nets = []
        for train, test in splits:
            est = clone(full).fit(d.X_train[train], y[train])
            # a fold may lack a class: put its scores in the full class order
            s = np.full((len(test), len(classes)), -np.inf)
            s[:, est.classes_] = training_scores(est, d.X_train[test])
            oof[test] = np.maximum(s, -1e4)
            leave_out_rarely_seen(weights, y, train, test, len(classes))
            nets.append(est)
        y_dep_idx = np.searchsorted(classes, y_dep)
        for m in (None, "temperature", "bcts"):
            cal = None if m is None else fit_calibration(oof, y, method=m, sample_weight=weights)
            posts = {"full": softmax(training_scores(full, X_dep, cal), axis=1)}
            logps = []
            for est in nets:
                lp = np.full((len(X_dep), len(classes)), -1e4)
                sub = None if cal is None else dataclasses.replace(
                    cal, scale=cal.scale[est.classes_], bias=cal.bias[est.classes_]
                )
                lp[:, est.classes_] = log_softmax(training_scores(est, X_dep, sub), axis=1)
                logps.append(lp)
            posts["folds_p"] = np.mean([np.exp(lp) for lp in logps], axis=0)
            posts["folds_logp"] = softmax(np.mean(logps, axis=0), axis=1)
            for deploy, proba in posts.items():
                prior = full.class_prior_
                q, _ = estimate_deployment_prior(proba, prior)
                q = smooth_prior(q)
                l1 = float(np.abs(q - true_prior).sum())
                ll = log_loss(y_dep_idx, adjust_to_prior(proba, prior, q), labels=np.arange(len(classes)))
                res.setdefault((deploy, m), []).append((l1, ll))
                print(f"seed {seed} {deploy:10} calibration={m!s:12} L1 {l1:.3f} log loss {ll:.3f}", flush=True)
    print("\n| deployed | calibration | mean L1 | L1 per seed | mean log loss after the shift |")
    print("|---|---|---|---|---|")
    for (deploy, m), rows in res.items():
        l1 = [r[0] for r in rows]
        print(f"| {deploy} | {m} | {np.mean(l1):.3f} | {' / '.join(f'{v:.3f}' for v in l1)} | "
              f"{np.mean([r[1] for r in rows]):.3f} |")


if __name__ == "__main__":
    main()
