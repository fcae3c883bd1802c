"""The ``sk-imbalance benchmark`` command: load the suite, run, write the report."""

from __future__ import annotations

import argparse
import glob
import os
import platform
import shlex
import sys
import time
from datetime import date

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from ..datasets import load_csv
from ._registry import DATASETS, METHODS, SUITES
from ._report import (
    _SHORT,
    comparison_frame,
    comparison_markdown,
    format_comparison,
    format_table,
    plot_critical_difference,
    plot_metrics,
    plot_per_class_recall,
    summarize,
    tests_frame,
    to_markdown,
)
from ._run import METRICS, RUN_COLUMNS, SCORE_COLUMNS, check_target, run_benchmark
from ._stats import compare_methods

__all__ = ["build_parser", "main"]

#: The metrics of the console summary and of the critical-difference diagram.
HEADLINE = ("balanced_accuracy", "g_mean", "roc_auc")
_OUTPUTS = (
    "scores.csv",
    "runs.csv",
    "per_class_recall.csv",
    "summary.csv",
    "tests.csv",
    "results.md",
    "metrics.png",
    "per_class_recall.png",
    "critical_difference.png",
)


class UsageError(Exception):
    """A problem with the command line or its data that stops the run (exit 2)."""


def build_parser(prog="sk-imbalance benchmark"):
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Compare sk_imbalance's loss-based estimators with the incumbents (gradient "
            "boosting with class weights and a tuned threshold, under-sampling ensembles, "
            "resampling, class weights) on imbalance metrics, over the same repeated "
            "stratified folds; rank them across data sets and test the differences."
        ),
        epilog=(
            "Suites: "
            + "; ".join(f"{k}: {', '.join(v)}" for k, v in SUITES.items())
            + ". Run with --list for every method and data set."
        ),
    )
    src = parser.add_argument_group("data (one of)")
    src.add_argument(
        "--suite",
        choices=sorted(SUITES),
        help="a named suite (default: 'default', the bundled real data and digits_lt)",
    )
    src.add_argument("--datasets", nargs="+", metavar="NAME", help="built-in data sets by name")
    src.add_argument("--data", metavar="FILE", help="a CSV file (needs --target)")
    src.add_argument(
        "--data-dir", metavar="DIR", help="every CSV file in a folder (needs --target)"
    )
    src.add_argument("--target", metavar="COL", help="the CSV column holding the class labels")
    parser.add_argument(
        "--methods",
        nargs="+",
        metavar="NAME",
        help="methods to run, or 'all' (default: the default methods; see --list)",
    )
    parser.add_argument(
        "--cv", type=int, default=None, help="stratified folds per repeat (default 3)"
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="repeats of the K-fold (default 2; --quick 1)"
    )
    parser.add_argument(
        "--device", default="auto", help="torch device of the networks (default auto)"
    )
    parser.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        default="float32",
        help="float type of the features every method gets (default float32, so that the "
        "networks, whose dtype='auto' follows the input, train in float32: about twice as "
        "fast on CPU as float64, and what they use on a GPU)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a run of under a minute: 3 data sets, fewer methods, one repeat, 60 epochs",
    )
    parser.add_argument(
        "--output", default="benchmark_results", help="folder for CSV, Markdown and PNG files"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads of torch, OpenMP and BLAS (default 1: the fits are small)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker processes, each fitting whole (data set, method) pairs on --threads "
        "threads (default: 2, or 1 on a one-CPU machine); results do not depend on it",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--list", action="store_true", help="list the methods, data sets and suites, and exit"
    )
    return parser


def _fail(parser, message, code=2):
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    return code


def _list():
    print("methods (* = in the default run):")
    for m in METHODS.values():
        flag = "*" if m.default else " "
        note = f" [skipped here: {m.unavailable()}]" if m.unavailable() else ""
        print(f" {flag} {m.name:<30s}{m.family:<10s}{m.description}{note}")
    print("\ndata sets:")
    for d in DATASETS.values():
        print(f"   {d.name:<30s}{d.description}")
    print("\nsuites:")
    for name, members in SUITES.items():
        print(f"   {name:<30s}{', '.join(members)}")


def _csv_dataset(path, target, cv):
    """``(name, X, y)`` of one CSV file; ValueError with the reason when unusable."""
    try:
        X, y = load_csv(path, target)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot be read as CSV ({type(exc).__name__}: {exc})") from None
    check_target(y, cv)
    name = os.path.splitext(os.path.basename(path))[0]
    return name, X, np.asarray(y)


