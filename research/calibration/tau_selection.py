"""(c) LogitAdjustedClassifierCV's tau: selection rules against the test-set oracle.

Long-tailed digits (ratio 100), post-hoc logit adjustment (the CV estimator's default):
the network does not depend on tau, so every rule below is computed on the cached
fold networks' out-of-fold logits (``digits_logits.py``) and applied to the network fitted
on the whole training split (bit-identical to the CV estimator's final network: same
data, same seed). The oracle is the best tau of the default grid on the test set.

    python research/calibration/tau_selection.py [--seeds 0 1 2 3 4]
"""

import argparse
import json
from pathlib import Path

import numpy as np
from common import quiet
from sklearn.metrics import balanced_accuracy_score

from sk_imbalance.calibration import fit_calibration

HERE = Path(__file__).parent
GRID = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0])  # DEFAULT_TAUS
FINE = np.round(np.arange(0.0, 3.0001, 0.05), 2)


def pick(taus, curve):
    """Highest value; ties to the tau closest to 1."""
    top = np.flatnonzero(curve >= curve.max() - 1e-12)
    return float(taus[top[np.argmin(np.abs(taus[top] - 1.0))]])


def one_se(taus, scores, corrected=False):
    """The shipped one-standard-error rule on (n_splits, n_taus) scores.

    ``corrected``: the standard error of Nadeau and Bengio (2003) for (repeated) k-fold
    scores, which are correlated: variance times ``1 / J + n_test / n_train``
    (``1 / J + 1 / 4`` for 5 folds) instead of ``1 / J``.
    """
    mean = scores.mean(0)
    b = np.argmax(mean)
    J = scores.shape[0]
    factor = (1.0 / J + 0.25) if corrected else 1.0 / J
    se = scores[:, b].std(ddof=1) * np.sqrt(factor)
    cand = np.flatnonzero(mean >= mean.max() - se - 1e-12)
    return float(taus[cand[np.argmin(np.abs(taus[cand] - 1.0))]])


def smooth(curve):
    """3-point moving average along the grid (ends: 2 points)."""
    padded = np.concatenate([[curve[0]], curve, [curve[-1]]])
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0


class Seed:
    def __init__(self, seed):
        a = np.load(HERE / "cache" / f"digits_seed{seed}.npz")
        self.meta = json.loads((HERE / "cache" / f"digits_seed{seed}.json").read_text())
        self.a = a
        self.y, self.y_test = a["y_train"], a["y_test"]
        self.f_test, self.log_pi = a["post_hoc_full_test"], np.log(a["post_hoc_full_prior"])

    def test_ba(self, tau, logits=None):
        logits = self.f_test if logits is None else logits
        return balanced_accuracy_score(self.y_test, np.argmax(logits - tau * self.log_pi, 1))

    def rep(self, r):
        a = self.a
        oof, fold_of = a[f"post_hoc_cf{r}_oof"], a[f"post_hoc_cf{r}_fold_of"]
        log_pi = np.log(a[f"post_hoc_cf{r}_fold_prior"])[fold_of]  # each sample's fold prior
        return oof, fold_of, log_pi

    def fold_scores(self, r, taus, oof=None):
        """(5, n_taus) per-fold balanced accuracy and (n_taus,) pooled OOF one."""
        base, fold_of, log_pi = self.rep(r)
        oof = base if oof is None else oof
        per, pooled = np.zeros((5, len(taus))), np.zeros(len(taus))
        for j, t in enumerate(taus):
            pred = np.argmax(oof - t * log_pi, 1)
            pooled[j] = balanced_accuracy_score(self.y, pred)
            for i in range(5):
                m = fold_of == i
                per[i, j] = balanced_accuracy_score(self.y[m], pred[m])
        return per, pooled


