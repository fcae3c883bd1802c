"""CostSensitiveClassifier: the least-expected-cost decision around any classifier."""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer
from sklearn.model_selection import FixedThresholdClassifier, GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from sk_imbalance import CostSensitiveClassifier, LogitAdjustedClassifier
from sk_imbalance.datasets import load_long_tailed, make_long_tailed

COSTS = np.array(
    [
        [0.0, 1.0, 1.0, 2.0],
        [4.0, 0.0, 1.0, 1.0],
        [10.0, 3.0, 0.5, 1.0],
        [20.0, 8.0, 5.0, 0.0],
    ]
)


@pytest.fixture(scope="module")
def four_classes():
    X, y = make_classification(
        600, 6, n_informative=4, n_classes=4, weights=[0.6, 0.25, 0.1, 0.05], random_state=0
    )
    return X, y


def _direct_argmin(P, C):
    """Expected cost of each decision written out, ties to the first class."""
    out = []
    for p in P:
        costs = [sum(p[i] * C[i][j] for i in range(len(p))) for j in range(len(p))]
        out.append(min(range(len(costs)), key=lambda j: (costs[j], j)))
    return np.array(out)


def test_predicts_the_argmin_of_expected_cost_exactly(four_classes):
    X, y = four_classes
    clf = CostSensitiveClassifier(LogisticRegression(), cost_matrix=COSTS).fit(X, y)
    P = clf.predict_proba(X)
    expected = clf.classes_[_direct_argmin(P, COSTS)]
    np.testing.assert_array_equal(clf.predict(X), expected)
    np.testing.assert_allclose(clf.expected_cost(X), P @ COSTS, rtol=0, atol=1e-12)
    # The costs move decisions away from the argmax (towards the costly rare classes).
    assert np.mean(clf.predict(X) != P.argmax(axis=1)) > 0.05
    # predict_proba and predict_log_proba are the inner estimator's, unchanged.
    np.testing.assert_array_equal(P, clf.estimator_.predict_proba(X))
    np.testing.assert_array_equal(clf.predict_log_proba(X), clf.estimator_.predict_log_proba(X))


def test_array_dict_and_callable_forms_agree_with_string_labels(four_classes):
    X, y = four_classes
    names = np.array(["ant", "bee", "cat", "dog"])
    labels = names[y]
    as_dict = {
        names[i]: {names[j]: COSTS[i, j] for j in range(4) if i != j or COSTS[i, j]}
        for i in range(4)
    }
    preds = [
        CostSensitiveClassifier(LogisticRegression(), cost_matrix=c).fit(X, labels).predict(X)
        for c in (COSTS, as_dict, lambda classes: COSTS[: len(classes), : len(classes)])
    ]
    np.testing.assert_array_equal(preds[0], preds[1])
    np.testing.assert_array_equal(preds[0], preds[2])
    assert set(preds[0]) <= set(names)


def test_no_cost_matrix_is_the_argmax(four_classes):
    X, y = four_classes
    clf = CostSensitiveClassifier(LogisticRegression()).fit(X, y)
    np.testing.assert_array_equal(clf.predict(X), clf.predict_proba(X).argmax(axis=1))
    np.testing.assert_allclose(clf.expected_cost(X), 1.0 - clf.predict_proba(X))
    # estimator=None is a LogisticRegression with its defaults.
    default = CostSensitiveClassifier().fit(X, y)
    assert isinstance(default.estimator_, LogisticRegression)
    np.testing.assert_array_equal(default.predict(X), clf.predict(X))


def test_binary_costs_are_fixed_threshold_classifier():
    X, y = make_classification(500, 5, weights=[0.9, 0.1], random_state=1)
    c01, c10 = 1.0, 9.0  # a missed positive costs 9 false alarms
    ours = CostSensitiveClassifier(LogisticRegression(), cost_matrix=[[0, c01], [c10, 0]])
    theirs = FixedThresholdClassifier(
        LogisticRegression(), threshold=c01 / (c01 + c10), response_method="predict_proba"
    )
    pred = ours.fit(X, y).predict(X)
    np.testing.assert_array_equal(pred, theirs.fit(X, y).predict(X))
    assert pred.mean() > 1.5 * LogisticRegression().fit(X, y).predict(X).mean()


@pytest.mark.parametrize("inner", ["logistic", "logit_adjusted"])
def test_lowers_mean_cost_on_long_tailed_test_set(inner):
    d = load_long_tailed("digits", imbalance_ratio=20, random_state=0)
    X_te, y_te = make_long_tailed(d.X_test, d.y_test, imbalance_ratio=20, random_state=1)
    prior = d.class_counts / d.class_counts.sum()
    # Any error on class i costs 1 / (10 pi_i): 1 for a class at the balanced
    # frequency, 10 for one 10 times rarer.
    C = np.repeat(1.0 / (10 * prior)[:, None], 10, axis=1)
    np.fill_diagonal(C, 0.0)
    if inner == "logistic":
        est = LogisticRegression(max_iter=2000)
    else:  # ours, with posteriors for the training (and test) class mix
        est = LogitAdjustedClassifier(
            objective="accuracy", hidden_layer_sizes=(32,), max_iter=60, random_state=0
        )
    clf = CostSensitiveClassifier(est, cost_matrix=C).fit(d.X_train, d.y_train)
    cost = C[y_te, clf.predict(X_te)].mean()
    argmax_cost = C[y_te, clf.predict_proba(X_te).argmax(axis=1)].mean()
    assert cost < 0.8 * argmax_cost, (cost, argmax_cost)