def _load_data(args, cv):
    """The data sets to run as ``(name, X, y)`` tuples, and notes on what was skipped."""
    chosen = [
        opt
        for opt, value in (
            ("--suite", args.suite),
            ("--datasets", args.datasets),
            ("--data", args.data),
            ("--data-dir", args.data_dir),
        )
        if value
    ]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} are alternatives: give one")
    if (args.data or args.data_dir) and not args.target:
        raise UsageError(f"{chosen[0]} needs --target COL (the column of class labels)")
    if args.target and not (args.data or args.data_dir):
        raise UsageError("--target goes with --data FILE or --data-dir DIR")
    if args.data:
        if not os.path.isfile(args.data):
            raise UsageError(f"CSV file not found: {args.data}")
        try:
            return [_csv_dataset(args.data, args.target, cv)], []
        except ValueError as exc:
            raise UsageError(f"{args.data}: {exc}") from None
    if args.data_dir:
        if not os.path.isdir(args.data_dir):
            raise UsageError(f"folder not found: {args.data_dir}")
        paths = sorted(glob.glob(os.path.join(args.data_dir, "*.csv")))
        if not paths:
            raise UsageError(f"no CSV file in {args.data_dir}")
        data, notes = [], []
        for path in paths:
            try:
                data.append(_csv_dataset(path, args.target, cv))
            except ValueError as exc:
                notes.append(f"skipped {os.path.basename(path)}: {exc}")
        if not data:
            raise UsageError(
                f"no usable CSV file in {args.data_dir} ({len(paths)} found): " + "; ".join(notes)
            )
        return data, notes
    if args.datasets:
        unknown = [d for d in args.datasets if d not in DATASETS]
        if unknown:
            known = ", ".join(DATASETS)
            raise UsageError(f"unknown data set(s) {', '.join(unknown)}; known: {known}")
        names = args.datasets
    elif args.quick and not args.suite:
        names = [d.name for d in DATASETS.values() if d.quick]
    else:
        names = SUITES[args.suite or "default"]
    data = []
    for name in names:
        X, y = DATASETS[name].loader(args.random_state)
        data.append((name, X, np.asarray(y)))
    return data, []


def _methods(args):
    if args.methods == ["all"]:
        return list(METHODS)
    if args.methods:
        unknown = [m for m in args.methods if m not in METHODS]
        if unknown:
            raise UsageError(
                f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}, or 'all'"
            )
        return list(args.methods)
    return [m.name for m in METHODS.values() if m.default and (m.quick or not args.quick)]


class _Appender:
    """Appends each batch of rows to its CSV file as soon as it is final."""

    def __init__(self, folder):
        self.folder = folder
        self.frames = {"scores": [], "per_class": [], "runs": []}
        self.files = {"scores": "scores.csv", "per_class": "per_class_recall.csv"}
        self.files["runs"] = "runs.csv"

    def __call__(self, table, frame):
        path = os.path.join(self.folder, self.files[table])
        first = not self.frames[table]
        frame.to_csv(path, mode="w" if first else "a", header=first, index=False)
        self.frames[table].append(frame)

    def frame(self, table, columns):
        frames = self.frames[table]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _data_table(data, notes):
    rows = []
    for name, X, y in data:
        _, counts = np.unique(y, return_counts=True)
        note = notes.get(name, "")
        rows.append(
            f"| {name} | {len(y)} | {X.shape[1]} | {len(counts)} | "
            f"{counts.max() / counts.min():.1f} | {note} |"
        )
    header = "| data set | samples | features | classes | imbalance ratio | note |\n|---|---|---|---|---|---|"
    return header + "\n" + "\n".join(rows)


def _status_lines(runs):
    lines = []
    for status in ("failed", "skipped"):
        sub = runs[runs["status"] == status]
        for (method, message), group in sub.groupby(["method", "message"], sort=False):
            where = ", ".join(group["dataset"])
            lines.append(f"{status}: {method} on {where}: {message}")
    return lines


