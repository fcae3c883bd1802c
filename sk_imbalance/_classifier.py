"""The single-label classifier facade: labels, class weights, the prior, decision rules.

A classifier's decision scores are an affine map of the network's logits,
``scale * logits + offset`` (``offset`` one value per class), fixed once per
prediction call from the fitted attributes and the documented prediction-time
parameters: the estimator's hook ``_decision_rule()`` returns it. ``predict`` is the
argmax of the scores, ``predict_proba`` their softmax, ``decision_function`` the
scores themselves.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ._base import BaseNeuralEstimator, Targets, fit_atomically, fit_encoded
from ._compat import StrOptions
from .calibration import fit_calibration
from .prior_shift import check_prior, estimate_deployment_prior, smooth_prior

__all__ = [
    "CALIBRATION_FOLDS",
    "BaseNeuralClassifier",
    "DecisionRule",
    "check_objective",
    "encode_classes",
    "fit_rows",
]


#: A held-out row whose class has fewer rows than this in its fold network's training
#: rows is left out of the cross-fitted calibration (see :func:`leave_out_rarely_seen`).
CALIBRATION_MIN_SEEN = 3


def leave_out_rarely_seen(weights, y, train, test, n_classes):
    """Zero, in place, the calibration weight of the held-out rows ``test`` whose class
    has fewer than :data:`CALIBRATION_MIN_SEEN` rows in ``train``.

    Such a row's out-of-fold logits come from a network that saw its class never or
    once or twice: they say "(almost) never recognised", which the final network, which
    saw every sample of the class, is not, and on long-tailed data they drag the fitted
    temperature and biases towards that. Measured on long-tailed digits (imbalance ratio
    100, ``research/calibration/FINDINGS.md``): on 2 seeds the mean L1 error of
    ``fit_prior_shift`` after temperature scaling went from 0.92 (all rows) to 0.39
    (rows of unseen classes left out) and 0.30 (fewer than 3 seen; 0.53 uncalibrated);
    over 5 seeds BCTS went from 0.99 to 0.55 (0.52 uncalibrated).
    """
    seen = np.bincount(y[train], minlength=n_classes)
    weights[test[seen[y[test]] < CALIBRATION_MIN_SEEN]] = 0.0


#: Folds of the cross-fitting that gives ``calibration`` its out-of-sample logits when
#: there is no early-stopping split (5, as measured in research/calibration/FINDINGS.md).
CALIBRATION_FOLDS = 5


@dataclass(frozen=True)
class DecisionRule:
    """Decision scores ``scale * logits + offset`` of a chunk of network logits.

    ``offset`` holds one value per class; ``scale`` is a number or one value per class.
    """

    offset: np.ndarray
    scale: float | np.ndarray = 1.0

    def __call__(self, logits):
        offset = self.offset.astype(logits.dtype, copy=False)
        if np.isscalar(self.scale) and self.scale == 1.0:
            return logits + offset
        return logits * np.asarray(self.scale, dtype=logits.dtype) + offset

    def then(self, shift):
        """The same rule followed by adding ``shift`` (one value per class)."""
        return DecisionRule(self.offset + shift, self.scale)

    def calibrated(self, calibration):
        """The rule followed by a fitted :class:`~sk_imbalance.calibration.LogitCalibration`."""
        if calibration is None:
            return self
        scale = calibration.scale * np.asarray(self.scale, dtype=np.float64)
        return DecisionRule(calibration.scale * self.offset + calibration.bias, scale)


def encode_classes(estimator, y, kinds="classes"):
    """Class labels as indices into ``classes_``; at least two classes (or groups)."""
    check_classification_targets(y)
    classes, y_enc = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 {kinds} in y; "
            f"got only one {kinds[:-1]}: {classes.tolist()[0]!r} (in {len(y_enc)} "
            f"sample{'' if len(y_enc) == 1 else 's'})."
        )
    return Targets(y=y_enc, attrs={"classes_": classes}, stratify=y_enc)


def check_objective(objective, n_classes):
    """``None`` for "balanced", ``"accuracy"``, or the log of a validated deployment prior."""
    if isinstance(objective, str):
        if objective not in ("balanced", "accuracy"):
            raise ValueError(
                f"objective must be 'balanced', 'accuracy' or a prior; got {objective!r}."
            )
        return None if objective == "balanced" else "accuracy"
    return np.log(check_prior(objective, n_classes, "objective"))


class BaseNeuralClassifier(ClassifierMixin, BaseNeuralEstimator):
    """Single-label classifier base: labels, class weights, the class prior.

    Subclasses implement ``_problem`` (criterion, prior, fitted decisions) and
    ``_decision_rule()`` (the :class:`DecisionRule` of ``predict``), and
    ``_training_prior_rule()`` (the rule whose softmax estimates ``p(y | x)`` under
    ``class_prior_``, used by :meth:`fit_prior_shift`).
    """

    _parameter_constraints: dict = {
        **BaseNeuralEstimator._parameter_constraints,
        "class_weight": [None, dict, StrOptions({"balanced"})],
        "calibration": [None, StrOptions({"temperature", "bcts"})],
    }

    def _encode_targets(self, y):
        return encode_classes(self, y)

    def _average_members(self, outputs):
        # The mean of the members' log-probabilities: every member's scores are a
        # prior shift of a posterior, so their mean is too, and the rules apply to it.
        return torch.log_softmax(outputs, dim=-1).mean(dim=1)

    def _class_masses(self, targets, sample_weight):
        """Weighted class counts (a class absent from a fold counts 0); two must be positive."""
        n_classes = len(targets.attrs["classes_"])
        mass = np.bincount(targets.y, weights=sample_weight, minlength=n_classes)
        if np.count_nonzero(mass > 0) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes with positive "
                "sample_weight; after weighting only one class is left."
            )
        return mass

    def _class_weighted(self, targets, sample_weight, class_weight):
        """Sample weights times scikit-learn class weights (``class_weight``)."""
        if class_weight is None:
            return sample_weight
        classes, y_enc = targets.attrs["classes_"], targets.y
        if isinstance(class_weight, str):  # "balanced"
            # From the sample-weighted counts (integer weights act as repeats); a class
            # whose samples all weigh zero (or that has none) gets weight 0, not 0 * inf.
            mass = np.bincount(y_enc, weights=sample_weight, minlength=len(classes))
            present, keep = mass > 0, sample_weight > 0
            cw = np.zeros(len(classes))
            cw[present] = compute_class_weight(
                "balanced",
                classes=classes[present],
                y=classes[y_enc[keep]],
                sample_weight=sample_weight[keep],
            )
        else:
            cw = compute_class_weight(class_weight, classes=classes, y=classes[y_enc])
        return sample_weight * cw[y_enc]

    def __setstate__(self, state):
        super().__setstate__(state)
        # Pickles written before ``calibration`` existed: no calibration was fitted.
        self.__dict__.setdefault("calibration", None)

    # ------------------------------------------------------------ calibration
    def _fit_validated(self, X, targets, sample_weight, routed):
        held_out = {}
        attrs = fit_encoded(self, X, targets, sample_weight, held_out=held_out)
        return self._with_calibration(attrs, X, targets, sample_weight, held_out)

    def _with_calibration(self, attrs, X, targets, sample_weight, held_out, oof=None):
        """``attrs`` with ``calibration_`` (and ``calibration_source_``) added.

        The out-of-sample logits come from the early-stopping split (``held_out``), else
        from ``oof`` (out-of-fold ``(logits, y, weights)`` the estimator already has),
        else from :data:`CALIBRATION_FOLDS`-fold cross-fitting. Nothing is set here;
        any failure raises before the estimator changes (``fit_atomically``).
        """
        attrs = {**attrs, "calibration_": None, "calibration_source_": None}
        method = self.calibration
        if method is None:
            return attrs
        index = held_out.get("validation_index")
        if index is not None:
            fitted = self._fitted_view(attrs)
            rule = fitted._training_prior_rule()
            logits = fitted._forward(X[index], post=rule)
            y, w, source = targets.y[index], sample_weight[index], "early_stopping"
        elif oof is not None:
            (logits, y, w), source = oof, "cross_fitting"
        else:
            logits, y, w = self._cross_fitted_logits(X, targets, sample_weight, attrs)
            source = "cross_fitting"
        try:
            calibration = fit_calibration(logits, y, method=method, sample_weight=w)
        except ValueError as exc:
            raise ValueError(f"calibration={method!r} could not be fitted: {exc}") from exc
        attrs.update(calibration_=calibration, calibration_source_=source)
        return attrs

    def _fitted_view(self, attrs):
        """A shallow copy of this estimator with ``attrs`` set (to predict during fit)."""
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.__dict__.update(attrs)
        view.__dict__.pop("deployment_prior_", None)
        return view

    def _calibration_fold_estimator(self, attrs):
        """An unfitted estimator that trains like this one did (``attrs``: its fit)."""
        return clone(self).set_params(calibration=None)

    def _cross_fitted_logits(self, X, targets, sample_weight, attrs):
        """Out-of-fold training-prior logits of :data:`CALIBRATION_FOLDS` fold networks."""
        n, k = X.shape[0], CALIBRATION_FOLDS
        if n < k:
            raise ValueError(
                f"calibration={self.calibration!r} without early stopping cross-fits "
                f"{k} folds and needs at least {k} samples to hold any out; got {n}. "
                "Use calibration=None or more samples."
            )
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        folds = StratifiedKFold(k, shuffle=True, random_state=seed)
        logits = np.empty((n, len(targets.attrs["classes_"])))
        with warnings.catch_warnings():
            # a rare class with fewer than k samples: some folds lack it (by design)
            warnings.filterwarnings("ignore", message="The least populated class")
            splits = list(folds.split(X, targets.y))
        weights = np.array(sample_weight, dtype=np.float64, copy=True)
        n_classes = logits.shape[1]
        for i, (train, test) in enumerate(splits):
            est = fit_rows(
                self._calibration_fold_estimator(attrs), X, targets, sample_weight, train,
                what=f"Calibration fold {i + 1} of {k}",
            )  # fmt: skip
            logits[test] = est._forward(X[test], post=est._training_prior_rule())
            leave_out_rarely_seen(weights, targets.y, train, test, n_classes)
        return logits, targets.y, weights

    # ------------------------------------------------------------- prediction
    def _calibrated_training_rule(self):
        """Scores whose softmax is the (calibrated) posterior under ``class_prior_``."""
        return self._training_prior_rule().calibrated(getattr(self, "calibration_", None))

    def _objective_shift(self):
        """What ``_decision_rule`` adds to the training-prior scores (one value per class).

        Estimators whose decision rule is not a shift of ``_training_prior_rule`` override it.
        """
        decision, training = self._decision_rule(), self._training_prior_rule()
        same = np.array_equal(
            np.broadcast_to(decision.scale, decision.offset.shape),
            np.broadcast_to(training.scale, training.offset.shape),
        )
        if not same:
            raise NotImplementedError(
                f"{type(self).__name__}: the decision rule is not a prior shift of the "
                "training-prior rule; override _objective_shift."
            )
        return decision.offset - training.offset

    def _rule(self):
        """The decision rule of this call, calibration and a fitted prior shift included.

        Calibrated: the calibrated training-prior scores, then the shift to the
        ``objective``'s prior (or to ``deployment_prior_``).
        """
        calibration = getattr(self, "calibration_", None)
        prior = getattr(self, "deployment_prior_", None)
        if calibration is None and prior is None:
            return self._decision_rule()
        if prior is not None:
            shift = np.log(prior) - np.log(self.class_prior_)
        else:
            shift = self._objective_shift()
        return self._calibrated_training_rule().then(shift)

    def _decision_scores(self, X, post=None):
        X = self._validate_X_predict(X)
        return self._scores_of_validated(X, post)

    def _scores_of_validated(self, X, post=None):
        rule = self._rule()
        return self._forward(X, post=rule if post is None else lambda z: post(rule(z)))

    def _predict_validated(self, X):
        return self._scores_of_validated(X, post=lambda s: np.argmax(s, axis=1))

    def fit_prior_shift(self, X, *, max_iter=1000, tol=1e-8):
        r"""Estimate the class prior of unlabelled data and predict for it.

        Runs the EM procedure of Saerens et al. (2002) on the network's posteriors
        under the training prior (see
        :func:`~sk_imbalance.prior_shift.estimate_deployment_prior`), stores the
        estimate in ``deployment_prior_``, and from then on ``predict``,
        ``predict_proba`` and ``decision_function`` give the Bayes decision and
        posteriors for that prior, :math:`p_q(y|x) \propto (q_y / \pi_y)\,
        p_\pi(y|x)`, whatever ``objective`` says. Refitting, or
        :meth:`reset_prior_shift`, removes it. The estimate assumes that only the
        class mix changed (not the class-conditional distributions); it is as good as
        the network's posteriors are calibrated. An estimator fitted with
        ``calibration`` runs EM on its calibrated posteriors (``calibration_``),
        which are then shifted to the estimate. A class whose estimated share is
        exactly 0 gets half the smallest positive share (as :func:`smooth_prior
        <sk_imbalance.prior_shift.smooth_prior>` does), so that no probability is 0.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Unlabelled samples from the deployment distribution.
        max_iter : int, default=1000
            Maximum number of EM iterations.
        tol : float, default=1e-8
            Stop when the L1 change of the prior falls below this.

        Returns
        -------
        self : object
            The estimator, with ``deployment_prior_`` and ``prior_shift_n_iter_`` set.
        """
        X = self._validate_X_predict(X)
        rule = self._calibrated_training_rule()
        proba = self._forward(X, post=lambda z: _softmax(rule(z)))
        prior, n_iter = estimate_deployment_prior(
            proba, self.class_prior_, max_iter=max_iter, tol=tol
        )
        # EM may drive a class's share to exactly 0; smoothed as any prior, so that
        # the shifted scores stay finite (the class keeps a small probability).
        self.deployment_prior_ = smooth_prior(prior)
        self.prior_shift_n_iter_ = n_iter
        return self

    def reset_prior_shift(self):
        """Forget ``deployment_prior_``: predictions follow ``objective`` again.

        Returns
        -------
        self : object
            The estimator.
        """
        self.__dict__.pop("deployment_prior_", None)
        self.__dict__.pop("prior_shift_n_iter_", None)
        return self

    def decision_function(self, X):
        """Decision scores; ``predict`` is their argmax.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes the score of ``classes_[1]`` minus that of ``classes_[0]``,
            else one score per class.
        """

        def binary(scores):
            return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

        return self._decision_scores(X, post=binary)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities.
        """
        return self._decision_scores(X, post=_log_softmax)

    def predict_proba(self, X):
        """Class probabilities: the softmax of the decision scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        return self._decision_scores(X, post=_softmax)

    def predict(self, X):
        """Predicted labels, ``classes_[argmax(decision scores)]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        idx = self._decision_scores(X, post=lambda s: np.argmax(s, axis=1))
        return self.classes_[idx]


