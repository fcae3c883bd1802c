"""The ``sk-imbalance benchmark`` command."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date

import torch

from ..datasets import load_csv
from ._registry import DATASETS, METHODS
from ._report import (
    format_table,
    per_class_frame,
    plot_metrics,
    plot_per_class_recall,
    summarize,
    to_markdown,
)
from ._run import run_benchmark

__all__ = ["build_parser", "main"]


def build_parser(prog="sk-imbalance benchmark"):
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Compare sk_imbalance's loss-based estimators with resampling (imbalanced-learn) "
            "and class weights on imbalance metrics, over the same stratified folds."
        ),
        epilog="Methods: " + ", ".join(METHODS) + ". Built-in data: " + ", ".join(DATASETS) + ".",
    )
    parser.add_argument("--data", help="a CSV file to benchmark on (needs --target)")
    parser.add_argument("--target", help="the CSV column holding the class labels")
    parser.add_argument(
        "--datasets",
        nargs="+",
        metavar="NAME",
        help="built-in data sets (default: all; --quick: digits_lt)",
    )
    parser.add_argument(
        "--methods", nargs="+", metavar="NAME", help="methods to run (default: all)"
    )
    parser.add_argument(
        "--cv", type=int, default=None, help="number of stratified folds (default 5; --quick 3)"
    )
    parser.add_argument(
        "--device", default="auto", help="torch device of the networks (default auto)"
    )
    parser.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--quick", action="store_true", help="a run of under a minute: less data, folds and epochs"
    )
    parser.add_argument(
        "--output", default="benchmark_results", help="folder for CSV, Markdown and PNG files"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def _fail(parser, message, code=2):
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    return code


def main(argv=None, prog="sk-imbalance benchmark"):
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if (args.data is None) != (args.target is None):
        return _fail(parser, "--data and --target go together")
    if args.cv is not None and args.cv < 2:
        return _fail(parser, "--cv must be at least 2")
    if args.threads:
        torch.set_num_threads(args.threads)
    unknown = [m for m in args.methods or [] if m not in METHODS]
    if unknown:
        return _fail(parser, f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    unknown = [d for d in args.datasets or [] if d not in DATASETS]
    if unknown:
        return _fail(
            parser, f"unknown data set(s) {', '.join(unknown)}; known: {', '.join(DATASETS)}"
        )

    cv = args.cv or (3 if args.quick else 5)
    methods = args.methods or [m.name for m in METHODS.values() if m.quick or not args.quick]
    if args.data:
        try:
            X, y = load_csv(args.data, args.target)
        except (FileNotFoundError, ValueError) as exc:
            return _fail(parser, str(exc))
        datasets = [(os.path.splitext(os.path.basename(args.data))[0], X, y)]
    else:
        datasets = args.datasets or [d.name for d in DATASETS.values() if d.quick or not args.quick]

    start = time.perf_counter()
    try:
        scores, details = run_benchmark(
            methods,
            datasets,
            cv,
            random_state=args.random_state,
            device=args.device,
            quick=args.quick,
            progress=not args.no_progress,
            return_details=True,
        )
    except ValueError as exc:
        return _fail(parser, str(exc))
    elapsed = time.perf_counter() - start

    summary = summarize(scores)
    for name, table in summary.items():
        print(f"\n{name} — {cv}-fold CV, mean ± std, ranked by balanced accuracy (* best)")
        print(format_table(table))
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads"
    print(f"\n{len(scores) // 7} fits in {elapsed:.1f} s on {machine}")

    os.makedirs(args.output, exist_ok=True)
    scores.to_csv(os.path.join(args.output, "scores.csv"), index=False)
    per_class_frame(details["per_class"]).to_csv(
        os.path.join(args.output, "per_class_recall.csv"), index=False
    )
    with open(os.path.join(args.output, "results.md"), "w") as fh:
        fh.write(f"# sk-imbalance benchmark ({date.today().isoformat()})\n\n")
        fh.write(
            f"Measured on {machine}; {elapsed:.0f} s in all. Mean ± std over folds; `*` marks the best.\n\n"
        )
        fh.write(to_markdown(summary, scores))
    plot_metrics(scores, os.path.join(args.output, "metrics.png"))
    plot_per_class_recall(details["per_class"], os.path.join(args.output, "per_class_recall.png"))
    print(
        f"wrote scores.csv, per_class_recall.csv, results.md, metrics.png, per_class_recall.png to {args.output}/"
    )
    return 0