def _report(args, data, scores, runs, per_class, notes, skipped, elapsed, machine, interrupted):
    out = args.output
    done = runs[runs["status"] == "ok"]
    comparisons = [compare_methods(scores, m) for m in METRICS] if len(scores) else []
    summary = summarize(scores) if len(scores) else {}
    cv_text = f"{args.cv}-fold stratified CV x {args.repeats} repeat{'s' if args.repeats > 1 else ''} (seed {args.random_state})"

    for name, table in summary.items():
        print(f"\n{name} — mean ± std over folds, ranked by balanced accuracy (* best)")
        print(format_table(table))
    for c in comparisons:
        if c.metric != "fit_time":
            print(f"\nsummary: {_SHORT[c.metric]} across data sets (mean of the fold means)")
            print(format_comparison(c))
    lines = [f"note: {n}" for n in skipped] + [f"note: {d}: {n}" for d, n in notes.items()]
    lines += _status_lines(runs)
    for line in lines:
        print(line)
    n_fits = int(done["n_folds"].sum())
    state = "INTERRUPTED after " if interrupted else ""
    print(f"\n{state}{n_fits} fits in {elapsed:.1f} s on {machine}; {cv_text}")

    if len(scores):
        comparison_frame(comparisons).to_csv(os.path.join(out, "summary.csv"), index=False)
        tests_frame(comparisons).to_csv(os.path.join(out, "tests.csv"), index=False)
    command = "sk-imbalance benchmark" + "".join(" " + shlex.quote(a) for a in args.argv)
    with open(os.path.join(out, "results.md"), "w") as fh:
        fh.write(f"# sk-imbalance benchmark ({date.today().isoformat()})\n\n")
        if interrupted:
            fh.write("**Interrupted**: the tables hold the (data set, method) pairs finished.\n\n")
        fh.write(
            f"`{command}`: {len(data)} data sets, {runs['method'].nunique()} methods, "
            f"{cv_text}, the same folds for every method; {n_fits} fits in {elapsed:.0f} s "
            f"on {machine}.\n\n"
        )
        fh.write("## Data sets\n\n" + _data_table(data, notes) + "\n\n")
        fh.write("## Methods\n\n| method | family | what |\n|---|---|---|\n")
        for name in dict.fromkeys(runs["method"]):
            m = METHODS.get(name)
            family = runs.loc[runs["method"] == name, "family"].iloc[0]
            fh.write(f"| {name} | {family} | {m.description if m else ''} |\n")
        if lines:
            fh.write("\n" + "\n".join(f"- {line}" for line in lines) + "\n")
        if comparisons:
            fh.write(
                "\n## Across data sets\n\nPer metric: the mean over data sets of each "
                "method's mean over folds, the average rank (1 = best; Demsar 2006), and "
                "for our methods wins/ties/losses over the data sets (tie: means within "
                f"{comparisons[0].tie_tol}) and the two-sided Wilcoxon signed-rank p-value "
                "against the best incumbent (the incumbent of best average rank).\n\n"
            )
            fh.write(comparison_markdown(comparisons))
            fh.write("\n## Per data set\n\nMean ± std over folds; `*` marks the best.\n\n")
            fh.write(to_markdown(summary, scores))
    written = ["scores.csv", "runs.csv", "results.md"]
    if len(scores):
        plot_metrics(scores, os.path.join(out, "metrics.png"))
        plot_per_class_recall(per_class, os.path.join(out, "per_class_recall.png"))
        headline = [c for c in comparisons if c.metric in HEADLINE]
        plot_critical_difference(headline, os.path.join(out, "critical_difference.png"))
        written = ["scores.csv", "runs.csv", "per_class_recall.csv", "summary.csv", "tests.csv"]
        written += ["results.md", "metrics.png", "per_class_recall.png", "critical_difference.png"]
    print(f"wrote {', '.join(written)} to {out}/")


def main(argv=None, prog="sk-imbalance benchmark"):
    parser = build_parser(prog)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.list:
        _list()
        return 0
    if args.cv is not None and args.cv < 2:
        return _fail(parser, "--cv must be at least 2")
    if args.repeats is not None and args.repeats < 1:
        return _fail(parser, "--repeats must be at least 1")
    if args.threads < 1:
        return _fail(parser, "--threads must be at least 1")
    if args.jobs < 1:
        return _fail(parser, "--jobs must be at least 1")
    args.cv = args.cv or 3
    args.repeats = args.repeats or (1 if args.quick else 2)
    try:
        methods = _methods(args)
        data, skipped = _load_data(args, args.cv)
    except UsageError as exc:
        return _fail(parser, str(exc))
    data = [(name, X.astype(args.dtype), y) for name, X, y in data]

    os.makedirs(args.output, exist_ok=True)
    for name in _OUTPUTS:  # rows are appended: start from empty files
        path = os.path.join(args.output, name)
        if os.path.exists(path):
            os.remove(path)
    torch.set_num_threads(args.threads)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{args.jobs} process{'es' if args.jobs > 1 else ''} of {args.threads} "
        f"thread{'s' if args.threads > 1 else ''}, {args.dtype} features"
    )
    for note in skipped:
        print(f"note: {note}", file=sys.stderr)
    writer = _Appender(args.output)
    start = time.perf_counter()
    interrupted = False
    try:
        with threadpool_limits(limits=args.threads):
            run_benchmark(
                methods,
                data,
                args.cv,
                n_repeats=args.repeats,
                random_state=args.random_state,
                device=args.device,
                quick=args.quick,
                n_threads=args.threads,
                n_jobs=args.jobs,
                progress=not args.no_progress,
                on_rows=writer,
            )
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: keeping the rows already written", file=sys.stderr)
    elapsed = time.perf_counter() - start
    notes = {name: check_target(y, args.cv)[1] for name, _, y in data}  # folds reduced
    notes = {k: v for k, v in notes.items() if v}
    # Rows arrive as pairs finish; report them in the order of the data sets and methods.
    rank = {n: i for i, (n, _, _) in enumerate(data)} | {m: i for i, m in enumerate(methods)}
    frames = [writer.frame(t, c) for t, c in [("scores", SCORE_COLUMNS), ("runs", RUN_COLUMNS)]]
    frames.append(writer.frame("per_class", ["dataset", "method"]))
    scores, runs, per_class = (
        f.sort_values(["dataset", "method"], key=lambda c: c.map(rank), kind="stable")
        for f in frames
    )
    _report(args, data, scores, runs, per_class, notes, skipped, elapsed, machine, interrupted)
    return 130 if interrupted else 0
