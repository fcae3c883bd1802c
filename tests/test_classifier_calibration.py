"""The classifiers' ``calibration`` parameter, and LogitAdjustedClassifierCV's tau rule."""

import pickle

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.datasets import make_classification

from sk_imbalance import FocalClassifier, LogitAdjustedClassifier, LogitAdjustedClassifierCV
from sk_imbalance.calibration import LogitCalibration, apply_calibration
from sk_imbalance.calibration import expected_calibration_error as ece
from sk_imbalance.networks import MLP
from sk_imbalance.prior_shift import estimate_deployment_prior

from .conftest import BRIEF, SINGLE_LABEL, SMALL, assert_same_outputs, make

#: Small networks, an ensemble of two (the members' mean is what is calibrated).
SMALL = dict(SMALL, n_members=2)
BRIEF = dict(BRIEF, n_members=2)
#: One network per fit, for the tests that count the networks built.
COUNTED = dict(BRIEF, n_members=1)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        300, 8, n_informative=5, n_classes=3, weights=[0.7, 0.2, 0.1], random_state=0
    )
    return X, y


def _calibrated(proba, calibration):
    """Softmax of the calibration applied to log-probabilities (the shared-scale maps
    ignore a per-row shift, so log-probabilities give the same result as logits)."""
    return softmax(apply_calibration(np.log(proba), calibration), axis=1)


def _counting_module(built):
    def network(n_features, n_outputs):
        built.append(n_features)
        return MLP(n_features, n_outputs, BRIEF["hidden_layer_sizes"])

    return network


@pytest.mark.parametrize("name", SINGLE_LABEL)
def test_fitted_calibration_is_a_fitted_attribute(name, data):
    X, y = data
    plain = make(name, SMALL).fit(X, y)
    assert plain.calibration_ is None and plain.calibration_source_ is None
    cal = make(name, SMALL, calibration="bcts").fit(X, y)
    assert isinstance(cal.calibration_, LogitCalibration)
    assert cal.calibration_.method == "bcts" and cal.calibration_source_ == "cross_fitting"
    np.testing.assert_array_equal(cal.predict(X), cal.classes_[cal.predict_proba(X).argmax(1)])


def test_temperature_changes_probabilities_but_not_the_accuracy_argmax(data):
    X, y = data
    # the ensemble without the feature encoding: a network whose fitted temperature on
    # these data is far enough from 1 for the change of probabilities to be visible
    params = dict(BRIEF, objective="accuracy", feature_encoding=None)
    plain = LogitAdjustedClassifier(**params).fit(X, y)
    cal = LogitAdjustedClassifier(**params, calibration="temperature").fit(X, y)
    T = cal.calibration_.temperature
    assert np.isfinite(T) and abs(T - 1.0) > 0.05
    np.testing.assert_array_equal(cal.calibration_.bias, 0.0)
    # The same network (same seed): calibration only maps its training-prior scores.
    p0, p1 = plain.predict_proba(X), cal.predict_proba(X)
    np.testing.assert_allclose(p1, _calibrated(p0, cal.calibration_), atol=1e-10)
    assert np.abs(p1 - p0).max() > 0.05
    np.testing.assert_array_equal(plain.predict(X), cal.predict(X))
    # Under "balanced" the shift -tau log(pi) is added after the temperature, so the
    # argmax may move: it is the calibrated posterior, shifted.
    cal.set_params(objective="balanced")
    shifted = np.log(_calibrated(p0, cal.calibration_)) - np.log(cal.class_prior_)
    np.testing.assert_allclose(cal.predict_proba(X), softmax(shifted, axis=1), atol=1e-10)


@pytest.mark.parametrize("adjustment", ["post_hoc", "vs", "ldam_drw", "none"])
def test_calibrate_at_the_training_prior_then_shift(adjustment, data):
    X, y = data
    params = dict(SMALL, adjustment=adjustment, n_members=1)
    plain = LogitAdjustedClassifier(**params, objective="accuracy").fit(X, y)
    cal = LogitAdjustedClassifier(**params, calibration="bcts").fit(X, y)
    posterior = _calibrated(plain.predict_proba(X), cal.calibration_)
    q = np.array([0.2, 0.3, 0.5])
    for objective, target in [("accuracy", cal.class_prior_), (q, q)]:
        cal.set_params(objective=objective)
        expected = softmax(np.log(posterior) + np.log(target / cal.class_prior_), axis=1)
        np.testing.assert_allclose(cal.predict_proba(X), expected, atol=1e-8)


