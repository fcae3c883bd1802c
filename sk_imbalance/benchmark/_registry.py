"""Registries of benchmark methods, data sets and suites.

A method is a factory ``factory(settings) -> estimator``. Every neural method is the
package's estimator with its *default* parameters (only ``random_state`` and ``device``
set, and the option that makes the method), so the benchmark measures what a user gets
out of the box; every network sits behind a ``StandardScaler`` fitted inside the folds.
The incumbents use the settings their own documentation recommends. Adding an estimator
to the benchmark is one :func:`register_method` call here.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from imblearn.ensemble import (
    BalancedRandomForestClassifier,
    EasyEnsembleClassifier,
    RUSBoostClassifier,
)
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import make_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import TunedThresholdClassifierCV
from sklearn.preprocessing import StandardScaler

from .. import FocalClassifier, LogitAdjustedClassifier
from ..datasets import list_imbalanced, load_imbalanced, load_long_tailed, make_long_tailed

__all__ = [
    "DATASETS",
    "METHODS",
    "SUITES",
    "Dataset",
    "Method",
    "Settings",
    "register_dataset",
    "register_method",
]


@dataclass(frozen=True)
class Settings:
    """What a method factory may depend on.

    Parameters
    ----------
    random_state : int, default=0
        Seed of every method.
    device : str, default="auto"
        Torch device of the neural methods.
    quick : bool, default=False
        Shorter training for the neural methods (``max_iter=60``), for a quick look.
    n_threads : int, default=1
        Threads of the methods that take a thread count (LightGBM).
    """

    random_state: int = 0
    device: str = "auto"
    quick: bool = False
    n_threads: int = 1

    def network(self, **overrides):
        """Keyword arguments of a neural estimator: the defaults, seeded, on ``device``.

        Parameters
        ----------
        **overrides : dict
            Parameters that replace the defaults.

        Returns
        -------
        dict
            The keyword arguments.
        """
        params = dict(random_state=self.random_state, device=self.device)
        if self.quick:
            params["max_iter"] = 60
        params.update(overrides)
        return params


@dataclass(frozen=True)
class Method:
    """A named way of fitting a classifier: ours or an incumbent.

    Parameters
    ----------
    name : str
        The method's name in the results.
    factory : callable
        ``factory(settings) -> estimator``, a fresh unfitted estimator.
    family : {"ours", "incumbent"}
        Whether the method is sk_imbalance's or one it is compared against.
    description : str, default=""
        What the method is, with its settings.
    quick : bool, default=True
        Part of the ``--quick`` run.
    default : bool, default=True
        Part of the default run.
    binary_only : bool, default=False
        Skipped, with the reason, on multi-class data.
    requires : tuple of str, default=()
        Modules that must be importable, else the method is skipped.
    install_hint : str, default=""
        How to install what ``requires`` names.
    """

    name: str
    factory: Callable[[Settings], Any]
    family: str  # "ours" or "incumbent"
    description: str = ""
    quick: bool = True
    default: bool = True
    binary_only: bool = False
    requires: tuple = ()
    install_hint: str = ""

    def unavailable(self):
        """Why the method cannot run here (a missing optional package), or None.

        Returns
        -------
        str or None
            The reason, naming the install command.
        """
        missing = [m for m in self.requires if importlib.util.find_spec(m) is None]
        if not missing:
            return None
        hint = f" ({self.install_hint})" if self.install_hint else ""
        return f"{', '.join(missing)} is not installed{hint}"


@dataclass(frozen=True)
class Dataset:
    """A named data set: ``loader(random_state) -> (X, y)``.

    Parameters
    ----------
    name : str
        Its name in reports and on the command line.
    loader : callable
        ``loader(random_state) -> (X, y)``.
    description : str, default=""
        One line for ``--list`` and the docs.
    quick : bool, default=False
        Part of the ``--quick`` run.
    tags : tuple of str, default=()
        Free-form labels (e.g. the suite it came from).
    """

    name: str
    loader: Callable[[int], tuple]
    description: str = ""
    quick: bool = False
    tags: tuple = field(default_factory=tuple)


METHODS: dict[str, Method] = {}
DATASETS: dict[str, Dataset] = {}
#: Named lists of data sets (``--suite``).
SUITES: dict[str, list[str]] = {}


def register_method(
    name,
    factory,
    family,
    description="",
    quick=True,
    *,
    default=True,
    binary_only=False,
    requires=(),
    install_hint="",
):
    """Add a method to :data:`METHODS`.

    Parameters
    ----------
    name : str
        The method's name on the command line and in the results.
    factory : callable
        ``factory(settings) -> estimator`` (a fresh, unfitted estimator).
    family : {"ours", "incumbent"}
        Whether the method is one of sk_imbalance's or one it is compared against.
    description : str, default=""
        What the method is, with the settings it uses.
    quick : bool, default=True
        Part of the ``--quick`` run.
    default : bool, default=True
        Part of the default run (else it runs when named with ``--methods``).
    binary_only : bool, default=False
        Skipped, with the reason, on data with more than two classes.
    requires : tuple of str, default=()
        Modules the method needs; when one is missing the method is skipped.
    install_hint : str, default=""
        How to install what ``requires`` names (shown with the skip).
    """
    if family not in ("ours", "incumbent"):
        raise ValueError(f"family must be 'ours' or 'incumbent'; got {family!r}.")
    METHODS[name] = Method(
        name,
        factory,
        family,
        description,
        quick,
        default,
        binary_only,
        tuple(requires),
        install_hint,
    )


def register_dataset(name, loader, description="", quick=False):
    """Add a data set to :data:`DATASETS`.

    Parameters
    ----------
    name : str
        The data set's name on the command line and in the results.
    loader : callable
        ``loader(random_state) -> (X, y)``.
    description : str, default=""
        What the data are.
    quick : bool, default=False
        Part of the ``--quick`` run.
    """
    DATASETS[name] = Dataset(name, loader, description, quick)


def _scaled(*steps):
    return make_pipeline(StandardScaler(), *steps)


# ---------------------------------------------------------------- our estimators
register_method(
    "logit_adjusted",
    lambda s: _scaled(LogitAdjustedClassifier(**s.network())),
    "ours",
    "LogitAdjustedClassifier() with its defaults (adjusted loss, tau=1)",
)
register_method(
    "focal",
    lambda s: _scaled(FocalClassifier(**s.network())),
    "ours",
    "FocalClassifier() with its defaults (focal loss on the frequent classes, gamma=2, "
    'alpha="balanced")',
)
register_method(
    "logit_adjusted_loss",
    lambda s: _scaled(LogitAdjustedClassifier(adjustment="loss", **s.network())),
    "ours",
    'LogitAdjustedClassifier(adjustment="loss"): the same estimator as logit_adjusted '
    "(its name in earlier versions, kept so that old command lines run)",
    quick=False,
    default=False,
)
register_method(
    "logit_adjusted_post_hoc",
    lambda s: _scaled(LogitAdjustedClassifier(adjustment="post_hoc", **s.network())),
    "ours",
    'LogitAdjustedClassifier(adjustment="post_hoc"), other parameters default (tau=1)',
    quick=False,
    default=False,
)
register_method(
    "logit_adjusted_bias_init",
    lambda s: _scaled(LogitAdjustedClassifier(adjustment="bias_init", **s.network())),
    "ours",
    'LogitAdjustedClassifier(adjustment="bias_init"), other parameters default (tau=1)',
    quick=False,
    default=False,
)
register_method(
    "ghm",
    lambda s: _scaled(FocalClassifier(loss="ghm", alpha=None, **s.network())),
    "ours",
    'FocalClassifier(loss="ghm", alpha=None), other parameters default (GHM-C)',
    quick=False,
    default=False,
)

# ---------------------------------------------------------------- the incumbents
_NET = "the same default network as logit_adjusted"
register_method(
    "class_weight_balanced",
    lambda s: _scaled(
        LogitAdjustedClassifier(adjustment="none", class_weight="balanced", **s.network())
    ),
    "incumbent",
    f'LogitAdjustedClassifier(adjustment="none", class_weight="balanced"): {_NET}, '
    "cross-entropy with balanced class weights",
)
register_method(
    "cross_entropy",
    lambda s: _scaled(LogitAdjustedClassifier(adjustment="none", **s.network())),
    "incumbent",
    f'LogitAdjustedClassifier(adjustment="none"): {_NET}, plain cross-entropy',
    quick=False,
    default=False,
)
register_method(
    "random_over_sampler",
    lambda s: _scaled(
        RandomOverSampler(random_state=s.random_state),
        LogitAdjustedClassifier(adjustment="none", **s.network()),
    ),
    "incumbent",
    f"RandomOverSampler() + {_NET} with plain cross-entropy",
    quick=False,
    default=False,
)
register_method(
    "smote",
    lambda s: _scaled(
        SMOTE(random_state=s.random_state, k_neighbors=3),
        LogitAdjustedClassifier(adjustment="none", **s.network()),
    ),
    "incumbent",
    f"SMOTE(k_neighbors=3) + {_NET} with plain cross-entropy",
    quick=False,
    default=False,
)
register_method(
    "random_under_sampler",
    lambda s: _scaled(
        RandomUnderSampler(random_state=s.random_state),
        LogitAdjustedClassifier(adjustment="none", **s.network()),
    ),
    "incumbent",
    f"RandomUnderSampler() + {_NET} with plain cross-entropy",
    quick=False,
    default=False,
)
register_method(
    "logistic_regression_balanced",
    lambda s: _scaled(
        LogisticRegression(class_weight="balanced", max_iter=2000, random_state=s.random_state)
    ),
    "incumbent",
    'StandardScaler + LogisticRegression(class_weight="balanced", max_iter=2000)',
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
    'imbalanced-learn\'s BalancedRandomForestClassifier(sampling_strategy="all", '
    "replacement=True, bootstrap=False): the settings its documentation recommends "
    "(Chen et al. 2004), 100 trees",
    quick=False,
)
register_method(
    "hist_gradient_boosting",
    lambda s: HistGradientBoostingClassifier(class_weight="balanced", random_state=s.random_state),
    "incumbent",
    'HistGradientBoostingClassifier(class_weight="balanced"), scikit-learn\'s defaults otherwise',
)
register_method(
    "hist_gradient_boosting_tuned",
    lambda s: TunedThresholdClassifierCV(
        HistGradientBoostingClassifier(class_weight="balanced", random_state=s.random_state),
        scoring="balanced_accuracy",
    ),
    "incumbent",
    'TunedThresholdClassifierCV(HistGradientBoostingClassifier(class_weight="balanced"), '
    'scoring="balanced_accuracy"): the decision threshold tuned by 5-fold CV inside the '
    "training fold, as scikit-learn's guide recommends (binary data only)",
    quick=False,
    binary_only=True,
)
register_method(
    "easy_ensemble",
    lambda s: EasyEnsembleClassifier(random_state=s.random_state),
    "incumbent",
    "imbalanced-learn's EasyEnsembleClassifier() with its defaults (10 AdaBoost "
    "learners on balanced bootstrap samples; Liu et al. 2009)",
    quick=False,
)
register_method(
    "rusboost",
    lambda s: RUSBoostClassifier(random_state=s.random_state),
    "incumbent",
    "imbalanced-learn's RUSBoostClassifier() with its defaults (50 boosting rounds of "
    "random under-sampling and a decision tree; Seiffert et al. 2010)",
)


def _lightgbm(s):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(
        class_weight="balanced", random_state=s.random_state, n_jobs=s.n_threads, verbose=-1
    )


register_method(
    "lightgbm",
    _lightgbm,
    "incumbent",
    'LightGBM\'s LGBMClassifier(class_weight="balanced") with its defaults otherwise '
    "(an optional extra)",
    requires=("lightgbm",),
    install_hint='pip install "sk-imbalance[boosting]"',
)


# ---------------------------------------------------------------- built-in data
def _bundled_long_tail(name, ratio):
    def load(random_state):
        d = load_long_tailed(name, imbalance_ratio=1, test_size=0.5, random_state=random_state)
        X = np.vstack([d.X_train, d.X_test])
        y = np.concatenate([d.y_train, d.y_test])
        return make_long_tailed(X, y, imbalance_ratio=ratio, random_state=random_state)

    return load


def _real(name):
    def load(random_state):
        return load_imbalanced(name, return_X_y=True)

    return load


_QUICK_REAL = ("glass0", "ecoli4", "yeast_2_vs_4")
for _name, _row in list_imbalanced().iterrows():
    register_dataset(
        _name,
        _real(_name),
        f"KEEL {_name}: {_row['n_samples']} samples, {_row['n_features']} features, "
        f"imbalance ratio {_row['imbalance_ratio']} ({_row['original']})",
        quick=_name in _QUICK_REAL,
    )
register_dataset(
    "digits_lt",
    _bundled_long_tail("digits", 20),
    "scikit-learn's digits thinned to an exponential long tail (ratio 20; 10 classes)",
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

SUITES["default"] = [*list_imbalanced().index, "digits_lt"]
SUITES["toy"] = ["digits_lt", "wine_lt", "breast_cancer_lt"]