def test_pipeline_and_grid_search_over_nested_params(four_classes):
    X, y = four_classes

    def neg_cost(y_true, y_pred):
        return -COSTS[y_true, y_pred].mean()

    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("clf", CostSensitiveClassifier(LogisticRegression(), cost_matrix=COSTS)),
        ]
    )
    search = GridSearchCV(
        pipe,
        {"clf__estimator__C": [0.01, 1.0], "clf__cost_matrix": [None, COSTS]},
        scoring=make_scorer(neg_cost),
        cv=3,
    ).fit(X, y)
    # Costs are what the scorer rewards: the search keeps them.
    assert search.best_params_["clf__cost_matrix"] is not None
    best = search.best_estimator_
    manual = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "clf",
                CostSensitiveClassifier(
                    LogisticRegression(C=search.best_params_["clf__estimator__C"]),
                    cost_matrix=COSTS,
                ),
            ),
        ]
    ).fit(X, y)
    np.testing.assert_array_equal(best.predict(X), manual.predict(X))
    assert best["clf"].estimator_.C == search.best_params_["clf__estimator__C"]


def test_cost_matrix_acts_at_prediction_without_refit(four_classes):
    X, y = four_classes
    clf = CostSensitiveClassifier(LogisticRegression()).fit(X, y)
    inner = clf.estimator_
    argmax = clf.predict(X)
    clf.set_params(cost_matrix=COSTS)
    assert clf.estimator_ is inner
    np.testing.assert_array_equal(clf.predict(X), _direct_argmin(clf.predict_proba(X), COSTS))
    assert not np.array_equal(clf.predict(X), argmax)
    clf.set_params(cost_matrix=np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"shape \(3, 3\) but the estimator has 4 classes"):
        clf.predict(X)


def test_prefit_estimator_through_frozen_estimator(four_classes):
    X, y = four_classes
    lr = LogisticRegression().fit(X[:300], y[:300])
    coef = lr.coef_.copy()
    clf = CostSensitiveClassifier(FrozenEstimator(lr), cost_matrix=COSTS).fit(X, y)
    np.testing.assert_array_equal(clf.estimator_.estimator.coef_, coef)  # not refitted
    np.testing.assert_array_equal(clf.predict_proba(X), lr.predict_proba(X))


def test_sample_weight_reaches_the_inner_estimator(four_classes):
    X, y = four_classes
    w = np.linspace(0.1, 3.0, len(y))
    clf = CostSensitiveClassifier(LogisticRegression()).fit(X, y, sample_weight=w)
    ref = LogisticRegression().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(clf.estimator_.coef_, ref.coef_)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = CostSensitiveClassifier(LogisticRegression().set_fit_request(sample_weight=True))
        routed.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(routed.estimator_.coef_, ref.coef_)


class _NoWeights(LogisticRegression):
    def fit(self, X, y):
        return super().fit(X, y)


BAD = [
    (np.ones((2, 3)), r"square 2-D array of shape \(n_classes, n_classes\)"),
    (np.ones(4), r"square 2-D array"),
    (np.ones((3, 3)) - np.eye(3), r"shape \(3, 3\) but the estimator has 4 classes"),
    (COSTS - 2.0, "negative entries"),
    (np.where(np.eye(4) > 0, 0.0, np.nan), "NaN or infinite"),
    (np.where(np.eye(4) > 0, 0.0, np.inf), "NaN or infinite"),
    (np.zeros((4, 4)), "all zeros"),
    (
        {0: {1: 1.0, 2: 1.0, 3: 1.0}, 1: {0: 1.0}},
        r"lacks the cost of these \(true, predicted\) pairs: \[\(1, 2\), \(1, 3\)",
    ),
    ({0: {7: 1.0}}, r"labels that are not classes: \['7'\]"),
    ({0: [1.0, 2.0]}, "must map each true label to a dict"),
    ({0: {1: -1.0}}, "row 0 has negative entries"),
    (lambda classes: np.ones((2, 2)), r"shape \(2, 2\) but the estimator has 4 classes"),
]


@pytest.mark.parametrize("cost_matrix, match", BAD)
def test_bad_cost_matrix_raises_and_fits_nothing(four_classes, cost_matrix, match):
    X, y = four_classes
    clf = CostSensitiveClassifier(LogisticRegression(), cost_matrix=cost_matrix)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "estimator_") and not hasattr(clf, "classes_")
    # A fitted estimator keeps its previous fit when a refit fails.
    clf.set_params(cost_matrix=None).fit(X, y)
    previous = clf.estimator_
    with pytest.raises(ValueError, match=match):
        clf.set_params(cost_matrix=cost_matrix).fit(X, y)
    assert clf.estimator_ is previous


def test_other_bad_input(four_classes):
    X, y = four_classes
    with pytest.raises(ValueError, match="predict_proba"):
        CostSensitiveClassifier(LinearSVC()).fit(X, y)
    with pytest.raises(ValueError, match="does not accept it"):
        CostSensitiveClassifier(_NoWeights()).fit(X, y, sample_weight=np.ones(len(y)))
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    with pytest.raises(ValueError, match="Unknown label type: multilabel"):
        CostSensitiveClassifier().fit(X, Y)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        CostSensitiveClassifier().predict(X)