def rules(s):
    """rule name -> (tau or None, test balanced accuracy)."""
    out = {}
    cvr = s.meta["shipped_cv_results"]
    out["shipped: LogitAdjustedClassifierCV() (one_se, 5 unshuffled folds)"] = s.meta["shipped_tau"]
    out["shipped folds, best mean"] = pick(np.array(cvr["taus"]), np.array(cvr["mean_test_score"]))
    out["shipped folds, one_se, corrected SE (Nadeau-Bengio)"] = one_se(
        np.array(cvr["taus"]), np.array(cvr["split_test_scores"]), corrected=True
    )
    out["fixed tau = 1 (no search)"] = 1.0
    per0, pooled0 = s.fold_scores(0, GRID)
    out["5 folds, best mean"] = pick(GRID, per0.mean(0))
    out["5 folds, one_se"] = one_se(GRID, per0)
    out["5 folds, one_se, corrected SE (Nadeau-Bengio)"] = one_se(GRID, per0, corrected=True)
    out["5 folds, smoothed mean"] = pick(GRID, smooth(per0.mean(0)))
    out["5 folds, pooled OOF curve"] = pick(GRID, pooled0)
    out["5 folds, pooled OOF curve, smoothed"] = pick(GRID, smooth(pooled0))
    reps = [s.fold_scores(r, GRID) for r in range(3)]
    per_all = np.concatenate([p for p, _ in reps])
    pooled_mean = np.mean([q for _, q in reps], axis=0)
    out["3x5 repeated folds, best mean"] = pick(GRID, per_all.mean(0))
    out["3x5 repeated folds, one_se"] = one_se(GRID, per_all)
    out["3x5 repeated folds, one_se, corrected SE (Nadeau-Bengio)"] = one_se(
        GRID, per_all, corrected=True
    )
    out["3x5 repeated folds, smoothed mean"] = pick(GRID, smooth(per_all.mean(0)))
    out["3x5 repeated, pooled OOF curve (mean of 3)"] = pick(GRID, pooled_mean)
    out["3x5 repeated, pooled OOF curve, smoothed"] = pick(GRID, smooth(pooled_mean))
    # Diagnosis: the pooled curve scored only on classes with at least 10 training
    # samples (each then has >= 8 in every fold's training part).
    base, fold_of, log_pi = s.rep(0)
    counts = np.bincount(s.y, minlength=10)
    big = np.isin(s.y, np.flatnonzero(counts >= 10))
    curve = [balanced_accuracy_score(s.y[big], np.argmax(base - t * log_pi, 1)[big]) for t in GRID]
    out["diagnosis: 5 folds, pooled OOF curve on classes with >= 10 samples"] = pick(
        GRID, np.array(curve)
    )
    fine_reps = [s.fold_scores(r, FINE)[1] for r in range(3)]
    out["5 folds, pooled OOF curve, fine grid (0.05)"] = pick(FINE, fine_reps[0])
    out["3x5 repeated, pooled OOF, fine grid (0.05)"] = pick(FINE, np.mean(fine_reps, axis=0))
    # Calibrate (on the pooled out-of-fold training-prior logits), then adjust.
    oof, _, _ = s.rep(0)
    result = {k: (v, s.test_ba(v)) for k, v in out.items()}
    for method in ("temperature", "bcts"):
        cal = fit_calibration(oof, s.y, method, ridge=0.0)
        cal_test = cal.transform(s.f_test)
        result[f"{method} on OOF logits, then tau = 1"] = (1.0, s.test_ba(1.0, cal_test))
        _, pooled_cal = s.fold_scores(0, GRID, oof=cal.transform(oof))
        t = pick(GRID, pooled_cal)
        result[f"{method} on OOF logits, pooled OOF tau"] = (t, s.test_ba(t, cal_test))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    quiet()  # a rare class missing from a fold's predictions or labels
    seeds = [Seed(k) for k in args.seeds]
    oracle = []
    for s in seeds:
        curve = np.array([s.test_ba(t) for t in GRID])
        oracle.append((pick(GRID, curve), curve.max()))
    print(
        "Oracle (best tau of the default grid on the test set), per seed: "
        + ", ".join(
            f"seed {k}: tau {t:g}, BA {b:.4f}" for k, (t, b) in zip(args.seeds, oracle, strict=True)
        )
    )
    print()
    print(
        "| rule | tau per seed | BA per seed | ratio to oracle per seed | min ratio | mean ratio |"
    )
    print("|---|---|---|---|---|---|")
    per_rule = {}
    for s, (_, ob) in zip(seeds, oracle, strict=True):
        for name, (tau, ba) in rules(s).items():
            per_rule.setdefault(name, []).append((tau, ba, ba / ob))
    for name, rs in per_rule.items():
        taus = " / ".join(f"{t:g}" for t, _, _ in rs)
        bas = " / ".join(f"{b:.4f}" for _, b, _ in rs)
        ratios = [r for _, _, r in rs]
        print(
            f"| {name} | {taus} | {bas} | {' / '.join(f'{r:.3f}' for r in ratios)} "
            f"| {min(ratios):.3f} | {np.mean(ratios):.3f} |"
        )
    out = {"oracle": oracle, "rules": per_rule}
    (HERE / "cache" / "tau_selection.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
