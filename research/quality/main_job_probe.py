"""Candidates of the package's own estimators under the main job's protocol.

    python research/quality/main_job_probe.py NAME [NAME ...] [--jobs 2] [--datasets ...]
    python research/quality/main_job_probe.py --report NAME [NAME ...]

Each candidate (``CANDIDATES`` below) is a factory of an estimator built from the
package; it is fitted with ``sk_imbalance.benchmark.run_benchmark`` on the 28
development sets with exactly the main job's protocol (3-fold stratified CV x 2
repeats, seed 0, float32 features, one thread per fit), and compared with the
incumbents' scores of the main job's last default run (``results/main_job_dev.csv.gz``,
from ``sk-imbalance benchmark --data-dir shared/data/keel_dev --target target``), so only
the candidate is refitted. Scores go to ``results/probe_<NAME>.csv``; the summary prints
mean, average rank among the candidate and the 8 incumbents that finished on every set
(RUSBoost failed on 5 and is left out, as in the main job), W/T/L and the Wilcoxon p
against the best incumbent, and the paired difference to today's ``logit_adjusted``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import dataclasses
import glob
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler

from sk_imbalance import FocalClassifier, LogitAdjustedClassifier
from sk_imbalance.losses import FocalLoss
from sk_imbalance.benchmark import Method, compare_methods, run_benchmark
from sk_imbalance.datasets import load_csv
from sk_imbalance.networks import MLP

sys.path.insert(0, str(Path(__file__).resolve().parent))
import adaptive_decay  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEV = HERE.parents[2] / "shared" / "data" / "keel_dev"
METRICS = ["balanced_accuracy", "g_mean", "roc_auc"]


class PiecewiseLinear(BaseEstimator, TransformerMixin):
    """Piecewise-linear encoding of each feature on its training quantiles.

    Gorishniy, Rubachev and Babenko (NeurIPS 2022), "PLE-Q": bin edges are the
    ``n_bins + 1`` training quantiles of the feature (duplicates dropped); bin ``t`` of a
    value is 0 below the bin, 1 above it and linear inside; the first bin is not clipped
    below, the last not above. ``keep_raw`` appends the input itself.
    """

    def __init__(self, n_bins=16, keep_raw=False, pad=False):
        self.n_bins = n_bins
        self.keep_raw = keep_raw
        self.pad = pad

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        self.edges_ = []
        for j in range(X.shape[1]):
            e = np.unique(np.quantile(X[:, j], np.linspace(0, 1, self.n_bins + 1)))
            if len(e) == 1:
                e = np.array([e[0], e[0] + 1.0])
            self.edges_.append(e)
        return self

    def transform(self, X):
        X = np.asarray(X)
        out = []
        for j, e in enumerate(self.edges_):
            x = X[:, j : j + 1].astype(np.float64)
            lo, width = e[:-1], np.diff(e)
            z = (x - lo) / width
            if len(lo) > 1:
                z[:, :-1] = np.minimum(z[:, :-1], 1.0)
                z[:, 1:] = np.maximum(z[:, 1:], 0.0)
            if self.pad:  # exactly n_bins columns per feature (zeros for dropped bins)
                z = np.hstack([z, np.zeros((len(x), self.n_bins - z.shape[1]))])
            out.append(z)
        if self.keep_raw:  # the raw features first
            out.insert(0, X.astype(np.float64))
        return np.hstack(out).astype(X.dtype)


class _Slice(torch.nn.Module):
    def __init__(self, stop, net):
        super().__init__()
        self.stop, self.net = stop, net

    def forward(self, X):
        return self.net(X[:, : self.stop])


class MixedMembers:
    """``module=`` factory: member m sees the raw features only when ``pattern[m]`` is "r",
    else raw + padded piecewise-linear encoding (``PiecewiseLinear(T, True, pad=True)``)."""

    def __init__(self, n_bins, pattern, hidden=(100,)):
        self.n_bins, self.pattern, self.hidden, self.calls = n_bins, pattern, hidden, 0

    def __call__(self, n_in, n_out):
        m = self.calls % len(self.pattern)
        self.calls += 1
        n_raw = n_in // (self.n_bins + 1)
        if self.pattern[m] == "r":
            return _Slice(n_raw, MLP(n_raw, n_out, self.hidden, "relu", 0.0))
        return MLP(n_in, n_out, self.hidden, "relu", 0.0)


def _la(**kw):
    return lambda s: make_pipeline(StandardScaler(), LogitAdjustedClassifier(**s.network(**kw)))


def _focal(**kw):
    return lambda s: make_pipeline(StandardScaler(), FocalClassifier(**s.network(**kw)))


class _ShiftedLogits(torch.nn.Module):
    """``criterion(logits + offset, target)``: a loss on logit-adjusted logits."""

    def __init__(self, criterion, offset):
        super().__init__()
        self.criterion = criterion
        self.register_buffer("offset", torch.as_tensor(offset))

    def forward(self, logits, target):
        return self.criterion(logits + self.offset.to(logits), target)


class FocalLogitAdjusted(FocalClassifier):
    """Focal loss on the logit-adjusted logits ``f + log(prior)`` (Menon et al.'s
    adjustment in place of the alpha reweighting; use with ``alpha=None``); the
    decision is the argmax of ``f``, as for LogitAdjustedClassifier."""

    def _problem(self, X, targets, sample_weight):
        problem = super()._problem(X, targets, sample_weight)
        offset = np.log(problem.attrs["class_prior_"])
        return dataclasses.replace(problem, criterion=_ShiftedLogits(problem.criterion, offset))


class _MixedMemberLoss(torch.nn.Module):
    """The logit-adjusted loss for the members in ``la_members``, the frequent-only focal
    loss (alpha balanced) for the others; sees MemberMean's flattened rows, ``b * k + m``."""

    def __init__(self, la, focal, la_members, k):
        super().__init__()
        self.la, self.focal, self.k = la, focal, k
        self.register_buffer("la_members", torch.as_tensor(la_members, dtype=torch.bool))

    def forward(self, outputs, target):
        member = torch.arange(len(target), device=target.device) % self.k
        use_la = self.la_members.to(target.device)[member]
        return torch.where(use_la, self.la(outputs, target), self.focal(outputs, target))


