import os

# check_estimator's check_array_api_input (array API dispatch on, NumPy inputs: the
# results must not change) runs only with scipy's array API support on, which must be
# set before scipy is first imported; without it the check skips for every estimator.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest
import torch
from hypothesis import HealthCheck, settings

from ._counts import CASES

# One torch thread keeps the check battery fast on small CI machines (see README).
torch.set_num_threads(int(os.environ.get("SK_IMBALANCE_TEST_THREADS", "1")))

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
