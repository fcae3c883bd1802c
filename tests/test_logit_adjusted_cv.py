import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import balanced_accuracy_score, make_scorer, recall_score

from sk_imbalance import LogitAdjustedClassifier, LogitAdjustedClassifierCV
from sk_imbalance.datasets import load_long_tailed

FAST = dict(hidden_layer_sizes=(16,), max_iter=40, learning_rate_init=1e-2, random_state=0)


def test_cv_tau_close_to_test_set_oracle_on_long_tailed_digits():
    d = load_long_tailed("digits", imbalance_ratio=100, random_state=0)
    cv = LogitAdjustedClassifierCV(random_state=0).fit(d.X_train, d.y_train)
    ba_cv = balanced_accuracy_score(d.y_test, cv.predict(d.X_test))
    # The same post-hoc network for every tau: the oracle picks tau on the test set.
    net = LogitAdjustedClassifier(adjustment="post_hoc", random_state=0).fit(d.X_train, d.y_train)
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


def test_post_hoc_search_fits_once_per_fold(data, monkeypatch):
    X, y = data
    calls = []
    original = LogitAdjustedClassifier.fit

    def counting_fit(self, *a, **k):
        calls.append(type(self).__name__)
        return original(self, *a, **k)

    monkeypatch.setattr(LogitAdjustedClassifier, "fit", counting_fit)
    LogitAdjustedClassifierCV(taus=[0.0, 0.5, 1.0, 2.0], cv=3, **FAST).fit(X, y)
    assert calls.count("LogitAdjustedClassifier") == 3  # one network per fold, any grid
    calls.clear()
    LogitAdjustedClassifierCV(adjustment="loss", taus=[0.5, 1.0], cv=3, **FAST).fit(X, y)
    assert calls.count("LogitAdjustedClassifier") == 6  # tau changes training


def test_chosen_tau_maximises_cv_score_and_final_model_uses_it(data):
    X, y = data
    clf = LogitAdjustedClassifierCV(taus=[0.0, 1.0, 2.0], cv=3, **FAST).fit(X, y)
    res = clf.cv_results_
    assert clf.tau_ == res["taus"][np.argmax(res["mean_test_score"])]
    assert clf.best_score_ == pytest.approx(res["mean_test_score"].max())
    ref = LogitAdjustedClassifier(adjustment="post_hoc", tau=clf.tau_, **FAST).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X))
    assert "tau" not in clf.get_params()


def test_any_scorer(data):
    X, y = data
    rare_recall = make_scorer(recall_score, labels=[2], average="macro")
    clf = LogitAdjustedClassifierCV(taus=[0.0, 3.0], cv=3, scoring=rare_recall, **FAST).fit(X, y)
    assert clf.tau_ == 3.0  # a bigger boost of the rare class always helps its recall


def test_bad_grid_raises(data):
    X, y = data
    with pytest.raises(ValueError, match="taus"):
        LogitAdjustedClassifierCV(taus=[-1.0], cv=3, **FAST).fit(X, y)
