"""Shared pieces of the quality-research harness: data, folds, metrics, caching.

Protocol: the 28 development sets in ``shared/data/keel_dev`` (binary, ``target`` 1 =
minority), stratified 5-fold CV (shuffle, ``random_state=0``; repeat ``r`` uses
``random_state=r``), one torch thread per fit. Scores are recorded per (method,
dataset, repeat, fold): balanced accuracy, G-mean and ROC AUC of the held-out fold, and
the fit time. Long-tailed digits: ``load_long_tailed("digits", 100, seed)``, seeds 0-2.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

HERE = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("KEEL_DEV", "/work/shared/data/keel_dev"))
RESULTS = HERE / "results"
RESULTS.mkdir(exist_ok=True)


def dataset_names():
    return sorted(p.stem for p in DATA_DIR.glob("*.csv") if p.stem != "INDEX")


def load(name):
    df = pd.read_csv(DATA_DIR / f"{name}.csv")
    y = df.pop("target").to_numpy().astype(np.int64)
    return df.to_numpy(dtype=np.float64), y


def folds(y, repeat=0, n_splits=5):
    skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=repeat)
    return list(skf.split(np.zeros(len(y)), y))


def binary_metrics(y_true, y_pred, score):
    return dict(
        ba=balanced_accuracy_score(y_true, y_pred),
        gmean=geometric_mean_score(y_true, y_pred),
        auc=roc_auc_score(y_true, score),
    )


def lt_metrics(y_true, y_pred, counts):
    """Balanced accuracy and mean recall of the 3 classes rarest in training."""
    ba = balanced_accuracy_score(y_true, y_pred)
    rare = np.argsort(counts, kind="stable")[:3]
    rec = [np.mean(y_pred[y_true == c] == c) for c in rare]
    return dict(ba=ba, rare3=float(np.mean(rec)))


def result_path(method):
    return RESULTS / f"{method}.csv"


def save_rows(method, rows):
    pd.DataFrame(rows).to_csv(result_path(method), index=False)


def load_rows(method):
    p = result_path(method)
    return pd.read_csv(p) if p.exists() else None


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *a):
        self.s = time.perf_counter() - self.t0


def dump_json(obj, path):
    Path(path).write_text(json.dumps(obj, indent=1, default=str))
