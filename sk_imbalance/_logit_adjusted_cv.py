"""LogitAdjustedClassifierCV: the temperature ``tau`` chosen by cross-validation."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import _fit_context
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import StrOptions

from ._base import _check_weights, fill_shared_doc, fit_atomically
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
        Any scikit-learn scorer; scored with the test fold's ``sample_weight``.
    adjustment : {"post_hoc", "loss", "bias_init"}, default="post_hoc"
        Where the adjustment enters (see :class:`LogitAdjustedClassifier`).
    objective, class_prior, class_weight
        As in :class:`LogitAdjustedClassifier`; the search scores predictions made
        for ``objective``.
    %(shared_params)s

    Attributes
    ----------
    tau_ : float
        The chosen temperature (ties go to the value closest to 1).
    cv_results_ : dict of ndarray
        ``"taus"``, ``"mean_test_score"``, ``"std_test_score"`` and
        ``"split_test_scores"`` of shape (n_splits, n_taus).
    best_score_ : float
        Mean cross-validated score of ``tau_``.
    classes_, class_prior_, n_features_in_, feature_names_in_, n_iter_, loss_curve_, device_, net_
        Of the network refitted on all the data, as in
        :class:`LogitAdjustedClassifier`.

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
        **{k: v for k, v in LogitAdjustedClassifier._parameter_constraints.items() if k != "tau"},
        "adjustment": [StrOptions({"loss", "post_hoc", "bias_init"})],
        "taus": [None, "array-like"],
        "cv": ["cv_object"],
        "scoring": [None, str, callable],
    }

    def __init__(
        self,
        taus=None,
        cv=5,
        scoring="balanced_accuracy",
        adjustment="post_hoc",
        objective="balanced",
        class_prior=None,
        class_weight=None,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        learning_rate_init=1e-3,
        weight_decay=0.1,
        batch_size="auto",
        max_iter=400,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.learning_rate_init = learning_rate_init
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

    def _effective_tau(self):
        return self.tau_

    def _fold_estimator(self, tau):
        params = {
            k: v
            for k, v in self.get_params(deep=False).items()
            if k not in ("taus", "cv", "scoring")
        }
        return LogitAdjustedClassifier(tau=tau, **params)

    def _fit_fold(self, i, n_splits, tau, X, y, sample_weight):
        try:
            return self._fold_estimator(tau).fit(X, y, sample_weight=sample_weight)
        except ValueError as exc:  # e.g. a fold whose training part holds one class
            raise ValueError(
                f"Cross-validation fold {i + 1} of {n_splits} could not be fitted: {exc} "
                "Use fewer folds (cv) or more samples of the rare classes."
            ) from exc

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Choose ``tau`` by cross-validation, then fit on all the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Used to fit every fold and to score the test folds.

        Returns
        -------
        self : LogitAdjustedClassifierCV
        """

        def _fit():
            Xv, y_enc, classes, sw_train, mass = self._prepare_fit(X, y, sample_weight)
            sw = _check_weights(sample_weight, Xv)
            labels = classes[y_enc]
            taus = np.asarray(DEFAULT_TAUS if self.taus is None else self.taus, dtype=float)
            if taus.ndim != 1 or taus.size == 0 or np.any(taus < 0) or not np.isfinite(taus).all():
                raise ValueError(f"`taus` must be a non-empty 1-D grid of values >= 0; got {taus}.")
            cv = check_cv(self.cv, labels, classifier=True)
            scorer = check_scoring(self._fold_estimator(1.0), scoring=self.scoring)
            splits = list(cv.split(Xv, labels))
            scores = np.empty((len(splits), taus.size))
            for i, (tr, te) in enumerate(splits):
                est = None
                for j, tau in enumerate(taus):
                    if est is None or self.adjustment != "post_hoc":
                        est = self._fit_fold(i, len(splits), tau, Xv[tr], labels[tr], sw[tr])
                    est.set_params(tau=tau)  # post-hoc: a new decision rule, no refit
                    with warnings.catch_warnings():
                        # On long-tailed data a rare class is often missing from a fold.
                        warnings.filterwarnings(
                            "ignore", message="y_pred contains classes not in y_true"
                        )
                        scores[i, j] = scorer(est, Xv[te], labels[te], sample_weight=sw[te])
            mean = scores.mean(axis=0)
            best = np.flatnonzero(np.isclose(mean, mean.max(), rtol=0, atol=1e-12))
            best = best[np.argmin(np.abs(taus[best] - 1.0))]
            self.tau_ = float(taus[best])  # used by the final fit's criterion and bias
            prior = self._class_prior_from(mass, len(classes))
            attrs = self._fit_classifier(Xv, y_enc, sw_train, prior)
            attrs.update(
                classes_=classes,
                class_prior_=prior,
                tau_=float(taus[best]),
                best_score_=float(mean[best]),
                cv_results_={
                    "taus": taus,
                    "mean_test_score": mean,
                    "std_test_score": scores.std(axis=0),
                    "split_test_scores": scores,
                },
            )
            return attrs

        return fit_atomically(self, _fit)
