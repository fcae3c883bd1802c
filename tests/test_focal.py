"""FocalClassifier: equivalences, class weights alpha, errors and the G-mean promise."""

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sk_imbalance import FocalClassifier, LogitAdjustedClassifier

from .conftest import QUICK


@pytest.fixture(scope="module")
def binary():
    return make_classification(300, 8, n_informative=4, weights=[0.9], random_state=0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_gamma0_alpha_none_fits_identically_to_plain_cross_entropy(n_classes):
    X, y = make_classification(
        400,
        10,
        n_informative=5,
        n_classes=n_classes,
        weights=[0.7, 0.2, 0.1][:n_classes] if n_classes == 3 else [0.85],
        random_state=1,
    )
    focal = FocalClassifier(gamma=0.0, alpha=None, random_state=0).fit(X, y)
    ce = LogitAdjustedClassifier(adjustment="none", random_state=0).fit(X, y)
    np.testing.assert_allclose(focal.predict_proba(X), ce.predict_proba(X), rtol=0, atol=1e-5)
    # the same loss, the same seed and data path: the fit is in fact bit-identical
    np.testing.assert_array_equal(focal.predict_proba(X), ce.predict_proba(X))
    assert focal.n_iter_ == ce.n_iter_
    assert focal.loss_curve_ == ce.loss_curve_
    # loss="cross_entropy" is the same objective
    ce2 = FocalClassifier(loss="cross_entropy", alpha=None, **QUICK).fit(X, y)
    f2 = FocalClassifier(gamma=0.0, alpha=None, **QUICK).fit(X, y)
    np.testing.assert_array_equal(ce2.predict_proba(X), f2.predict_proba(X))


def test_alpha_resolution(binary):
    X, y = binary
    clf = FocalClassifier(**QUICK).fit(X, y)
    prior = np.bincount(y) / len(y)
    np.testing.assert_allclose(clf.class_prior_, prior)
    np.testing.assert_allclose(clf.alpha_, 1 / (2 * prior))
    assert np.isclose(clf.alpha_[y].mean(), 1.0)  # "balanced" weights average 1
    # sample-weighted frequencies
    sw = np.where(y == 1, 3.0, 1.0)
    clf_w = FocalClassifier(**QUICK).fit(X, y, sample_weight=sw)
    mass = np.bincount(y, weights=sw)
    np.testing.assert_allclose(clf_w.alpha_, mass.sum() / (2 * mass))
    assert_alpha = FocalClassifier(alpha=0.25, **QUICK).fit(X, y).alpha_
    np.testing.assert_allclose(assert_alpha, [0.75, 0.25])
    np.testing.assert_allclose(FocalClassifier(alpha=[1, 4], **QUICK).fit(X, y).alpha_, [1, 4])
    assert FocalClassifier(alpha=None, **QUICK).fit(X, y).alpha_ is None


def test_balanced_alpha_raises_minority_recall(binary):
    X, y = binary
    plain = FocalClassifier(alpha=None, **QUICK).fit(X, y)
    balanced = FocalClassifier(**QUICK).fit(X, y)
    recall = [np.mean(m.predict(X)[y == 1] == 1) for m in (plain, balanced)]
    assert recall[1] > recall[0]
    # weighted probabilities are not calibrated: the rare class is over-predicted
    assert balanced.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


def test_focus_frequent_focuses_the_classes_at_least_as_frequent_as_uniform():
    X, y = make_classification(
        300, 6, n_informative=4, n_classes=3, weights=[0.6, 0.3, 0.1], random_state=0
    )
    prior = np.bincount(y) / len(y)
    assert prior[0] > 1 / 3 > prior[1] > prior[2]
    frequent = FocalClassifier(gamma=1.5, **QUICK).fit(X, y)
    np.testing.assert_array_equal(frequent.gamma_, [1.5, 0.0, 0.0])
    np.testing.assert_array_equal(FocalClassifier(focus="all", **QUICK).fit(X, y).gamma_, [2.0] * 3)
    # the sample-weighted shares decide: class 1 weighted up past 1/3
    sw = np.where(y == 1, 3.0, 1.0)
    weighted = FocalClassifier(**QUICK).fit(X, y, sample_weight=sw)
    assert weighted.class_prior_[1] > 1 / 3
    np.testing.assert_array_equal(weighted.gamma_, [2.0, 2.0, 0.0])
    assert FocalClassifier(loss="ghm", **QUICK).fit(X, y).gamma_ is None


def test_focus_frequent_is_the_papers_loss_on_balanced_data_and_gamma0_is_ce():
    X, y = make_classification(200, 6, n_informative=4, weights=[0.5], flip_y=0, random_state=0)
    assert np.bincount(y).tolist() == [100, 100]
    a = FocalClassifier(**QUICK).fit(X, y)
    b = FocalClassifier(focus="all", **QUICK).fit(X, y)
    np.testing.assert_array_equal(a.gamma_, [2.0, 2.0])
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    # imbalanced data: the two foci train different networks
    Xi, yi = make_classification(200, 6, n_informative=4, weights=[0.85], random_state=0)
    fa = FocalClassifier(**QUICK).fit(Xi, yi)
    fb = FocalClassifier(focus="all", **QUICK).fit(Xi, yi)
    assert np.abs(fa.predict_proba(Xi) - fb.predict_proba(Xi)).max() > 1e-3


def test_focus_frequent_predicts_the_rare_class_more_often_than_symmetric_focal(binary):
    """The rare rows the network fits keep their full loss under ``"frequent"``, so
    the decision moves towards the rare class compared with Lin et al.'s loss."""
    X, y = binary
    rates = {
        focus: np.mean(FocalClassifier(focus=focus, **QUICK).fit(X, y).predict_proba(X)[:, 1])
        for focus in ("frequent", "all")
    }
    assert rates["frequent"] > rates["all"], rates


def test_a_pickle_from_before_focus_loads_with_every_class_focused(binary):
    import pickle

    X, y = binary
    est = FocalClassifier(focus="all", **QUICK).fit(X, y)
    state = est.__getstate__()
    del state["focus"], state["gamma_"]
    old = FocalClassifier.__new__(FocalClassifier)
    old.__setstate__(state)
    assert old.get_params()["focus"] == "all"
    np.testing.assert_array_equal(old.predict_proba(X), est.predict_proba(X))
    again = pickle.loads(pickle.dumps(old))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(focus="rare"), "focus"),
        (dict(alpha=0.3), "float alpha .* binary"),
        (dict(alpha=[1.0, 2.0]), "one weight per class"),
        (dict(alpha=[1.0, -2.0, 1.0]), "non-negative"),
        (dict(alpha=[0.0, 0.0, 0.0]), "not all zero"),
        (dict(loss="ghm", label_smoothing=0.1), "label_smoothing"),
        (dict(loss="truncated", label_smoothing=0.1), "label_smoothing"),
        (dict(loss="hinge"), "loss"),
        (dict(gamma=-1.0), "gamma"),
        (dict(margin=1.0), "margin"),
        (dict(alpha=1.5), "alpha"),
        (dict(bins=0), "bins"),
        (dict(momentum=1.0), "momentum"),
    ],
)
def test_invalid_parameters_raise_clear_errors(params, match):
    X, y = make_classification(60, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    clf = FocalClassifier(**{**QUICK, **params})
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "classes_")


