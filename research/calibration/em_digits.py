"""(a) EM estimate of a Dirichlet(2) deployment prior on long-tailed digits, with and
without calibration, and where the calibration's held-out logits come from.

Reads the logits cached by ``digits_logits.py``. For each seed the balanced test split is
resampled (with replacement, 1000 samples, multinomial class counts) to a prior drawn from
Dirichlet(2, ..., 2); EM (``estimate_deployment_prior``, what ``fit_prior_shift`` runs)
estimates it from the posteriors of the deployed network, uncalibrated or calibrated.
Log loss after the shift: posteriors moved to the EM estimate (``adjust_to_prior``).

    python research/calibration/em_digits.py [--seeds 0 1 2 3 4] [--adjustment loss]
"""

import argparse
import json
from pathlib import Path

import numpy as np
from common import resample_to_prior
from scipy.special import softmax
from sklearn.metrics import log_loss

from sk_imbalance.calibration import fit_calibration
from sk_imbalance.prior_shift import adjust_to_prior, estimate_deployment_prior

HERE = Path(__file__).parent


def sources(a, adj, oracle_idx):
    """name -> (deployed test logits, (held-out logits, labels, their prior) or None,
    the deployed network's prior)."""
    y = a["y_train"]
    full, prior = a[f"{adj}_full_test"], a[f"{adj}_full_prior"]
    folds = a[f"{adj}_cf0_fold_test"].mean(0)
    oof = (a[f"{adj}_cf0_oof"], y, prior)
    out = {
        "uncalibrated, full net (fit_prior_shift today)": (full, None, prior),
        "uncalibrated, mean of the 5 fold nets": (folds, None, prior),
        "cross-fit 5 folds -> full net": (full, oof, prior),
        "cross-fit 5 folds -> mean of the 5 fold nets": (folds, oof, prior),
    }
    for frac in (10, 25):
        t = f"{adj}_split{frac}"
        held = (a[f"{t}_heldout"], y[a[f"{t}_idx"]], a[f"{t}_prior"])
        out[f"uncalibrated, split {frac}% net"] = (a[f"{t}_test"], None, a[f"{t}_prior"])
        out[f"split {frac}% -> split net"] = (a[f"{t}_test"], held, a[f"{t}_prior"])
    held = a[f"{t}_heldout"], y[a[f"{t}_idx"]], a[f"{t}_prior"]
    out["split 25% -> full net"] = (full, held, prior)
    # Not available in practice: labelled data of every class (half of the balanced test
    # split, about 45 per class), to show what calibration can do with enough of it.
    y_or = a["y_test"][oracle_idx]
    out["ORACLE: labelled balanced half of the test split -> full net"] = (
        full,
        (full[oracle_idx], y_or, np.bincount(y_or, minlength=10) / len(y_or)),
        prior,
    )
    return out


CALIBRATIONS = {
    "temperature, ML": ("temperature", None, 0.0, False),
    "temperature of the balanced logits, ML": ("temperature", None, 0.0, True),
    "BCTS, ML": ("bcts", None, 0.0, False),
    "BCTS, ridge 1": ("bcts", None, 1.0, False),
    "BCTS, Platt targets": ("bcts", "platt", 0.0, False),
    "vector, ridge 1": ("vector", None, 1.0, False),
}


def calibrated_proba(test, held, config):
    """Calibrated posteriors of ``test`` and their mean on the held-out logits."""
    method, smoothing, ridge, balanced = config
    logits, labels, held_prior = held
    shift = np.log(held_prior) if balanced else 0.0
    cal = fit_calibration(logits - shift, labels, method, smoothing=smoothing, ridge=ridge)

    def proba(z):
        return softmax(cal.transform(z - shift) + shift, axis=1)

    return proba(test), proba(logits).mean(axis=0)


def evaluate(seed, adj, ratio=100):
    stem = f"digits_seed{seed}" if ratio == 100 else f"digits_ir{ratio:g}_seed{seed}"
    a = np.load(HERE / "cache" / f"{stem}.npz")
    rng = np.random.default_rng(seed)
    y_test = a["y_test"]
    # Half of the balanced test split (stratified) is the deployment pool; the other half
    # serves only the ORACLE row.
    perm = rng.permutation(len(y_test))
    oracle_idx = np.sort(np.concatenate([perm[y_test[perm] == k][::2] for k in range(10)]))
    pool = np.setdiff1d(np.arange(len(y_test)), oracle_idx)
    q = rng.dirichlet(2.0 * np.ones(10))
    idx = pool[resample_to_prior(y_test[pool], q, 1000, rng)]
    y_dep = y_test[idx]
    truth = np.bincount(y_dep, minlength=10) / len(y_dep)
    rows = {}
    for name, (test, held, prior) in sources(a, adj, oracle_idx).items():
        configs = {"": None} if held is None else CALIBRATIONS
        for cname, config in configs.items():
            label = f"{name}, {cname}" if cname else name
            try:
                if held is None:
                    p = softmax(test[idx], axis=1)
                    em_prior = prior
                else:
                    # EM corrects relative to the class mix under which the calibrated
                    # posteriors hold: their mean on the held-out logits (for BCTS by
                    # maximum likelihood, exactly the held-out labels' mix).
                    p, em_prior = calibrated_proba(test[idx], held, config)
            except ValueError as exc:
                rows[label] = {"error": str(exc).split(":")[0]}
                continue
            q_hat, n_iter = estimate_deployment_prior(p, em_prior)
            rows[label] = {
                "l1": float(np.abs(q_hat - truth).sum()),
                "log_loss_train_prior": log_loss(y_dep, p, labels=range(10)),
                "log_loss_after_shift": log_loss(
                    y_dep, adjust_to_prior(p, em_prior, q_hat), labels=range(10)
                ),
                "log_loss_true_prior": log_loss(
                    y_dep, adjust_to_prior(p, em_prior, truth), labels=range(10)
                ),
                "n_iter": n_iter,
            }
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--adjustment", default="loss", choices=["loss", "post_hoc"])
    parser.add_argument("--imbalance-ratio", type=float, default=100)
    args = parser.parse_args()
    per_seed = {s: evaluate(s, args.adjustment, args.imbalance_ratio) for s in args.seeds}
    names = list(per_seed[args.seeds[0]])
    print(
        f"imbalance ratio {args.imbalance_ratio:g}, adjustment={args.adjustment!r}, "
        f"seeds {args.seeds}\n"
    )
    print(
        "| held-out logits -> deployed net, calibration | mean L1 | L1 per seed "
        "| log loss after shift | at training prior | at true prior |"
    )
    print("|---|---|---|---|---|---|")
    summary = {}
    for name in names:
        rs = [per_seed[s][name] for s in args.seeds]
        if any("error" in r for r in rs):
            n_err = sum("error" in r for r in rs)
            print(
                f"| {name} | error on {n_err}/{len(rs)} seeds: {rs[0].get('error', '')} | | | | |"
            )
            continue
        m = {k: float(np.mean([r[k] for r in rs])) for k in rs[0]}
        summary[name] = m
        per = " / ".join(f"{r['l1']:.3f}" for r in rs)
        print(
            f"| {name} | {m['l1']:.3f} | {per} | {m['log_loss_after_shift']:.3f} "
            f"| {m['log_loss_train_prior']:.3f} | {m['log_loss_true_prior']:.3f} |"
        )
    (HERE / "cache" / f"em_digits_ir{args.imbalance_ratio:g}_{args.adjustment}.json").write_text(
        json.dumps(per_seed, indent=1)
    )


if __name__ == "__main__":
    main()
