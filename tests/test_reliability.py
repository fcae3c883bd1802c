"""Reliability: training faults, atomic fits, determinism, inputs, portability, pickles.

Every public estimator, with tiny networks. See docs/user_guide/reliability.rst.
"""

import copy
import json
import os
import pickle
import subprocess
import sys
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping

import sk_imbalance

# The private version stamp and state format are patched to simulate pickles written
# by other versions; the encoder's stopping score is re-run to check what it restored.
from sk_imbalance import (
    InconsistentVersionWarning,
    LogitAdjustedClassifier,
    SiameseAMSoftmaxEncoder,
    _persistence,
    _version,
)
from sk_imbalance._siamese import _HeldOutRecall
from sk_imbalance.losses import FocalLoss, LogitAdjustedLoss, ShiftedScoresLoss, ZLPRLoss

from .conftest import NAMES, SMALL, assert_same_outputs, fitted_attrs, make, make_data, outputs

DATA = Path(__file__).parent / "data"
ESTIMATORS = {name: partial(make, name, SMALL) for name in NAMES}


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, **kw)


@pytest.fixture(scope="module")
def fitted():
    """One fitted estimator per name, with its data (copies are handed out)."""
    out = {}
    for name, factory in ESTIMATORS.items():
        X, y = make_data(name)
        out[name] = (_fit(factory(), X, y), X, y)
    return out


# ------------------------------------------------------------------ training faults
@pytest.mark.parametrize("name", NAMES)
def test_non_finite_loss_names_the_epoch_and_fits_nothing(name, fitted):
    X, y = make_data(name)
    boom = dict(learning_rate_init=1e30, dtype="float32", batch_size=16, max_iter=20)
    est = ESTIMATORS[name](**boom)
    with pytest.raises(ValueError, match=r"loss became non-finite .* in epoch \d+"):
        _fit(est, X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    assert fitted_attrs(est) == []
    # a failing refit keeps the previous fit
    previous, X_ref, _ = fitted[name]
    est = copy.deepcopy(previous).set_params(**boom)
    with pytest.raises(ValueError, match=r"non-finite .* in epoch \d+"):
        _fit(est, X, y)
    assert fitted_attrs(est) == fitted_attrs(previous)
    assert_same_outputs(est, previous, X_ref)


class InterruptingModule(torch.nn.Module):
    """A linear network whose ``forward`` raises KeyboardInterrupt on training call ``at``."""

    def __init__(self, n_features, n_outputs, at=5):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_outputs)
        self.at, self.calls = at, 0

    def forward(self, X):
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                raise KeyboardInterrupt
        return self.linear(X)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("refit", [False, True], ids=["fresh", "refit"])
def test_keyboard_interrupt_propagates_and_leaves_no_half_fit(name, refit, fitted):
    X, y = make_data(name)
    previous, X_ref, _ = fitted[name]
    est = copy.deepcopy(previous) if refit else ESTIMATORS[name]()
    est.set_params(module=InterruptingModule, max_iter=50, batch_size=16)
    rng_state = torch.random.get_rng_state()
    with pytest.raises(KeyboardInterrupt):
        _fit(est, X, y)
    assert torch.equal(torch.random.get_rng_state(), rng_state)
    if refit:
        assert fitted_attrs(est) == fitted_attrs(previous)
        assert_same_outputs(est, previous, X_ref)
    else:
        with pytest.raises(NotFittedError):
            check_is_fitted(est)
        assert fitted_attrs(est) == []


