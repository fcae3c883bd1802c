"""Tables and plots of benchmark results."""

from __future__ import annotations

import numpy as np

from ._run import METRICS

__all__ = [
    "format_table",
    "per_class_frame",
    "plot_metrics",
    "plot_per_class_recall",
    "summarize",
    "to_markdown",
]

_SHORT = {
    "balanced_accuracy": "bal. acc.",
    "g_mean": "G-mean",
    "macro_f1": "macro F1",
    "roc_auc": "ROC AUC",
    "average_precision": "avg. prec.",
    "rare_class_recall": "rare recall",
    "fit_time": "fit time (s)",
}


def summarize(scores, sort_by="balanced_accuracy"):
    """Mean and standard deviation over folds, one table per data set.

    Returns
    -------
    dict of str to pandas.DataFrame
        For each data set, a frame indexed by method (ranked by ``sort_by``, best
        first) with columns ``(metric, "mean")``, ``(metric, "std")`` and ``family``.
    """
    out = {}
    for name, df in scores.groupby("dataset", sort=False):
        agg = df.groupby(["method", "metric"])["value"].agg(["mean", "std"]).unstack("metric")
        agg = agg.swaplevel(axis=1)
        metrics = [m for m in METRICS if m in agg.columns.get_level_values(0)]
        agg = agg[[(m, s) for m in metrics for s in ("mean", "std")]]
        agg = agg.sort_values((sort_by, "mean"), ascending=False)
        agg[("family", "")] = df.groupby("method")["family"].first()
        out[name] = agg
    return out


def _cells(table):
    metrics = [m for m in METRICS if (m, "mean") in table.columns]
    best = {}
    for m in metrics:
        col = table[(m, "mean")]
        best[m] = col.idxmin() if m == "fit_time" else col.idxmax()
    rows = []
    for rank, (method, row) in enumerate(table.iterrows(), start=1):
        family = row["family"]
        family = family.item() if hasattr(family, "item") else family
        cells = [str(rank), method + (" (ours)" if family == "ours" else "")]
        for m in metrics:
            fmt = "{:.2f} ± {:.2f}" if m == "fit_time" else "{:.3f} ± {:.3f}"
            text = fmt.format(row[(m, "mean")], np.nan_to_num(row[(m, "std")]))
            cells.append(text + (" *" if best[m] == method else ""))
        rows.append(cells)
    header = ["rank", "method"] + [_SHORT[m] for m in metrics]
    return header, rows


def format_table(table):
    """A fixed-width text table (best value per metric marked ``*``)."""
    header, rows = _cells(table)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def to_markdown(summary, scores=None):
    """All data sets' tables as Markdown, mean ± std over folds, best marked ``*``."""
    parts = []
    for name, table in summary.items():
        header, rows = _cells(table)
        n_folds = (
            scores[scores["dataset"] == name]["fold"].nunique() if scores is not None else None
        )
        title = f"### {name}" + (f" ({n_folds}-fold CV)" if n_folds else "")
        lines = [title, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def plot_metrics(
    scores, path, metrics=("balanced_accuracy", "g_mean", "macro_f1", "rare_class_recall")
):
    """Bars of each metric's mean with standard-deviation error bars, per data set."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(scores["dataset"]))
    fig, axes = plt.subplots(len(datasets), 1, figsize=(11, 3.6 * len(datasets)), squeeze=False)
    for ax, name in zip(axes[:, 0], datasets, strict=True):
        df = scores[(scores["dataset"] == name) & scores["metric"].isin(metrics)]
        agg = df.groupby(["method", "metric"])["value"].agg(["mean", "std"]).reset_index()
        order = (
            agg[agg["metric"] == metrics[0]].sort_values("mean", ascending=False)["method"].tolist()
        )
        width = 0.8 / len(metrics)
        x = np.arange(len(order))
        for i, m in enumerate(metrics):
            sub = agg[agg["metric"] == m].set_index("method").reindex(order)
            ax.bar(
                x + i * width,
                sub["mean"],
                width,
                yerr=sub["std"].fillna(0),
                capsize=2,
                label=_SHORT[m],
            )
        ax.set_xticks(x + width * (len(metrics) - 1) / 2)
        ax.set_xticklabels(order, rotation=20, ha="right", fontsize=8)
        ax.set_ylim(0, 1.22)
        ax.set_title(name)
        ax.legend(fontsize=7, ncol=len(metrics), loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_per_class_recall(per_class, path):
    """Recall of each class against its training count (log scale), per data set."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(per_class["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
    for ax, name in zip(axes[0], datasets, strict=True):
        df = per_class[per_class["dataset"] == name]
        agg = df.groupby(["method", "class"]).agg(
            train_count=("train_count", "mean"), recall=("recall", "mean")
        )
        for method, sub in agg.groupby(level="method", sort=False):
            sub = sub.sort_values("train_count", ascending=False)
            ax.plot(sub["train_count"], sub["recall"], marker="o", ms=3, label=method)
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set_xlabel("training samples of the class (head → tail)")
        ax.set_ylabel("recall")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(name)
    axes[0, -1].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def per_class_frame(per_class):
    """Mean recall per (dataset, method, class) with the class's mean training count."""
    return (
        per_class.groupby(["dataset", "method", "class"])
        .agg(train_count=("train_count", "mean"), recall=("recall", "mean"))
        .reset_index()
    )
