"""The benchmark: sk_imbalance's estimators against resampling and class weights.

``run_benchmark`` is a pure function returning a tidy DataFrame; the registries hold the
methods and the built-in data sets; ``sk-imbalance benchmark`` (or ``python -m
sk_imbalance.benchmark``) is the command line.
"""

from ._registry import (
    DATASETS,
    METHODS,
    NETWORK,
    Dataset,
    Method,
    Settings,
    register_dataset,
    register_method,
)
from ._report import format_table, plot_metrics, plot_per_class_recall, summarize, to_markdown
from ._run import METRICS, make_folds, run_benchmark, score_predictions

__all__ = [
    "DATASETS",
    "METHODS",
    "METRICS",
    "NETWORK",
    "Dataset",
    "Method",
    "Settings",
    "format_table",
    "make_folds",
    "plot_metrics",
    "plot_per_class_recall",
    "register_dataset",
    "register_method",
    "run_benchmark",
    "score_predictions",
    "summarize",
    "to_markdown",
]