def test_ece_lower_with_calibration_on_overconfident_networks():
    # Overlapping classes and an unregularised network trained full-batch until it
    # separates its training data: over-confident posteriors under the training prior.
    X, y = make_classification(
        1300, 10, n_informative=6, n_classes=3, class_sep=0.5, weights=[0.6, 0.3, 0.1],
        random_state=2,
    )  # fmt: skip
    train, test = slice(0, 300), slice(300, None)
    params = dict(
        hidden_layer_sizes=(32,), max_iter=100, batch_size=300, learning_rate_init=1e-2,
        learning_rate_schedule="constant", n_members=1, weight_decay=0.0,
        objective="accuracy", random_state=0,
    )  # fmt: skip
    plain = LogitAdjustedClassifier(**params).fit(X[train], y[train])
    cal = LogitAdjustedClassifier(**params, calibration="bcts").fit(X[train], y[train])
    assert cal.calibration_.temperature > 1.5  # the out-of-fold logits say: too confident
    before = ece(y[test], plain.predict_proba(X[test]))
    after = ece(y[test], cal.predict_proba(X[test]))
    assert before > 0.1 and after < 0.5 * before, (before, after)  # measured 0.131 -> 0.035


@pytest.mark.parametrize("name", SINGLE_LABEL)
def test_set_params_after_fit_changes_no_prediction(name, data):
    X, y = data
    cal = make(name, SMALL, calibration="bcts").fit(X, y)
    before = [cal.predict(X), cal.predict_proba(X), cal.decision_function(X)]
    cal.set_params(calibration=None)
    for u, v in zip(
        before, [cal.predict(X), cal.predict_proba(X), cal.decision_function(X)], strict=True
    ):
        np.testing.assert_array_equal(u, v)
    plain = make(name, SMALL).fit(X, y)
    p = plain.predict_proba(X)
    np.testing.assert_array_equal(plain.set_params(calibration="bcts").predict_proba(X), p)


def test_early_stopping_split_calibrates_without_extra_fits(data):
    X, y = data
    built = []
    clf = LogitAdjustedClassifier(
        **COUNTED, early_stopping=True, calibration="bcts", module=_counting_module(built)
    ).fit(X, y)
    assert clf.calibration_source_ == "early_stopping" and len(built) == 1
    built.clear()
    LogitAdjustedClassifier(**COUNTED, calibration="bcts", module=_counting_module(built)).fit(X, y)
    assert len(built) == 5 + 1  # 5 cross-fitting folds and the network itself


def test_cv_post_hoc_reuses_its_fold_networks(data):
    X, y = data
    built = []
    clf = LogitAdjustedClassifierCV(
        taus=[0.5, 1.0], cv=3, calibration="temperature", module=_counting_module(built), **COUNTED
    ).fit(X, y)
    assert len(built) == 3 + 1 and clf.calibration_source_ == "cross_fitting"
    built.clear()
    LogitAdjustedClassifierCV(
        adjustment="loss", taus=[1.0], cv=3, calibration="temperature",
        module=_counting_module(built), **COUNTED,
    ).fit(X, y)  # fmt: skip
    assert len(built) == 3 + 1 + 5  # tau changes training: the calibration cross-fits