class LogitAdjustedMixedFocal(LogitAdjustedClassifier):
    """Half the members (each weight decay and input kind once) trained with the
    adjusted loss, the other half with FocalClassifier(focus="frequent")'s loss; both
    estimate the balanced posterior, so the members' mean is decided as usual."""

    def _problem(self, X, targets, sample_weight, tau=None):
        problem = super()._problem(X, targets, sample_weight, tau)
        prior = problem.attrs["class_prior_"]
        gamma = np.where(prior >= (1 - 1e-9) / len(prior), 2.0, 0.0)
        alpha = 1.0 / (len(prior) * prior)
        focal = FocalLoss(torch.as_tensor(gamma), torch.as_tensor(alpha), reduction="none")
        la = np.zeros(self.n_members, dtype=bool)
        la[[m for m in (0, 2, 5, 7) if m < self.n_members]] = True
        return dataclasses.replace(
            problem, criterion=_MixedMemberLoss(problem.criterion, focal, la, self.n_members)
        )


class LogitAdjustedEqualSay(LogitAdjustedClassifier):
    """Prediction gives every member the same say: each member's centred
    log-probabilities are divided by their root-mean-square on the training rows
    (fitted once, so a row's prediction does not depend on the others) before the
    mean; a heavily decayed member's nearly flat outputs then count as much as a
    sharp member's. The decision of each member is unchanged (its sign / argmax)."""

    def fit(self, X, y, sample_weight=None):
        self.__dict__.pop("member_scale_", None)
        super().fit(X, y, sample_weight)
        with torch.no_grad():
            out = self.module_(torch.as_tensor(np.asarray(X), dtype=getattr(torch, self.dtype_)))
        if out.ndim == 3:
            lp = torch.log_softmax(out, dim=-1)
            c = lp - lp.mean(dim=-1, keepdim=True)
            self.member_scale_ = c.pow(2).mean(dim=(0, 2)).sqrt().clamp_min(1e-6).numpy()
        return self

    def _average_members(self, outputs):
        lp = torch.log_softmax(outputs, dim=-1)
        scale = getattr(self, "member_scale_", None)
        if scale is None:
            return lp.mean(dim=1)
        w = torch.as_tensor(scale.mean() / scale).to(lp)[None, :, None]
        c = lp - lp.mean(dim=-1, keepdim=True)
        return torch.log_softmax((c * w).mean(dim=1), dim=-1)


