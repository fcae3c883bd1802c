"""Figures of issue 18: calibration before prior-shift estimation, and the CV tau rule.

Long-tailed digits (``load_long_tailed("digits", imbalance_ratio=100)``), one run per
seed:

1. ``LogitAdjustedClassifier(calibration=c)`` for ``c`` in ``None``, ``"bcts"`` (and
   ``"temperature"`` with ``--temperature``), defaults otherwise. Deployment data: the
   balanced test split resampled with replacement to ``--n-deploy`` samples whose class
   counts are multinomial with a prior drawn from Dirichlet(2, ..., 2). Printed: the L1
   error of ``fit_prior_shift``'s estimate, and the log loss of ``predict_proba`` on the
   deployment samples after the shift.
2. ``LogitAdjustedClassifierCV()`` (defaults: post-hoc, 5 folds, the corrected one-SE
   rule) against the test-set oracle: the best ``tau`` of the grid on the test split,
   scored on the post-hoc network trained on all the data (the CV estimator's own final
   network). The other rules (``"one_se"``, ``"best"``) are computed from the same
   ``cv_results_``.

    python benchmarks/calibration_prior_shift.py [--seeds 0 1 2 3 4] [--no-cv]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score, log_loss

from sk_imbalance import LogitAdjustedClassifier, LogitAdjustedClassifierCV
from sk_imbalance._logit_adjusted_cv import _select_tau  # the other rules, same CV scores
from sk_imbalance.datasets import load_long_tailed


def deployment_sample(d, seed, n):
    """The test split resampled to ``n`` samples of a Dirichlet(2)-drawn class prior."""
    rng = np.random.default_rng(1000 + seed)
    classes = np.unique(d.y_test)
    prior = rng.dirichlet(np.full(len(classes), 2.0))
    counts = rng.multinomial(n, prior)
    idx = np.concatenate(
        [
            rng.choice(np.flatnonzero(d.y_test == c), size=k, replace=True)
            for c, k in zip(classes, counts, strict=True)
        ]
    )
    return d.X_test[idx], d.y_test[idx], counts / n


def prior_shift_run(d, seed, method, X_dep, y_dep, true_prior):
    clf = LogitAdjustedClassifier(calibration=method, random_state=seed).fit(d.X_train, d.y_train)
    clf.fit_prior_shift(X_dep)
    l1 = float(np.abs(clf.deployment_prior_ - true_prior).sum())
    loss = log_loss(y_dep, clf.predict_proba(X_dep), labels=clf.classes_)
    temperature = None if clf.calibration_ is None else clf.calibration_.temperature
    return l1, loss, temperature


def tau_run(d, seed):
    cv = LogitAdjustedClassifierCV(random_state=seed).fit(d.X_train, d.y_train)
    net = LogitAdjustedClassifier(adjustment="post_hoc", random_state=seed)
    net.fit(d.X_train, d.y_train)
    taus = cv.cv_results_["taus"]
    grid = {
        t: balanced_accuracy_score(d.y_test, net.set_params(tau=t).predict(d.X_test)) for t in taus
    }
    oracle = max(grid.values())
    scores = cv.cv_results_["split_test_scores"]
    out = {"one_se_corrected (default)": cv.tau_}
    for rule in ("one_se", "best"):
        out[rule] = taus[_select_tau(taus, scores, rule)]
    return {rule: (tau, grid[tau] / oracle) for rule, tau in out.items()}, oracle


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--n-deploy", type=int, default=1000)
    parser.add_argument("--temperature", action="store_true", help="also calibration='temperature'")
    parser.add_argument("--no-cv", action="store_true", help="skip the tau rule (part 2)")
    parser.add_argument("--no-shift", action="store_true", help="skip the prior shift (part 1)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    methods = [None, "bcts"] + (["temperature"] if args.temperature else [])
    shift = {m: [] for m in methods}
    taus, oracles = [], []
    start = time.perf_counter()
    for seed in args.seeds:
        d = load_long_tailed("digits", imbalance_ratio=100, random_state=seed)
        if not args.no_shift:
            X_dep, y_dep, true_prior = deployment_sample(d, seed, args.n_deploy)
            for m in methods:
                shift[m].append(prior_shift_run(d, seed, m, X_dep, y_dep, true_prior))
                l1, loss, temp = shift[m][-1]
                print(
                    f"seed {seed} calibration={m!s:12} L1 {l1:.3f}  log loss {loss:.3f}  T {temp}"
                )
        if not args.no_cv:
            res, oracle = tau_run(d, seed)
            taus.append(res)
            oracles.append(oracle)
            print(
                f"seed {seed} tau: "
                + ", ".join(f"{r} {t:g} ({q:.3f})" for r, (t, q) in res.items())
            )
        print(f"  [{time.perf_counter() - start:.0f} s]", flush=True)

    print(f"\nlong-tailed digits, imbalance ratio 100, seeds {args.seeds}")
    if not args.no_shift:
        print(f"\nfit_prior_shift, deployment prior ~ Dirichlet(2), {args.n_deploy} samples\n")
        print("| calibration | mean L1 | L1 per seed | mean log loss after the shift | per seed |")
        print("|---|---|---|---|---|")
        for m, rows in shift.items():
            l1 = [r[0] for r in rows]
            ll = [r[1] for r in rows]
            print(
                f"| {m} | {np.mean(l1):.3f} | {' / '.join(f'{v:.3f}' for v in l1)} | "
                f"{np.mean(ll):.3f} | {' / '.join(f'{v:.3f}' for v in ll)} |"
            )
    if not args.no_cv:
        print("\nLogitAdjustedClassifierCV: ratio of test balanced accuracy to the oracle tau's\n")
        print("oracle balanced accuracy per seed: " + " / ".join(f"{o:.4f}" for o in oracles))
        print("\n| rule | tau per seed | ratio per seed | min ratio |")
        print("|---|---|---|---|")
        for rule in taus[0]:
            t = [r[rule][0] for r in taus]
            q = [r[rule][1] for r in taus]
            print(
                f"| {rule} | {' / '.join(f'{v:g}' for v in t)} | "
                f"{' / '.join(f'{v:.3f}' for v in q)} | {min(q):.3f} |"
            )
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