@pytest.mark.parametrize("name", ["LogitAdjustedClassifier", "ZLPRMultiLabelClassifier"])
def test_interrupt_inside_early_stopping_is_not_taken_for_its_stop(name, monkeypatch):
    """skorch's EarlyStopping stops training by raising KeyboardInterrupt; a real Ctrl-C
    arriving while it runs must still interrupt the fit, not end it as converged."""
    X, y = make_data(name)

    def ctrl_c(self, net, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(EarlyStopping, "on_epoch_end", ctrl_c)
    est = ESTIMATORS[name](early_stopping=True)
    with pytest.raises(KeyboardInterrupt):
        _fit(est, X, y)
    assert fitted_attrs(est) == []


def _validation_rows(est, n, stratify):
    """The rows ``fit`` held out for early stopping (the base's split, recomputed)."""
    seed = int(check_random_state(est.random_state).randint(np.iinfo(np.int32).max))
    try:
        _, valid = train_test_split(
            np.arange(n), test_size=est.validation_fraction, random_state=seed, stratify=stratify
        )
    except ValueError:
        _, valid = train_test_split(
            np.arange(n), test_size=est.validation_fraction, random_state=seed
        )
    return valid


@pytest.mark.parametrize("name", ["LogitAdjustedClassifier", "FocalClassifier", "ZLPRMultiLabelClassifier"])  # fmt: skip
def test_early_stopping_restores_the_weights_of_the_best_epoch(name):
    # Random labels: the validation loss gets worse once the network memorises them.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 10))
    multilabel = name == "ZLPRMultiLabelClassifier"
    y = (rng.random((200, 3)) < 0.5).astype(int) if multilabel else rng.integers(0, 3, 200)
    est = ESTIMATORS[name](
        hidden_layer_sizes=(128,), learning_rate_init=1e-2, weight_decay=0.0, max_iter=300,
        early_stopping=True, validation_fraction=0.3, n_iter_no_change=8, tol=0.0,
        n_members=1, learning_rate_schedule="constant",
    )  # fmt: skip
    est = _fit(est, X, y)
    curve = np.array(est.validation_loss_curve_)
    best = int(np.argmin(curve))
    assert best < len(curve) - 1 and curve[-1] > curve[best]  # it did get worse
    assert est.best_validation_loss_ == curve[best]
    # re-evaluate the validation loss of the weights the estimator ended with
    valid = _validation_rows(est, len(y), None if multilabel else y)
    if name == "LogitAdjustedClassifier":
        criterion = LogitAdjustedLoss(torch.log(torch.as_tensor(est.class_prior_)), est.tau_)
    elif name == "FocalClassifier":
        criterion = FocalLoss(torch.as_tensor(est.gamma_), torch.as_tensor(est.alpha_))
    else:  # the training loss: ZLPR of the scores shifted by tau (inside the bound)
        offset = torch.as_tensor(est.score_offset_)
        criterion = ShiftedScoresLoss(ZLPRLoss(), offset, est.score_bound_)
    with torch.no_grad():
        out = est.module_(torch.as_tensor(X[valid]))
        target = torch.as_tensor(y[valid], dtype=out.dtype if multilabel else torch.long)
        loss = float(criterion(out, target))
    np.testing.assert_allclose(loss, curve[best], rtol=1e-9)
    assert loss < curve[-1]


def test_encoder_early_stopping_restores_the_best_held_out_recall():
    # Items of a group are near-duplicates of a group centre in the first two features
    # only; the other features are noise that training with a high rate latches onto.
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(40), 6)
    X = rng.standard_normal((240, 12))
    X[:, :2] = rng.standard_normal((40, 2))[y] * 3 + 0.3 * rng.standard_normal((240, 2))
    est = SiameseAMSoftmaxEncoder(
        hidden_layer_sizes=(64,), learning_rate_init=0.1, weight_decay=0.0, max_iter=60,
        n_iter_no_change=6, tol=0.0, validation_fraction=0.3, refit=False, random_state=0,
    )  # fmt: skip
    est = _fit(est, X, y)
    scores = np.array(est.validation_scores_)
    assert est.best_validation_score_ == scores.max() == scores[est.best_epoch_]
    assert scores[-1] < scores[est.best_epoch_]  # it did get worse
    held = np.isin(y, est.validation_groups_)
    with torch.no_grad():
        recall = _HeldOutRecall(X[held], y[held], np.ones(held.sum()))(est.module_)
    assert recall == est.best_validation_score_


# ------------------------------------------------------- inputs, idempotence, seeds
class InPlaceScaling(torch.nn.Module):
    """A user's network that standardises its input in place (legal PyTorch)."""

    def __init__(self, n_features, n_outputs):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_outputs)

    def forward(self, X):
        return self.linear(X.sub_(1.0).mul_(0.5))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("module", [None, InPlaceScaling], ids=["ours", "in-place module"])
def test_inputs_are_never_modified(name, module):
    X, y = make_data(name)
    X = np.ascontiguousarray(X, dtype=np.float32)  # what torch.as_tensor shares, zero-copy
    sw = np.linspace(0.5, 2.0, len(X))
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    for X_in in (X, frame):
        saved = copy.deepcopy((X_in, y, sw))
        est = _fit(ESTIMATORS[name](module=module, batch_size=500), X_in, y, sample_weight=sw)
        outputs(est, X_in)
        if isinstance(X_in, pd.DataFrame):
            pd.testing.assert_frame_equal(X_in, saved[0])
        else:
            np.testing.assert_array_equal(X_in, saved[0])
        np.testing.assert_array_equal(y, saved[1])
        np.testing.assert_array_equal(sw, saved[2])