def test_fit_prior_shift_uses_the_calibrated_posteriors(data):
    X, y = data
    plain = LogitAdjustedClassifier(**SMALL, objective="accuracy").fit(X, y)
    cal = LogitAdjustedClassifier(**SMALL, calibration="bcts").fit(X, y)
    X_dep = X[y != 0]  # a deployment mix without the majority class
    posterior = _calibrated(plain.predict_proba(X_dep), cal.calibration_)
    expected, n_iter = estimate_deployment_prior(posterior, cal.class_prior_)
    cal.fit_prior_shift(X_dep)
    np.testing.assert_allclose(cal.deployment_prior_, expected, atol=1e-8)
    assert cal.prior_shift_n_iter_ == n_iter
    shifted = posterior * (expected / cal.class_prior_)
    np.testing.assert_allclose(
        cal.predict_proba(X_dep), shifted / shifted.sum(1, keepdims=True), atol=1e-8
    )
    plain.fit_prior_shift(X_dep)
    assert not np.allclose(plain.deployment_prior_, cal.deployment_prior_, atol=1e-3)


def test_focal_calibration_keeps_the_reweighting(data):
    X, y = data
    params = dict(SMALL, n_members=1)
    plain = FocalClassifier(**params).fit(X, y)
    cal = FocalClassifier(**params, calibration="bcts").fit(X, y)
    log_alpha = np.log(cal.alpha_)
    training = np.log(plain.predict_proba(X)) - log_alpha  # the training-prior scores
    expected = softmax(apply_calibration(training, cal.calibration_) + log_alpha, axis=1)
    np.testing.assert_allclose(cal.predict_proba(X), expected, atol=1e-8)


def test_too_few_samples_and_bad_values_raise_and_leave_the_fit_intact(data):
    X, y = data
    clf = LogitAdjustedClassifier(**SMALL, calibration="bcts").fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match="needs at least 5 samples to hold any out; got 4"):
        clf.fit(X[[0, 1, 2, 3]], [0, 1, 0, 1])
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    fresh = LogitAdjustedClassifier(**SMALL, calibration="bcts")
    with pytest.raises(ValueError, match="needs at least 5 samples"):
        fresh.fit(X[:4], [0, 1, 0, 1])
    assert not hasattr(fresh, "module_") and not hasattr(fresh, "calibration_")
    with pytest.raises(ValueError, match="calibration"):
        LogitAdjustedClassifier(**SMALL, calibration="isotonic").fit(X, y)
    # One sample of class 1: the cross-fitting fold that holds it out trains on one class.
    y_one = np.array([0, 0, 0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="Calibration fold [1-5] of 5 could not be fitted"):
        clf.fit(X[:8], y_one)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


@pytest.mark.parametrize("name", SINGLE_LABEL)
def test_pickle_round_trip_keeps_the_calibration(name, data):
    X, y = data
    clf = make(name, SMALL, calibration="temperature").fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    assert loaded.calibration_.temperature == clf.calibration_.temperature
    assert_same_outputs(clf, loaded, X)
    loaded.fit_prior_shift(X[:50])
    clf.fit_prior_shift(X[:50])
    np.testing.assert_array_equal(loaded.deployment_prior_, clf.deployment_prior_)


def test_corrected_one_se_rule_on_a_small_case():
    # Why a private name: the rule is a pure function of the CV scores; the estimator
    # test below checks that fit uses it.
    from sk_imbalance._logit_adjusted_cv import _select_tau

    taus = np.array([0.0, 0.5, 1.0])
    # Best mean at tau 0.5 (0.80); tau 1 scores 0.77; the best's fold std is 0.05.
    scores = np.array([[0.70, 0.85, 0.80], [0.72, 0.75, 0.74], [0.71, 0.80, 0.77]])
    scores[:, 1] = 0.80 + np.array([0.05, -0.05, 0.0])
    naive = 0.05 / np.sqrt(3)  # 0.029: tau 1 (0.03 below) is out
    corrected = 0.05 * np.sqrt(1 / 3 + 1 / 2)  # 0.046 for 3 folds: tau 1 is in
    assert scores[:, 1].std(ddof=1) == pytest.approx(0.05)
    assert naive < 0.80 - scores[:, 2].mean() < corrected
    assert taus[_select_tau(taus, scores, "one_se", n_train_per_test=2.0)] == 0.5
    assert taus[_select_tau(taus, scores, "one_se_corrected", n_train_per_test=2.0)] == 1.0
    assert taus[_select_tau(taus, scores, "best")] == 0.5


def test_cv_default_rule_is_the_corrected_one_standard_error(data):
    X, y = data
    taus = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
    clf = LogitAdjustedClassifierCV(taus=taus, cv=4, **BRIEF).fit(X, y)
    assert clf.get_params()["tau_selection"] == "one_se_corrected"
    scores = clf.cv_results_["split_test_scores"]
    mean = scores.mean(axis=0)
    se = scores[:, np.argmax(mean)].std(ddof=1) * np.sqrt(1 / 4 + 1 / 3)  # 4 folds: 1/3
    within = np.asarray(taus)[mean >= mean.max() - se - 1e-12]
    assert clf.tau_ == within[np.argmin(np.abs(within - 1.0))]


def test_a_pickle_from_before_calibration_loads_uncalibrated(data):
    X, y = data
    clf = make("LogitAdjustedClassifier", SMALL).fit(X, y)
    expected = clf.predict_proba(X)
    for key in ("calibration", "calibration_", "calibration_source_"):
        del clf.__dict__[key]  # what an earlier release's estimator held
    loaded = pickle.loads(pickle.dumps(clf))
    assert loaded.get_params()["calibration"] is None
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    loaded.fit_prior_shift(X[:50])
    assert loaded.deployment_prior_.shape == (3,)


def test_leave_out_rarely_seen_zeroes_only_rows_of_classes_rare_in_the_fold():
    from sk_imbalance._classifier import CALIBRATION_MIN_SEEN, leave_out_rarely_seen

    assert CALIBRATION_MIN_SEEN == 3
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 0, 1, 2])
    w = np.arange(1.0, 12.0)
    train, test = np.arange(8), np.array([8, 9, 10])  # class 2: 2 training rows
    leave_out_rarely_seen(w, y, train, test, 3)
    np.testing.assert_array_equal(w, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0])
    w = np.arange(1.0, 12.0)
    train, test = np.concatenate([np.arange(8), [10]]), np.array([8, 9])  # all seen 3 times
    leave_out_rarely_seen(w, y, train, test, 3)
    np.testing.assert_array_equal(w, np.arange(1.0, 12.0))


