"""Across-data-set statistics: average ranks, Friedman, Wilcoxon, Nemenyi (Demsar 2006).

Everything is computed on the per-data-set means over folds (one value per data set
and method); the tests are scipy's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["Comparison", "compare_methods", "critical_difference", "dataset_means"]

#: Metrics where lower is better.
LOWER_IS_BETTER = frozenset({"fit_time"})


def dataset_means(scores, metric):
    """Mean over folds of one metric, as a (data set x method) frame.

    Parameters
    ----------
    scores : pandas.DataFrame
        The tidy frame of :func:`~sk_imbalance.benchmark.run_benchmark`.
    metric : str
        One of :data:`~sk_imbalance.benchmark.METRICS`.

    Returns
    -------
    pandas.DataFrame
        Indexed by data set (in order of appearance), one column per method (in order
        of appearance); NaN where a method has no result on a data set.
    """
    df = scores[scores["metric"] == metric]
    means = df.groupby(["dataset", "method"], sort=False)["value"].mean().unstack("method")
    return means.reindex(
        index=list(dict.fromkeys(df["dataset"])), columns=list(dict.fromkeys(df["method"]))
    )


def critical_difference(n_methods, n_datasets, alpha=0.05):
    """Nemenyi's critical difference of average ranks (Demsar 2006, section 3.2.2).

    ``CD = q_alpha * sqrt(k (k + 1) / (6 N))``, with ``q_alpha`` the studentized range
    quantile for ``k`` methods and infinite degrees of freedom, divided by ``sqrt(2)``
    (``scipy.stats.studentized_range``).

    Parameters
    ----------
    n_methods : int
        ``k``, the number of methods ranked.
    n_datasets : int
        ``N``, the number of data sets.
    alpha : float, default=0.05
        Significance level.

    Returns
    -------
    float
        NaN when ``k < 2`` or ``N < 1``.

    Examples
    --------
    >>> from sk_imbalance.benchmark import critical_difference
    >>> round(critical_difference(10, 14), 3)  # Demsar's q_0.05 = 3.164 for k = 10
    3.62
    """
    k, n = int(n_methods), int(n_datasets)
    if k < 2 or n < 1:
        return float("nan")
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * n)))


@dataclass
class Comparison:
    """The across-data-set comparison of the methods on one metric.

    Parameters
    ----------
    metric : str
        The metric compared.
    table : pandas.DataFrame
        One row per method, best average rank first: ``family``, ``mean`` (over the
        data sets), ``avg_rank`` (1 is best), and for each of our methods ``wins``,
        ``ties``, ``losses`` and ``p_value`` (two-sided Wilcoxon signed-rank test)
        against ``best_incumbent``.
    datasets : list of str
        The data sets compared (every method compared has a result on each).
    excluded : dict of str to str
        Data sets left out of the comparison, and why.
    excluded_methods : dict of str to str
        Methods left out of the comparison, and why.
    friedman_statistic, friedman_p : float
        ``scipy.stats.friedmanchisquare`` over the methods (NaN with fewer than 3
        methods or 2 data sets).
    critical_difference : float
        Nemenyi's critical difference of average ranks at ``alpha``.
    alpha : float
        Significance level of the critical difference.
    best_incumbent : str or None
        The incumbent with the best average rank (ties: the better mean).
    tie_tol : float
        Per-data-set means closer than this count as a tie.
    """

    metric: str
    table: pd.DataFrame
    datasets: list
    excluded: dict = field(default_factory=dict)
    excluded_methods: dict = field(default_factory=dict)
    friedman_statistic: float = float("nan")
    friedman_p: float = float("nan")
    critical_difference: float = float("nan")
    alpha: float = 0.05
    best_incumbent: str | None = None
    tie_tol: float = 1e-3


def compare_methods(scores, metric, *, alpha=0.05, tie_tol=1e-3):
    """Rank the methods across data sets on one metric and test them.

    Following Demsar (2006): on each data set the methods are ranked by their mean over
    folds (``scipy.stats.rankdata``, average ranks for ties, 1 = best); the ranks are
    averaged over data sets; the Friedman test asks whether any method differs; and
    each of our methods is compared with the best incumbent (the incumbent of best
    average rank) by wins, ties and losses over the data sets and the Wilcoxon
    signed-rank test on the per-data-set means (``scipy.stats.wilcoxon``, two-sided).
    The tests need a complete block design (every method on every data set): while a
    result is missing (a method skipped or failed on a data set), the method or the data
    set missing the most results is left out, a data set on a tie, and listed in
    ``excluded_methods`` or ``excluded``.

    Parameters
    ----------
    scores : pandas.DataFrame
        The tidy frame of :func:`~sk_imbalance.benchmark.run_benchmark`.
    metric : str
        The metric to compare on; higher is better except for ``fit_time``.
    alpha : float, default=0.05
        Significance level of the critical difference.
    tie_tol : float, default=1e-3
        Two per-data-set means closer than this are a tie in the win/tie/loss count.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import pandas as pd
    >>> from sk_imbalance.benchmark import compare_methods
    >>> rows = [(d, m, f, 0, 0, "balanced_accuracy", v)
    ...         for d, vals in {"a": (0.9, 0.8, 0.7), "b": (0.8, 0.85, 0.6)}.items()
    ...         for (m, f), v in zip([("ours", "ours"), ("inc1", "incumbent"),
    ...                               ("inc2", "incumbent")], vals)]
    >>> scores = pd.DataFrame(rows, columns=["dataset", "method", "family", "repeat",
    ...                                      "fold", "metric", "value"])
    >>> c = compare_methods(scores, "balanced_accuracy")
    >>> c.best_incumbent, c.table.loc["ours", ["wins", "ties", "losses"]].tolist()
    ('inc1', [1, 0, 1])
    """
    M = dataset_means(scores, metric)
    families = scores.groupby("method", sort=False)["family"].first()
    excluded, excluded_methods = {}, {}
    while M.isna().to_numpy().any():  # drop whatever misses the most results
        by_method, by_dataset = M.isna().sum(axis=0), M.isna().sum(axis=1)
        if by_method.max() > by_dataset.max():
            method = by_method.idxmax()
            where = ", ".join(M.index[M[method].isna()])
            excluded_methods[method] = f"no result on {where}"
            M = M.drop(columns=method)
        else:
            name = by_dataset.idxmax()
            excluded[name] = "no result for " + ", ".join(M.columns[M.loc[name].isna()])
            M = M.drop(index=name)
    n, k = M.shape
    sign = 1.0 if metric in LOWER_IS_BETTER else -1.0
    if n:
        avg_rank = pd.Series(stats.rankdata(sign * M.to_numpy(), axis=1).mean(axis=0), M.columns)
    else:
        avg_rank = pd.Series(np.nan, M.columns)
    table = pd.DataFrame(
        {"family": families.reindex(M.columns), "mean": M.mean(axis=0), "avg_rank": avg_rank}
    )
    better_first = [True, metric in LOWER_IS_BETTER]
    table = table.sort_values(["avg_rank", "mean"], ascending=better_first, kind="stable")

    fried_stat = fried_p = float("nan")
    if k >= 3 and n >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all methods tie everywhere
            res = stats.friedmanchisquare(*(M[c].to_numpy() for c in M.columns))
        fried_stat, fried_p = float(res.statistic), float(res.pvalue)

    incumbents = table.index[table["family"] == "incumbent"]
    best = incumbents[0] if len(incumbents) and n else None
    for col in ("wins", "ties", "losses"):
        table[col] = pd.array([pd.NA] * len(table), dtype="Int64")
    table["p_value"] = np.nan
    if best is not None:
        for method in table.index[table["family"] == "ours"]:
            diff = -sign * (M[method] - M[best]).to_numpy()  # > 0: ours is better
            table.loc[method, "wins"] = int(np.sum(diff > tie_tol))
            table.loc[method, "losses"] = int(np.sum(diff < -tie_tol))
            table.loc[method, "ties"] = n - table.loc[method, "wins"] - table.loc[method, "losses"]
            if n >= 2:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # all differences zero
                    warnings.simplefilter("ignore", UserWarning)  # small-sample notes
                    res = stats.wilcoxon(M[method].to_numpy(), M[best].to_numpy())
                table.loc[method, "p_value"] = float(res.pvalue)
    return Comparison(
        metric=metric,
        table=table,
        datasets=list(M.index),
        excluded=excluded,
        excluded_methods=excluded_methods,
        friedman_statistic=fried_stat,
        friedman_p=fried_p,
        critical_difference=critical_difference(k, n, alpha),
        alpha=alpha,
        best_incumbent=best,
        tie_tol=tie_tol,
    )
