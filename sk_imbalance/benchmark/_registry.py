"""Registries of benchmark methods and data sets.

A method is a factory ``factory(settings) -> estimator``; every network method uses the
same network (:data:`NETWORK`), and every pipeline scales features inside the folds.
Adding an estimator to the benchmark is one :func:`register_method` call here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from imblearn.ensemble import BalancedRandomForestClassifier
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import make_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from .._focal import FocalClassifier
from .._logit_adjusted import LogitAdjustedClassifier
from ..datasets import load_long_tailed, make_long_tailed

__all__ = [
    "DATASETS",
    "METHODS",
    "NETWORK",
    "Dataset",
    "Method",
    "Settings",
    "register_dataset",
    "register_method",
]

#: The network every neural method shares (only the objective or the data differ).
NETWORK = dict(hidden_layer_sizes=(100,), max_iter=200, dtype="float32", weight_decay=0.1)


@dataclass(frozen=True)
class Settings:
    """What a method factory may depend on."""

    random_state: int = 0
    device: str = "auto"
    quick: bool = False

    def network(self, **overrides):
        params = dict(NETWORK, random_state=self.random_state, device=self.device)
        if self.quick:
            params["max_iter"] = 60
        params.update(overrides)
        return params


@dataclass(frozen=True)
class Method:
    """A named way of fitting a classifier: ours or an incumbent."""

    name: str
    factory: Callable[[Settings], Any]
    family: str  # "ours" or "incumbent"
    description: str = ""
    quick: bool = True  # part of the --quick run


@dataclass(frozen=True)
class Dataset:
    """A named data set: ``loader(random_state) -> (X, y)``."""

    name: str
    loader: Callable[[int], tuple]
    description: str = ""
    quick: bool = False
    tags: tuple = field(default_factory=tuple)


METHODS: dict[str, Method] = {}
DATASETS: dict[str, Dataset] = {}


def register_method(name, factory, family, description="", quick=True):
    """Add a method to :data:`METHODS` (``family`` is "ours" or "incumbent")."""
    if family not in ("ours", "incumbent"):
        raise ValueError(f"family must be 'ours' or 'incumbent'; got {family!r}.")
    METHODS[name] = Method(name, factory, family, description, quick)


def register_dataset(name, loader, description="", quick=False):
    """Add a data set to :data:`DATASETS`."""
    DATASETS[name] = Dataset(name, loader, description, quick)


def _scaled(*steps):
    return make_pipeline(StandardScaler(), *steps)


# ---------------------------------------------------------------- our estimators
register_method(
    "logit_adjusted_loss",
    lambda s: _scaled(LogitAdjustedClassifier(adjustment="loss", **s.network())),
    "ours",
    "LogitAdjustedClassifier, adjusted loss (tau=1)",
)
register_method(
    "logit_adjusted_post_hoc",
    lambda s: _scaled(LogitAdjustedClassifier(adjustment="post_hoc", **s.network())),
    "ours",
    "LogitAdjustedClassifier, post-hoc adjustment (tau=1)",
    quick=False,
)
register_method(
    "logit_adjusted_bias_init",
    lambda s: _scaled(LogitAdjustedClassifier(adjustment="bias_init", **s.network())),
    "ours",
    "LogitAdjustedClassifier, bias initialisation (tau=1)",
    quick=False,
)

register_method(
    "focal",
    lambda s: _scaled(FocalClassifier(**s.network())),
    "ours",
    'FocalClassifier, focal loss (gamma=2, alpha="balanced")',
)
register_method(
    "ghm",
    lambda s: _scaled(FocalClassifier(loss="ghm", alpha=None, **s.network())),
    "ours",
    "FocalClassifier, GHM-C (alpha=None)",
    quick=False,
)

# ---------------------------------------------------------------- the incumbents
register_method(
    "cross_entropy",
    lambda s: _scaled(LogitAdjustedClassifier(adjustment="none", **s.network())),
    "incumbent",
    "the same network, plain cross-entropy",
)
register_method(
    "class_weight_balanced",
    lambda s: _scaled(
        LogitAdjustedClassifier(adjustment="none", class_weight="balanced", **s.network())
    ),
    "incumbent",
    'the same network, class_weight="balanced"',
)
register_method(
    "random_over_sampler",
    lambda s: _scaled(
        RandomOverSampler(random_state=s.random_state),
        LogitAdjustedClassifier(adjustment="none", **s.network()),
    ),
    "incumbent",
    "RandomOverSampler + the same network",
)
register_method(
    "smote",
    lambda s: _scaled(
        SMOTE(random_state=s.random_state, k_neighbors=3),
        LogitAdjustedClassifier(adjustment="none", **s.network()),
    ),
    "incumbent",
    "SMOTE (k_neighbors=3) + the same network",
)
register_method(
    "random_under_sampler",
    lambda s: _scaled(
        RandomUnderSampler(random_state=s.random_state),
        LogitAdjustedClassifier(adjustment="none", **s.network()),
    ),
    "incumbent",
    "RandomUnderSampler + the same network",
    quick=False,
)
register_method(
    "logistic_regression_balanced",
    lambda s: _scaled(
        LogisticRegression(class_weight="balanced", max_iter=2000, random_state=s.random_state)
    ),
    "incumbent",
    'LogisticRegression(class_weight="balanced")',
)
register_method(
    "balanced_random_forest",
    lambda s: BalancedRandomForestClassifier(
        n_estimators=100,
        sampling_strategy="all",
        replacement=True,
        bootstrap=False,
        random_state=s.random_state,
        n_jobs=1,
    ),
    "incumbent",
    "imbalanced-learn's BalancedRandomForestClassifier",
    quick=False,
)


# ---------------------------------------------------------------- built-in data
def _bundled_long_tail(name, ratio):
    def load(random_state):
        d = load_long_tailed(name, imbalance_ratio=1, test_size=0.5, random_state=random_state)
        X = np.vstack([d.X_train, d.X_test])
        y = np.concatenate([d.y_train, d.y_test])
        return make_long_tailed(X, y, imbalance_ratio=ratio, random_state=random_state)

    return load


register_dataset(
    "digits_lt",
    _bundled_long_tail("digits", 20),
    "scikit-learn's digits thinned to an exponential long tail (ratio 20; 10 classes)",
    quick=True,
)
register_dataset(
    "wine_lt",
    _bundled_long_tail("wine", 6),
    "scikit-learn's wine thinned to a long tail (ratio 6; 3 classes)",
)
register_dataset(
    "breast_cancer_lt",
    _bundled_long_tail("breast_cancer", 10),
    "scikit-learn's breast cancer thinned to 10:1 (2 classes)",
)
