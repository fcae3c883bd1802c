"""Shared test set-up: the one estimator table, size presets, data and output helpers.

Test modules import what they need from here (``from .conftest import ...``);
``tests/test_common.py`` checks that the table covers every public estimator.
"""

import os

# check_estimator's check_array_api_input (array API dispatch on, NumPy inputs: the
# results must not change) runs only with scipy's array API support on, which must be
# set before scipy is first imported; without it the check skips for every estimator.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from collections import Counter  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from sk_imbalance import (  # noqa: E402
    CostSensitiveClassifier,
    FocalClassifier,
    LogitAdjustedClassifier,
    LogitAdjustedClassifierCV,
    SiameseAMSoftmaxEncoder,
    ZLPRMultiLabelClassifier,
)

# One torch thread keeps the check battery fast on small CI machines (see README).
torch.set_num_threads(int(os.environ.get("SK_IMBALANCE_TEST_THREADS", "1")))

# ------------------------------------------------------------------- size presets
#: Two epochs of a 4-unit network: property tests (correct outputs, not quality).
TINY = dict(hidden_layer_sizes=(4,), max_iter=2, learning_rate_init=1e-2, random_state=0)
#: A few epochs of an 8-unit network: state, faults and pickles.
SMALL = dict(hidden_layer_sizes=(8,), max_iter=6, learning_rate_init=1e-2, random_state=0)
#: 25 epochs of a 16-unit network: equivalences (routing, resampling, output API).
BRIEF = dict(hidden_layer_sizes=(16,), max_iter=25, learning_rate_init=1e-2, random_state=0)
#: 40 epochs: behaviour tests of the focal, ZLPR and CV estimators.
QUICK = dict(BRIEF, max_iter=40)
#: The same 40 epochs: enough training to fit small data, for scikit-learn's common checks.
FAST = QUICK
#: 80 epochs of a 32-unit network: behaviour tests of logit adjustment.
TRAINED = dict(BRIEF, hidden_layer_sizes=(32,), max_iter=80)

# ------------------------------------------------------------ the estimator table
#: Every public estimator: name -> factory(**params) of a test instance. The CV
#: estimator uses 2 folds and a 2-value grid; ``params`` override the preset.
ESTIMATORS = {
    "LogitAdjustedClassifier": lambda **kw: LogitAdjustedClassifier(**kw),
    "LogitAdjustedClassifierCV": lambda **kw: LogitAdjustedClassifierCV(
        **{"cv": 2, "taus": [0.5, 1.0], **kw}
    ),
    "FocalClassifier": lambda **kw: FocalClassifier(**kw),
    "ZLPRMultiLabelClassifier": lambda **kw: ZLPRMultiLabelClassifier(**kw),
    "SiameseAMSoftmaxEncoder": lambda **kw: SiameseAMSoftmaxEncoder(**kw),
}
#: Meta-estimators: name -> factory of a fast test instance (not networks themselves).
META_ESTIMATORS = {
    "CostSensitiveClassifier": lambda: CostSensitiveClassifier(
        LogisticRegression(), cost_matrix=UniformErrorCosts()
    ),
}
NAMES = list(ESTIMATORS)
SINGLE_LABEL = ["LogitAdjustedClassifier", "LogitAdjustedClassifierCV", "FocalClassifier"]


def make(name, preset=SMALL, **params):
    """A test instance of estimator ``name`` with a size preset and overrides."""
    return ESTIMATORS[name](**{**preset, **params})


class UniformErrorCosts:
    """``cost_matrix(classes)``: cost 2 for every error. It runs the callable and matrix
    paths with the argmax's decisions, as the checks require ``predict ==
    argmax(predict_proba)`` (other costs: tests/test_cost_sensitive.py). A class with a
    fixed repr keeps the test ids stable; module level, so that it pickles."""

    def __call__(self, classes):
        return 2.0 * (1.0 - np.eye(len(classes)))

    def __repr__(self):
        return "UniformErrorCosts()"


