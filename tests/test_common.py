"""scikit-learn's common estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_imbalance import LogitAdjustedClassifier, SiameseAMSoftmaxEncoder

from ._instances import INSTANCES


@parametrize_with_checks(INSTANCES)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@parametrize_with_checks([LogitAdjustedClassifier()])
def test_default_estimator_passes_checks(estimator, check):
    """The promise as users read it: ``check_estimator(Estimator())`` with defaults."""
    check(estimator)


@parametrize_with_checks([SiameseAMSoftmaxEncoder()])
def test_default_siamese_encoder_passes_checks(estimator, check):
    """``check_estimator(SiameseAMSoftmaxEncoder())`` with defaults."""
    check(estimator)
