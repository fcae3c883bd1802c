"""LogitAdjustedClassifierCV: the temperature ``tau`` chosen by cross-validation."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing

from ._base import Targets, fit_atomically, fit_encoded
from ._classifier import leave_out_rarely_seen
from ._compat import StrOptions, _check_method_params, _raise_for_params, _routing_enabled
from ._docs import fill_shared_doc
from ._logit_adjusted import LogitAdjustedClassifier

__all__ = ["LogitAdjustedClassifierCV"]

DEFAULT_TAUS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


@fill_shared_doc
class LogitAdjustedClassifierCV(LogitAdjustedClassifier):
    r"""Logit adjustment with the temperature ``tau`` chosen by cross-validation.

    The logit-adjustment paper reports post-hoc results with the best ``tau`` picked
    on the test set; this estimator picks it by internal stratified cross-validation
    on a scorer instead (balanced accuracy by default), then refits on all the data.

    With ``adjustment="post_hoc"`` (the default here) the network does not depend on
    ``tau``: each fold trains one network and every ``tau`` of the grid is scored on
    it, so the search costs ``cv`` extra fits whatever the grid size. With
    ``adjustment="loss"`` or ``"bias_init"``, ``tau`` changes training and each
    (fold, ``tau``) pair is a fit.

    Read more in the :ref:`User Guide <tau_cv>`.

    Parameters
    ----------
    taus : array-like of float >= 0 or None, default=None
        The grid; ``None`` is ``(0, 0.25, ..., 2, 2.5, 3)``.
    cv : int, cross-validation generator or iterable, default=5
        As in scikit-learn (an int gives ``StratifiedKFold``).
    scoring : str, callable or None, default="balanced_accuracy"
        Any scikit-learn scorer; scored with the test fold's ``sample_weight`` (with
        metadata routing enabled: when the scorer requests it, see :meth:`fit`).
    tau_selection : {"one_se_corrected", "one_se", "best"}, default="one_se_corrected"
        How ``tau_`` is picked from the CV scores. ``"best"``: the highest mean score.
        ``"one_se"``: the one-standard-error rule (Hastie et al., *The Elements of
        Statistical Learning*, section 7.10) centred on ``tau = 1``: among the values
        whose mean score is within one standard error of the best, the closest to 1,
        the temperature that is Bayes-consistent for the balanced error when the
        network's probabilities are calibrated; the standard error is the naive
        ``std / sqrt(J)`` over the ``J`` folds. ``"one_se_corrected"`` (the default):
        the same rule with the corrected standard error of Nadeau and Bengio (2003),
        ``std * sqrt(1/J + n_test/n_train)`` (1.5 times the naive one for 5 folds),
        which accounts for the folds' overlapping training sets. On long-tailed data
        the rarest classes have one or two samples, so most test folds lack them and
        the per-fold score cannot see what a larger ``tau`` does for them; the mean
        score then favours small temperatures, and the rule departs from ``tau = 1``
        only when the evidence is larger than the fold-to-fold noise. Measured on 5
        seeds of long-tailed digits (imbalance ratio 100; ratio of the test balanced
        accuracy to that of the best ``tau`` on the test set): ``"one_se_corrected"``
        0.992 / 1 / 1 / 0.992 / 1, ``"one_se"`` 0.992 / 1 / 1 / 0.955 / 1, ``"best"``
        0.967 / 0.945 / 0.949 / 0.856 / 0.920 (``research/calibration/FINDINGS.md``).
    adjustment : {"post_hoc", "loss", "bias_init"}, default="post_hoc"
        Where the adjustment enters (see :class:`LogitAdjustedClassifier`).
    objective, class_prior, class_weight
        As in :class:`LogitAdjustedClassifier`; the search scores predictions made
        for ``objective`` (uncalibrated: the fold networks are not calibrated).
    %(shared_params)s

    Notes
    -----
    ``fit``'s ``sample_weight`` is used to fit every fold and the final network, and
    to score the test folds. With metadata routing enabled (``sklearn.set_config(
    enable_metadata_routing=True)``) the scorer receives it only if it requests it,
    as in scikit-learn's ``LogisticRegressionCV``: e.g. ``scoring=get_scorer(
    "balanced_accuracy").set_score_request(sample_weight=True)``; ``fit``'s other
    keyword arguments are then metadata for the ``cv`` splitter's ``split`` (e.g.
    ``groups`` for ``GroupKFold``) and for the scorer, routed as they request them.

    Attributes
    ----------
    tau_ : float
        The chosen temperature (see ``tau_selection``; ties go to the value closest
        to 1), used to train the final network (``"loss"``, ``"bias_init"``) and by
        the decision rule.
    cv_results_ : dict of ndarray
        ``"taus"``, ``"mean_test_score"``, ``"std_test_score"`` and
        ``"split_test_scores"`` of shape (n_splits, n_taus).
    best_score_ : float
        Mean cross-validated score of ``tau_``.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    class_prior_ : ndarray of shape (n_classes,)
        The (smoothed) training prior used for the adjustment.
    adjustment_ : str
        The ``adjustment`` the networks were trained with.
    %(calibration_attrs)s
    %(fitted_attrs)s

    See Also
    --------
    LogitAdjustedClassifier : The estimator with a fixed ``tau``.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sk_imbalance import LogitAdjustedClassifierCV
    >>> X, y = make_classification(400, 8, n_informative=5, n_classes=3,
    ...                            weights=[0.8, 0.15, 0.05], random_state=0)
    >>> clf = LogitAdjustedClassifierCV(cv=3, max_iter=30, random_state=0).fit(X, y)
    >>> float(clf.tau_) in clf.cv_results_["taus"]
    True
    """

    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in LogitAdjustedClassifier._parameter_constraints.items()
            if k not in ("tau", "gamma", "margin")
        },
        "adjustment": [StrOptions({"loss", "post_hoc", "bias_init"})],
        "taus": [None, "array-like"],
        "cv": ["cv_object"],
        "scoring": [None, str, callable],
        "tau_selection": [StrOptions({"one_se_corrected", "one_se", "best"})],
    }

    def __init__(
        self,
        taus=None,
        cv=5,
        scoring="balanced_accuracy",
        tau_selection="one_se_corrected",
        adjustment="post_hoc",
        objective="balanced",
        class_prior=None,
        class_weight=None,
        calibration=None,
        n_members=8,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        feature_encoding="mixed",
        n_bins=4,
        learning_rate_init=2e-3,
        learning_rate_schedule="warmup_cosine",
        weight_decay=(0.1, 0.3, 1.0, 3.0),
        batch_size="auto",
        max_iter="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=None,
        tol=1e-4,
        module=None,
        device="auto",
        dtype="auto",
        random_state=None,
        verbose=0,
    ):
        self.adjustment = adjustment
        self.objective = objective
        self.class_prior = class_prior
        self.class_weight = class_weight
        self.calibration = calibration
        self.n_members = n_members
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.feature_encoding = feature_encoding
        self.n_bins = n_bins
        self.learning_rate_init = learning_rate_init
        self.learning_rate_schedule = learning_rate_schedule
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.module = module
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.taus = taus
        self.cv = cv
        self.scoring = scoring
        self.tau_selection = tau_selection

    def _prediction_tau(self):
        return self.tau_

    def _fold_estimator(self, tau):
        params = {
            k: v
            for k, v in self.get_params(deep=False).items()
            if k not in ("taus", "cv", "scoring", "tau_selection")
        }
        params["calibration"] = None  # folds are not calibrated; the final network may be
        return LogitAdjustedClassifier(tau=tau, **params)

    def _calibration_fold_estimator(self, attrs):
        return self._fold_estimator(attrs["tau_"])

    def _fit_fold(self, i, n_splits, tau, X, targets, sample_weight, train):
        """A network fitted on one training fold, with the output layout of the final one.

        Every class of the whole training set keeps its output, even one missing from
        the fold (its prior is then smoothed as for an empty class in the final fit), so
        that every fold network scores all classes: a scorer on probabilities (such as
        ``"neg_log_loss"``) needs a column for every class.
        """
        fold = Targets(y=targets.y[train], attrs=targets.attrs, stratify=targets.stratify[train])
        est = self._fold_estimator(tau)
        try:
            attrs = fit_encoded(est, X[train], fold, sample_weight[train])
        except ValueError as exc:  # e.g. a fold whose training part holds one class
            raise ValueError(
                f"Cross-validation fold {i + 1} of {n_splits} could not be fitted: {exc} "
                "Use fewer folds (cv) or more samples of the rare classes."
            ) from exc
        return fit_atomically(est, lambda: {**attrs, "n_features_in_": X.shape[1]})

    def _route_fit_params(self, sample_weight, params):
        _raise_for_params(params, self, "fit")
        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            return routed.splitter.split, routed.scorer.score
        return {}, ({} if sample_weight is None else {"sample_weight": sample_weight})

    def _fit_validated(self, X, targets, sample_weight, routed):
        """Choose ``tau`` by cross-validation, then fit on all the data with it."""
        split_params, score_params = routed
        labels = targets.attrs["classes_"][targets.y]
        taus = np.asarray(DEFAULT_TAUS if self.taus is None else self.taus, dtype=float)
        if taus.ndim != 1 or taus.size == 0 or np.any(taus < 0) or not np.isfinite(taus).all():
            raise ValueError(f"`taus` must be a non-empty 1-D grid of values >= 0; got {taus}.")
        cv = check_cv(self.cv, labels, classifier=True)
        scorer = check_scoring(self._fold_estimator(1.0), scoring=self.scoring)
        splits = list(cv.split(X, labels, **split_params))
        scores = np.empty((len(splits), taus.size))
        fold_score_params = [_check_method_params(X, score_params, indices=te) for _, te in splits]
        folds = None
        for j, tau in enumerate(taus):
            if folds is None or self.adjustment != "post_hoc":
                folds = [
                    self._fit_fold(i, len(splits), tau, X, targets, sample_weight, tr)
                    for i, (tr, _) in enumerate(splits)
                ]
            with warnings.catch_warnings():
                # On long-tailed data a rare class is often missing from a fold.
                warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
                for i, (est, (_, te)) in enumerate(zip(folds, splits, strict=True)):
                    est.set_params(tau=tau)  # post-hoc: a new decision rule, no refit
                    scores[i, j] = scorer(est, X[te], labels[te], **fold_score_params[i])
        n_train = np.mean([len(tr) / max(len(te), 1) for tr, te in splits])
        best = _select_tau(taus, scores, self.tau_selection, n_train_per_test=n_train)
        held_out = {}
        attrs = fit_encoded(self, X, targets, sample_weight, held_out=held_out, tau=taus[best])
        oof = None
        tests = np.concatenate([te for _, te in splits])
        partition = tests.size == X.shape[0] and np.array_equal(
            np.sort(tests), np.arange(X.shape[0])
        )
        if self.calibration is not None and self.adjustment == "post_hoc" and partition:
            # The post-hoc fold networks do not depend on tau: their out-of-fold
            # training-prior logits (the raw logits) calibrate the final network.
            n_classes = len(targets.attrs["classes_"])
            logits = np.empty((X.shape[0], n_classes))
            weights = np.array(sample_weight, dtype=np.float64, copy=True)
            for est, (tr, te) in zip(folds, splits, strict=True):
                logits[te] = est._forward(X[te], post=est._training_prior_rule())
                leave_out_rarely_seen(weights, targets.y, tr, te, n_classes)
            oof = (logits, targets.y, weights)
        attrs = self._with_calibration(attrs, X, targets, sample_weight, held_out, oof=oof)
        attrs.update(
            best_score_=float(scores.mean(axis=0)[best]),
            cv_results_={
                "taus": taus,
                "mean_test_score": scores.mean(axis=0),
                "std_test_score": scores.std(axis=0),
                "split_test_scores": scores,
            },
        )
        return attrs

    def get_metadata_routing(self):
        """Metadata routing of this estimator (as scikit-learn's ``LogisticRegressionCV``).

        ``fit`` consumes ``sample_weight`` itself (see ``set_fit_request``) and routes
        metadata to the ``cv`` splitter's ``split`` and to the scorer.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        scorer = check_scoring(self._fold_estimator(1.0), scoring=self.scoring)
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(splitter=self.cv, method_mapping=MethodMapping().add(caller="fit", callee="split"))
            .add(scorer=scorer, method_mapping=MethodMapping().add(caller="fit", callee="score"))
        )


