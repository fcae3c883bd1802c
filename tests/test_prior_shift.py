import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sk_imbalance import FocalClassifier, LogitAdjustedClassifier
from sk_imbalance.prior_shift import adjust_to_prior, estimate_deployment_prior


def test_adjust_to_prior_is_bayes_rule():
    proba = np.array([[0.5, 0.5], [0.2, 0.8]])
    out = adjust_to_prior(proba, [0.5, 0.5], [0.8, 0.2])
    np.testing.assert_allclose(out[0], [0.8, 0.2])
    np.testing.assert_allclose(out[1], [0.5, 0.5])
    np.testing.assert_allclose(adjust_to_prior(proba, [0.3, 0.7], [0.3, 0.7]), proba)


def test_em_recovers_prior_from_exact_posteriors():
    # Two 1-D Gaussians; exact posteriors under the training prior.
    rng = np.random.RandomState(0)
    pi, q = np.array([0.8, 0.2]), np.array([0.3, 0.7])
    y = rng.choice(2, size=20000, p=q)
    x = rng.randn(20000) + 2.0 * y
    lik = np.stack([np.exp(-0.5 * x**2), np.exp(-0.5 * (x - 2.0) ** 2)], axis=1)
    post = lik * pi / (lik * pi).sum(axis=1, keepdims=True)
    est, n_iter = estimate_deployment_prior(post, pi)
    assert np.abs(est - q).sum() < 0.02 and n_iter > 1


def test_em_input_errors():
    with pytest.raises(ValueError, match="shape"):
        estimate_deployment_prior(np.ones((3, 2)) / 2, [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="strictly positive"):
        estimate_deployment_prior(np.ones((3, 2)) / 2, [1.0, 0.0])


@pytest.fixture(scope="module")
def shifted():
    """Trained on a skewed prior, deployed on a reversed one (known exactly)."""
    X, y = make_classification(
        6000,
        10,
        n_informative=6,
        n_redundant=0,
        n_classes=4,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
    rng = np.random.RandomState(0)
    train_prior, q = [0.6, 0.25, 0.1, 0.05], [0.1, 0.2, 0.3, 0.4]
    tr = np.concatenate(
        [
            rng.choice(np.flatnonzero(y_tr == k), int(p * 1200), replace=False)
            for k, p in enumerate(train_prior)
        ]
    )
    te = np.concatenate(
        [
            rng.choice(np.flatnonzero(y_te == k), int(p * 1400), replace=False)
            for k, p in enumerate(q)
        ]
    )
    return X_tr[tr], y_tr[tr], X_te[te], y_te[te], np.array(q)


def test_fit_prior_shift_estimates_prior_and_improves_log_loss(shifted):
    X_tr, y_tr, X_te, y_te, q = shifted
    clf = LogitAdjustedClassifier(random_state=0).fit(X_tr, y_tr)
    before = {
        obj: log_loss(y_te, clf.set_params(objective=obj).predict_proba(X_te))
        for obj in ("balanced", "accuracy")
    }
    clf.set_params(objective="balanced").fit_prior_shift(X_te)
    assert np.abs(clf.deployment_prior_ - q).sum() < 0.05
    after = log_loss(y_te, clf.predict_proba(X_te))
    assert after < min(before.values())
    np.testing.assert_array_equal(
        clf.predict(X_te), clf.classes_[clf.predict_proba(X_te).argmax(1)]
    )
    # Predictions follow the estimated prior until reset.
    clf.reset_prior_shift()
    assert log_loss(y_te, clf.predict_proba(X_te)) == pytest.approx(before["balanced"])


def test_fit_prior_shift_works_for_focal(shifted):
    X_tr, y_tr, X_te, y_te, q = shifted
    clf = FocalClassifier(gamma=0.0, random_state=0).fit(X_tr, y_tr)  # weighted CE
    before = log_loss(y_te, clf.predict_proba(X_te))
    clf.fit_prior_shift(X_te)
    assert np.abs(clf.deployment_prior_ - q).sum() < 0.1
    assert log_loss(y_te, clf.predict_proba(X_te)) < before


def test_refit_clears_prior_shift(shifted):
    X_tr, y_tr, X_te, _, _ = shifted
    clf = LogitAdjustedClassifier(max_iter=20, random_state=0).fit(X_tr, y_tr)
    clf.fit_prior_shift(X_te)
    clf.fit(X_tr, y_tr)
    assert not hasattr(clf, "deployment_prior_")
