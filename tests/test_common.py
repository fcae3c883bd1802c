"""scikit-learn's common estimator checks, with no expected failures."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from .conftest import DEFAULTS, EXHAUSTIVE_DEFAULTS, INSTANCES


@parametrize_with_checks(INSTANCES)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@parametrize_with_checks(DEFAULTS)
def test_default_estimator_passes_checks(estimator, check):
    """The promise as users read it: ``check_estimator(Estimator())`` with defaults."""
    check(estimator)


@pytest.mark.exhaustive
@parametrize_with_checks(EXHAUSTIVE_DEFAULTS)
def test_exhaustive_default_estimator_passes_checks(estimator, check):
    """Same promise for the network estimators' defaults, whose batteries take minutes
    (``pytest -m exhaustive``)."""
    check(estimator)
