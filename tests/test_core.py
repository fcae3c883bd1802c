"""The estimator core: the table covers the package, fitted decisions, divergence, folds.

Contract tests through public behaviour: what a fit decided stays decided until the next
fit, whatever ``set_params`` does afterwards, except the parameters each estimator
documents as acting at prediction.
"""

import inspect
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator

import sk_imbalance
from sk_imbalance import (
    ConstantPredictionWarning,
    LogitAdjustedClassifier,
    LogitAdjustedClassifierCV,
    UnscaledFeaturesWarning,
)

from .conftest import (
    DEFAULTS,
    ESTIMATORS,
    EXHAUSTIVE_DEFAULTS,
    INSTANCES,
    META_ESTIMATORS,
    NAMES,
    SMALL,
    make,
    make_data,
    outputs,
)


def _public_estimators():
    return {
        name
        for name in sk_imbalance.__all__
        if inspect.isclass(obj := getattr(sk_imbalance, name)) and issubclass(obj, BaseEstimator)
    }


def test_the_estimator_table_covers_every_public_estimator():
    public = _public_estimators()
    assert public == set(ESTIMATORS) | set(META_ESTIMATORS)
    assert public == {type(e).__name__ for e in INSTANCES}
    # the defaults batteries (CI's and ``-m exhaustive``'s): every estimator, once
    defaults = [type(e).__name__ for e in DEFAULTS + EXHAUSTIVE_DEFAULTS]
    assert public == set(defaults) and len(defaults) == len(public)


# ---------------------------------------------------------- fitted decisions stay put
#: Parameters documented to act at prediction (everything else shaped training).
PREDICTION_TIME = {
    "LogitAdjustedClassifier": {"objective"},  # and ``tau`` after adjustment="post_hoc"
    "LogitAdjustedClassifierCV": {"objective"},
    "FocalClassifier": set(),
    "ZLPRMultiLabelClassifier": {"threshold"},
    "SiameseAMSoftmaxEncoder": set(),
}


def _linear(n_features, n_outputs):
    return torch.nn.Linear(n_features, n_outputs)


#: Another valid value of every parameter (the current one is replaced by it).
OTHER = {
    "adjustment": lambda v: "post_hoc" if v != "post_hoc" else "loss",
    "tau": lambda v: 0.75 if v == "auto" else v + 1.5,
    "class_prior": lambda v: [0.2, 0.3, 0.5],
    "class_weight": lambda v: "balanced",
    "objective": lambda v: "accuracy",
    "taus": lambda v: [0.0, 3.0],
    "cv": lambda v: 3,
    "scoring": lambda v: "accuracy",
    "tau_selection": lambda v: "best" if v != "best" else "one_se",
    "calibration": lambda v: "bcts" if v is None else None,
    "loss": lambda v: {"focal": "ghm", "zlpr": "bce"}.get(v, "focal"),
    "gamma": lambda v: 0.5,
    "focus": lambda v: "all" if v != "all" else "frequent",
    "alpha": lambda v: None if v is not None else "balanced",
    "margin": lambda v: 0.6 if v != 0.6 else 0.1,
    "sharpness": lambda v: 5.0,
    "bins": lambda v: 3,
    "momentum": lambda v: 0.1,
    "label_smoothing": lambda v: 0.2,
    "threshold": lambda v: v + 0.5,
    "pos_weight": lambda v: "balanced",
    "score_bound": lambda v: 0.5,
    "embedding_dim": lambda v: 2,
    "scale": lambda v: 5.0,
    "encoder": lambda v: "gru",
    "start": lambda v: "identity" if v != "identity" else "auto",
    "refit": lambda v: not v,
    "n_members": lambda v: 3 if v != 3 else 1,
    "learning_rate_schedule": lambda v: "constant" if v != "constant" else "warmup_cosine",
    "hidden_layer_sizes": lambda v: (3,),
    "feature_encoding": lambda v: "piecewise_linear" if v != "piecewise_linear" else None,
    "n_bins": lambda v: v + 3,
    "activation": lambda v: "tanh",
    "dropout": lambda v: 0.5,
    "learning_rate_init": lambda v: 0.5,
    "weight_decay": lambda v: 0.7,
    "batch_size": lambda v: 7,
    "max_iter": lambda v: 1,
    "early_stopping": lambda v: not v,
    "validation_fraction": lambda v: 0.5,
    "n_iter_no_change": lambda v: 1,
    "tol": lambda v: 10.0,
    "module": lambda v: _linear,
    "device": lambda v: "cpu:0" if v != "cpu:0" else "auto",
    "dtype": lambda v: "float32",
    "random_state": lambda v: 7,
    "verbose": lambda v: 1,
}


