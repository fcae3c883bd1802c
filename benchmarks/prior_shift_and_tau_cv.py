"""Figures of the tau-by-CV and prior-shift features (LogitAdjustedClassifierCV, EM).

1. Long-tailed digits (ratio 100), post-hoc logit adjustment: test balanced accuracy of
   the tau chosen by 5-fold CV (the default one-standard-error rule, and the best mean CV
   score) against the best tau of the grid chosen on the test set.
2. Synthetic prior shift (the test suite's setting, and long-tailed digits with a
   reversed class mix): L1 error of the EM estimate of the deployment prior, and log loss
   before and after the correction.

    python benchmarks/prior_shift_and_tau_cv.py [--seeds 0 1 2 3 4]
"""

import argparse
import warnings

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score, log_loss

from sk_imbalance import FocalClassifier, LogitAdjustedClassifier, LogitAdjustedClassifierCV
from sk_imbalance._logit_adjusted_cv import _select_tau
from sk_imbalance.datasets import load_long_tailed, make_prior_shift


def tau_cv(seed):
    """CV-chosen tau (both selection rules) against the test-set oracle of the grid."""
    d = load_long_tailed("digits", imbalance_ratio=100, random_state=seed)
    cv = LogitAdjustedClassifierCV(random_state=seed).fit(d.X_train, d.y_train)
    # Post-hoc: the network does not depend on tau, so this is also the CV estimator's
    # final network; every tau of the grid is a decision rule on it.
    net = LogitAdjustedClassifier(adjustment="post_hoc", random_state=seed)
    net.fit(d.X_train, d.y_train)
    taus = cv.cv_results_["taus"]
    grid = {
        t: balanced_accuracy_score(d.y_test, net.set_params(tau=t).predict(d.X_test)) for t in taus
    }
    oracle = max(grid, key=grid.get)
    ba = balanced_accuracy_score(d.y_test, cv.predict(d.X_test))
    best_mean = taus[_select_tau(taus, cv.cv_results_["split_test_scores"], "best")]
    return cv.tau_, ba, best_mean, grid[best_mean], oracle, grid[oracle]


def synthetic_shift():
    d = make_prior_shift(random_state=0)
    return d.X_train, d.y_train, d.X_deploy, d.y_deploy


def digits_shift():
    d = load_long_tailed("digits", imbalance_ratio=10, random_state=0)
    rng = np.random.RandomState(0)
    q = np.linspace(1, 10, 10)
    q /= q.sum()
    idx = np.concatenate(
        [rng.choice(np.flatnonzero(d.y_test == k), int(round(q[k] * 1500))) for k in range(10)]
    )
    return d.X_train, d.y_train, d.X_test[idx], d.y_test[idx]


def em(name, make, data):
    X_tr, y_tr, X_te, y_te = data
    clf = make().fit(X_tr, y_tr)
    true_q = np.bincount(y_te, minlength=len(clf.classes_)) / len(y_te)
    before = log_loss(y_te, clf.predict_proba(X_te), labels=clf.classes_)
    if isinstance(clf, LogitAdjustedClassifier):
        acc = log_loss(y_te, clf.set_params(objective="accuracy").predict_proba(X_te))
        clf.set_params(objective="balanced")
    else:
        acc = float("nan")
    clf.fit_prior_shift(X_te)
    after = log_loss(y_te, clf.predict_proba(X_te), labels=clf.classes_)
    l1 = np.abs(clf.deployment_prior_ - true_q).sum()
    print(f"| {name} | {l1:.4f} | {before:.4f} | {acc:.4f} | {after:.4f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")

    print("1. tau by 5-fold CV vs the test-set oracle (long-tailed digits, ratio 100, post-hoc)\n")
    print(
        "| seed | CV tau (one_se) | test BA | CV tau (best mean) | test BA | oracle tau "
        "| oracle BA | ratio one_se | ratio best mean |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for seed in args.seeds:
        tau, ba, tau_b, ba_b, best, oracle = tau_cv(seed)
        ratios.append((ba / oracle, ba_b / oracle))
        print(
            f"| {seed} | {tau:g} | {ba:.4f} | {tau_b:g} | {ba_b:.4f} | {best:g} | {oracle:.4f} "
            f"| {ba / oracle:.4f} | {ba_b / oracle:.4f} |"
        )
    r = np.array(ratios)
    print(f"| mean | | | | | | | {r[:, 0].mean():.4f} | {r[:, 1].mean():.4f} |")

    print("\n2. EM estimate of the deployment prior (L1 error) and log loss\n")
    print(
        "| setting | L1 error | log loss, objective='balanced' | objective='accuracy' | after fit_prior_shift |"
    )
    print("|---|---|---|---|---|")
    syn, dig = synthetic_shift(), digits_shift()
    em("synthetic 4 classes, LogitAdjusted", lambda: LogitAdjustedClassifier(random_state=0), syn)
    em(
        "synthetic 4 classes, Focal gamma=0 (weighted CE)",
        lambda: FocalClassifier(gamma=0.0, random_state=0),
        syn,
    )
    em(
        "long-tailed digits, reversed mix, LogitAdjusted",
        lambda: LogitAdjustedClassifier(random_state=0),
        dig,
    )


if __name__ == "__main__":
    main()
