"""``run_benchmark``: every method on the same repeated stratified folds, tidy results."""

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
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.preprocessing import label_binarize
from tqdm.auto import tqdm

from ._registry import DATASETS, METHODS, Dataset, Method, Settings

__all__ = [
    "METRICS",
    "RUN_COLUMNS",
    "SCORE_COLUMNS",
    "check_target",
    "make_folds",
    "run_benchmark",
    "score_predictions",
]

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
#: Columns of the scores frame (one row per data set, method, fold and metric).
SCORE_COLUMNS = ["dataset", "method", "family", "repeat", "fold", "metric", "value"]
#: Columns of the runs frame (one row per data set and method).
RUN_COLUMNS = ["dataset", "method", "family", "status", "n_folds", "seconds", "message"]
_PER_CLASS_COLUMNS = ["dataset", "method", "repeat", "fold", "class", "train_count", "recall"]


def _label(c):
    return c.item() if hasattr(c, "item") else c


def check_target(y, cv):
    """The number of folds a target allows, and a note when it is fewer than ``cv``.

    Stratified folds need every class in every test fold, so a class with fewer
    samples than ``cv`` lowers the number of folds to its count.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    cv : int
        Folds asked for.

    Returns
    -------
    n_splits : int
        ``cv``, or the smallest class count when that is smaller.
    note : str or None
        Why the folds were reduced.

    Raises
    ------
    ValueError
        If the target has a single class, or a class has a single sample (no
        stratified split can hold it in both a training and a test fold).
    """
    labels, counts = np.unique(np.asarray(y), return_counts=True)
    if len(labels) < 2:
        raise ValueError("the target has a single class; a benchmark needs at least 2")
    worst, smallest = _label(labels[np.argmin(counts)]), int(counts.min())
    if smallest < 2:
        raise ValueError(
            f"class {worst!r} has a single sample; stratified cross-validation needs at "
            "least 2 per class (merge or drop it)"
        )
    if smallest < cv:
        return smallest, (
            f"class {worst!r} has only {smallest} samples, fewer than the {cv} folds: "
            f"{smallest} folds used"
        )
    return cv, None


def make_folds(y, cv=3, random_state=0, n_repeats=1):
    """Repeated stratified folds as a list of ``(train_idx, test_idx)``.

    Fold ``r * cv + k`` is fold ``k`` of repeat ``r`` (scikit-learn's
    ``RepeatedStratifiedKFold``, seeded by ``random_state``). The benchmark computes the
    folds once per data set and gives the same ones to every method.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    cv : int, default=3
        Folds per repeat.
    random_state : int, default=0
        Seed of the shuffling.
    n_repeats : int, default=1
        Number of repeats, each with a new shuffle.

    Returns
    -------
    folds : list of (ndarray, ndarray)

    Raises
    ------
    ValueError
        If a class has fewer samples than folds (the message names the class; see
        :func:`check_target` for the reduced count).
    """
    n_splits, _ = check_target(y, cv)
    if n_splits < cv:
        labels, counts = np.unique(np.asarray(y), return_counts=True)
        raise ValueError(
            f"Class {_label(labels[np.argmin(counts)])!r} has only {n_splits} samples, fewer "
            f"than the {cv} folds: lower cv or merge rare classes."
        )
    rskf = RepeatedStratifiedKFold(n_splits=cv, n_repeats=n_repeats, random_state=random_state)
    return list(rskf.split(np.zeros(len(y)), y))


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

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels of the test fold.
    proba : ndarray of shape (n_samples, n_classes)
        Predicted probabilities, columns in the order of ``classes``.
    classes : ndarray of shape (n_classes,)
        Every class of the data set.
    y_train : array-like
        Labels of the training fold (for which classes are rare).

    Returns
    -------
    dict of str to float
    """
    y_train = np.asarray(y_train)
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
        return [v for v in registry.values() if getattr(v, "default", True)]
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


def _load(datasets, random_state):
    data = []
    for item in [None] if datasets is None else datasets:
        if isinstance(item, tuple):
            name, X, y = item
            data.append((name, X, np.asarray(y)))
        else:
            for ds in _resolve(None if item is None else [item], DATASETS, "dataset"):
                X, y = ds.loader(random_state)
                data.append((ds.name, X, np.asarray(y)))
    return data


def _fit_fold(template, X, y, tr, te, classes):
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
    recall = recall_score(y[te], pred, labels=classes, average=None, zero_division=0)
    return scores, recall


def _run_pair(item, method, settings, folds, n_repeats):
    """Every fold of one (data set, method) pair.

    Returns ``(status, message, score_rows, per_class_rows, seconds)``; a pair that
    fails on a fold returns ``"failed"`` with the error and no rows.
    """
    name, X, y = item
    classes = np.unique(y)
    n_splits = len(folds) // n_repeats
    start = time.perf_counter()
    template = method.factory(settings)
    rows, pc_rows = [], []
    for i, (tr, te) in enumerate(folds):
        try:
            scores, recall = _fit_fold(template, X, y, tr, te, classes)
        except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
            message = f"fold {i}: {type(exc).__name__}: {exc}"
            return "failed", message, [], [], time.perf_counter() - start
        repeat = i // n_splits
        rows += [(name, method.name, method.family, repeat, i, m, scores[m]) for m in METRICS]
        pc_rows += [
            (name, method.name, repeat, i, _label(c), int(np.sum(y[tr] == c)), r)
            for c, r in zip(classes, recall.astype(float), strict=True)
        ]
    return "ok", "", rows, pc_rows, time.perf_counter() - start


def _worker(d, k, item, method, settings, folds, n_repeats, n_threads):
    """``_run_pair`` in a worker process, on ``n_threads`` threads."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n_threads)
    with threadpool_limits(limits=n_threads):
        return d, k, _run_pair(item, method, settings, folds, n_repeats)


