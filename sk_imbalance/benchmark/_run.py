"""``run_benchmark``: every method on the same stratified folds, tidy results."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from imblearn.metrics import geometric_mean_score
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import label_binarize
from tqdm.auto import tqdm

from ._registry import DATASETS, METHODS, Dataset, Method, Settings

__all__ = ["METRICS", "make_folds", "run_benchmark", "score_predictions"]

#: Metric columns, in report order; higher is better for all but ``fit_time``.
METRICS = [
    "balanced_accuracy",
    "g_mean",
    "macro_f1",
    "roc_auc",
    "average_precision",
    "rare_class_recall",
    "fit_time",
]


def make_folds(y, cv, random_state):
    """Stratified folds as a list of ``(train_idx, test_idx)``; shared by every method.

    Raises
    ------
    ValueError
        If a class has fewer samples than folds (the message names the class).
    """
    labels, counts = np.unique(np.asarray(y), return_counts=True)
    if len(labels) < 2:
        raise ValueError("The target has a single class; a benchmark needs at least 2.")
    small = counts < cv
    if small.any():
        worst = labels[small][0]
        worst = worst.item() if hasattr(worst, "item") else worst
        raise ValueError(
            f"Class {worst!r} has only {counts[small][0]} samples, fewer than the {cv} "
            "folds: lower --cv or merge rare classes."
        )
    skf = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    return list(skf.split(np.zeros(len(y)), y))


def _rarest(train_counts, classes):
    """The rarest third of the classes by training count (at least one)."""
    k = max(1, int(np.ceil(len(classes) / 3)))
    order = np.argsort(train_counts, kind="stable")
    return classes[order[:k]]


def score_predictions(y_true, y_pred, proba, classes, y_train):
    """The benchmark's metrics for one fold, as a dict (``fit_time`` excluded).

    ``rare_class_recall`` is the mean recall of the rarest third of the classes by
    training count (the minority class for binary data). For two classes, ROC AUC and
    average precision score the rarer training class as the positive one.
    """
    train_counts = np.array([np.sum(y_train == c) for c in classes])
    rare = _rarest(train_counts, classes)
    out = {
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        "g_mean": geometric_mean_score(y_true, y_pred, labels=classes, average="multiclass"),
        "macro_f1": f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0),
        "rare_class_recall": float(
            np.mean(recall_score(y_true, y_pred, labels=rare, average=None, zero_division=0))
        ),
    }
    if len(classes) == 2:
        pos = int(np.argmin(train_counts))
        y_bin = (np.asarray(y_true) == classes[pos]).astype(int)
        out["roc_auc"] = roc_auc_score(y_bin, proba[:, pos])
        out["average_precision"] = average_precision_score(y_bin, proba[:, pos])
    else:
        Y = label_binarize(y_true, classes=classes)
        present = Y.sum(axis=0) > 0
        out["roc_auc"] = roc_auc_score(Y[:, present], proba[:, present], average="macro")
        out["average_precision"] = average_precision_score(
            Y[:, present], proba[:, present], average="macro"
        )
    return {k: float(v) for k, v in out.items()}


def _resolve(items, registry, kind):
    if items is None:
        return list(registry.values())
    resolved = []
    for item in items:
        if isinstance(item, (Method, Dataset)):
            resolved.append(item)
        elif isinstance(item, str):
            if item not in registry:
                known = ", ".join(registry)
                raise ValueError(f"Unknown {kind} {item!r}; known {kind}s: {known}.")
            resolved.append(registry[item])
        else:
            raise TypeError(f"A {kind} is a registered name or a {kind.capitalize()} object.")
    return resolved


def run_benchmark(
    methods=None,
    datasets=None,
    cv=5,
    *,
    random_state=0,
    device="auto",
    quick=False,
    progress=True,
    return_details=False,
):
    """Fit every method on every data set over the same stratified folds.

    Training-time transformations (scaling, resampling) live inside each method's
    pipeline, so they are fitted on the training folds only; test folds are never
    resampled.

    Parameters
    ----------
    methods : list of str or Method, default=None
        Names from :data:`~sk_imbalance.benchmark.METHODS` (all when None).
    datasets : list of str, Dataset or (name, X, y) tuples, default=None
        Names from :data:`~sk_imbalance.benchmark.DATASETS` (all when None) or
        in-memory data.
    cv : int, default=5
        Number of stratified folds.
    random_state : int, default=0
        Seeds the data thinning, the folds and every method.
    device : str, default="auto"
        Device of the neural methods.
    quick : bool, default=False
        Shorter training for the neural methods (``max_iter=60``).
    progress : bool, default=True
        Show a progress bar over (data set, method, fold).
    return_details : bool, default=False
        Also return a dict with ``per_class`` (per-class recall and training counts)
        and ``folds`` (the test indices of every fold, per data set).

    Returns
    -------
    scores : pandas.DataFrame
        One row per (dataset, method, fold, metric): columns ``dataset``, ``method``,
        ``family``, ``fold``, ``metric``, ``value``.
    details : dict
        Only when ``return_details=True``.

    Examples
    --------
    >>> from sk_imbalance.benchmark import run_benchmark
    >>> df = run_benchmark(["logistic_regression_balanced"], ["wine_lt"], cv=3,
    ...                    progress=False)
    >>> sorted(df.columns)
    ['dataset', 'family', 'fold', 'method', 'metric', 'value']
    >>> len(df) == 3 * 7
    True
    """
    settings = Settings(random_state=random_state, device=device, quick=quick)
    methods = _resolve(methods, METHODS, "method")
    data = []
    for item in [None] if datasets is None else datasets:
        if isinstance(item, tuple):
            name, X, y = item
            data.append((name, X, np.asarray(y)))
        else:
            for ds in _resolve(None if item is None else [item], DATASETS, "dataset"):
                X, y = ds.loader(random_state)
                data.append((ds.name, X, np.asarray(y)))

    folds = {name: make_folds(y, cv, random_state) for name, _, y in data}
    rows, per_class = [], []
    total = len(data) * len(methods) * cv
    with tqdm(total=total, desc="benchmark", unit="fit", disable=not progress) as bar:
        for name, X, y in data:
            classes = np.unique(y)
            for method in methods:
                template = method.factory(settings)
                for fold, (tr, te) in enumerate(folds[name]):
                    bar.set_postfix_str(f"{name} | {method.name} | fold {fold}", refresh=False)
                    X_tr = X.iloc[tr] if hasattr(X, "iloc") else X[tr]
                    X_te = X.iloc[te] if hasattr(X, "iloc") else X[te]
                    est = clone(template)
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        est.fit(X_tr, y[tr])
                    fit_time = time.perf_counter() - start
                    proba = est.predict_proba(X_te)
                    pred = est.predict(X_te)
                    est_classes = np.asarray(est.classes_)
                    if not np.array_equal(est_classes, classes):  # a class absent in training
                        full = np.zeros((len(te), len(classes)))
                        full[:, np.searchsorted(classes, est_classes)] = proba
                        proba = full
                    scores = score_predictions(y[te], pred, proba, classes, y[tr])
                    scores["fit_time"] = fit_time
                    for metric in METRICS:
                        rows.append(
                            (name, method.name, method.family, fold, metric, scores[metric])
                        )
                    rec = recall_score(y[te], pred, labels=classes, average=None, zero_division=0)
                    for c, r in zip(classes, rec, strict=True):
                        per_class.append(
                            (name, method.name, fold, c, int(np.sum(y[tr] == c)), float(r))
                        )
                    bar.update(1)

    scores = pd.DataFrame(rows, columns=["dataset", "method", "family", "fold", "metric", "value"])
    if not return_details:
        return scores
    details = {
        "per_class": pd.DataFrame(
            per_class, columns=["dataset", "method", "fold", "class", "train_count", "recall"]
        ),
        "folds": {name: [te for _, te in f] for name, f in folds.items()},
    }
    return scores, details
