"""CostSensitiveClassifier: predict the class of least expected cost."""

from __future__ import annotations

from collections.abc import Mapping
from inspect import signature

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import assert_all_finite, get_tags
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

__all__ = ["CostSensitiveClassifier"]


def _inner_has(attr):
    """``available_if`` check: the (fitted or given) inner estimator has ``attr``."""

    def check(self):
        inner = getattr(self, "estimator_", None)
        if inner is None:
            inner = self._make_estimator()
        getattr(inner, attr)  # raises AttributeError, which hides the method
        return True

    return check


def _check_cost_values(C, what):
    if not np.all(np.isfinite(C)):
        raise ValueError(f"`cost_matrix` {what} NaN or infinite entries; costs must be finite.")
    if np.any(C < 0):
        raise ValueError(
            f"`cost_matrix` {what} negative entries; costs must be >= 0 (a gain is a "
            "negative cost: add a constant to each row, which changes no decision)."
        )


def _static_check(cost_matrix):
    """What can be checked before the classes are known (array and dict forms)."""
    if cost_matrix is None or callable(cost_matrix):
        return
    if isinstance(cost_matrix, Mapping):
        for true, row in cost_matrix.items():
            if not isinstance(row, Mapping):
                raise ValueError(
                    "A dict `cost_matrix` must map each true label to a dict "
                    f"{{predicted label: cost}}; the entry of {true!r} is a "
                    f"{type(row).__name__}."
                )
            try:
                values = np.asarray(list(row.values()), dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"`cost_matrix` row {true!r} holds a non-numeric cost.") from exc
            _check_cost_values(values, f"row {true!r} has")
        return
    _check_array(cost_matrix)


def _check_array(cost_matrix, n_classes=None):
    try:
        C = np.asarray(cost_matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "`cost_matrix` must be a square array of numbers, a dict of dicts or a callable."
        ) from exc
    if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape[0] < 2:
        raise ValueError(
            "`cost_matrix` must be a square 2-D array of shape (n_classes, n_classes) with "
            f"n_classes >= 2; got shape {C.shape}."
        )
    _check_cost_values(C, "has")
    if n_classes is not None and C.shape[0] != n_classes:
        raise ValueError(
            f"`cost_matrix` has shape {C.shape} but the estimator has {n_classes} classes; "
            f"it needs shape ({n_classes}, {n_classes}), rows and columns in the order "
            "of classes_."
        )
    if not np.any(C > 0):
        raise ValueError(
            "`cost_matrix` is all zeros: every prediction would cost nothing, so no "
            "class is preferred."
        )
    return C


def _resolve(cost_matrix, classes):
    """The cost matrix as an array in the order of ``classes`` (``None``: 0-1 cost)."""
    if cost_matrix is None:
        return None
    n = len(classes)
    if callable(cost_matrix):
        return _check_array(cost_matrix(classes), n)
    if isinstance(cost_matrix, Mapping):
        _static_check(cost_matrix)
        known = set(classes.tolist())
        extra = [lab for lab in cost_matrix if lab not in known]
        extra += [lab for row in cost_matrix.values() for lab in row if lab not in known]
        if extra:
            raise ValueError(
                f"`cost_matrix` names labels that are not classes: {sorted(set(map(str, extra)))}; "
                f"the classes are {classes.tolist()}."
            )
        C = np.zeros((n, n))
        missing = []
        for i, true in enumerate(classes.tolist()):
            row = cost_matrix.get(true, {})
            for j, pred in enumerate(classes.tolist()):
                if pred in row:
                    C[i, j] = float(row[pred])
                elif i != j:
                    missing.append((true, pred))
        if missing:
            raise ValueError(
                "`cost_matrix` lacks the cost of these (true, predicted) pairs: "
                f"{missing}; give every pair of different classes (a missing diagonal "
                "entry is 0)."
            )
        return _check_array(C, n)
    return _check_array(cost_matrix, n)


class CostSensitiveClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    r"""Predict the class of least expected cost from any probabilistic classifier.

    With :math:`p_i(x)` the inner estimator's ``predict_proba`` for class :math:`i` and
    :math:`C_{ij}` the cost of predicting class :math:`j` when the truth is :math:`i`,
    ``predict`` returns

    .. math:: \hat y(x) = \operatorname*{arg\,min}_j \sum_i p_i(x)\, C_{ij},

    the Bayes decision for the costs when :math:`p(x)` is calibrated for the class mix
    the costs apply to (ties go to the first class of ``classes_``). For the package's
    logit-adjusted estimators that means ``objective="accuracy"`` (the training mix) or
    the deployment prior, not ``"balanced"``. ``predict_proba`` (and
    ``predict_log_proba``) are the inner estimator's, unchanged, so
    ``predict`` is generally **not** their argmax; :meth:`expected_cost` gives the
    scores it minimises. This generalises scikit-learn's binary
    :class:`~sklearn.model_selection.FixedThresholdClassifier` to :math:`K` classes and
    a full cost matrix (for two classes and :math:`C_{00} = C_{11} = 0` it is the
    threshold :math:`C_{01} / (C_{01} + C_{10})` on the probability of ``classes_[1]``,
    up to ties).

    ``fit`` fits a clone of ``estimator`` (as ``estimator_``); to use an estimator
    already fitted, wrap it in :class:`sklearn.frozen.FrozenEstimator`, whose ``fit``
    does nothing. ``cost_matrix`` is checked at ``fit`` and read at every prediction:
    changing it with ``set_params`` after fitting changes the decisions without refitting.

    Parameters
    ----------
    estimator : estimator object with ``fit`` and ``predict_proba``, default=None
        The probabilistic classifier; ``None`` means
        ``sklearn.linear_model.LogisticRegression()``.
    cost_matrix : array-like, dict, callable or None, default=None
        Non-negative, finite costs, not all zero; row = true class, column = predicted
        class:

        - an array of shape (n_classes, n_classes), rows and columns in the order of
          ``classes_`` (the sorted labels);
        - a dict of dicts keyed by labels, ``{true: {predicted: cost}}``, with every
          pair of different classes given (a missing diagonal entry is 0), for when the
          label order is not at hand;
        - a callable ``cost_matrix(classes) -> array`` of shape (n_classes, n_classes),
          called with ``classes_``, e.g. to build the costs from the labels;
        - ``None``: the 0-1 cost, so ``predict`` is the argmax of ``predict_proba``.

        A negative cost (a gain) can be written as a non-negative one by adding a
        constant to its row: that adds the same amount to every class's expected cost
        and changes no decision.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    classes_ : ndarray of shape (n_classes,)
        The inner estimator's classes; the order of the cost matrix's rows and columns.
    n_features_in_ : int
        Number of features seen during fit (when the inner estimator records it).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit (when the inner estimator records them).

    See Also
    --------
    sklearn.model_selection.FixedThresholdClassifier : The binary, single-threshold case.
    sklearn.model_selection.TunedThresholdClassifierCV : A binary threshold tuned on a
        scorer (e.g. a cost made with ``make_scorer``).
    LogitAdjustedClassifier : Its ``objective`` sets the class mix of ``predict_proba``.

    References
    ----------
    .. [1] C. Elkan, "The foundations of cost-sensitive learning", IJCAI 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sk_imbalance import CostSensitiveClassifier
    >>> X, y = make_classification(1000, 8, n_informative=5, n_classes=3,
    ...                            weights=[0.8, 0.15, 0.05], random_state=0)
    >>> costs = np.array([[0, 1, 1],      # truth 0: any error costs 1
    ...                   [5, 0, 1],      # truth 1: predicting 0 costs 5
    ...                   [20, 10, 0]])   # truth 2: missing it costs 10 to 20
    >>> clf = CostSensitiveClassifier(LogisticRegression(), cost_matrix=costs).fit(X, y)
    >>> plain = LogisticRegression().fit(X, y)
    >>> def mean_cost(pred):
    ...     return costs[y, pred].mean()
    >>> bool(mean_cost(clf.predict(X)) < mean_cost(plain.predict(X)))
    True
    >>> np.array_equal(clf.predict_proba(X), clf.estimator_.predict_proba(X))
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "cost_matrix": ["array-like", dict, callable, None],
    }

    def __init__(self, estimator=None, cost_matrix=None):
        self.estimator = estimator
        self.cost_matrix = cost_matrix

    def _make_estimator(self):
        return LogisticRegression() if self.estimator is None else self.estimator

    @_fit_context(
        # the inner estimator is validated by its own fit
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit a clone of the inner estimator and check the cost matrix against its classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, as the inner estimator accepts it.
        y : array-like of shape (n_samples,)
            Class labels (binary or multi-class).
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the inner estimator's ``fit``. Without metadata routing, an inner
            estimator whose ``fit`` takes no ``sample_weight`` raises a ``ValueError``;
            with routing enabled, it is routed as the inner estimator requests it.
        **fit_params : dict
            Other parameters of the inner estimator's ``fit`` (routed as it requests
            them when metadata routing is enabled).

        Returns
        -------
        self : CostSensitiveClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``y`` is not binary or multi-class, or the cost matrix is malformed or
            does not match ``classes_``; the estimator is then left as it was.
        """
        _static_check(self.cost_matrix)  # fail before any fitting
        if np.asarray(y).dtype.kind == "f":
            assert_all_finite(np.asarray(y), input_name="y")
        y_type = type_of_target(y, input_name="y")
        if y_type not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type: {y_type}. CostSensitiveClassifier needs binary or "
                "multi-class labels."
            )
        inner = self._make_estimator()
        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **fit_params)
            params = routed.estimator.fit
        else:
            params = dict(fit_params)
            if sample_weight is not None:
                if "sample_weight" not in signature(inner.fit).parameters:
                    raise ValueError(
                        f"sample_weight was given but {type(inner).__name__}.fit does not "
                        "accept it."
                    )
                params["sample_weight"] = sample_weight
        fitted = clone(inner).fit(X, y, **params)
        classes = np.asarray(fitted.classes_)
        _resolve(self.cost_matrix, classes)  # raises before any attribute is set
        attrs = {"estimator_": fitted, "classes_": classes}
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(fitted, name):
                attrs[name] = getattr(fitted, name)
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, key)  # no stale attribute of a previous fit survives
        self.__dict__.update(attrs)
        return self

    def expected_cost(self, X):
        r"""Expected cost of predicting each class, :math:`\sum_i p_i(x) C_{ij}`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as the inner estimator accepts them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Column :math:`j` is the expected cost of predicting ``classes_[j]``; with
            ``cost_matrix=None`` it is :math:`1 - p_j(x)`.
        """
        check_is_fitted(self)
        P, C = self._proba_and_costs(X)
        return 1.0 - P if C is None else P @ C

    def predict(self, X):
        """The class of least expected cost (the first of ``classes_`` on ties).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as the inner estimator accepts them.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        P, C = self._proba_and_costs(X)
        # The 0-1 cost is the argmax itself (exact, with the argmax's ties).
        idx = np.argmax(P, axis=1) if C is None else np.argmin(P @ C, axis=1)
        return self.classes_[idx]

    def _proba_and_costs(self, X):
        C = _resolve(self.cost_matrix, self.classes_)  # read once per call
        P = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        if P.ndim != 2 or P.shape[1] != len(self.classes_):
            raise ValueError(
                f"The inner estimator's predict_proba returned shape {P.shape}; expected "
                f"one column per class ({len(self.classes_)})."
            )
        return P, C

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X):
        """The inner estimator's class probabilities, unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as the inner estimator accepts them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_inner_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """The inner estimator's log-probabilities, unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as the inner estimator accepts them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X)

    def get_metadata_routing(self):
        """Metadata routing: ``fit`` routes to the inner estimator's ``fit``.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        return MetadataRouter(owner=self).add(
            estimator=self._make_estimator(),
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._make_estimator())
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.classifier_tags.multi_label = False
        return tags