def fit_rows(estimator, X, targets, sample_weight, rows, what="A fold", **decisions):
    """``estimator`` fitted (through :func:`fit_encoded`) on ``rows`` of validated data.

    Every class of ``targets`` keeps its output, even one missing from ``rows`` (its
    prior is then smoothed as for an empty class), so that the fold network scores all
    classes. A ``ValueError`` names the fold (``what``).
    """
    stratify = None if targets.stratify is None else targets.stratify[rows]
    fold = Targets(y=targets.y[rows], attrs=targets.attrs, stratify=stratify)
    try:
        attrs = fit_encoded(estimator, X[rows], fold, sample_weight[rows], **decisions)
    except ValueError as exc:  # e.g. a fold whose training part holds one class
        raise ValueError(
            f"{what} could not be fitted: {exc} Use more samples of the rare classes."
        ) from exc
    return fit_atomically(estimator, lambda: {**attrs, "n_features_in_": X.shape[1]})


def _log_softmax(a):
    """Row-wise log-softmax of a NumPy array, dtype kept.

    Written as max-shift, exp, sum and log on the whole chunk: with few classes this is
    about 3x faster than ``torch.log_softmax`` over ``dim=1`` (whose CPU kernel
    vectorises along the short class axis).
    """
    t = torch.from_numpy(np.ascontiguousarray(a))
    shifted = t - t.amax(dim=1, keepdim=True)
    return shifted.sub_(shifted.exp().sum(dim=1, keepdim=True).log_()).numpy()


def _softmax(a):
    """Row-wise softmax of a NumPy array, dtype kept (see :func:`_log_softmax`)."""
    t = torch.from_numpy(np.ascontiguousarray(a))
    e = (t - t.amax(dim=1, keepdim=True)).exp_()
    return e.div_(e.sum(dim=1, keepdim=True)).numpy()
