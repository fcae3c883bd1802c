"""The single-label classifier facade: labels, class weights, the prior, decision rules.

A classifier's decision scores are an affine map of the network's logits,
``scale * logits + offset`` (``offset`` one value per class), fixed once per
prediction call from the fitted attributes and the documented prediction-time
parameters: the estimator's hook ``_decision_rule()`` returns it. ``predict`` is the
argmax of the scores, ``predict_proba`` their softmax, ``decision_function`` the
scores themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ._base import BaseNeuralEstimator, Targets
from ._compat import StrOptions
from .prior_shift import check_prior, estimate_deployment_prior

__all__ = ["BaseNeuralClassifier", "DecisionRule", "encode_classes", "check_objective"]


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


def encode_classes(estimator, y, kinds="classes"):
    """Class labels as indices into ``classes_``; at least two classes (or groups)."""
    check_classification_targets(y)
    classes, y_enc = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 {kinds} in y; "
            f"got only one class: {classes.tolist()[0]!r}."
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

    # ------------------------------------------------------------- prediction
    def _rule(self):
        """The decision rule of this call, a fitted prior shift included."""
        if getattr(self, "deployment_prior_", None) is None:
            return self._decision_rule()
        shift = np.log(self.deployment_prior_) - np.log(self.class_prior_)
        return self._training_prior_rule().then(shift)

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
        the network's posteriors are calibrated.

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
        rule = self._training_prior_rule()
        proba = self._forward(X, post=lambda z: _softmax(rule(z)))
        prior, n_iter = estimate_deployment_prior(
            proba, self.class_prior_, max_iter=max_iter, tol=tol
        )
        self.deployment_prior_ = prior
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