def _focal_la(**kw):
    return lambda s: make_pipeline(
        StandardScaler(), FocalLogitAdjusted(alpha=None, **s.network(**kw))
    )


def _la_ple(n_bins=16, keep_raw=False, **kw):
    return lambda s: make_pipeline(
        StandardScaler(),
        PiecewiseLinear(n_bins, keep_raw),
        LogitAdjustedClassifier(**s.network(**kw)),
    )


def _la_mixed(n_bins, pattern="rp" * 4):
    return lambda s: make_pipeline(
        StandardScaler(),
        PiecewiseLinear(n_bins, True, pad=True),
        LogitAdjustedClassifier(
            **s.network(
                module=MixedMembers(n_bins, pattern),
                weight_decay=(0.1, 0.1, 0.3, 0.3, 1.0, 1.0, 3.0, 3.0),
            )
        ),
    )


CANDIDATES = {
    "la_default": _la(),
    "ple16": _la_ple(16),
    "ple16_raw": _la_ple(16, True),
    "ple8_raw": _la_ple(8, True),
    "ple32_raw": _la_ple(32, True),
    "focal_ple16_raw": lambda s: make_pipeline(
        StandardScaler(), PiecewiseLinear(16, True), FocalClassifier(**s.network())
    ),
    # members alternate raw / raw+PLE (stacked, through module=); decays
    # (0.1, 0.1, 0.3, 0.3, 1, 1, 3, 3): each kind gets every decay
    "mix16": _la_mixed(16),
    "mix8": _la_mixed(8),
    "ple4_raw": _la_ple(4, True),
    "mix4": _la_mixed(4),
    "mix8_quarter": _la_mixed(8, "rrrp" * 2),  # 2 of the 8 members encoded
    "ple8_raw_wd3x": _la_ple(8, True, weight_decay=(0.3, 1.0, 3.0, 10.0)),
    # the package's own option (packed ensemble; the last 4 members encoded)
    "pkg_mixed8": _la(feature_encoding="mixed", n_bins=8),
    "pkg_mixed4": _la(feature_encoding="mixed", n_bins=4),
    "pkg_mixed16": _la(feature_encoding="mixed", n_bins=16),
    "pkg_mixed2": _la(feature_encoding="mixed", n_bins=2),
    "pkg_mixed3": _la(feature_encoding="mixed", n_bins=3),
    "pkg_ple4": _la(feature_encoding="piecewise_linear", n_bins=4),
    "cwb_ple16_raw": _la_ple(16, True, adjustment="none", class_weight="balanced"),
    # FocalClassifier's focusing parameter with today's network (gamma=0 is the
    # class-weighted cross-entropy of the main job's class_weight_balanced)
    "focal_g05": _focal(gamma=0.5),
    "focal_g1": _focal(gamma=1.0),
    # focal loss on logit-adjusted logits (alpha=None): the margin, not a weight,
    # balances the classes
    "focal_la": _focal_la(),
    "focal_la_g1": _focal_la(gamma=1.0),
    # focal_freq was the prototype (a criterion of its own in this file) of what became
    # FocalClassifier(focus="frequent"); it scored within 1e-4 of focal_pkg_frequent
    "focal_freq": _focal(focus="frequent"),
    # the package's FocalClassifier(focus="frequent") (its default since this probe)
    "focal_pkg_frequent": _focal(focus="frequent"),
    "la_mix_focal": lambda s: make_pipeline(
        StandardScaler(), LogitAdjustedMixedFocal(**s.network())
    ),
    "focal_freq_g1": _focal(focus="frequent", gamma=1.0),
    "focal_freq_g3": _focal(focus="frequent", gamma=3.0),
    # the members' decays shifted up by one step (a 10 in place of the 0.1)
    "la_wd_hi": _la(weight_decay=(0.3, 1.0, 3.0, 10.0)),
    "la_wd_hi2": _la(weight_decay=(1.0, 3.0, 10.0, 30.0)),
    "la_wd_wide": _la(weight_decay=(0.1, 1.0, 3.0, 10.0)),
    "la_wd_hi3": _la(weight_decay=(3.0, 10.0, 30.0, 100.0)),
    "la_equal_say": lambda s: make_pipeline(
        StandardScaler(), LogitAdjustedEqualSay(**s.network())
    ),
    "la_equal_say_wd_hi2": lambda s: make_pipeline(
        StandardScaler(), LogitAdjustedEqualSay(**s.network(weight_decay=(1.0, 3.0, 10.0, 30.0)))
    ),
    # today's default with dropout; and behind a rank-Gaussian transform of each
    # feature (QuantileTransformer, normal output) in place of the StandardScaler
    "la_drop01": _la(dropout=0.1),
    # the members' decay group (low 0.1-3 / high 3-100) chosen per data set on
    # out-of-fold members (adaptive_decay.py)
    **{
        name: (
            lambda cls: lambda s: make_pipeline(
                StandardScaler(), cls(**s.network(weight_decay=adaptive_decay.DECAYS))
            )
        )(getattr(adaptive_decay, cls_name))
        for name, cls_name in [
            ("ad_all", "FoldDecayAll"),
            ("ad_low", "FoldDecayLow"),
            ("ad_chosen_ll", "FoldDecayChosenLL"),
            ("ad_chosen_ba", "FoldDecayChosenBA"),
            ("ad_chosen_ba2", "FoldDecayChosenBA2"),
        ]
    },
    "la_quantile": lambda s: make_pipeline(
        QuantileTransformer(output_distribution="normal", random_state=0),
        LogitAdjustedClassifier(**s.network()),
    ),
}


