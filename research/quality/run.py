"""Run candidate recipes on the dev suite and on long-tailed digits; print the summary.

    python research/quality/run.py NAME=JSON [NAME=JSON ...] [--repeats 1] [--jobs 2]
        [--outer standard|raw] [--no-digits] [--only-digits]
    python research/quality/run.py --report NAME [NAME ...]

``JSON`` overrides ``train.DEFAULT`` (e.g. ``'{"k": 8, "wd": 1.0}'``). Results go to
``results/cand_<NAME>.csv`` (dev suite) and ``results/lt_<NAME>.csv`` (digits); the
JSON is stored in ``results/configs.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import sys
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.stats import wilcoxon

from common import RESULTS, binary_metrics, dataset_names, folds, load, lt_metrics

INCUMBENTS = [
    "brf", "easy_ensemble", "rusboost", "hgb_balanced", "hgb_balanced_ttcv",
    "mlp_balanced", "ros_mlp", "smote_mlp", "rus_mlp", "lr_balanced",
]
CFG_FILE = RESULTS / "configs.json"


def _configs():
    return json.loads(CFG_FILE.read_text()) if CFG_FILE.exists() else {}


def _job(cfg, name, repeats, outer):
    import torch
    from sklearn.preprocessing import StandardScaler

    from train import fit_predict

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    X, y = load(name)
    rows = []
    for r in range(repeats):
        for f, (tr, te) in enumerate(folds(y, repeat=r)):
            Xtr, Xte = X[tr], X[te]
            if outer == "standard":
                sc = StandardScaler().fit(Xtr)
                Xtr, Xte = sc.transform(Xtr), sc.transform(Xte)
            ss, fit_s, info = fit_predict(cfg, Xtr, y[tr], Xte, seed=r * 100 + f)
            for g, s in ss.items():
                pred = s.argmax(1)
                score = s[:, 1] - s[:, 0]
                rows.append(dict(group=g, dataset=name, repeat=r, fold=f, fit_s=fit_s, epochs=info["epochs"],
                                 best_epoch=info["best_epoch"], **binary_metrics(y[te], pred, score)))
    return rows


def _lt_job(cfg, seed):
    import torch

    from sk_imbalance.datasets import load_long_tailed
    from train import fit_predict

    torch.set_num_threads(1)
    d = load_long_tailed("digits", imbalance_ratio=100, random_state=seed)
    ss, fit_s, info = fit_predict(cfg, d.X_train, d.y_train, d.X_test, seed=seed)
    counts = np.bincount(d.y_train, minlength=10)
    return [dict(group=g, seed=seed, fit_s=fit_s, epochs=info["epochs"], **lt_metrics(d.y_test, s.argmax(1), counts))
            for g, s in ss.items()]


def per_dataset(method):
    p = RESULTS / f"{method}.csv"
    if not p.exists():
        p = RESULTS / f"cand_{method}.csv"
    df = pd.read_csv(p)
    return df.groupby("dataset")[["ba", "gmean", "auc", "fit_s"]].agg(
        {"ba": "mean", "gmean": "mean", "auc": "mean", "fit_s": "median"}
    )


def summary(cands, incumbents=INCUMBENTS, file=sys.stdout):
    avail = [m for m in incumbents if (RESULTS / f"{m}.csv").exists()]
    missing = sorted(set(incumbents) - set(avail))
    if missing:
        print(f"(incumbents not yet available: {', '.join(missing)})", file=file)
    inc = {m: per_dataset(m) for m in avail}
    lines = []
    best = {met: max(inc, key=lambda m: inc[m][met].mean()) for met in ("ba", "gmean", "auc")}
    head = ("| method | BA | rank | G-mean | rank | AUC | rank | W/T/L BA vs {b} | p BA | "
            "W/T/L G vs {g} | p G | median fit s | digits BA / rare3 |").format(b=best["ba"], g=best["gmean"])
    lines.append(head)
    lines.append("|" + "---|" * 13)

    def row(name, d, is_cand):
        frame = {**inc, name: d} if is_cand else inc
        ranks = {}
        for met in ("ba", "gmean", "auc"):
            tab = pd.DataFrame({m: frame[m][met] for m in frame})
            ranks[met] = tab.rank(axis=1, ascending=False).mean()[name]
        out = [name]
        for met in ("ba", "gmean", "auc"):
            out += [f"{d[met].mean():.4f}", f"{ranks[met]:.2f}"]
        for met in ("ba", "gmean"):
            b = inc[best[met]][met]
            a = d[met].reindex(b.index)
            diff = a - b
            w, t, l = int((diff > 1e-9).sum()), int((diff.abs() <= 1e-9).sum()), int((diff < -1e-9).sum())
            try:
                p = wilcoxon(a, b).pvalue if (diff.abs() > 1e-9).any() else 1.0
            except ValueError:
                p = 1.0
            out += [f"{w}/{t}/{l}", f"{p:.3g}"]
        out.append(f"{d['fit_s'].median():.3f}")
        lt = RESULTS / f"lt_{name}.csv"
        if lt.exists():
            ltd = pd.read_csv(lt)
            out.append(f"{ltd.ba.mean():.4f} / {ltd.rare3.mean():.4f}")
        else:
            out.append("")
        return "| " + " | ".join(out) + " |"

    for c in cands:
        lines.append(row(c, per_dataset(c), True))
    print("\n".join(lines), file=file, flush=True)
    # average ranks of every method, with all the candidates in one frame
    frame = {**inc, **{c: per_dataset(c) for c in cands}}
    print("\n| method | mean BA | avg rank BA | mean G | avg rank G | mean AUC | avg rank AUC | median fit s |", file=file)
    print("|---|---|---|---|---|---|---|---|", file=file)
    rk = {met: pd.DataFrame({m: frame[m][met] for m in frame}).rank(axis=1, ascending=False).mean()
          for met in ("ba", "gmean", "auc")}
    for m in sorted(frame, key=lambda q: rk["ba"][q]):
        d = frame[m]
        print(f"| {m} | {d.ba.mean():.4f} | {rk['ba'][m]:.2f} | {d.gmean.mean():.4f} | {rk['gmean'][m]:.2f} | "
              f"{d.auc.mean():.4f} | {rk['auc'][m]:.2f} | {d.fit_s.median():.3f} |", file=file)
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("specs", nargs="*")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--outer", default="standard")
    ap.add_argument("--no-digits", action="store_true")
    ap.add_argument("--only-digits", action="store_true")
    ap.add_argument("--report", nargs="*")
    ap.add_argument("--datasets", nargs="*")
    args = ap.parse_args()
    if args.report is not None:
        summary(args.report)
        return
    cfgs = _configs()
    names = args.datasets or dataset_names()
    done = []
    for spec in args.specs:
        name, _, js = spec.partition("=")
        cfg = json.loads(js) if js else cfgs[name]["cfg"]
        cfgs[name] = dict(cfg=cfg, outer=args.outer, repeats=args.repeats)
        CFG_FILE.write_text(json.dumps(cfgs, indent=1))
        gnames = []
        if not args.only_digits:
            out = Parallel(n_jobs=args.jobs)(delayed(_job)(cfg, n, args.repeats, args.outer) for n in names)
            df = pd.DataFrame([r for rs in out for r in rs])
            for g, part in df.groupby("group", sort=False):
                gn = name + (f"[{g}]" if g else "")
                part.drop(columns="group").to_csv(RESULTS / f"cand_{gn}.csv", index=False)
                gnames.append(gn)
        if not args.no_digits:
            lt = Parallel(n_jobs=args.jobs)(delayed(_lt_job)(cfg, s) for s in (0, 1, 2))
            ldf = pd.DataFrame([r for rs in lt for r in rs])
            for g, part in ldf.groupby("group", sort=False):
                gn = name + (f"[{g}]" if g else "")
                part.drop(columns="group").to_csv(RESULTS / f"lt_{gn}.csv", index=False)
                if args.only_digits:
                    print(f"{gn}: digits BA {part.ba.mean():.4f} rare3 {part.rare3.mean():.4f} fit {part.fit_s.median():.2f}s")
        if gnames:
            summary(gnames)


if __name__ == "__main__":
    main()
