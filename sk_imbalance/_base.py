"""The facade: the base estimators, the only place that knows the scikit-learn contract.

``fit`` is written once, here: validate the input, encode the targets (a hook per
estimator), check the sample weights, let the estimator state its training problem
(criterion, outputs, weights, fitted decisions: a hook), build the training
specification, train through the engine (``_engine``, the only skorch importer) and
set the fitted attributes atomically. Prediction goes through one decision rule per
estimator, computed once per call and applied to every chunk of network outputs.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from . import _engine
from ._compat import _fit_context
from ._docs import AUTO_STEPS, SHARED_CONSTRAINTS, fill_shared_doc
from ._persistence import InconsistentVersionWarning, dump_state, load_state, place_network
from ._validation import check_labels, check_weights, torch_ready, validate_predict_input
from .losses import MemberMean
from .networks import (
    MLP,
    Encoded,
    Ensemble,
    EnsembleMLP,
    FirstColumns,
    PiecewiseLinearEncoding,
    piecewise_linear_edges,
    set_output_bias,
)

__all__ = [
    "BaseNeuralEstimator",
    "ConstantPredictionWarning",
    "UnscaledFeaturesWarning",
    "InconsistentVersionWarning",
    "Problem",
    "Targets",
    "fill_shared_doc",
    "fit_atomically",
    "fit_encoded",
]


@dataclass
class Targets:
    """A fit's targets encoded for the criterion (what ``_encode_targets`` returns).

    ``y``: class indices or a float matrix; ``attrs``: the fitted attributes that
    describe them (``classes_``, ...); ``stratify``: labels for a stratified
    validation split, or None.
    """

    y: np.ndarray
    attrs: dict
    stratify: np.ndarray | None = None


@dataclass
class Problem:
    """What an estimator decides for one fit (what ``_problem`` returns).

    ``criterion`` returns per-sample losses of ``n_outputs`` network outputs;
    ``attrs`` are the fitted decisions to record (the prior, the adjustment, ...).
    Optional: ``sample_weight`` replacing the user's (class weights applied),
    ``output_bias`` initialising the output layer, ``rows`` / ``y`` restricting
    training to some rows with re-encoded targets, ``score_fn`` replacing the
    stopping rule (see ``_engine.TrainSpec``), ``split_validation=False`` when the
    estimator holds out its own validation data, ``max_epochs`` replacing ``max_iter``
    with a fixed number of epochs, all trained (no stopping rule; 0 keeps the initial
    module), and ``build``: inputs of ``_build_module`` that are no fitted attributes
    (a fitted starting projection).
    """

    criterion: torch.nn.Module
    n_outputs: int
    attrs: dict = field(default_factory=dict)
    sample_weight: np.ndarray | None = None
    output_bias: np.ndarray | None = None
    rows: np.ndarray | None = None
    y: np.ndarray | None = None
    score_fn: Callable | None = None
    split_validation: bool = True
    max_epochs: int | None = None
    build: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------------
# Warnings, and the classes pickles of state format 1 name here
# ----------------------------------------------------------------------------------
class ConstantPredictionWarning(ConvergenceWarning):
    """A fitted classifier predicts the same output for every one of its training samples.

    Raised by ``fit`` when the training data hold several classes (or label sets) but
    the fitted network predicts one for all of them: usually unscaled features, too
    high a learning rate or too few epochs.
    """


class UnscaledFeaturesWarning(ConvergenceWarning):
    """A network was fitted on features far from unit scale.

    Raised by ``fit`` when a feature's mean absolute value exceeds
    ``UNSCALED_FEATURE_MAGNITUDE`` (100): the networks' initialisation, learning rate
    and weight decay assume features of order 1, and such fits are usually much worse
    than the same estimator behind a ``StandardScaler``.
    """


#: Mean absolute value of a feature above which ``fit`` warns (UnscaledFeaturesWarning).
UNSCALED_FEATURE_MAGNITUDE = 100.0


def __getattr__(name):
    # Pickles of state format 1 name the engine's classes (the net, its data path and
    # callbacks) as attributes of this module.
    if name in ("_Net", "_SliceLoader", "_TensorData", "_EarlyStopping", "_silent"):
        return getattr(_engine, name)
    if name in ("_FiniteLossGuard", "_ThreadBudget", "_BestScore", "_EpochBar"):
        return getattr(_engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ----------------------------------------------------------------------------------
# fit, written once
# ----------------------------------------------------------------------------------
def fit_atomically(estimator, fit_fn):
    """Run ``fit_fn()`` (which returns attributes); on any failure, restore the state.

    A failed or interrupted fit leaves the estimator unfitted or with its previous
    fit intact, never half-fitted. Fitted attributes of an earlier fit that the new
    one does not set are removed.
    """
    state = estimator.__dict__.copy()
    try:
        attrs = fit_fn()
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(state)
        raise
    keep = {"n_features_in_", "feature_names_in_", *attrs}
    for key in [k for k in estimator.__dict__ if k.endswith("_") and not k.startswith("_")]:
        if key not in keep:
            del estimator.__dict__[key]
    estimator.__dict__.update(attrs)
    return estimator


def fit_encoded(estimator, X, targets, sample_weight, held_out=None, **decisions):
    """Train ``estimator``'s network on validated data; returns the fitted attributes.

    Sets no attribute itself. ``decisions`` reach the estimator's ``_problem`` hook
    (e.g. ``tau=`` from :class:`~sk_imbalance.LogitAdjustedClassifierCV`, which fits
    its folds and its final network through this function). ``held_out``, a dict,
    receives ``"validation_index"``: the rows of ``X`` held out for early stopping
    (never trained on), or None (used to calibrate on out-of-sample logits).
    """
    problem = estimator._problem(X, targets, sample_weight, **decisions)
    rows = problem.rows
    X_fit = X if rows is None else X[rows]
    y_fit = targets.y if problem.y is None else problem.y
    weights = sample_weight if problem.sample_weight is None else problem.sample_weight
    if rows is not None and problem.sample_weight is None:
        weights = weights[rows]
    seed = int(check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max))
    valid = None
    if estimator.early_stopping and problem.split_validation:
        stratify = targets.stratify if rows is None else None
        valid = _validation_index(X_fit.shape[0], estimator.validation_fraction, seed, stratify)
    if held_out is not None:
        held_out["validation_index"] = (
            None if valid is None else (valid if rows is None else np.asarray(rows)[valid])
        )
    n_train = X_fit.shape[0] - (0 if valid is None else len(valid))
    spec = estimator._train_spec(X_fit, problem, seed, n_train)
    n_features = X.shape[1]
    mode = getattr(estimator, "feature_encoding", None)
    encoded = mode == "piecewise_linear" or (
        mode == "mixed" and getattr(estimator, "n_members", 1) > 1
    )
    if encoded:  # bin edges of the training rows, for _build_module
        # the user's weights (not class weights): a zero weight leaves the row out, an
        # integer weight repeats it
        w_fit = sample_weight if rows is None else sample_weight[rows]
        rows_fit = X_fit if valid is None else np.delete(X_fit, valid, axis=0)
        w_fit = w_fit if valid is None else np.delete(w_fit, valid)
        edges = piecewise_linear_edges(
            torch.as_tensor(np.ascontiguousarray(rows_fit)),
            estimator.n_bins,
            torch.as_tensor(np.asarray(w_fit, dtype=np.float64)),
        )
        problem = dataclasses.replace(problem, build={**problem.build, "bin_edges": edges})

    def build():
        module = estimator._build_module(n_features, problem.n_outputs, problem)
        if problem.output_bias is not None:
            set_output_bias(module, torch.as_tensor(problem.output_bias))
        return module

    criterion = problem.criterion
    if getattr(estimator, "n_members", 1) > 1:
        criterion = MemberMean(criterion)
    data = _engine.TrainData(X_fit, y_fit, weights, validation_index=valid)
    result = _engine.train(build, criterion, data, spec)
    if not result.converged and result.n_iter == spec.max_epochs:
        warnings.warn(
            f"{type(estimator).__name__}: the maximum number of epochs (max_iter="
            f"{spec.max_epochs}) was reached and the optimisation has not converged yet.",
            ConvergenceWarning,
            stacklevel=3,
        )
    attrs = {
        **targets.attrs,
        **problem.attrs,
        **({"bin_edges_": [e.numpy() for e in edges]} if encoded else {}),
        "module_": result.module,
        "device_": spec.device,
        "dtype_": str(spec.dtype)[len("torch.") :],
        "n_iter_": result.n_iter,
        "loss_curve_": result.loss_curve,
    }
    if result.validation_loss_curve is not None:
        attrs["validation_loss_curve_"] = result.validation_loss_curve
        attrs["best_validation_loss_"] = float(min(result.validation_loss_curve))
    if result.validation_scores is not None:
        attrs["validation_scores_"] = result.validation_scores
        attrs["best_validation_score_"] = float(result.validation_scores[result.best_epoch])
        attrs["best_epoch_"] = result.best_epoch
    return attrs


def _validation_index(n_samples, fraction, seed, stratify):
    """Held-out rows for early stopping, stratified when every class allows it."""
    idx = np.arange(n_samples)
    try:
        _, valid = train_test_split(idx, test_size=fraction, random_state=seed, stratify=stratify)
    except ValueError:  # a class too small to stratify
        _, valid = train_test_split(idx, test_size=fraction, random_state=seed)
    if len(valid) == 0 or len(valid) == n_samples:
        raise ValueError(
            f"early_stopping=True needs more samples: validation_fraction={fraction} of "
            f"{n_samples} samples leaves an empty split."
        )
    return valid


class BaseNeuralEstimator(BaseEstimator):
    """Shared machinery of the package's estimators (not for direct use).

    Subclasses implement the hooks ``_encode_targets(y) -> Targets`` and
    ``_problem(X, targets, sample_weight, **decisions) -> Problem``, optionally
    ``_build_module`` and ``_check_training_predictions``, and predict through
    :meth:`_forward`.
    """

    _parameter_constraints: dict = dict(SHARED_CONSTRAINTS)
    #: ``validate_data``'s ``multi_output`` for ``y`` (2-D targets).
    _multi_output = False

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Fit the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (NumPy, pandas or anything array-like; dense only).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Targets: class labels (numbers or strings); a 0/1 label indicator matrix
            for :class:`~sk_imbalance.ZLPRMultiLabelClassifier`; the group of each
            item for :class:`~sk_imbalance.SiameseAMSoftmaxEncoder`.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights; integer weights are equivalent to
            repeating samples.
        **params : dict
            Metadata routed to the cross-validation splitter and scorer of
            :class:`~sk_imbalance.LogitAdjustedClassifierCV` (with metadata routing
            enabled); no other estimator takes any.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        routed = self._route_fit_params(sample_weight, params)
        seen = {}

        def run():
            check_labels(y)
            X_valid, y_valid = validate_data(
                self,
                X,
                y,
                multi_output=self._multi_output,
                dtype=[np.float64, np.float32],
                ensure_min_samples=2,
            )
            X_valid = torch_ready(X_valid)
            seen["X"], seen["targets"] = X_valid, self._encode_targets(y_valid)
            sw = check_weights(sample_weight, X_valid)
            return self._fit_validated(X_valid, seen["targets"], sw, routed)

        fit_atomically(self, run)
        self._check_feature_scale(seen["X"])
        self._check_training_predictions(seen["X"], seen["targets"])
        return self

    def _check_feature_scale(self, X):
        """After a fit: warn if a feature's mean magnitude is far from unit scale."""
        if X.shape[0] == 0 or X.shape[1] == 0:
            return
        magnitude = np.abs(X).mean(axis=0, dtype=np.float64)
        worst = int(np.argmax(magnitude))
        if magnitude[worst] > UNSCALED_FEATURE_MAGNITUDE:
            warnings.warn(
                f"{type(self).__name__} was fitted on features far from unit scale: "
                f"feature {worst} has a mean absolute value of {magnitude[worst]:.3g} "
                f"(above {UNSCALED_FEATURE_MAGNITUDE:g}). The network's initialisation and "
                "learning rate assume features of order 1; put a "
                "sklearn.preprocessing.StandardScaler in front, e.g. "
                f"make_pipeline(StandardScaler(), {type(self).__name__}()).",
                UnscaledFeaturesWarning,
                stacklevel=3,
            )

    # ------------------------------------------------------------------ hooks
    def _route_fit_params(self, sample_weight, params):
        if params:
            raise TypeError(
                f"{type(self).__name__}.fit got unexpected keyword arguments {sorted(params)}."
            )
        return None

    def _fit_validated(self, X, targets, sample_weight, routed):
        return fit_encoded(self, X, targets, sample_weight)

    def _check_training_predictions(self, X, targets):
        """After a fit: warn if the network predicts one output for every training row.

        Classifiers implement ``_predict_validated(X)``; the check compares the
        distinct predictions with the distinct training targets.
        """
        predict = getattr(self, "_predict_validated", None)
        if predict is None or np.unique(targets.y, axis=0).shape[0] < 2:
            return
        if np.unique(predict(X), axis=0).shape[0] == 1:
            warnings.warn(
                f"{type(self).__name__} predicts the same output for all "
                f"{X.shape[0]} training samples, which hold several classes (or label "
                "sets): the network has not learnt to separate them. Likely causes: "
                "unscaled features (put a sklearn.preprocessing.StandardScaler in front), "
                "too high a learning_rate_init, or too few epochs (max_iter).",
                ConstantPredictionWarning,
                stacklevel=3,
            )

    def _train_spec(self, X, problem, seed, n_train):
        device = _engine.resolve_device(self.device)
        n = X.shape[0]
        batch_size = min(200, n) if self.batch_size == "auto" else int(self.batch_size)
        max_epochs, patience = self.max_iter, self.n_iter_no_change
        if problem.max_epochs is not None:  # a fixed plan: every epoch trained
            max_epochs, patience = problem.max_epochs, None
        elif max_epochs == "auto":  # about AUTO_STEPS optimiser steps
            max_epochs = max(1, math.ceil(AUTO_STEPS / math.ceil(n_train / batch_size)))
        weight_decay = np.asarray(self.weight_decay, dtype=np.float64)
        if weight_decay.ndim > 1 or weight_decay.size == 0 or not np.all(weight_decay >= 0):
            raise ValueError(
                "weight_decay must be a float or a 1-D list of floats >= 0 (one per "
                f"member, cycled); got {self.weight_decay!r}."
            )
        return _engine.TrainSpec(
            device=device,
            dtype=_engine.resolve_dtype(self.dtype, X.dtype, device),
            seed=seed,
            batch_size=batch_size,
            max_epochs=int(max_epochs),
            learning_rate=self.learning_rate_init,
            weight_decay=tuple(weight_decay.ravel().tolist()),
            patience=patience,
            tol=self.tol,
            score_fn=problem.score_fn,
            copy_inputs=self.module is not None,
            verbose=self.verbose,
            name=type(self).__name__,
            schedule=getattr(self, "learning_rate_schedule", "constant"),
        )

    def _build_module(self, n_features, n_outputs, problem):
        k = getattr(self, "n_members", 1)
        mode = getattr(self, "feature_encoding", None)
        edges = problem.build.get("bin_edges") if mode is not None else None
        # "mixed": the last k // 2 members see the encoding
        encoded = [
            edges is not None and (mode == "piecewise_linear" or m >= k - k // 2) for m in range(k)
        ]
        encoding = PiecewiseLinearEncoding(edges) if any(encoded) else None
        n_in = n_features if encoding is None else encoding.n_outputs
        if self.module is not None:
            members = []
            for m in range(k):
                module = self.module(n_in if encoded[m] else n_features, n_outputs)
                if not isinstance(module, torch.nn.Module):
                    raise TypeError(
                        "`module` must return a torch.nn.Module when called as "
                        f"module(n_features, n_outputs); got {type(module).__name__}."
                    )
                members.append(
                    module if encoded[m] or encoding is None else FirstColumns(n_features, module)
                )
            network = members[0] if k == 1 else Ensemble(members)
        else:
            sizes = tuple(int(h) for h in np.atleast_1d(self.hidden_layer_sizes))
            if k == 1:
                network = MLP(n_in, n_outputs, sizes, self.activation, self.dropout)
            else:
                member_inputs = None
                if encoding is not None and not all(encoded):
                    if not sizes:
                        raise ValueError(
                            "feature_encoding='mixed' needs a hidden layer: with "
                            "hidden_layer_sizes=() use 'piecewise_linear' or None."
                        )
                    member_inputs = torch.zeros(k, n_in, dtype=torch.bool)
                    member_inputs[:, :n_features] = True
                    member_inputs[torch.as_tensor(encoded)] = True
                network = EnsembleMLP(
                    n_in, n_outputs, k, sizes, self.activation, self.dropout, member_inputs
                )
        return network if encoding is None else Encoded(encoding, network)

    # ------------------------------------------------------------- prediction
    def _validate_X_predict(self, X):
        return validate_predict_input(self, X)

    def _forward(self, X, call=None, post=None):
        """Network outputs for validated ``X`` (see ``_engine.predict``).

        An ensemble's outputs ``(n, n_members, ...)`` are combined by
        :meth:`_average_members` unless ``call`` says otherwise.
        """
        if call is None:
            call = self._call_and_average
        return _engine.predict(
            self.module_,
            X,
            device=self.device_,
            dtype=getattr(torch, self.dtype_),
            call=call,
            post=post,
            copy=self.module is not None,
        )

    def _call_and_average(self, module, X):
        outputs = module(X)
        return outputs if outputs.ndim == 2 else self._average_members(outputs)

    def _average_members(self, outputs):
        """One output per sample from an ensemble's ``(n, n_members, ...)``: the mean score."""
        return outputs.mean(dim=1)

    # ---------------------------------------------------------------- pickles
    def __getstate__(self):
        return dump_state(self, super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(load_state(self, state))
        if "feature_encoding" in self._parameter_constraints:
            # pickles written before the feature encoding existed: none was used
            self.__dict__.setdefault("feature_encoding", None)
            self.__dict__.setdefault("n_bins", 4)
        place_network(self)

    def _upgrade_state(self, state):
        """Fill in the fitted decisions a state-format-1 pickle lacks (a hook)."""
        return state
