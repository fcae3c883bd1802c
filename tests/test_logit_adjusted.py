import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from sk_imbalance import LogitAdjustedClassifier
from sk_imbalance.datasets import load_long_tailed, make_long_tailed

from .conftest import TRAINED

MODES = ["loss", "post_hoc", "bias_init", "none"]


def _logits(clf, X):
    """The trained network's scores (its public ``module_``): the raw outputs of one
    network, the mean of the members' log-probabilities for an ensemble."""
    with torch.no_grad():
        out = clf.module_(torch.as_tensor(X, dtype=torch.float64))
        return (torch.log_softmax(out, dim=-1).mean(dim=1) if out.ndim == 3 else out).numpy()


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(
        600, 8, n_informative=5, n_classes=3, weights=[0.75, 0.2, 0.05], random_state=0
    )
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def digits_lt():
    return load_long_tailed("digits", imbalance_ratio=100, random_state=0)


@pytest.fixture(scope="module")
def fitted_digits(digits_lt):
    d = digits_lt
    return {
        # pixels: the recipe page's advice for image-like input, no feature encoding
        mode: LogitAdjustedClassifier(adjustment=mode, feature_encoding=None, random_state=0).fit(
            d.X_train, d.y_train
        )
        for mode in MODES
    }


# --------------------------------------------------------------------- behaviour
def test_every_adjustment_beats_none_on_balanced_accuracy(digits_lt, fitted_digits):
    d = digits_lt
    ba = {
        m: balanced_accuracy_score(d.y_test, clf.predict(d.X_test))
        for m, clf in fitted_digits.items()
    }
    for mode in ["loss", "post_hoc", "bias_init"]:
        assert ba[mode] >= ba["none"] + 0.04, ba


def test_accuracy_objective_wins_plain_accuracy_on_imbalanced_test(digits_lt, fitted_digits):
    d = digits_lt
    # An imbalanced test set with the training profile.
    X_te, y_te = make_long_tailed(d.X_test, d.y_test, imbalance_ratio=100, random_state=1)
    clf = fitted_digits["loss"]
    acc_bal = accuracy_score(y_te, clf.set_params(objective="balanced").predict(X_te))
    acc_acc = accuracy_score(y_te, clf.set_params(objective="accuracy").predict(X_te))
    clf.set_params(objective="balanced")
    assert acc_acc > acc_bal


@pytest.mark.parametrize("mode", ["loss", "post_hoc", "none"])
def test_deployment_prior_shifts_predictions_towards_frequent_classes(
    digits_lt, fitted_digits, mode
):
    d = digits_lt
    clf = fitted_digits[mode]
    q = np.full(10, 0.02)
    q[9] = 0.82  # class 9 is the rarest in training, the most common at deployment
    base_pred = clf.set_params(objective="balanced").predict(d.X_test)
    base_p9 = clf.predict_proba(d.X_test)[:, 9].mean()
    shifted_pred = clf.set_params(objective=q).predict(d.X_test)
    shifted_p9 = clf.predict_proba(d.X_test)[:, 9].mean()
    clf.set_params(objective="balanced")
    assert np.mean(shifted_pred == 9) > np.mean(base_pred == 9)
    assert shifted_p9 > base_p9


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("objective", ["balanced", "accuracy", [0.1, 0.3, 0.6]])
def test_predict_agrees_with_proba_and_decision_function(imbalanced, mode, objective):
    X, y = imbalanced
    clf = LogitAdjustedClassifier(adjustment=mode, objective=objective, **TRAINED).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    pred = clf.predict(X)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    np.testing.assert_array_equal(clf.classes_[clf.decision_function(X).argmax(axis=1)], pred)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)


def test_no_stacking_of_adjustments(imbalanced):
    X, y = imbalanced
    tau = 1.5
    loss = LogitAdjustedClassifier(adjustment="loss", tau=tau, **TRAINED).fit(X, y)
    raw = _logits(loss, X)
    # The adjusted loss already gives balanced logits: nothing is subtracted again.
    np.testing.assert_allclose(loss.decision_function(X), raw)
    post = LogitAdjustedClassifier(adjustment="post_hoc", tau=tau, **TRAINED).fit(X, y)
    log_pi = np.log(post.class_prior_)
    np.testing.assert_allclose(post.decision_function(X), _logits(post, X) - tau * log_pi)
    np.testing.assert_allclose(
        post.set_params(objective="accuracy").decision_function(X), _logits(post, X), atol=1e-12
    )


def test_post_hoc_tau_changes_without_refit(imbalanced):
    X, y = imbalanced
    clf = LogitAdjustedClassifier(adjustment="post_hoc", tau=0.0, **TRAINED).fit(X, y)
    raw = _logits(clf, X)
    np.testing.assert_allclose(clf.decision_function(X), raw)
    clf.set_params(tau=2.0)
    np.testing.assert_allclose(clf.decision_function(X), raw - 2.0 * np.log(clf.class_prior_))


