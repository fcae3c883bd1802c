"""The benchmark: sk_imbalance's estimators against the incumbents on imbalanced data.

``run_benchmark`` is a pure function returning tidy DataFrames; ``compare_methods`` ranks
the methods across data sets and tests them (Friedman, Wilcoxon, Nemenyi); the
registries hold the methods, the built-in data sets and the suites; ``sk-imbalance
benchmark`` (or ``python -m sk_imbalance.benchmark``) is the command line.
"""

from ._registry import (
    DATASETS,
    METHODS,
    SUITES,
    Dataset,
    Method,
    Settings,
    register_dataset,
    register_method,
)
from ._report import (
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
from ._run import METRICS, check_target, make_folds, run_benchmark, score_predictions
from ._stats import Comparison, compare_methods, critical_difference, dataset_means

__all__ = [
    "DATASETS",
    "METHODS",
    "METRICS",
    "SUITES",
    "Comparison",
    "Dataset",
    "Method",
    "Settings",
    "check_target",
    "compare_methods",
    "comparison_frame",
    "comparison_markdown",
    "critical_difference",
    "dataset_means",
    "format_comparison",
    "format_table",
    "make_folds",
    "plot_critical_difference",
    "plot_metrics",
    "plot_per_class_recall",
    "register_dataset",
    "register_method",
    "run_benchmark",
    "score_predictions",
    "summarize",
    "tests_frame",
    "to_markdown",
]
