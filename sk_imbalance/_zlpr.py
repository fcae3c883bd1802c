"""ZLPRMultiLabelClassifier: multi-label learning with no thresholds to tune."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import torch
from scipy.sparse import issparse
from scipy.special import expit
from sklearn.base import ClassifierMixin, MultiOutputMixin, _fit_context
from sklearn.exceptions import DataConversionWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import validate_data

from ._base import (
    BaseNeuralEstimator,
    _check_labels,
    _check_weights,
    _softmax,
    fill_shared_doc,
    fit_atomically,
)
from .losses import MultiLabelBCELoss, MultiLabelFocalLoss, ZLPRLoss

__all__ = ["ZLPRMultiLabelClassifier"]


@fill_shared_doc
class ZLPRMultiLabelClassifier(MultiOutputMixin, ClassifierMixin, BaseNeuralEstimator):
    r"""Neural multi-label classifier trained with the ZLPR loss (no thresholds to tune).

    One score :math:`s_i(x)` per label, trained with the ZLPR loss (Su et al., 2022)

    .. math:: \ell = \log\Big(1 + \sum_{i \in N} e^{s_i}\Big)
                   + \log\Big(1 + \sum_{j \in P} e^{-s_j}\Big),

    :math:`P`/:math:`N` the positive/negative labels of the sample: "softmax +
    cross-entropy" generalised to several positives, with a zero "threshold" score that
    every positive must beat and every negative must stay under. Label ``i`` is
    predicted when :math:`s_i > 0`, without per-label weights or threshold tuning.
    ``loss`` switches to the baselines the method is compared with: one binary
    cross-entropy per label (with ``pos_weight``) or sigmoid focal loss.

    ``y`` is a 2-D 0/1 indicator matrix (turn label sets into one with
    :class:`sklearn.preprocessing.MultiLabelBinarizer`). A 1-D ``y`` is accepted too:
    two classes train one score (``predict`` gives ``classes_[1]`` when it exceeds
    ``threshold``), more classes train on one-hot targets and predict the argmax.

    ``predict_proba`` for ``loss="zlpr"`` returns :math:`\sigma(2 s_i)`: the soft-label
    reading of the loss (training with a soft target :math:`p_i` drives :math:`s_i`
    to :math:`\tfrac12 \operatorname{logit} p_i`), so 0.5 is the threshold 0. It
    orders samples like the scores but is **not** a calibrated probability: the labels
    interact through the log-sum-exp, and with a single label the loss is the logistic
    loss, whose calibrated reading would be :math:`\sigma(s)`. For ``"bce"`` and
    ``"focal"`` it is :math:`\sigma(s_i)` (calibrated only for plain BCE). For 1-D
    targets it is ``[1 - p, p]`` (binary) or the softmax of the scores (multi-class).

    Read more in the :ref:`User Guide <zlpr>`.

    Parameters
    ----------
    loss : {"zlpr", "bce", "focal"}, default="zlpr"
        Training loss: ZLPR, binary cross-entropy per label, or sigmoid focal loss per
        label (see :mod:`sk_imbalance.losses`).
    threshold : float, default=0.0
        ``predict`` marks label ``i`` when its score exceeds it. 0 is the threshold
        every loss here is built around; ``decision_function`` returns raw scores.
    pos_weight : None, "balanced" or array-like of shape (n_labels,), default=None
        Weight of each label's positive term for ``"bce"`` and ``"focal"``;
        ``"balanced"`` uses (weighted) ``n_negative / n_positive`` per label (1 for a
        label without positives or negatives). ZLPR needs none: setting it with
        ``loss="zlpr"`` is an error.
    gamma : float >= 0, default=2.0
        Focusing parameter of ``loss="focal"`` (the paper's default).
    score_bound : "auto", float > 0 or None, default="auto"
        The scores are :math:`s = b \tanh(f / b)` of the network outputs :math:`f`,
        bounded in :math:`(-b, b)` for training and prediction (``None``: :math:`s = f`).
        The order and the sign of the outputs are kept, so a fitted network predicts
        the same labels at threshold 0 with any bound; what the bound changes is
        training. It caps how confident the network may become: the ZLPR loss of a
        sample can no longer be driven to 0, so every sample keeps contributing
        gradient (an effect like label smoothing's) instead of the network
        memorising the training labels with ever larger scores.

        ``"auto"`` bounds the logit that ``predict_proba`` reads per label at
        :math:`\pm 4`, so its values lie within :math:`[\sigma(-4), \sigma(4)] =
        [0.018, 0.982]`: 2.0 for ``loss="zlpr"`` (read as :math:`\sigma(2 s)`), 4.0
        for ``"bce"``/``"focal"`` (read as :math:`\sigma(s)`). For 1-D multi-class
        ``y``, whose ``predict_proba`` is a softmax over the scores that a tight bound
        would cap, it is 10.0. These are this package's choices, not the paper's:
        on four synthetic multi-label data sets (``benchmarks/zlpr_score_bound.py``)
        they gave a higher micro-, macro- and samples-F1 than a bound of 10 for every
        loss and data set (see the :ref:`User Guide <zlpr>`). The value used is
        ``score_bound_``.
    %(shared_params)s

    Attributes
    ----------
    classes_ : ndarray
        ``arange(n_labels)`` for an indicator ``y``; the class labels for 1-D ``y``.
    n_labels_ : int
        Number of trained scores (1 for binary ``y``).
    pos_weight_ : ndarray of shape (`n_labels_`,) or None
        The positive weights used (``"bce"``/``"focal"`` with ``pos_weight``).
    score_bound_ : float or None
        The score bound used (``score_bound`` with ``"auto"`` resolved).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.
    n_iter_ : int
        Number of epochs run.
    loss_curve_ : list of float
        Mean training loss of each epoch.
    device_ : str
        Device the network lives on.
    net_ : skorch.NeuralNet
        The fitted skorch net (private composition; its ``module_`` is the network).

    See Also
    --------
    sklearn.neural_network.MLPClassifier : One logistic output per label, threshold 0.5.
    sklearn.preprocessing.MultiLabelBinarizer : Label sets to an indicator matrix.

    References
    ----------
    .. [1] J. Su, M. Zhu, A. Murtadha, S. Pan, B. Wen and Y. Liu, "ZLPR: A Novel Loss
       for Multi-label Classification", arXiv:2208.02955, 2022.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sk_imbalance import ZLPRMultiLabelClassifier
    >>> X, Y = make_multilabel_classification(300, 10, n_classes=5, random_state=0)
    >>> clf = ZLPRMultiLabelClassifier(max_iter=50, random_state=0).fit(X, Y)
    >>> clf.predict(X[:2]).shape
    (2, 5)
    >>> bool(((clf.decision_function(X) > 0) == clf.predict(X)).all())
    True
    """

    _parameter_constraints: dict = {
        **BaseNeuralEstimator._parameter_constraints,
        "loss": [StrOptions({"zlpr", "bce", "focal"})],
        "threshold": [Real],
        "pos_weight": [None, StrOptions({"balanced"}), "array-like"],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "score_bound": [None, StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        loss="zlpr",
        threshold=0.0,
        pos_weight=None,
        gamma=2.0,
        score_bound="auto",
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
        self.loss = loss
        self.threshold = threshold
        self.pos_weight = pos_weight
        self.gamma = gamma
        self.score_bound = score_bound
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (dense).
        y : array-like of shape (n_samples, n_labels) or (n_samples,)
            0/1 label indicator matrix (dense or sparse), or 1-D binary / multi-class
            labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights.

        Returns
        -------
        self : ZLPRMultiLabelClassifier
            The fitted estimator.
        """

        def _fit():
            Xv, Y, classes, stratify, kind = self._encode_targets(X, y)
            sw = _check_weights(sample_weight, Xv)
            pos_weight = self._pos_weight(Y, sw)
            if self.loss == "zlpr":
                criterion = ZLPRLoss(reduction="none")
            elif self.loss == "bce":
                criterion = MultiLabelBCELoss(pos_weight, reduction="none")
            else:
                criterion = MultiLabelFocalLoss(self.gamma, pos_weight, reduction="none")
            bound = self._score_bound(kind)
            criterion = _BoundedScores(criterion, bound)
            attrs = self._fit_network(Xv, Y, sw, Y.shape[1], criterion, stratify=stratify)
            attrs.update(classes_=classes, n_labels_=Y.shape[1], _target_kind=kind)
            # the decision rule uses the fit-time bound and loss, whatever set_params does
            attrs.update(
                score_bound_=bound,
                _proba_scale=2.0 if self.loss == "zlpr" else 1.0,
            )
            attrs["pos_weight_"] = None if pos_weight is None else pos_weight.numpy()
            return attrs

        return fit_atomically(self, _fit)

    def _encode_targets(self, X, y):
        _check_labels(y)
        X, y = validate_data(self, X, y, multi_output=True, dtype=[np.float64, np.float32])
        if issparse(y):  # e.g. MultiLabelBinarizer(sparse_output=True): small, densify
            y = y.toarray()
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is "
                "treated as 1-D labels. Pass a 1-D y to silence this warning.",
                DataConversionWarning,
                stacklevel=3,
            )
            y = y.ravel()
        kind = type_of_target(y, input_name="y", raise_unknown=True)
        if kind == "multilabel-indicator":
            if not np.isin(y, (0, 1)).all():
                raise ValueError(
                    "A 2-D y must be a label indicator matrix holding only 0 and 1; got "
                    f"the values {np.unique(y).tolist()}."
                )
            return X, y.astype(np.float64), np.arange(y.shape[1]), None, "multilabel"
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type: {kind!r}. {type(self).__name__} needs a 2-D 0/1 "
                "label indicator matrix (use sklearn.preprocessing.MultiLabelBinarizer "
                "for label sets) or 1-D class labels."
            )
        classes, y_enc = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data; "
                f"got only one class: {classes.tolist()[0]!r}."
            )
        if classes.shape[0] == 2:
            return X, y_enc[:, None].astype(np.float64), classes, y_enc, "binary"
        return X, np.eye(classes.shape[0])[y_enc], classes, y_enc, "multiclass"

    def _score_bound(self, kind):
        if self.score_bound != "auto":
            return None if self.score_bound is None else float(self.score_bound)
        if kind == "multiclass":  # a softmax reading, which a tight bound would cap
            return 10.0
        # predict_proba reads sigmoid(2 s) for ZLPR, sigmoid(s) otherwise: logit within +-4
        return 2.0 if self.loss == "zlpr" else 4.0

    def _pos_weight(self, Y, sw):
        if self.pos_weight is None:
            return None
        if self.loss == "zlpr":
            raise ValueError(
                "pos_weight is for loss='bce' or loss='focal'; the ZLPR loss needs no "
                "per-label weights. Set pos_weight=None or choose another loss."
            )
        if isinstance(self.pos_weight, str):
            pos = sw @ Y
            neg = sw.sum() - pos
            ok = (pos > 0) & (neg > 0)
            pw = np.where(ok, neg / np.where(ok, pos, 1.0), 1.0)
        else:
            pw = np.asarray(self.pos_weight, dtype=np.float64).ravel()
            if pw.shape != (Y.shape[1],) or not np.all(np.isfinite(pw)) or np.any(pw < 0):
                raise ValueError(
                    f"pos_weight must hold {Y.shape[1]} finite non-negative values (one "
                    f"per trained score); got shape {pw.shape}."
                )
        return torch.as_tensor(pw)

    def __setstate__(self, state):
        super().__setstate__(state)
        # fitted before score_bound_ was recorded: the fit's bound is in _bound
        old = self.__dict__.pop("_bound", None)
        if old is not None:
            self.__dict__.setdefault("score_bound_", old.bound_value)

    # ------------------------------------------------------------- prediction
    def decision_function(self, X):
        """Label scores (bounded by ``score_bound``); ``predict`` marks those above ``threshold``.

        Returns
        -------
        ndarray of shape (n_samples, n_labels), or (n_samples,) for binary 1-D ``y``
        """
        X = self._validate_X_predict(X)
        bound = self.score_bound_
        scores = self._forward(X, lambda module, Xc: _bounded(module(Xc), bound))
        return scores[:, 0] if self._target_kind == "binary" else scores

    def predict(self, X):
        """Indicator matrix of scores above ``threshold`` (labels for 1-D ``y``).

        Returns
        -------
        ndarray of shape (n_samples, n_labels) of int, or (n_samples,) of labels
        """
        scores = self.decision_function(X)
        if self._target_kind == "multiclass":
            return self.classes_[np.argmax(scores, axis=1)]
        above = (scores > self.threshold).astype(np.int64)
        return self.classes_[above] if self._target_kind == "binary" else above

    def predict_proba(self, X):
        """Per-label readings in (0, 1) of the scores (see the class docstring).

        Returns
        -------
        ndarray of shape (n_samples, n_labels), or (n_samples, n_classes) for 1-D ``y``
        """
        scores = self.decision_function(X)
        if self._target_kind == "multiclass":
            return _softmax(scores)
        p = expit(self._proba_scale * scores)
        return np.column_stack([1.0 - p, p]) if self._target_kind == "binary" else p


def _bounded(outputs, bound):
    """The scores ``b * tanh(f / b)`` of the network outputs ``f`` (``f`` for no bound)."""
    return outputs if bound is None else bound * torch.tanh(outputs / bound)


class _BoundedScores(torch.nn.Module):
    """Criterion wrapper applying the score bound ``b * tanh(f / b)`` before the loss."""

    def __init__(self, criterion, bound):
        super().__init__()
        self.criterion = criterion
        self.bound_value = None if bound is None else float(bound)

    def forward(self, outputs, target):
        return self.criterion(_bounded(outputs, self.bound_value), target)