def test_bias_init_sets_output_bias_to_scaled_log_prior(imbalanced):
    X, y = imbalanced
    clf = LogitAdjustedClassifier(
        adjustment="bias_init", tau=0.7, max_iter=1, learning_rate_init=1e-12, random_state=0
    ).fit(X, y)
    # the default network: the feature encoding, then the packed ensemble
    bias = clf.module_.network.output.bias.detach().numpy()  # (n_members, n_classes)
    assert bias.shape == (8, 3)
    np.testing.assert_allclose(bias, np.tile(0.7 * np.log(clf.class_prior_), (8, 1)), rtol=1e-6)


def test_class_prior_estimated_with_sample_weight_and_smoothed(imbalanced):
    X, y = imbalanced
    sw = np.where(y == 2, 0.0, 1.0)
    sw[y == 1] = 2.0
    clf = LogitAdjustedClassifier(**TRAINED).fit(X, y, sample_weight=sw)
    n0, n1 = np.sum(y == 0), 2 * np.sum(y == 1)
    p0, p1 = n0 / (n0 + n1), n1 / (n0 + n1)
    p2 = 0.5 * min(p0, p1)  # empty class: half the rarest present class, then renormalised
    expected = np.array([p0, p1, p2]) / (1 + p2)
    np.testing.assert_allclose(clf.class_prior_, expected)
    assert np.all(np.isfinite(clf.decision_function(X)))
    user = LogitAdjustedClassifier(class_prior=[0.5, 0.5, 0.0], **TRAINED).fit(X, y)
    assert np.all(user.class_prior_ > 0) and np.isfinite(user.decision_function(X)).all()


def test_class_weight_changes_training(imbalanced):
    X, y = imbalanced
    a = LogitAdjustedClassifier(adjustment="none", **TRAINED).fit(X, y)
    b = LogitAdjustedClassifier(adjustment="none", class_weight="balanced", **TRAINED).fit(X, y)
    assert np.mean(b.predict(X) == 2) > np.mean(a.predict(X) == 2)


# --------------------------------------------------------------------- reproducibility
def test_same_random_state_same_predictions_and_global_rng_untouched(imbalanced):
    X, y = imbalanced
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = LogitAdjustedClassifier(dropout=0.2, batch_size=64, **TRAINED).fit(X, y)
    assert torch.equal(torch.get_rng_state(), before)
    b = LogitAdjustedClassifier(dropout=0.2, batch_size=64, **TRAINED).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = LogitAdjustedClassifier(dropout=0.2, batch_size=64, **{**TRAINED, "random_state": 1}).fit(
        X, y
    )
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))


def test_dtype_follows_input_and_parameter(imbalanced):
    X, y = imbalanced
    clf = LogitAdjustedClassifier(**TRAINED).fit(X.astype(np.float32), y)
    assert next(clf.module_.parameters()).dtype == torch.float32
    clf = LogitAdjustedClassifier(**TRAINED).fit(X, y)
    assert next(clf.module_.parameters()).dtype == torch.float64
    clf = LogitAdjustedClassifier(dtype="float32", **TRAINED).fit(X, y)
    assert next(clf.module_.parameters()).dtype == torch.float32
    # Outputs keep the network's dtype (halves prediction memory for float32 networks).
    for method in ("predict_proba", "decision_function", "predict_log_proba"):
        assert getattr(clf, method)(X).dtype == np.float32
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-5)
    for objective in ("accuracy", [0.2, 0.3, 0.5]):
        assert clf.set_params(objective=objective).predict_proba(X).dtype == np.float32


# --------------------------------------------------------------------- integration
def test_pickle_roundtrip(imbalanced):
    X, y = imbalanced
    clf = LogitAdjustedClassifier(early_stopping=True, **TRAINED).fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))
    assert clone.device_ == "cpu"


def test_pandas_and_string_labels(imbalanced):
    X, y = imbalanced
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    labels = np.array(["cat", "dog", "eel"])[y]
    clf = LogitAdjustedClassifier(**TRAINED).fit(df, pd.Series(labels))
    assert list(clf.feature_names_in_) == list(df.columns)
    assert set(clf.predict(df)) <= {"cat", "dog", "eel"}
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X)


def test_pipeline_and_grid_search(imbalanced):
    X, y = imbalanced
    pipe = make_pipeline(StandardScaler(), LogitAdjustedClassifier(**TRAINED))
    grid = GridSearchCV(
        pipe,
        {
            "logitadjustedclassifier__adjustment": ["loss", "none"],
            "logitadjustedclassifier__tau": [1.0],
        },
        scoring="balanced_accuracy",
        cv=3,
    ).fit(X, y)
    assert grid.best_params_["logitadjustedclassifier__adjustment"] in {"loss", "none"}
    assert grid.best_score_ > 0.5