def test_an_in_place_module_trains_on_the_data_given():
    """Each epoch sees the original rows, not those its previous epoch overwrote."""
    X, y = make_data("LogitAdjustedClassifier")
    # one batch: views of the stored data; the module sees the features themselves
    kw = dict(batch_size=500, max_iter=8, feature_encoding=None)
    ours = _fit(LogitAdjustedClassifier(**{**SMALL, **kw}, module=InPlaceScaling), X, y)
    Xs = (X - 1.0) * 0.5

    class Plain(InPlaceScaling):
        def forward(self, X):
            return self.linear(X)

    plain = _fit(LogitAdjustedClassifier(**{**SMALL, **kw}, module=Plain), Xs, y)
    np.testing.assert_allclose(ours.loss_curve_, plain.loss_curve_, rtol=1e-12)


def _assert_equal_attr(a, b, key):
    if key == "module_":
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        assert all(torch.equal(sa[k], sb[k]) for k in sa), key
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), key
        for k in a:
            _assert_equal_attr(a[k], b[k], key)
    elif isinstance(a, np.ndarray | list | tuple):
        np.testing.assert_array_equal(a, b, err_msg=key)
    else:
        assert a == b, key


@pytest.mark.parametrize("name", NAMES)
def test_fit_is_idempotent_and_a_refit_keeps_no_stale_attribute(name):
    X, y = make_data(name)
    est = ESTIMATORS[name](early_stopping=True, batch_size=32)
    _fit(est, X, y)
    first = {k: copy.deepcopy(getattr(est, k)) for k in fitted_attrs(est)}
    before = outputs(est, X)
    _fit(est, X, y)
    assert fitted_attrs(est) == sorted(first)
    for key, value in first.items():
        _assert_equal_attr(value, getattr(est, key), key)
    for a, b in zip(before, outputs(est, X), strict=True):
        np.testing.assert_array_equal(a, b)
    # a refit on other data, without early stopping and on a frame: nothing stale
    if hasattr(est, "fit_prior_shift"):
        est.fit_prior_shift(X)
    X2, y2 = make_data(name, n=80, d=3, seed=1)
    frame = pd.DataFrame(X2, columns=["a", "b", "c"])
    _fit(est.set_params(early_stopping=False), frame, y2)
    fresh = _fit(clone(est), frame, y2)
    assert fitted_attrs(est) == fitted_attrs(fresh)
    assert_same_outputs(est, fresh, frame)
    _fit(est, X2, y2)  # and back to an array: the feature names go
    assert not hasattr(est, "feature_names_in_")


@pytest.mark.parametrize("name", NAMES)
def test_same_random_state_gives_bit_identical_predictions(name):
    X, y = make_data(name)
    kw = dict(batch_size=16, early_stopping=True, dropout=0.2)  # shuffling, split, dropout
    a = _fit(ESTIMATORS[name](**kw), X, y)
    np_state = np.random.get_state()  # noqa: NPY002
    with torch.random.fork_rng():
        torch.manual_seed(1234)  # the global RNGs do not matter
        np.random.seed(4321)  # noqa: NPY002
        state = torch.random.get_rng_state()
        b = _fit(ESTIMATORS[name](**kw), X, y)
        assert torch.equal(torch.random.get_rng_state(), state)  # and are not touched
        assert np.random.randint(1 << 30) == np.random.RandomState(4321).randint(1 << 30)  # noqa: NPY002
    np.random.set_state(np_state)  # noqa: NPY002
    assert_same_outputs(a, b, X)
    c = _fit(ESTIMATORS[name](**{**kw, "random_state": 1}), X, y)
    # the seed matters (the weights: an encoder refitted for 0 epochs has no loss curve)
    pa, pc = a.module_.state_dict(), c.module_.state_dict()
    assert not all(torch.equal(pa[k], pc[k]) for k in pa)