def _select_tau(taus, scores, rule, n_train_per_test=None):
    """Index of the chosen ``tau`` given the (n_splits, n_taus) CV scores.

    ``"best"``: the highest mean score. ``"one_se"``: among the values whose mean score
    is within one standard error of the best mean, the closest to 1 (the temperature
    that is Bayes-consistent for calibrated scores), the standard error being
    ``std / sqrt(J)`` over the ``J`` folds. ``"one_se_corrected"``: the same with the
    corrected standard error of Nadeau and Bengio (2003),
    ``std * sqrt(1 / J + n_test / n_train)``, which accounts for the folds' training
    sets overlapping (``n_train_per_test`` is ``n_train / n_test``; 4 for 5 folds).
    Ties go to the value closest to 1.
    """
    mean = scores.mean(axis=0)
    top = mean.max()
    n_splits = scores.shape[0]
    if rule != "best" and n_splits > 1:
        std = scores[:, np.argmax(mean)].std(ddof=1)
        if rule == "one_se":
            top -= std / np.sqrt(n_splits)
        else:
            ratio = (n_splits - 1) if n_train_per_test is None else n_train_per_test
            top -= std * np.sqrt(1.0 / n_splits + 1.0 / ratio)
    candidates = np.flatnonzero(mean >= top - 1e-12)
    return candidates[np.argmin(np.abs(taus[candidates] - 1.0))]
