"""Tables and plots of benchmark results."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ._run import METRICS

__all__ = [
    "comparison_frame",
    "comparison_markdown",
    "format_comparison",
    "format_table",
    "per_class_frame",
    "plot_critical_difference",
    "plot_metrics",
    "plot_per_class_recall",
    "summarize",
    "tests_frame",
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

    Parameters
    ----------
    scores : pandas.DataFrame
        The tidy frame of :func:`~sk_imbalance.benchmark.run_benchmark`.
    sort_by : str, default="balanced_accuracy"
        The metric that ranks the methods.

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


def _text(header, rows):
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def format_table(table):
    """A fixed-width text table of one data set (best value per metric marked ``*``).

    Parameters
    ----------
    table : pandas.DataFrame
        One of the frames of :func:`summarize`.

    Returns
    -------
    str
    """
    return _text(*_cells(table))


def _protocol(scores, name):
    df = scores[scores["dataset"] == name]
    n_folds, n_repeats = df["fold"].nunique(), df["repeat"].nunique() if "repeat" in df else 1
    per = n_folds // max(n_repeats, 1)
    return f"{per}-fold CV" + (f" x {n_repeats} repeats" if n_repeats > 1 else "")


def to_markdown(summary, scores=None):
    """All data sets' tables as Markdown, mean ± std over folds, best marked ``*``.

    Parameters
    ----------
    summary : dict of str to pandas.DataFrame
        The output of :func:`summarize`.
    scores : pandas.DataFrame, default=None
        The tidy scores, to name the protocol (folds and repeats) in each title.

    Returns
    -------
    str
    """
    parts = []
    for name, table in summary.items():
        title = f"### {name}" + (f" ({_protocol(scores, name)})" if scores is not None else "")
        parts.append(title + "\n\n" + _markdown(*_cells(table)))
    return "\n\n".join(parts) + "\n"


def _fmt_p(p):
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return f"{p:.2g}" if p < 0.001 else f"{p:.3f}"


def _comparison_cells(comparison):
    c, table = comparison, comparison.table
    fmt = "{:.2f}" if c.metric == "fit_time" else "{:.3f}"
    rows = []
    for method, row in table.iterrows():
        if row["family"] == "ours":
            wtl = "/".join(str(row[x]) for x in ("wins", "ties", "losses"))
            wtl = "" if "<NA>" in wtl else wtl
        else:
            wtl = "best incumbent" if method == c.best_incumbent else ""
        rows.append(
            [
                method + (" (ours)" if row["family"] == "ours" else ""),
                fmt.format(row["mean"]),
                f"{row['avg_rank']:.2f}",
                wtl,
                _fmt_p(row["p_value"]),
            ]
        )
    header = ["method", "mean", "avg. rank", "W/T/L vs best inc.", "p (Wilcoxon)"]
    return header, rows


def _comparison_caption(comparison):
    c = comparison
    n, k = len(c.datasets), len(c.table)
    text = f"{n} data sets, {k} methods"
    if not math.isnan(c.friedman_p):
        text += (
            f"; Friedman chi2 = {c.friedman_statistic:.2f}, p = {_fmt_p(c.friedman_p)}; "
            f"Nemenyi CD = {c.critical_difference:.2f} (alpha = {c.alpha})"
        )
    if c.best_incumbent is not None:
        text += f"; best incumbent: {c.best_incumbent}"
    left_out = {**c.excluded_methods, **c.excluded}
    if left_out:
        text += "; left out: " + "; ".join(f"{d} ({why})" for d, why in left_out.items())
    return text


def format_comparison(comparison):
    """One metric's across-data-set summary as fixed-width text.

    Parameters
    ----------
    comparison : Comparison
        The output of :func:`~sk_imbalance.benchmark.compare_methods`.

    Returns
    -------
    str
        The table (mean over data sets, average rank, W/T/L and Wilcoxon p against the
        best incumbent) followed by a line with the Friedman test.
    """
    return _text(*_comparison_cells(comparison)) + "\n" + _comparison_caption(comparison)


def comparison_markdown(comparisons, titles=None):
    """The across-data-set summaries as Markdown, one table per metric.

    Parameters
    ----------
    comparisons : list of Comparison
        Outputs of :func:`~sk_imbalance.benchmark.compare_methods`.
    titles : dict of str to str, default=None
        Headings by metric (default: the metric's short name).

    Returns
    -------
    str
    """
    parts = []
    for c in comparisons:
        title = (titles or {}).get(c.metric, _SHORT.get(c.metric, c.metric))
        body = _markdown(*_comparison_cells(c))
        parts.append(f"### {title}\n\n{body}\n\n{_comparison_caption(c)}.")
    return "\n\n".join(parts) + "\n"


def comparison_frame(comparisons):
    """The across-data-set summaries as one tidy frame (one row per metric and method).

    Parameters
    ----------
    comparisons : list of Comparison

    Returns
    -------
    pandas.DataFrame
        Columns ``metric``, ``method``, ``family``, ``mean``, ``avg_rank``, ``wins``,
        ``ties``, ``losses``, ``p_value`` and ``best_incumbent`` (bool).
    """
    frames = []
    for c in comparisons:
        t = c.table.rename_axis("method").reset_index()
        t.insert(0, "metric", c.metric)
        t["best_incumbent"] = t["method"] == c.best_incumbent
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def tests_frame(comparisons):
    """The Friedman test and critical difference of each metric, one row per metric.

    Parameters
    ----------
    comparisons : list of Comparison

    Returns
    -------
    pandas.DataFrame
        Columns ``metric``, ``n_datasets``, ``n_methods``, ``friedman_statistic``,
        ``friedman_p``, ``critical_difference``, ``alpha``, ``best_incumbent``,
        ``excluded`` (the methods and data sets left out, and why).
    """
    rows = [
        (
            c.metric,
            len(c.datasets),
            len(c.table),
            c.friedman_statistic,
            c.friedman_p,
            c.critical_difference,
            c.alpha,
            c.best_incumbent,
            "; ".join(f"{d}: {why}" for d, why in {**c.excluded_methods, **c.excluded}.items()),
        )
        for c in comparisons
    ]
    columns = ["metric", "n_datasets", "n_methods", "friedman_statistic", "friedman_p"]
    columns += ["critical_difference", "alpha", "best_incumbent", "excluded"]
    return pd.DataFrame(rows, columns=columns)


def _cd_panel(ax, comparison):
    table = comparison.table
    ranks = table["avg_rank"].to_numpy()
    names = [
        m + (" (ours)" if f == "ours" else "")
        for m, f in zip(table.index, table["family"], strict=True)
    ]
    k, cd = len(ranks), comparison.critical_difference
    lo, hi = 1, max(k, 2)
    half = (k + 1) // 2
    n_rows = max(half, k - half)
    ax.set_xlim(lo - 0.4 * (hi - lo) - 0.3, hi + 0.4 * (hi - lo) + 0.3)
    ax.set_ylim(-(n_rows + 1.5), 2.2)
    ax.axis("off")
    ax.hlines(0, lo, hi, color="k", lw=1)
    for r in range(lo, hi + 1):
        ax.vlines(r, 0, 0.15, color="k", lw=1)
        ax.text(r, 0.3, str(r), ha="center", va="bottom", fontsize=8)
    if not math.isnan(cd):
        ax.hlines(1.3, lo, lo + cd, color="k", lw=1.5)
        ax.vlines([lo, lo + cd], 1.15, 1.45, color="k", lw=1)
        ax.text(lo + cd / 2, 1.5, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=8)
    for i, (rank, name) in enumerate(zip(ranks, names, strict=True)):
        left = i < half
        row = i + 1 if left else k - i
        x_end = lo - 0.2 if left else hi + 0.2
        colour = "C3" if table["family"].iloc[i] == "ours" else "k"
        ax.plot([rank, rank, x_end], [0, -row, -row], color=colour, lw=0.8)
        ax.text(
            x_end + (-0.05 if left else 0.05),
            -row,
            f"{name}  {rank:.2f}" if left else f"{rank:.2f}  {name}",
            ha="right" if left else "left",
            va="center",
            fontsize=8,
            color=colour,
        )
    if math.isnan(cd):
        return
    # Cliques: maximal runs of methods whose average ranks lie within one CD.
    cliques, last_end = [], -1
    for i in range(k):
        j = i
        while j + 1 < k and ranks[j + 1] - ranks[i] < cd:
            j += 1
        if j > i and j > last_end:
            cliques.append((i, j))
            last_end = j
    for level, (i, j) in enumerate(cliques):
        y = -0.35 - 0.25 * level
        ax.hlines(y, ranks[i] - 0.03, ranks[j] + 0.03, color="C0", lw=3)


def plot_critical_difference(comparisons, path, titles=None, subtitle=None):
    """Critical-difference diagrams (Demsar 2006), one panel per metric.

    Methods are placed at their average rank (1 = best, at the left; ours in red);
    a thick bar joins methods whose average ranks differ by less than Nemenyi's
    critical difference (drawn at the top), i.e. that the test cannot tell apart.

    Parameters
    ----------
    comparisons : list of Comparison
        Outputs of :func:`~sk_imbalance.benchmark.compare_methods`.
    path : str or path-like
        Where to save the PNG.
    titles : dict of str to str, default=None
        Panel titles by metric.
    subtitle : str, default=None
        Added under each title (e.g. the number of data sets).

    Returns
    -------
    path
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    k = max(len(c.table) for c in comparisons)
    height = 0.9 + 0.32 * ((k + 1) // 2 + 3)
    fig, axes = plt.subplots(
        len(comparisons), 1, figsize=(10, height * len(comparisons)), squeeze=False
    )
    for ax, c in zip(axes[:, 0], comparisons, strict=True):
        title = (titles or {}).get(c.metric, _SHORT.get(c.metric, c.metric))
        title += f" ({len(c.datasets)} data sets" + (
            f", Friedman p = {_fmt_p(c.friedman_p)})" if not math.isnan(c.friedman_p) else ")"
        )
        if subtitle:
            title += f"\n{subtitle}"
        if len(c.table) and not c.table["avg_rank"].isna().all():
            _cd_panel(ax, c)
        else:
            ax.axis("off")
            ax.text(0.5, 0.5, "no data set with every method", ha="center", transform=ax.transAxes)
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_metrics(
    scores, path, metrics=("balanced_accuracy", "g_mean", "macro_f1", "rare_class_recall")
):
    """Bars of each metric's mean with standard-deviation error bars, per data set.

    Parameters
    ----------
    scores : pandas.DataFrame
        The tidy frame of :func:`~sk_imbalance.benchmark.run_benchmark`.
    path : str or path-like
        Where to save the PNG.
    metrics : tuple of str
        The metrics drawn, the first one ordering the methods.

    Returns
    -------
    path
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(scores["dataset"]))
    ncols = 1 if len(datasets) <= 3 else 2
    nrows = math.ceil(len(datasets) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(11 * ncols, 3.6 * nrows), squeeze=False)
    for ax in axes.flat[len(datasets) :]:
        ax.axis("off")
    for ax, name in zip(axes.flat, datasets, strict=False):
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
    """Recall of each class against its training count (log scale), per data set.

    Parameters
    ----------
    per_class : pandas.DataFrame
        ``details["per_class"]`` of :func:`~sk_imbalance.benchmark.run_benchmark`.
    path : str or path-like
        Where to save the PNG.

    Returns
    -------
    path
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    datasets = list(dict.fromkeys(per_class["dataset"]))
    ncols = min(len(datasets), 4)
    nrows = math.ceil(len(datasets) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, 4 * nrows), squeeze=False)
    for ax in axes.flat[len(datasets) :]:
        ax.axis("off")
    for ax, name in zip(axes.flat, datasets, strict=False):
        df = per_class[per_class["dataset"] == name]
        agg = df.groupby(["method", "class"]).agg(
            train_count=("train_count", "mean"), recall=("recall", "mean")
        )
        for method, sub in agg.groupby(level="method", sort=False):
            sub = sub.sort_values("train_count", ascending=False)
            ax.plot(sub["train_count"], sub["recall"], marker="o", ms=3, label=method)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # no overlapping minor labels
        ax.invert_xaxis()
        ax.set_xlabel("training samples of the class (head → tail)")
        ax.set_ylabel("recall")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(name)
    axes.flat[0].legend(fontsize=7, loc="lower left")
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
