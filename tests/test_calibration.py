"""sk_imbalance.calibration: temperature scaling, BCTS, vector scaling and ECE."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import log_softmax, logsumexp, softmax

from sk_imbalance.calibration import (
    LogitCalibration,
    apply_calibration,
    expected_calibration_error,
    fit_calibration,
    reliability_curve,
)
from sk_imbalance.prior_shift import estimate_deployment_prior


def _sample_labels(logits, rng):
    """One label per row drawn from softmax(logits) (Gumbel-max)."""
    return np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)


@pytest.fixture(scope="module")
def true_logits():
    rng = np.random.default_rng(0)
    Z = rng.normal(scale=2.0, size=(5000, 4))
    return Z, _sample_labels(Z, rng)


# -- hand-checked values -------------------------------------------------------------


def test_temperature_hand_checked_two_class_values():
    # Three samples with logits (0, 1), labels 1, 1, 0: the fitted sigmoid(1 / T) is the
    # mean target of class 1: 2/3 with one-hot targets; with Platt's targets
    # (n_1 = 2: 3/4 on class 1; n_0 = 1: 1/3 on class 1) it is (3/4 + 3/4 + 1/3) / 3.
    Z, y = np.array([[0.0, 1.0]] * 3), np.array([1, 1, 0])
    exact = fit_calibration(Z, y, method="temperature", ridge=0)
    assert exact.temperature == pytest.approx(1 / np.log(2), rel=1e-6)
    assert exact.nll == pytest.approx(-(2 * np.log(2 / 3) + np.log(1 / 3)) / 3, rel=1e-9)
    assert exact.nll_before == pytest.approx(
        -(2 * np.log(softmax([0, 1])[1]) + np.log(softmax([0, 1])[0])) / 3
    )
    platt = fit_calibration(Z, y, method="temperature", smoothing="platt", ridge=0)
    t1 = (0.75 + 0.75 + 1 / 3) / 3
    assert platt.temperature == pytest.approx(1 / np.log(t1 / (1 - t1)), rel=1e-6)
    # Labels that contradict the logits half the time: no information, T = infinity.
    flat = fit_calibration(np.array([[0.0, 1.0]] * 2), [0, 1], method="temperature", ridge=0)
    assert flat.scale[0] == pytest.approx(0.0, abs=1e-8) and flat.temperature > 1e6

    # The ridge (a prior worth one sample at 1/T = 1) moves 1/T from log 2 towards 1:
    # the optimum of the penalised objective, solved here by bisection on its gradient.
    def grad(beta):  # d/d(beta) of mean NLL + (1 / (2 * 3)) * (beta - 1)^2
        p1 = 1 / (1 + np.exp(-beta))
        return -(2 * (1 - p1) - p1) / 3 + (beta - 1) / 3

    lo, hi = 0.0, 2.0
    for _ in range(60):
        lo, hi = (lo, (lo + hi) / 2) if grad((lo + hi) / 2) > 0 else ((lo + hi) / 2, hi)
    ridged = fit_calibration(Z, y, method="temperature", ridge=1.0)
    assert 1 / ridged.temperature == pytest.approx(lo, rel=1e-6)
    assert np.log(2) < lo < 1.0


def test_bcts_bias_is_log_frequency_when_logits_carry_nothing():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    cal = fit_calibration(np.zeros((100, 3)), y, method="bcts", ridge=0)
    log_freq = np.log([0.5, 0.3, 0.2])
    np.testing.assert_allclose(cal.bias, log_freq - log_freq.mean(), atol=1e-6)
    assert cal.bias.sum() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(cal.predict_proba(np.zeros((1, 3)))[0], [0.5, 0.3, 0.2], atol=1e-6)


def test_apply_calibration_is_the_affine_map():
    cal = LogitCalibration(
        "vector",
        scale=np.array([1.0, 2.0, 0.5]),
        bias=np.array([0.0, -1.0, 1.0]),
        nll=0.0,
        nll_before=0.0,
        n_iter=0,
    )
    np.testing.assert_allclose(apply_calibration([[1.0, 1.0, 2.0]], cal), [[1.0, 1.0, 2.0]])
    np.testing.assert_allclose(cal.predict_proba([[1.0, 1.0, 2.0]]), [softmax([1.0, 1.0, 2.0])])
    assert cal.temperature is None
    with pytest.raises(ValueError, match="fitted on 3 classes"):
        apply_calibration(np.zeros((2, 4)), cal)
    with pytest.raises(TypeError, match="LogitCalibration"):
        apply_calibration(np.zeros((2, 3)), (1.0, 0.0))


def test_ece_hand_checked_values():
    y_prob = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    y = np.array([0, 1, 1, 1])
    # Top label, 5 bins: (0.4, 0.6] holds 0.6 (wrong), (0.6, 0.8] 0.8 and 0.7 (right),
    # (0.8, 1] 0.9 (right).
    assert expected_calibration_error(y, y_prob, n_bins=5) == pytest.approx(
        0.25 * 0.6 + 0.5 * 0.25 + 0.25 * 0.1
    )
    # Weights: the wrong sample counts 3 times.
    w = np.array([1.0, 1.0, 1.0, 3.0])
    assert expected_calibration_error(y, y_prob, n_bins=5, sample_weight=w) == pytest.approx(
        (3 * 0.6 + 2 * 0.25 + 1 * 0.1) / 6
    )
    # One bin: |mean confidence - accuracy| = |0.75 - 0.75|.
    assert expected_calibration_error(y, y_prob, n_bins=1) == pytest.approx(0.0)
    # Classwise: class 1's p in bins (0, .2], (.2, .4], (.6, .8] with frequencies 0, 1, 1
    # against confidences 0.1, 0.4, 0.75; class 0 is its mirror image: the same sum.
    class1 = 0.25 * 0.1 + 0.25 * 0.6 + 0.5 * 0.25
    assert expected_calibration_error(
        y, y_prob, n_bins=5, multi_class="classwise"
    ) == pytest.approx(class1)
    # A 1-D input is the probability of the second label; labels by name.
    assert expected_calibration_error(
        np.array(["a", "b", "b", "b"]), y_prob[:, 1], n_bins=5
    ) == pytest.approx(0.3)
    conf, acc, share = reliability_curve(y, y_prob, n_bins=5)
    np.testing.assert_allclose(conf, [0.6, 0.75, 0.9])
    np.testing.assert_allclose(acc, [0.0, 1.0, 1.0])
    np.testing.assert_allclose(share, [0.25, 0.5, 0.25])
    conf_q, _, share_q = reliability_curve(y, y_prob, n_bins=2, strategy="quantile")
    np.testing.assert_allclose(share_q, [0.5, 0.5])
    np.testing.assert_allclose(conf_q, [0.65, 0.85])


def test_ece_of_calibrated_probabilities_is_small(true_logits):
    Z, y = true_logits
    assert expected_calibration_error(y, softmax(Z, axis=1)) < 0.02
    assert expected_calibration_error(y, softmax(3 * Z, axis=1)) > 0.1


# -- the reference: Alexandari et al.'s code ----------------------------------------------


def _reference_bcts(preacts, labels):
    """BCTS as abstention.calibration.do_tempscale_optimization(bias_positions='all'):
    mean NLL of softmax(preacts / T + b), L-BFGS-B from T = 1, b = 0, T >= 0, tol 1e-7."""
    onehot = np.eye(preacts.shape[1])[labels]

    def eval_func(x):
        t, bs = x[0], x[1:]
        tsb = preacts / t + bs[None, :]
        lse = logsumexp(tsb, axis=1)
        p = np.exp(tsb - lse[:, None])
        nll = -np.mean(np.sum(tsb * onehot, axis=1) - lse)
        grad_t = -np.mean((np.sum(preacts * p, axis=1) - np.sum(preacts * onehot, axis=1)) / t**2)
        grad_b = -np.mean(onehot - p, axis=0)
        return nll, np.concatenate([[grad_t], grad_b])

    K = preacts.shape[1]
    res = minimize(
        eval_func,
        np.array([1.0] + [0.0] * K),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0, None)] + [(None, None)] * K,
        tol=1e-7,
    )
    assert res.success
    return res.x[0], res.x[1:]


def test_bcts_matches_the_reference_code(true_logits):
    Z, y = true_logits
    miscalibrated = 2.5 * Z + np.array([1.0, 0.0, -0.5, 0.3])
    t_ref, b_ref = _reference_bcts(miscalibrated, y)
    cal = fit_calibration(miscalibrated, y, method="bcts", ridge=0)
    # The same optimum (the reference stops at its tol=1e-7, a little before it) ...
    assert cal.temperature == pytest.approx(t_ref, rel=1e-3)
    np.testing.assert_allclose(cal.bias, b_ref - b_ref.mean(), atol=1e-3)
    np.testing.assert_allclose(
        cal.predict_proba(miscalibrated),
        softmax(miscalibrated / t_ref + b_ref, axis=1),
        atol=1e-4,
    )
    # ... and ours is at least as low.
    ref_nll = -np.mean(log_softmax(miscalibrated / t_ref + b_ref, axis=1)[np.arange(len(y)), y])
    assert cal.nll <= ref_nll + 1e-12
    # The default ridge (one sample's worth) and Platt's targets move it by O(1 / n).
    for kwargs in ({}, {"smoothing": "platt", "ridge": 0}):
        other = fit_calibration(miscalibrated, y, method="bcts", **kwargs)
        assert other.temperature == pytest.approx(t_ref, rel=0.01)
        np.testing.assert_allclose(other.bias, b_ref - b_ref.mean(), atol=0.01)


# -- recovery and invariances ----------------------------------------------------------


@pytest.mark.parametrize("T", [0.5, 2.5])
def test_temperature_recovers_a_known_temperature(true_logits, T):
    Z, y = true_logits
    cal = fit_calibration(T * Z, y, method="temperature")
    assert cal.temperature == pytest.approx(T, rel=0.05)
    assert cal.nll < cal.nll_before
    # The calibrated probabilities are close to the true ones, and the argmax stays.
    calibrated = cal.predict_proba(T * Z)
    assert np.abs(calibrated - softmax(Z, axis=1)).max() < 0.05
    np.testing.assert_array_equal(calibrated.argmax(1), Z.argmax(1))
    assert expected_calibration_error(y, calibrated) < 0.02


def test_bcts_and_vector_scaling_recover_scale_and_bias(true_logits):
    Z, y = true_logits
    # On the true logits: the identity, up to sampling noise.
    ref = fit_calibration(Z, y, method="bcts", ridge=0)
    assert ref.temperature == pytest.approx(1.0, rel=0.05) and np.abs(ref.bias).max() < 0.1
    # Scaled and shifted logits: the fit undoes exactly that (the same optimum, mapped).
    c = np.array([1.0, 0.0, -0.5, 0.3])
    bcts = fit_calibration(2.0 * Z + c, y, method="bcts", ridge=0)
    assert bcts.temperature == pytest.approx(2.0 * ref.temperature, rel=1e-5)
    expected = ref.bias - ref.scale * c / 2.0
    np.testing.assert_allclose(bcts.bias, expected - expected.mean(), atol=1e-5)
    w = np.array([2.0, 1.0, 0.5, 1.5])
    ref_vec = fit_calibration(Z, y, method="vector", ridge=0)
    vec = fit_calibration(Z * w + c, y, method="vector", ridge=0)
    np.testing.assert_allclose(vec.scale, ref_vec.scale / w, rtol=1e-4)
    expected = ref_vec.bias - ref_vec.scale * c / w
    np.testing.assert_allclose(vec.bias, expected - expected.mean(), atol=1e-4)
    assert np.abs(vec.predict_proba(Z * w + c) - softmax(Z, axis=1)).max() < 0.1
    # Temperature scaling alone cannot remove the bias.
    temp = fit_calibration(2.0 * Z + c, y, method="temperature", ridge=0)
    assert bcts.nll < temp.nll - 0.005


def test_invariances(true_logits):
    Z, y = true_logits
    Z = 1.7 * Z[:2000]
    y = y[:2000]
    for method in ("temperature", "bcts"):
        a = fit_calibration(Z, y, method=method)
        # Log-probabilities (a per-row shift of the logits) give the same map.
        b = fit_calibration(log_softmax(Z, axis=1) + 5.0, y, method=method)
        np.testing.assert_allclose(a.scale, b.scale, rtol=1e-5)
        np.testing.assert_allclose(a.bias, b.bias, atol=1e-5)
        # Rescaling the logits rescales the maximum-likelihood temperature.
        ml = fit_calibration(Z, y, method=method, ridge=0)
        c = fit_calibration(10.0 * Z, y, method=method, ridge=0)
        assert c.temperature == pytest.approx(10.0 * ml.temperature, rel=1e-5)
    # Temperature scaling never changes a row's argmax (nor its ranking).
    cal = fit_calibration(Z, y, method="temperature")
    np.testing.assert_array_equal(np.argsort(cal.transform(Z), axis=1), np.argsort(Z, axis=1))


def test_sample_weight_semantics(true_logits):
    Z, y = true_logits
    Z, y = 2.0 * Z[:600], y[:600]
    rng = np.random.default_rng(1)
    w = rng.integers(0, 4, size=600)
    keep = w > 0
    # Integer weights are repetitions, zero weight is removal: for every target and
    # penalty setting.
    for kwargs in ({}, {"ridge": 0}, {"smoothing": "platt", "ridge": 0}):
        repeated = fit_calibration(np.repeat(Z, w, axis=0), np.repeat(y, w), **kwargs)
        weighted = fit_calibration(Z, y, sample_weight=w, **kwargs)
        removed = fit_calibration(Z[keep], y[keep], sample_weight=w[keep], **kwargs)
        for other in (weighted, removed):
            np.testing.assert_allclose(other.scale, repeated.scale, rtol=1e-5)
            np.testing.assert_allclose(other.bias, repeated.bias, atol=1e-5)
    # Without a penalty or pseudo-counts, a common factor of the weights changes nothing.
    ml = fit_calibration(Z, y, sample_weight=w, ridge=0)
    scaled = fit_calibration(Z, y, sample_weight=0.1 * w, ridge=0)
    np.testing.assert_allclose(scaled.scale, ml.scale, rtol=1e-5)
    np.testing.assert_allclose(scaled.bias, ml.bias, atol=1e-5)


# -- robustness and errors ------------------------------------------------------------


def test_separable_data_tiny_sets_and_missing_classes():
    Z = 5.0 * np.eye(3)[np.arange(30) % 3]
    y = np.arange(30) % 3
    for method in ("temperature", "bcts", "vector"):
        for kwargs in ({}, {"smoothing": "platt", "ridge": 0}):  # both keep it finite
            cal = fit_calibration(Z, y, method=method, **kwargs)
            assert np.isfinite(cal.scale).all() and np.isfinite(cal.bias).all()
            assert 0.9 < cal.predict_proba(Z).max() < 1.0
        # Platt's targets: the calibrated confidence is the smoothed target, 11/12.
        platt = fit_calibration(Z, y, method=method, smoothing="platt", ridge=0)
        assert platt.predict_proba(Z).max() == pytest.approx(11 / 12, abs=1e-3)
        with pytest.raises(ValueError, match="separable"):
            fit_calibration(Z, y, method=method, ridge=0)
    # One or two held-out samples.
    one = fit_calibration([[0.0, 2.0, 1.0]], [1], method="bcts")
    assert np.isfinite(one.bias).all() and one.predict_proba([[0.0, 2.0, 1.0]])[0, 1] < 0.95
    two = fit_calibration([[0.0, 2.0], [1.0, 0.0]], [1, 0], method="temperature")
    assert 0 < two.temperature < 1  # separable: sharper than given, but finite
    # A class without held-out samples keeps a finite, lower bias.
    rng = np.random.default_rng(0)
    Zm = rng.normal(size=(200, 3))
    ym = _sample_labels(Zm, rng)
    ym[ym == 2] = 0
    for kwargs in ({}, {"smoothing": "platt", "ridge": 0}):
        cal = fit_calibration(Zm, ym, method="bcts", **kwargs)
        assert np.isfinite(cal.bias).all() and cal.bias[2] < cal.bias[0] - 1.0
    with pytest.raises(ValueError, match=r"Classes \[2\] have no held-out sample"):
        fit_calibration(Zm, ym, method="bcts", ridge=0)
    # Temperature scaling has no bias: a missing class is no problem.
    assert np.isfinite(fit_calibration(Zm, ym, method="temperature", ridge=0).scale).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(logits=np.zeros(5)), r"2-D of shape \(n_samples, n_classes\)"),
        (dict(logits=np.zeros((5, 1))), "n_classes >= 2"),
        (dict(logits=np.full((5, 2), np.nan)), "NaN or infinite"),
        (dict(y=np.zeros(4)), "one entry per row of `logits` \\(5\\)"),
        (dict(y=np.array([0, 1, 2, 0, 1])), r"class indices in \[0, 1\]"),
        (dict(y=np.array([0, 1, -1, 0, 1])), r"got values in \[-1, 1\]"),
        (dict(y=np.array(list("ababa"))), "integer class indices"),
        (dict(y=np.array([0, 1, 0.5, 0, 1])), "integer class indices"),
        (dict(sample_weight=-np.ones(5)), "finite and non-negative"),
        (dict(sample_weight=np.zeros(5)), "positive weight"),
        (dict(sample_weight=np.ones(3)), "5 entries"),
        (dict(method="isotonic"), "`method` must be one of"),
        (dict(smoothing="laplace"), "`smoothing` must be 'platt' or None"),
        (dict(max_iter=0), "positive integer"),
        (dict(ridge=-1.0), "`ridge` must be a finite number >= 0"),
    ],
)
def test_fit_calibration_errors(kwargs, match):
    args = dict(logits=np.arange(10.0).reshape(5, 2), y=np.array([0, 1, 0, 1, 1]))
    args.update(kwargs)
    logits, y = args.pop("logits"), args.pop("y")
    with pytest.raises(ValueError, match=match):
        fit_calibration(logits, y, **args)


def test_ece_errors():
    P = np.array([[0.6, 0.4], [0.3, 0.7]])
    with pytest.raises(ValueError, match="pass `labels`"):
        expected_calibration_error([0, 0], P)
    # 0.6 is right and 0.7 wrong, in different bins: (0.4 + 0.7) / 2.
    assert expected_calibration_error([0, 0], P, labels=[0, 1]) == pytest.approx(0.55)
    with pytest.raises(ValueError, match=r"labels not in `labels`: \[5\]"):
        expected_calibration_error([0, 5], P, labels=[0, 1])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        expected_calibration_error([0, 1], P * 2)
    with pytest.raises(ValueError, match="one entry per row"):
        expected_calibration_error([0, 1, 1], P)
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error([0, 1], P, n_bins=0)
    with pytest.raises(ValueError, match="multi_class"):
        expected_calibration_error([0, 1], P, multi_class="marginal")


# -- what it is for: label-shift estimation ------------------------------------------------


def test_em_prior_estimate_is_better_with_calibrated_posteriors():
    """Four Gaussian classes; the logits are 3 times too confident and biased.

    BCTS fitted on held-out samples from the training distribution restores the
    posteriors, and EM's estimate of a shifted deployment prior improves; temperature
    scaling alone cannot remove the bias."""
    rng = np.random.default_rng(0)
    K = 4
    angles = 2 * np.pi * np.arange(K) / K
    means = 2.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    pi, q = np.array([0.6, 0.25, 0.1, 0.05]), np.array([0.1, 0.2, 0.3, 0.4])

    def sample(prior, n):
        y = rng.choice(K, size=n, p=prior)
        X = means[y] + rng.normal(size=(n, 2))
        true = -0.5 * ((X[:, None, :] - means[None]) ** 2).sum(-1) + np.log(pi)
        return 3.0 * true + np.array([3.0, 1.5, -1.5, -3.0]), y  # miscalibrated

    Z_held, y_held = sample(pi, 2000)
    Z_dep, y_dep = sample(q, 3000)
    truth = np.bincount(y_dep, minlength=K) / len(y_dep)

    def em_error(proba):
        return np.abs(estimate_deployment_prior(proba, pi)[0] - truth).sum()

    raw = em_error(softmax(Z_dep, axis=1))
    bcts = em_error(fit_calibration(Z_held, y_held, method="bcts").predict_proba(Z_dep))
    temp = em_error(fit_calibration(Z_held, y_held, method="temperature").predict_proba(Z_dep))
    assert bcts < 0.1 < 0.3 < raw, (bcts, raw)
    assert bcts < temp - 0.05, (bcts, temp)
