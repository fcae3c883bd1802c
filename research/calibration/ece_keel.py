"""(b) Expected calibration error under the training prior on the 28 KEEL development
sets, with and without calibration (logits cached by ``keel_logits.py``).

``predict_proba`` with ``objective="accuracy"`` (the training prior) of
``LogitAdjustedClassifier(random_state=0)``; the test predictions of the 2 outer folds are
pooled and scored once per data set: top-label ECE (15 equal-width bins), log loss and
Brier score. Calibrations: temperature scaling or BCTS, fitted on the out-of-fold logits
of 3-fold cross-fitting (applied to the network fitted on the whole outer training part),
or on a 20% internal split (applied to the network fitted on the other 80%); "ML" is
maximum likelihood (``ridge=0``), "ridge 1" the package default.

    python research/calibration/ece_keel.py
"""

import json
from pathlib import Path

import numpy as np
from scipy.special import softmax
from sklearn.metrics import brier_score_loss, log_loss

from sk_imbalance.calibration import expected_calibration_error, fit_calibration

HERE = Path(__file__).parent

FITS = {
    "temperature, ML": dict(method="temperature", ridge=0.0),
    "temperature, ridge 1": dict(method="temperature", ridge=1.0),
    "BCTS, ML": dict(method="bcts", ridge=0.0),
    "BCTS, ridge 1": dict(method="bcts", ridge=1.0),
    "BCTS, ridge 5": dict(method="bcts", ridge=5.0),
    "BCTS, Platt targets": dict(method="bcts", smoothing="platt", ridge=0.0),
}
VARIANTS = [("full net, uncalibrated", "full", None, None)]
VARIANTS += [(f"cross-fit 3 -> full net, {k}", "full", "cf", v) for k, v in FITS.items()]
VARIANTS += [("split 20% net, uncalibrated", "split", None, None)]
VARIANTS += [(f"split 20% -> split net, {k}", "split", "split", v) for k, v in FITS.items()]
TABLE = [0, 2, 4, 7, 9, 11]  # the per-set table's columns (uncalibrated, ridge 1)


def scores(path):
    a = np.load(path)
    y = a["y"]
    out = {}
    for name, net, source, fit in VARIANTS:
        P = np.zeros((len(y), 2))
        for i in range(sum(k.endswith("_test_idx") for k in a.files)):
            te = a[f"f{i}_test_idx"]
            logits = a[f"f{i}_{net}_test"]
            if source is None:
                P[te] = softmax(logits, axis=1)
            else:
                held = a[f"f{i}_cf_oof"] if source == "cf" else a[f"f{i}_split_heldout"]
                yh = a[f"f{i}_cf_y"] if source == "cf" else a[f"f{i}_split_y"]
                try:
                    P[te] = fit_calibration(held, yh, **fit).predict_proba(logits)
                except ValueError as exc:  # ML without a finite optimum
                    P = str(exc).split(":")[0]
                    break
        if isinstance(P, str):
            out[name] = {"error": P}
            continue
        if name == VARIANTS[0][0]:
            # Noise floor: the ECE of these same probabilities when they are exactly
            # calibrated (labels drawn from them), mean of 20 draws.
            rng = np.random.default_rng(0)
            out["noise_floor"] = float(
                np.mean(
                    [
                        expected_calibration_error(
                            (rng.random(len(y)) < P[:, 1]).astype(int), P, labels=[0, 1]
                        )
                        for _ in range(20)
                    ]
                )
            )
        out[name] = {
            "ece": expected_calibration_error(y, P, labels=[0, 1]),
            "log_loss": log_loss(y, P, labels=[0, 1]),
            "brier": brier_score_loss(y, P[:, 1]),
        }
    return out


def main():
    paths = sorted((HERE / "cache").glob("keel_*.npz"))
    res = {p.stem[5:]: scores(p) for p in paths}
    names = [v[0] for v in VARIANTS]
    base = {"full": names[0], "split": names[7]}
    shown = [names[i] for i in TABLE]
    print(f"{len(res)} data sets\n")
    print("| data set | " + " | ".join(shown) + " |")
    print("|---|" + "---|" * len(shown))
    for ds, r in res.items():
        cells = [f"{r[n]['ece']:.4f}" if "ece" in r[n] else "error" for n in shown]
        print(f"| {ds} | " + " | ".join(cells) + " |")
    print(
        "\n| variant | mean ECE | median ECE | lower ECE than its uncalibrated net "
        "| lower ECE than the uncalibrated full net | mean log loss "
        "| lower log loss than its uncalibrated net | mean Brier |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, net, source, _ in VARIANTS:
        errors = sum("error" in r[name] for r in res.values())
        if errors:
            print(f"| {name} | no finite ML fit on {errors}/{len(res)} sets | | | | | | |")
            continue
        ece = np.array([r[name]["ece"] for r in res.values()])
        ll = np.array([r[name]["log_loss"] for r in res.values()])
        br = np.array([r[name]["brier"] for r in res.values()])
        w0 = sum(r[name]["ece"] < r[names[0]]["ece"] for r in res.values())
        vs_full = "-" if name == names[0] else f"{w0}/{len(res)} ({w0 / len(res):.0%})"
        if source is None:
            wins = ll_wins = "-"
        else:
            b = base[net]
            w = sum(r[name]["ece"] < r[b]["ece"] for r in res.values())
            wins = f"{w}/{len(res)} ({w / len(res):.0%})"
            w2 = sum(r[name]["log_loss"] < r[b]["log_loss"] for r in res.values())
            ll_wins = f"{w2}/{len(res)}"
        print(
            f"| {name} | {ece.mean():.4f} | {np.median(ece):.4f} | {wins} | {vs_full} "
            f"| {ll.mean():.4f} | {ll_wins} | {br.mean():.4f} |"
        )
    floor = np.array([r["noise_floor"] for r in res.values()])
    print(
        f"\nNoise floor (ECE of the uncalibrated full net's probabilities with labels drawn "
        f"from them, i.e. exactly calibrated; mean of 20 draws): mean {floor.mean():.4f}, "
        f"median {np.median(floor):.4f} over the {len(res)} sets."
    )
    (HERE / "cache" / "ece_keel.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