@pytest.mark.parametrize(
    "name,fit_params",
    [(n, {}) for n in NAMES]
    + [
        ("LogitAdjustedClassifier", {"adjustment": a})
        for a in ("post_hoc", "bias_init", "none", "vs", "ldam_drw")
    ]
    + [("LogitAdjustedClassifier", {"n_members": 1})]
    + [("FocalClassifier", {"loss": "ghm"}), ("ZLPRMultiLabelClassifier", {"loss": "bce"})]
    + [("LogitAdjustedClassifier", {"calibration": "bcts", "n_members": 1})]
    + [("LogitAdjustedClassifierCV", {"calibration": "temperature", "n_members": 1})],
    ids=str,
)
def test_a_parameter_changed_after_fit_never_changes_predictions_silently(name, fit_params):
    """Every training-shaping parameter, changed after ``fit``, leaves every output as it
    was (it acts at the next ``fit``); e.g. ``fit(adjustment="loss")`` then
    ``set_params(adjustment="post_hoc")`` does not subtract the prior a second time."""
    X, y = make_data(name)
    est = make(name, SMALL, **fit_params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    reference = outputs(est, X)
    params = est.get_params(deep=False)
    prediction_time = set(PREDICTION_TIME[name])
    if est.get_params().get("adjustment") == "post_hoc" and name == "LogitAdjustedClassifier":
        prediction_time.add("tau")  # documented: the post-hoc rule reads the current tau
    assert set(params) <= set(OTHER) | prediction_time, "a parameter without a test value"
    for key in sorted(set(params) - prediction_time):
        est.set_params(**{key: OTHER[key](params[key])})
        for a, b in zip(outputs(est, X), reference, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{key} changed the predictions")
        est.set_params(**{key: params[key]})


def test_post_hoc_tau_and_objective_do_act_at_prediction():
    X, y = make_data("LogitAdjustedClassifier")
    est = make("LogitAdjustedClassifier", SMALL, adjustment="post_hoc").fit(X, y)
    log_pi = np.log(est.class_prior_)
    before = est.decision_function(X)
    est.set_params(tau=3.0)
    np.testing.assert_allclose(est.decision_function(X), before - 2.0 * log_pi, rtol=1e-12)
    est.set_params(objective="accuracy")  # back to the training prior: the raw scores,
    with torch.no_grad():  # the mean of the members' log-probabilities
        raw = torch.log_softmax(est.module_(torch.as_tensor(X)), dim=-1).mean(dim=1).numpy()
    assert est.n_members == 8
    np.testing.assert_allclose(est.decision_function(X), raw, rtol=1e-12, atol=1e-12)


def test_the_adjusted_loss_records_its_decisions():
    X, y = make_data("LogitAdjustedClassifier")
    est = make("LogitAdjustedClassifier", SMALL, tau=1.5).fit(X, y)
    assert est.adjustment_ == "loss" and est.tau_ == 1.5
    cv = make("LogitAdjustedClassifierCV", SMALL, adjustment="loss").fit(X, y)
    assert cv.adjustment_ == "loss" and cv.tau_ in (0.5, 1.0)


@pytest.mark.parametrize("objective", ["sideways", [0.5, 0.5], [0.2, -0.1, 0.9]])
def test_objective_is_validated_at_fit_before_training(objective):
    X, y = make_data("LogitAdjustedClassifier")
    built = []

    def network(n_features, n_outputs):
        built.append(1)
        return torch.nn.Linear(n_features, n_outputs)

    est = make("LogitAdjustedClassifier", SMALL, objective=objective, module=network)
    with pytest.raises(ValueError, match="objective"):
        est.fit(X, y)
    assert built == []  # no network was trained
    # and set after a fit, it fails at the next prediction with the same message
    est.set_params(objective="balanced").fit(X, y)
    est.set_params(objective=objective)
    with pytest.raises(ValueError, match="objective"):
        est.predict(X)


# ------------------------------------------------------------------------- divergence
def _diverging_data(name):
    X, y = make_data(name, n=60, d=4)
    return X * 1e6, y


def test_the_diverging_fit_of_the_issue_raises_and_fits_nothing():
    """``learning_rate_init=1e12`` on features scaled by 1e6: before, the loss rose by
    hundreds of orders of magnitude and the fit returned; now that is an error (with the
    default recipe the loss overflows to NaN first), naming the remedies."""
    X, y = _diverging_data("LogitAdjustedClassifier")
    est = LogitAdjustedClassifier(learning_rate_init=1e12, max_iter=50, random_state=0)
    with pytest.raises(ValueError, match=r"Training diverged.*learning_rate_init.*scale"):
        est.fit(X, y)
    assert not hasattr(est, "module_")


@pytest.mark.parametrize("name", NAMES)
def test_every_estimator_refuses_a_diverged_fit(name):
    X, y = _diverging_data(name)
    est = make(name, SMALL, learning_rate_init=1e12, max_iter=50, hidden_layer_sizes=(100,))
    with pytest.raises(ValueError, match=r"[Tt]raining diverged|non-finite"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
    assert not hasattr(est, "module_")


def test_a_rough_but_recovering_fit_is_no_divergence():
    # a high learning rate makes the loss jump early; it settles again: no error
    X, y = make_data("LogitAdjustedClassifier")
    est = make("LogitAdjustedClassifier", SMALL, learning_rate_init=0.5, max_iter=60).fit(X, y)
    assert max(est.loss_curve_) > 2 * est.loss_curve_[-1]
    assert est.score(X, y) > 0.8


# ------------------------------------------------------------------ constant predictor
def _unscaled_frame(n=600):
    """Issue #20's frame, smaller: age (18-90), income around 2e4, a standard-normal
    score that alone decides the ~3% positives."""
    rng = np.random.default_rng(0)
    score = rng.standard_normal(n)
    X = np.column_stack([rng.uniform(18, 90, n), rng.lognormal(np.log(2e4), 0.5, n), score])
    y = (score + 0.3 * rng.standard_normal(n) > 1.9).astype(int)
    return X, y


def test_the_unscaled_example_of_the_issue_warns():
    X, y = _unscaled_frame()
    with pytest.warns(UnscaledFeaturesWarning, match=r"feature 1 has a mean absolute value"):
        LogitAdjustedClassifier(random_state=0).fit(X, y)
    # scaled, nothing warns
    from sklearn.preprocessing import StandardScaler

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnscaledFeaturesWarning)
        warnings.simplefilter("error", ConstantPredictionWarning)
        LogitAdjustedClassifier(random_state=0).fit(StandardScaler().fit_transform(X), y)


def test_a_fit_predicting_one_class_for_all_training_samples_warns():
    """The earlier single network on the unscaled frame predicts the majority for every
    row (the default ensemble does not: it reaches 0.60 balanced accuracy there)."""
    X, y = _unscaled_frame()
    single = dict(
        n_members=1,
        weight_decay=0.1,
        learning_rate_init=1e-3,
        learning_rate_schedule="constant",
        max_iter=400,
        n_iter_no_change=10,
        random_state=0,
    )
    with pytest.warns(ConstantPredictionWarning, match=r"same output for all 600.*scal"):
        est = LogitAdjustedClassifier(**single).fit(X, y)
    assert np.unique(est.predict(X)).size == 1


# --------------------------------------------------------------- CV folds, named causes
def test_a_fold_that_cannot_be_fitted_is_named_with_its_cause():
    X, _ = make_data("LogitAdjustedClassifier", n=40)
    y = np.where(np.arange(40) < 38, 0, 1)  # class 1: two samples, one in each fold
    sw = np.ones(40)
    sw[38] = 0.0  # one fold's training part then holds class 1 with zero weight only
    est = LogitAdjustedClassifierCV(cv=2, taus=[1.0], **SMALL)
    # the full data have two weighted classes: only a fold fails, and says which and why
    with pytest.raises(
        ValueError,
        match=r"Cross-validation fold [12] of 2 could not be fitted: LogitAdjustedClassifier "
        r"needs at least 2 classes with positive sample_weight",
    ) as info:
        est.fit(X, y, sample_weight=sw)
    assert isinstance(info.value.__cause__, ValueError)
    assert not hasattr(est, "module_")


# --------------------------------------------------------------- array views (#20)
def _layouts(X):
    """``X`` as views and layouts NumPy allows (each equal to ``X`` element-wise)."""
    return {
        "X[::-1] reversed back": np.ascontiguousarray(X[::-1])[::-1],
        "X[:, ::-1] reversed back": np.ascontiguousarray(X[:, ::-1])[:, ::-1],
        "np.flip flipped back": np.flip(np.ascontiguousarray(np.flip(X))),
        "Fortran order": np.asfortranarray(X),
        "big-endian float64": X.astype(">f8"),
        "big-endian float32": X.astype(">f4"),
        "every other row": np.repeat(X, 2, axis=0)[::2],
    }


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_prediction_on_any_view_equals_prediction_on_its_contiguous_copy(name, dtype):
    X, y = make_data(name)
    est = make(name, SMALL, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    for layout, view in _layouts(X).items():
        contiguous = np.ascontiguousarray(view, dtype=view.dtype.newbyteorder("="))
        for a, b in zip(outputs(est, view), outputs(est, contiguous), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=layout)
    # the views users pass directly: X[::-1], X[:, ::-1] and np.flip(X)
    for view in (X[::-1], X[:, ::-1], np.flip(X)):
        for a, b in zip(outputs(est, view), outputs(est, np.ascontiguousarray(view)), strict=True):
            np.testing.assert_array_equal(a, b)
    if hasattr(est, "fit_prior_shift"):  # and the prior-shift estimate reads them too
        prior = est.fit_prior_shift(X[::-1]).deployment_prior_
        np.testing.assert_array_equal(
            prior, est.fit_prior_shift(np.ascontiguousarray(X[::-1])).deployment_prior_
        )
    score = est.score(X[::-1], y[::-1])
    assert score == est.score(np.ascontiguousarray(X[::-1]), np.ascontiguousarray(y[::-1]))