def _data(names=None):
    data = []
    for path in sorted(glob.glob(str(DEV / "*.csv"))):
        name = Path(path).stem
        if name == "INDEX" or (names and name not in names):
            continue
        X, y = load_csv(path, "target")
        data.append((name, X.astype("float32"), np.asarray(y)))
    return data


def run(name, jobs, names):
    method = Method(name, CANDIDATES[name], "ours", name)
    start = time.perf_counter()
    scores = run_benchmark(
        [method],
        _data(names),
        cv=3,
        n_repeats=2,
        random_state=0,
        n_jobs=jobs,
        n_threads=1,
        progress=False,
    )
    print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    scores.to_csv(RESULTS / f"probe_{name}.csv", index=False)


def report(names):
    base = pd.read_csv(RESULTS / "main_job_dev.csv.gz")
    inc = base[(base.family == "incumbent") & (base.method != "rusboost")]
    today = base[base.method == "logit_adjusted"]
    print(
        "| candidate | BA mean / rank (W/T/L, p) | G-mean mean / rank (W/T/L, p) | AUC mean / rank | "
        "vs today BA / G / AUC (wins) | median fit s (today) |"
    )
    print("|---|---|---|---|---|---|")
    for name in names:
        cand = pd.read_csv(RESULTS / f"probe_{name}.csv")
        sets = cand.dataset.unique()
        frame = pd.concat([inc[inc.dataset.isin(sets)], cand])
        cells = []
        for metric in METRICS:
            c = compare_methods(frame, metric)
            row = c.table.loc[name]
            best = c.best_incumbent
            cell = f"{row['mean']:.4f} / {row.avg_rank:.2f}"
            if metric != "roc_auc":
                cell += f" ({int(row.wins)}/{int(row.ties)}/{int(row.losses)}, p={row.p_value:.3g})"
            cell += (
                f" [{best} {c.table.loc[best, 'mean']:.4f} / {c.table.loc[best, 'avg_rank']:.2f}]"
            )
            cells.append(cell)
        diffs = []
        for metric in METRICS:
            a = cand[cand.metric == metric].groupby("dataset").value.mean()
            b = (
                today[(today.metric == metric) & today.dataset.isin(sets)]
                .groupby("dataset")
                .value.mean()
            )
            d = (a - b).dropna()
            diffs.append(f"{d.mean():+.4f} ({int((d > 1e-3).sum())}/{len(d)})")
        ft = cand[cand.metric == "fit_time"].value.median()
        ft0 = today[(today.metric == "fit_time") & today.dataset.isin(sets)].value.median()
        print(
            f"| {name} | " + " | ".join(cells) + f" | {' / '.join(diffs)} | {ft:.2f} ({ft0:.2f}) |"
        )


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("names", nargs="+")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--datasets", nargs="*")
    p.add_argument("--report", action="store_true")
    a = p.parse_args(argv)
    if not a.report:
        for name in a.names:
            run(name, a.jobs, a.datasets)
    report(a.names)


if __name__ == "__main__":
    sys.exit(main())
