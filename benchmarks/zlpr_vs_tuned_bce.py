"""ZLPR with no threshold to tune against BCE with per-label thresholds tuned by CV.

The quality issue's ZLPR figure: ``ZLPRMultiLabelClassifier()`` with its defaults and
threshold 0, against the same estimator with ``loss="bce"`` whose per-label thresholds
are tuned on the training set: the out-of-fold scores of a 3-fold cross-validation
(``cross_val_predict`` of ``decision_function``), per label the threshold that
maximises that label's F1, then the model refitted on all the training data. Data:
``make_imbalanced_multilabel(3000, 40, n_labels=30, imbalance_ratio=50)`` (a 50:1 long
tail of label frequencies), data seeds 0-2, 70/30 split, standardised on the training
part; model seeds 0-1. Prints macro-F1 (and micro-F1) per seed and the means.

``--taus`` instead fits ``ZLPRMultiLabelClassifier(tau=t)`` for each ``t`` (the sweep
that chose the default ``tau``) and prints its macro- and micro-F1 per seed and on
average, without the BCE baseline.

    python benchmarks/zlpr_vs_tuned_bce.py [--data-seeds 0 1 2] [--model-seeds 0 1]
    python benchmarks/zlpr_vs_tuned_bce.py --taus 0 0.25 0.375 0.5 0.625 0.75
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold, cross_val_predict, train_test_split
from sklearn.preprocessing import StandardScaler

from sk_imbalance import ZLPRMultiLabelClassifier
from sk_imbalance.datasets import make_imbalanced_multilabel


def tuned_thresholds(scores, Y):
    """Per label, the score threshold of the best F1 on (out-of-fold) scores.

    The candidates are -inf and the midpoints between consecutive distinct scores; the
    lowest of the best is kept. F1 of every candidate at once: predicting the scores at
    or above the k-th distinct value gives ``2 TP / (n_predicted + n_positive)``.
    """
    thresholds = np.zeros(Y.shape[1])
    for j in range(Y.shape[1]):
        values = np.unique(scores[:, j])
        order = np.sort(scores[:, j])
        pos = np.sort(scores[Y[:, j] > 0, j])
        n_pred = len(order) - np.searchsorted(order, values, side="left")
        tp = len(pos) - np.searchsorted(pos, values, side="left")
        denom = n_pred + len(pos)
        f1 = np.divide(2.0 * tp, denom, out=np.zeros(len(values)), where=denom > 0)
        k = int(np.argmax(f1))
        thresholds[j] = -np.inf if k == 0 else (values[k - 1] + values[k]) / 2
    return thresholds


def data(seed):
    X, Y = make_imbalanced_multilabel(3000, 40, n_labels=30, imbalance_ratio=50, random_state=seed)
    X_tr, X_te, Y_tr, Y_te = train_test_split(X, Y, test_size=0.3, random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), Y_tr, Y_te


def tau_sweep(args):
    f1 = {t: [] for t in args.taus}
    for ds in args.data_seeds:
        X_tr, X_te, Y_tr, Y_te = data(ds)
        for ms in args.model_seeds:
            for t in args.taus:
                pred = (
                    ZLPRMultiLabelClassifier(tau=t, random_state=ms).fit(X_tr, Y_tr).predict(X_te)
                )
                f1[t].append(
                    [f1_score(Y_te, pred, average=a, zero_division=0) for a in ("macro", "micro")]
                )
                print(
                    f"data seed {ds}, model seed {ms}, tau {t}: macro-F1 {f1[t][-1][0]:.4f}, "
                    f"micro-F1 {f1[t][-1][1]:.4f}",
                    flush=True,
                )
    print("\n| tau | macro-F1 per (data, model) seed | mean macro-F1 | mean micro-F1 |")
    print("|---|---|---|---|")
    for t, rows in f1.items():
        r = np.array(rows)
        per = " / ".join(f"{v:.4f}" for v in r[:, 0])
        print(f"| {t:g} | {per} | {r[:, 0].mean():.4f} | {r[:, 1].mean():.4f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--model-seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--taus", type=float, nargs="+", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.taus is not None:
        return tau_sweep(args)
    rows = []
    start = time.perf_counter()
    for ds in args.data_seeds:
        X_tr, X_te, Y_tr, Y_te = data(ds)
        for ms in args.model_seeds:
            zlpr = ZLPRMultiLabelClassifier(random_state=ms).fit(X_tr, Y_tr)
            z_pred = zlpr.predict(X_te)
            bce = ZLPRMultiLabelClassifier(loss="bce", random_state=ms)
            folds = KFold(3, shuffle=True, random_state=ms)
            oof = cross_val_predict(bce, X_tr, Y_tr, cv=folds, method="decision_function")
            thresholds = tuned_thresholds(oof, Y_tr)
            b_pred = (bce.fit(X_tr, Y_tr).decision_function(X_te) > thresholds).astype(int)
            b0_pred = bce.predict(X_te)
            row = (
                ds,
                ms,
                f1_score(Y_te, z_pred, average="macro", zero_division=0),
                f1_score(Y_te, b_pred, average="macro", zero_division=0),
                f1_score(Y_te, b0_pred, average="macro", zero_division=0),
                f1_score(Y_te, z_pred, average="micro", zero_division=0),
                f1_score(Y_te, b_pred, average="micro", zero_division=0),
            )
            rows.append(row)
            print(
                f"data seed {ds}, model seed {ms}: macro-F1 ZLPR {row[2]:.4f}, "
                f"BCE tuned {row[3]:.4f}, BCE at 0 {row[4]:.4f}; "
                f"micro-F1 ZLPR {row[5]:.4f}, BCE tuned {row[6]:.4f}",
                flush=True,
            )
    r = np.array(rows)
    print("\n| | ZLPR (threshold 0) | BCE, thresholds tuned by 3-fold CV | BCE at 0 |")
    print("|---|---|---|---|")
    print(f"| macro-F1 | {r[:, 2].mean():.4f} | {r[:, 3].mean():.4f} | {r[:, 4].mean():.4f} |")
    print(f"| micro-F1 | {r[:, 5].mean():.4f} | {r[:, 6].mean():.4f} | |")
    print(f"ZLPR ahead on {int(np.sum(r[:, 2] >= r[:, 3]))} of {len(r)} (data, model) seeds")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