#: scikit-learn's common checks (tests/test_common.py): fast instances of every mode.
INSTANCES = [
    make("LogitAdjustedClassifier", FAST),
    make("LogitAdjustedClassifier", FAST, adjustment="post_hoc"),
    make("LogitAdjustedClassifier", FAST, adjustment="bias_init", objective="accuracy"),
    make("LogitAdjustedClassifier", FAST, adjustment="vs", objective="accuracy", n_members=1),
    make("LogitAdjustedClassifier", FAST, adjustment="ldam_drw", n_members=3),
    make("LogitAdjustedClassifierCV", FAST),
    make("FocalClassifier", FAST),
    make("FocalClassifier", FAST, loss="truncated", sharpness=10.0, alpha=None),
    make("FocalClassifier", FAST, loss="ghm"),
    make("FocalClassifier", FAST, loss="truncated", margin=0.8),
    make("FocalClassifier", FAST, loss="cross_entropy", label_smoothing=0.1),
    make("ZLPRMultiLabelClassifier", FAST),
    make("ZLPRMultiLabelClassifier", FAST, loss="bce", pos_weight="balanced"),
    make("ZLPRMultiLabelClassifier", FAST, loss="focal"),
    make("SiameseAMSoftmaxEncoder", FAST),
    make("SiameseAMSoftmaxEncoder", FAST, embedding_dim=3, margin=0.0, scale=10.0),
    META_ESTIMATORS["CostSensitiveClassifier"](),
]

#: Every public estimator with its default parameters: ``check_estimator(Estimator())``.
#: The meta-estimator's battery takes seconds and runs in CI. Each network's takes
#: minutes on 2 cores (600 optimiser steps of an 8-member ensemble per fit, a few
#: hundred fits per battery: about 410 s of the suite's 930 s of test time), so those
#: run with ``pytest -m exhaustive``; CI runs the same checks on the fast instance of
#: every mode above (INSTANCES), whose networks train with the same code.
DEFAULTS = [CostSensitiveClassifier()]

#: The network estimators with their defaults (``pytest -m exhaustive``).
EXHAUSTIVE_DEFAULTS = [
    LogitAdjustedClassifier(),
    FocalClassifier(),
    ZLPRMultiLabelClassifier(),
    SiameseAMSoftmaxEncoder(),
    LogitAdjustedClassifierCV(),
]


# ------------------------------------------------------------------------ helpers
def make_data(name, n=120, d=5, seed=0):
    """Data for estimator ``name``: 3 classes, 12 groups (encoder) or 4 labels (ZLPR)."""
    rng = np.random.default_rng(seed)
    if name == "SiameseAMSoftmaxEncoder":
        y = np.arange(n) % 12
    elif name == "ZLPRMultiLabelClassifier":
        y = (rng.random((n, 4)) < 0.4).astype(int)
        return rng.standard_normal((n, d)) + y @ rng.standard_normal((4, d)), y
    else:
        y = np.arange(n) % 3
    centres = rng.standard_normal((y.max() + 1, d)) * 2
    return centres[y] + rng.standard_normal((n, d)), y


def outputs(est, X):
    """Every prediction output of a fitted estimator on ``X``."""
    if hasattr(est, "transform"):
        return [est.transform(X)]
    return [est.predict(X), est.predict_proba(X), est.decision_function(X)]


def assert_same_outputs(a, b, X):
    for u, v in zip(outputs(a, X), outputs(b, X), strict=True):
        np.testing.assert_array_equal(u, v)


def fitted_attrs(est):
    """Names of the fitted (trailing-underscore) attributes of ``est``."""
    return sorted(k for k in vars(est) if k.endswith("_") and not k.startswith("__"))


#: Cases run by the property-based tests, per (estimator, outcome); asserted by
#: tests/test_properties.py and printed at the end of the run.
CASES: Counter = Counter()

# Hypothesis profiles (tests/test_properties.py). "ci", the default, is bounded and
# reproducible: the same examples on every run, no example database. "thorough" draws
# new, many more examples each run. Pick one with HYPOTHESIS_PROFILE=thorough.
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_SLOW_OK,
)
settings.register_profile(
    "thorough", max_examples=300, deadline=None, suppress_health_check=_SLOW_OK
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; none is available on this machine")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if not CASES:
        return
    terminalreporter.section("property-based cases per estimator")
    for name in sorted({key[0] for key in CASES}):
        counts = {outcome: n for (est, outcome), n in CASES.items() if est == name}
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        terminalreporter.write_line(f"{name}: {sum(counts.values())} cases ({detail})")