@pytest.mark.parametrize("loss", ["focal", "truncated", "ghm", "cross_entropy"])
def test_every_loss_fits_string_labels_and_predicts_consistently(loss, binary):
    X, y = binary
    labels = np.array(["neg", "pos"])[y]
    clf = FocalClassifier(loss=loss, sharpness=10.0 if loss == "truncated" else None, **QUICK)
    clf.fit(X, labels)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    assert np.mean(clf.predict(X) == labels) > 0.8


def test_label_smoothing_lowers_confidence(binary):
    X, y = binary
    sharp = FocalClassifier(loss="cross_entropy", alpha=None, **QUICK).fit(X, y)
    smooth = FocalClassifier(loss="cross_entropy", alpha=None, label_smoothing=0.2, **QUICK)
    smooth.fit(X, y)
    # the smoothed loss is minimised at p_y = 1 - eps / 2 = 0.9
    assert smooth.predict_proba(X).max(1).mean() < 0.9 < sharp.predict_proba(X).max(1).mean()


@pytest.mark.slow
def test_default_focal_raises_gmean_by_005_over_cross_entropy():
    """The issue's promise, on its data (StandardScaler in front, as in the benchmark)."""
    X, y = make_classification(
        4000, 20, n_informative=8, weights=[0.97], class_sep=0.8, random_state=0
    )
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    focal = FocalClassifier(random_state=0).fit(X_tr, y_tr)
    ce = FocalClassifier(loss="cross_entropy", alpha=None, random_state=0).fit(X_tr, y_tr)
    g_focal = geometric_mean_score(y_te, focal.predict(X_te))
    g_ce = geometric_mean_score(y_te, ce.predict(X_te))
    assert g_focal >= g_ce + 0.05, (g_focal, g_ce)


def test_ghm_reports_cross_entropy_and_trains_with_ghm_gradient(binary):
    import torch
    import torch.nn.functional as F

    from sk_imbalance.losses import GHMCLoss, LabelSmoothingLoss, ReportedLoss, ghm_c_loss

    X, y = binary
    clf = FocalClassifier(loss="ghm", alpha=None, **QUICK).fit(X, y)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.n_iter_ > 12
    logits = torch.randn(30, 2, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 2, (30,))
    crit = ReportedLoss(
        GHMCLoss(momentum=0.0, reduction="none"), LabelSmoothingLoss(0.0, reduction="none")
    )
    out = crit(logits, target)
    torch.testing.assert_close(out, F.cross_entropy(logits, target, reduction="none"))
    (grad,) = torch.autograd.grad(out.sum(), logits)
    (expected,) = torch.autograd.grad(ghm_c_loss(logits, target, reduction="sum"), logits)
    torch.testing.assert_close(grad, expected)


@pytest.mark.cuda
@pytest.mark.parametrize("loss", ["focal", "truncated", "ghm", "cross_entropy"])
def test_every_loss_trains_on_cuda(loss, binary):
    X, y = binary
    clf = FocalClassifier(loss=loss, device="cuda", **QUICK).fit(X, y)
    assert clf.device_.startswith("cuda")
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba))
    assert np.mean(clf.predict(X) == y) > 0.8