def test_early_stopping_records_validation_and_stops(imbalanced):
    X, y = imbalanced
    clf = LogitAdjustedClassifier(
        early_stopping=True, n_iter_no_change=3, **{**TRAINED, "max_iter": 300}
    ).fit(X, y)
    assert clf.n_iter_ < 300
    assert len(clf.validation_loss_curve_) == clf.n_iter_ == len(clf.loss_curve_)
    assert clf.best_validation_loss_ == min(clf.validation_loss_curve_)


def test_custom_module(imbalanced):
    X, y = imbalanced

    def linear(n_features, n_outputs):
        return torch.nn.Linear(n_features, n_outputs)

    clf = LogitAdjustedClassifier(
        module=linear, adjustment="bias_init", n_members=1, **TRAINED
    ).fit(X, y)
    assert isinstance(clf.module_, torch.nn.Linear)
    assert clf.score(X, y) > 0.6
    # with the default 8 members: 8 independent copies, each with the prior as its bias
    ens = LogitAdjustedClassifier(
        module=linear, adjustment="bias_init", weight_decay=0.1, feature_encoding=None, **TRAINED
    ).fit(X, y)
    assert len(ens.module_.members) == 8
    assert all(isinstance(m, torch.nn.Linear) for m in ens.module_.members)
    w = [m.weight.detach() for m in ens.module_.members]
    assert not torch.equal(w[0], w[1])  # independently initialised
    assert ens.score(X, y) > 0.6
    with pytest.raises(TypeError, match="torch.nn.Module"):
        LogitAdjustedClassifier(module=lambda n, k: "nope", **TRAINED).fit(X, y)


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_inf_input_raises(imbalanced, bad):
    X, y = imbalanced
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        LogitAdjustedClassifier(**TRAINED).fit(X, y)


def test_one_class_raises(imbalanced):
    X, _ = imbalanced
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogitAdjustedClassifier(**TRAINED).fit(X, np.zeros(len(X)))


def test_one_class_with_positive_weight_raises(imbalanced):
    X, y = imbalanced
    with pytest.raises(ValueError, match="positive sample_weight"):
        LogitAdjustedClassifier(**TRAINED).fit(X, y, sample_weight=(y == 0).astype(float))


def test_wrong_number_of_features_raises(imbalanced):
    X, y = imbalanced
    clf = LogitAdjustedClassifier(**TRAINED).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


def test_predict_before_fit_raises(imbalanced):
    X, _ = imbalanced
    with pytest.raises(NotFittedError):
        LogitAdjustedClassifier().predict(X)


def test_bad_objective_and_prior_raise(imbalanced):
    X, y = imbalanced
    with pytest.raises(ValueError, match="objective"):  # checked before training
        LogitAdjustedClassifier(objective=[0.5, 0.5], **TRAINED).fit(X, y)
    with pytest.raises(ValueError, match="class_prior"):
        LogitAdjustedClassifier(class_prior=[0.5, -0.1, 0.6], **TRAINED).fit(X, y)
    with pytest.raises(ValueError, match="device"):
        LogitAdjustedClassifier(device="tpu9", **TRAINED).fit(X, y)


def test_non_finite_loss_stops_with_clear_error_and_leaves_nothing_fitted(imbalanced):
    X, y = imbalanced
    clf = LogitAdjustedClassifier(**{**TRAINED, "learning_rate_init": 1e30})
    with pytest.raises(ValueError, match=r"non-finite .* in epoch \d+"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    assert not hasattr(clf, "n_features_in_")
    # A failing refit keeps the previous fit intact.
    clf.set_params(learning_rate_init=1e-2).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match="non-finite"):
        clf.set_params(learning_rate_init=1e30).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_verbose_progress_bar_writes_to_stderr(imbalanced, capsys):
    X, y = imbalanced
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LogitAdjustedClassifier(verbose=1, **{**TRAINED, "max_iter": 5}).fit(X, y)
    err = capsys.readouterr().err
    assert "epoch" in err


# --------------------------------------------------------------------- CUDA
@pytest.mark.cuda
def test_cuda_fit_pickles_and_predicts(imbalanced):
    X, y = imbalanced
    clf = LogitAdjustedClassifier(device="cuda", **TRAINED).fit(X, y)
    assert clf.device_.startswith("cuda")
    assert next(clf.module_.parameters()).dtype == torch.float32
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X), rtol=1e-6)
    assert clf.score(X, y) > 0.6