@pytest.mark.filterwarnings("ignore:The least populated class")
@pytest.mark.parametrize("cv_estimator", [False, True])
def test_held_out_rows_of_a_class_its_fold_rarely_saw_are_left_out(cv_estimator, monkeypatch):
    """5 folds: a class of 2 samples is held out by fold networks that saw it once, so
    the calibration fit gets its rows with weight 0; with 4 samples each fold network
    saw 3 and the rows count (the rest always as given)."""
    from sk_imbalance import _classifier

    X, y = make_classification(
        200, 6, n_informative=4, n_classes=3, weights=[0.7, 0.28, 0.02], random_state=1
    )
    rare = np.flatnonzero(y == 2)
    assert rare.size >= 4
    y[rare[4:]] = 1  # exactly 4 samples of class 2
    seen = {}
    real = _classifier.fit_calibration

    def spy(logits, y_, *, method, sample_weight):
        seen["w"], seen["y"] = np.asarray(sample_weight), np.asarray(y_)
        return real(logits, y_, method=method, sample_weight=sample_weight)

    monkeypatch.setattr(_classifier, "fit_calibration", spy)
    if cv_estimator:
        clf = LogitAdjustedClassifierCV(taus=[1.0], cv=5, calibration="temperature", **COUNTED)
    else:
        clf = LogitAdjustedClassifier(calibration="temperature", **COUNTED)
    clf.fit(X, y)
    assert clf.calibration_source_ == "cross_fitting"
    w, codes = seen["w"], seen["y"]
    rare_code = list(clf.classes_).index(2)
    assert np.all(w == 1.0)  # 4 samples in 5 stratified folds: each fold network saw 3
    y2 = y.copy()
    y2[rare[2:4]] = 1  # 2 samples: each fold network saw at most 1
    clf.fit(X, y2)
    w, codes = seen["w"], seen["y"]
    assert np.all(w[codes == rare_code] == 0.0) and np.all(w[codes != rare_code] == 1.0)
