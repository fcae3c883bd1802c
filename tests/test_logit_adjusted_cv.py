import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import balanced_accuracy_score, log_loss, make_scorer, recall_score

from sk_imbalance import LogitAdjustedClassifier, LogitAdjustedClassifierCV
from sk_imbalance.datasets import load_long_tailed
from sk_imbalance.networks import MLP

from .conftest import QUICK


def test_cv_tau_close_to_test_set_oracle_on_long_tailed_digits():
    d = load_long_tailed("digits", imbalance_ratio=100, random_state=0)
    # pixels: the recipe page's advice for image-like input, no feature encoding
    cv = LogitAdjustedClassifierCV(feature_encoding=None, random_state=0).fit(d.X_train, d.y_train)
    ba_cv = balanced_accuracy_score(d.y_test, cv.predict(d.X_test))
    # The same post-hoc network for every tau: the oracle picks tau on the test set.
    net = LogitAdjustedClassifier(adjustment="post_hoc", feature_encoding=None, random_state=0)
    net.fit(d.X_train, d.y_train)
    oracle = max(
        balanced_accuracy_score(d.y_test, net.set_params(tau=t).predict(d.X_test))
        for t in cv.cv_results_["taus"]
    )
    assert ba_cv >= 0.98 * oracle
    assert cv.cv_results_["split_test_scores"].shape == (5, len(cv.cv_results_["taus"]))


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        400, 8, n_informative=5, n_classes=3, weights=[0.8, 0.15, 0.05], random_state=0
    )
    return X, y


def test_post_hoc_search_fits_once_per_fold(data):
    X, y = data
    built = []  # every fit builds its network once, through ``module``

    def network(n_features, n_outputs):
        built.append(n_features)
        return MLP(n_features, n_outputs, QUICK["hidden_layer_sizes"])

    one = dict(QUICK, n_members=1)  # one network per fit (an ensemble builds n_members)
    LogitAdjustedClassifierCV(taus=[0.0, 0.5, 1.0, 2.0], cv=3, module=network, **one).fit(X, y)
    assert len(built) == 3 + 1  # one network per fold whatever the grid, and the refit
    built.clear()
    LogitAdjustedClassifierCV(adjustment="loss", taus=[0.5, 1.0], cv=3, module=network, **one).fit(
        X, y
    )
    assert len(built) == 6 + 1  # tau changes training: one per (fold, tau), and the refit


def test_best_rule_maximises_cv_score_and_final_model_uses_it(data):
    X, y = data
    clf = LogitAdjustedClassifierCV(taus=[0.0, 1.0, 2.0], cv=3, tau_selection="best", **QUICK).fit(
        X, y
    )
    res = clf.cv_results_
    assert clf.tau_ == res["taus"][np.argmax(res["mean_test_score"])]
    assert clf.best_score_ == pytest.approx(res["mean_test_score"].max())
    ref = LogitAdjustedClassifier(adjustment="post_hoc", tau=clf.tau_, **QUICK).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X))
    assert "tau" not in clf.get_params()


def test_one_se_rule_picks_the_tau_closest_to_one_within_one_standard_error(data):
    X, y = data
    taus = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
    clf = LogitAdjustedClassifierCV(taus=taus, cv=4, tau_selection="one_se", **QUICK).fit(X, y)
    scores = clf.cv_results_["split_test_scores"]
    mean = scores.mean(axis=0)
    se = scores[:, np.argmax(mean)].std(ddof=1) / np.sqrt(scores.shape[0])
    within = np.asarray(taus)[mean >= mean.max() - se]
    assert clf.tau_ == within[np.argmin(np.abs(within - 1.0))]
    assert clf.best_score_ == pytest.approx(mean[taus.index(clf.tau_)])
    best = LogitAdjustedClassifierCV(taus=taus, cv=4, tau_selection="best", **QUICK).fit(X, y)
    np.testing.assert_array_equal(scores, best.cv_results_["split_test_scores"])


def test_probability_scorer_with_a_class_missing_from_a_training_fold():
    # Class 2 has 2 samples: with 3 folds, one training part lacks it, and its fold
    # network must still give the class a probability column for the log loss.
    X, y = make_classification(120, 6, n_informative=4, n_classes=3, random_state=0)
    y[y == 2] = 1
    y[[0, 1]] = 2
    scoring = make_scorer(
        log_loss, greater_is_better=False, response_method="predict_proba", labels=[0, 1, 2]
    )
    clf = LogitAdjustedClassifierCV(
        taus=[0.0, 1.0], cv=3, scoring=scoring, tau_selection="best", **QUICK
    ).fit(X, y)
    assert np.isfinite(clf.cv_results_["split_test_scores"]).all()
    assert clf.predict_proba(X).shape == (120, 3)


def test_any_scorer(data):
    X, y = data
    rare_recall = make_scorer(recall_score, labels=[2], average="macro")
    clf = LogitAdjustedClassifierCV(
        taus=[0.0, 3.0], cv=3, scoring=rare_recall, tau_selection="best", **QUICK
    ).fit(X, y)
    assert clf.tau_ == 3.0  # a bigger boost of the rare class always helps its recall


def test_bad_grid_raises(data):
    X, y = data
    with pytest.raises(ValueError, match="taus"):
        LogitAdjustedClassifierCV(taus=[-1.0], cv=3, **QUICK).fit(X, y)