@pytest.mark.parametrize("name", NAMES)
def test_only_the_ratios_of_sample_weights_matter(name):
    """Weights whose sum overflows (or that are tiny) train the same model as equal ones."""
    X, y = make_data(name)
    plain = _fit(ESTIMATORS[name](), X, y)
    for scale in (1e308, 1e-300):
        weighted = _fit(ESTIMATORS[name](), X, y, sample_weight=np.full(len(y), scale))
        # equal up to the rounding of normalising the weights to mean 1
        np.testing.assert_allclose(weighted.loss_curve_, plain.loss_curve_, rtol=1e-12)
        for a, b in zip(outputs(weighted, X), outputs(plain, X), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------- portability
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("early_stopping", [False, True], ids=["plain", "early-stopped"])
def test_a_cuda_fitted_model_loads_and_predicts_on_a_cpu_machine(name, early_stopping):
    """A pickle holds the network on the CPU whatever device it was fitted on (the
    real GPU round trip is the cuda test below); one whose device is missing where it
    is loaded says so and lands on the CPU."""
    if torch.cuda.is_available():
        pytest.skip("simulates a CPU-only machine (the real round trip is the cuda test)")
    X, y = make_data(name)
    est = _fit(make(name, early_stopping=early_stopping), X, y)
    claimed = copy.deepcopy(est)
    claimed.device_ = "cuda:0"  # as fitted on a GPU
    blob = pickle.dumps(claimed)
    assert all(t.device.type == "cpu" for t in claimed.module_.state_dict().values())
    with pytest.warns(UserWarning, match="fitted on cuda:0, which is not available"):
        restored = pickle.loads(blob)
    assert restored.device_ == "cpu"
    assert_same_outputs(restored, est, X)
    # and it can be refitted there (device="auto" resolves to the CPU)
    _fit(restored, X, y)
    assert restored.device_ == "cpu"


@pytest.mark.cuda
@pytest.mark.parametrize("name", NAMES)
def test_cuda_fitted_model_loads_in_a_process_without_gpu(name, tmp_path):
    X, y = make_data(name)
    est = _fit(ESTIMATORS[name](device="cuda", early_stopping=True), X, y)
    assert est.device_.startswith("cuda")
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(est))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", outputs(est, X)[-1])
    script = (
        "import pickle, sys, warnings, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        "warnings.simplefilter('ignore')\n"
        f"est = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        "out = est.transform(X) if hasattr(est, 'transform') else est.decision_function(X)\n"
        f"np.testing.assert_allclose(out, np.load({str(tmp_path / 'expected.npy')!r}), rtol=1e-4, atol=1e-5)\n"
        "print(est.device_)\n"
    )  # fmt: skip
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # a process that sees no GPU
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "cpu"


# -------------------------------------------------------------------------- pickles
def test_previous_release_pickle_loads_and_predicts_identically():
    """tests/data/: a LogitAdjustedClassifier pickled by the release before pickles
    recorded their version (see make_previous_release_pickle.py)."""
    meta = json.loads((DATA / "logit_adjusted_previous_release.json").read_text())
    expected = np.load(DATA / "logit_adjusted_previous_release.npz", allow_pickle=False)
    with pytest.warns(InconsistentVersionWarning, match="did not record") as record:
        est = pickle.loads((DATA / "logit_adjusted_previous_release.pkl").read_bytes())
    assert sk_imbalance.__version__ in str(record[0].message)
    assert isinstance(est, LogitAdjustedClassifier) and est.device_ == "cpu"
    X = expected["X"]
    np.testing.assert_array_equal(est.predict(X), expected["predict"])
    np.testing.assert_allclose(est.predict_proba(X), expected["predict_proba"], rtol=1e-10)
    assert list(est.classes_) == meta["classes"]
    # re-pickled by this version: stamped, and loads silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))


@pytest.mark.parametrize("name", NAMES)
def test_pickle_of_another_version_warns_naming_both(name, fitted, monkeypatch):
    est, X, _ = fitted[name]
    with monkeypatch.context() as m:
        m.setattr(_version, "__version__", "0.0.1")
        blob = pickle.dumps(est)
    with pytest.warns(InconsistentVersionWarning) as record:
        restored = pickle.loads(blob)
    message = str(record[0].message)
    assert "0.0.1" in message and sk_imbalance.__version__ in message and name in message
    assert record[0].message.original_version == "0.0.1"
    assert_same_outputs(restored, est, X)
    with warnings.catch_warnings():  # the same version: silent
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(est))
        pickle.loads(pickle.dumps(clone(est)))


@pytest.mark.parametrize("name", NAMES)
def test_pickle_of_an_unreadable_state_format_fails_clearly(name, fitted, monkeypatch):
    est, _, _ = fitted[name]
    with monkeypatch.context() as m:
        m.setattr(_version, "__version__", "9.0.0")
        m.setattr(_persistence, "_STATE_FORMAT", 99)
        blob = pickle.dumps(est)
    pattern = (
        rf"pickled with sk_imbalance 9\.0\.0 in state format 99.*"
        rf"sk_imbalance {sk_imbalance.__version__} reads state format 1.*refit"
    )
    with pytest.raises(ValueError, match=pattern):
        pickle.loads(blob)