def run_benchmark(
    methods=None,
    datasets=None,
    cv=5,
    *,
    n_repeats=1,
    random_state=0,
    device="auto",
    quick=False,
    n_threads=1,
    n_jobs=1,
    progress=True,
    return_details=False,
    on_rows=None,
):
    """Fit every method on every data set over the same repeated stratified folds.

    The folds are computed once per data set (:func:`make_folds`) and every method
    gets exactly those. Training-time transformations (scaling, resampling) live
    inside each method's pipeline, so they are fitted on the training folds only; test
    folds are never resampled.

    A method that raises on a data set is recorded as ``"failed"`` with its error (and
    a ``UserWarning``), and the run goes on; a method that cannot run there (a
    binary-only method on multi-class data, a missing optional package) is recorded as
    ``"skipped"`` with the reason. Results are complete per (data set, method): the
    scores of a pair appear only when all its folds ran.

    Parameters
    ----------
    methods : list of str or Method, default=None
        Names from :data:`~sk_imbalance.benchmark.METHODS` (None: the default ones).
    datasets : list of str, Dataset or (name, X, y) tuples, default=None
        Names from :data:`~sk_imbalance.benchmark.DATASETS` (None: the default suite)
        or in-memory data.
    cv : int, default=5
        Folds per repeat; lowered, with a note, for a data set whose smallest class is
        smaller. (The command line's default is 3 folds x 2 repeats.)
    n_repeats : int, default=1
        Repeats of the stratified K-fold, each with another shuffle.
    random_state : int, default=0
        Seeds the data thinning, the folds and every method.
    device : str, default="auto"
        Device of the neural methods.
    quick : bool, default=False
        Shorter training for the neural methods (``max_iter=60``).
    n_threads : int, default=1
        Thread count given to the methods that take one (LightGBM), and with
        ``n_jobs > 1`` the torch, OpenMP and BLAS threads of each worker. With
        ``n_jobs=1`` the torch and OpenMP thread counts are the caller's (the command
        line sets them).
    n_jobs : int, default=1
        Worker processes (joblib), each running whole (data set, method) pairs; the
        results are the same for any ``n_jobs``.
    progress : bool, default=True
        Show a progress bar over (data set, method, fold).
    return_details : bool, default=False
        Also return a dict with ``runs`` (the status of every data set and method),
        ``per_class`` (per-class recall and training counts per fold), ``folds`` (the
        test indices of every fold, per data set) and ``notes`` (folds reduced).
    on_rows : callable, default=None
        Called as ``on_rows(table, frame)`` as soon as rows are final: ``table`` is
        ``"scores"``, ``"per_class"`` or ``"runs"``, and ``frame`` holds the new rows
        (one data set and method at a time). The command line appends them to its
        CSV files, so an interrupted run keeps what it had computed.

    Returns
    -------
    scores : pandas.DataFrame
        One row per (dataset, method, fold, metric): columns ``dataset``, ``method``,
        ``family``, ``repeat``, ``fold`` (0 to ``cv * n_repeats - 1``), ``metric``,
        ``value``.
    details : dict
        Only when ``return_details=True``.

    Raises
    ------
    ValueError
        Before any fit, if a name is unknown or a data set cannot be cross-validated
        (a single class, or a class with a single sample; the message names the data
        set).

    Examples
    --------
    >>> from sk_imbalance.benchmark import run_benchmark
    >>> df = run_benchmark(["logistic_regression_balanced"], ["wine_lt"], cv=3,
    ...                    n_repeats=1, progress=False)
    >>> sorted(df.columns)
    ['dataset', 'family', 'fold', 'method', 'metric', 'repeat', 'value']
    >>> len(df) == 3 * 7
    True
    """
    settings = Settings(random_state=random_state, device=device, quick=quick, n_threads=n_threads)
    methods = _resolve(methods, METHODS, "method")
    data = _load(datasets, random_state)
    plans, notes = {}, {}
    for name, _, y in data:
        try:
            n_splits, note = check_target(y, cv)
        except ValueError as exc:
            raise ValueError(f"data set {name!r}: {exc}") from None
        if note:
            notes[name] = note
        plans[name] = make_folds(y, n_splits, random_state, n_repeats)

    emit = on_rows if on_rows is not None else (lambda table, frame: None)
    tasks, results = [], {}
    for d, (_, _, y) in enumerate(data):
        n_classes = len(np.unique(y))
        for k, method in enumerate(methods):
            reason = method.unavailable()
            if reason is None and method.binary_only and n_classes > 2:
                reason = f"binary data only ({n_classes} classes)"
            if reason is None:
                tasks.append((d, k))
            else:
                results[d, k] = ("skipped", reason, [], [], 0.0)
    total = sum(len(plans[name]) for name, _, _ in data) * len(methods)

    def run_all():
        for d, k in list(results):  # the skipped pairs first: nothing to compute
            yield d, k, results[d, k]
        jobs = (
            (d, k, data[d], methods[k], settings, plans[data[d][0]], n_repeats) for d, k in tasks
        )
        if n_jobs == 1:
            for d, k, *args in jobs:
                yield d, k, _run_pair(*args)
        else:
            from joblib import Parallel, delayed

            parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
            yield from parallel(delayed(_worker)(*job, n_threads) for job in jobs)

    with tqdm(total=total, desc="benchmark", unit="fit", disable=not progress) as bar:
        for d, k, result in run_all():
            name, method = data[d][0], methods[k]
            status, message, rows, pc_rows, seconds = results[d, k] = result
            if status == "failed":
                warnings.warn(f"{method.name} failed on {name} ({message})", UserWarning, 2)
            if status == "ok":
                emit("scores", pd.DataFrame(rows, columns=SCORE_COLUMNS))
                emit("per_class", pd.DataFrame(pc_rows, columns=_PER_CLASS_COLUMNS))
            n_done = len(rows) // len(METRICS)
            run = (name, method.name, method.family, status, n_done, seconds, message)
            emit("runs", pd.DataFrame([run], columns=RUN_COLUMNS))
            bar.set_postfix_str(f"{name} | {method.name}", refresh=False)
            bar.update(len(plans[name]))

    order = sorted(results)
    score_rows = [r for key in order for r in results[key][2]]
    per_class_rows = [r for key in order for r in results[key][3]]
    run_rows = []
    for d, k in order:
        status, message, rows, _, seconds = results[d, k]
        m = methods[k]
        run_rows.append(
            (data[d][0], m.name, m.family, status, len(rows) // len(METRICS), seconds, message)
        )
    scores = pd.DataFrame(score_rows, columns=SCORE_COLUMNS)
    if not return_details:
        return scores
    details = {
        "runs": pd.DataFrame(run_rows, columns=RUN_COLUMNS),
        "per_class": pd.DataFrame(per_class_rows, columns=_PER_CLASS_COLUMNS),
        "folds": {name: [te for _, te in f] for name, f in plans.items()},
        "notes": notes,
    }
    return scores, details
