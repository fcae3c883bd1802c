"""ZLPRMultiLabelClassifier: multi-label learning with no thresholds to tune."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import torch
from scipy.sparse import issparse
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin, MultiOutputMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import type_of_target

from ._base import BaseNeuralEstimator, Problem, Targets
from ._classifier import encode_classes
from ._compat import Interval, StrOptions
from ._docs import fill_shared_doc
from .losses import MultiLabelBCELoss, MultiLabelFocalLoss, ShiftedScoresLoss, ZLPRLoss
from .networks import BoundedScores

__all__ = ["ZLPRMultiLabelClassifier"]


def _label_log_odds(Y, sample_weight):
    """Each label's (weighted) training log-odds; 0 for a label never or always present."""
    pi = (sample_weight @ Y) / sample_weight.sum()
    ok = (pi > 0) & (pi < 1)
    safe = np.where(ok, pi, 0.5)
    return np.where(ok, np.log(safe / (1 - safe)), 0.0)


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

    **Parameters after fitting.** ``threshold`` may be changed after fitting and acts
    at the next ``predict``. Every other parameter shaped training (``loss`` also
    decides how ``predict_proba`` reads the scores: the fitted ``loss_`` is used) and
    acts at the next ``fit`` only.

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
    tau : "auto" or float >= 0, default="auto"
        Logit adjustment of each label, in training only: the loss sees every score
        shifted, inside the bound, by :math:`\tau \log(\pi_i / (1 - \pi_i))`, with
        :math:`\pi_i` the label's (weighted) frequency among the training rows
        (:func:`sk_imbalance.losses.shift_scores`; a label that is never or always
        present gets no shift). The network's own scores, which ``predict`` compares
        with ``threshold``, then absorb the opposite shift: a rare label is predicted
        where its unadjusted score would have stayed below 0. :math:`\tau = 1` moves
        each label to the balanced decision (as many errors on its positives as on its
        negatives); the F1 score of a rare label is best in between, which is what
        ``tau`` sets without tuning a threshold per label. ``"auto"`` is 0.375 for
        ``loss="zlpr"`` and 0 (no shift) for ``"bce"``/``"focal"``, the baselines the
        method is compared with. 0.375 is this package's choice, measured on
        ``make_imbalanced_multilabel`` with a 50:1 long tail of label frequencies
        (``benchmarks/zlpr_vs_tuned_bce.py``; see the :ref:`User Guide <zlpr>`). The
        value used is ``tau_``, the shifts ``score_offset_``.
    %(shared_params)s

    Attributes
    ----------
    classes_ : ndarray
        ``arange(n_labels)`` for an indicator ``y``; the class labels for 1-D ``y``.
    n_labels_ : int
        Number of trained scores (1 for binary ``y``).
    target_type_ : {"multilabel", "binary", "multiclass"}
        The kind of ``y`` seen in fit.
    loss_ : str
        The ``loss`` the network was trained with.
    pos_weight_ : ndarray of shape (`n_labels_`,) or None
        The positive weights used (``"bce"``/``"focal"`` with ``pos_weight``).
    score_bound_ : float or None
        The score bound used (``score_bound`` with ``"auto"`` resolved).
    tau_ : float
        The logit-adjustment strength used (``tau`` with ``"auto"`` resolved).
    score_offset_ : ndarray of shape (`n_labels_`,) or None
        The shift of each label's score in training (None when ``tau_`` is 0).
    %(fitted_attrs)s

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
        "tau": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        loss="zlpr",
        threshold=0.0,
        pos_weight=None,
        gamma=2.0,
        score_bound="auto",
        tau="auto",
        n_members=8,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        feature_encoding=None,
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
        self.loss = loss
        self.threshold = threshold
        self.pos_weight = pos_weight
        self.gamma = gamma
        self.score_bound = score_bound
        self.tau = tau
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

    _multi_output = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _encode_targets(self, y):
        if issparse(y):  # e.g. MultiLabelBinarizer(sparse_output=True): small, densify
            y = y.toarray()
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is "
                "treated as 1-D labels. Pass a 1-D y to silence this warning.",
                DataConversionWarning,
                stacklevel=4,
            )
            y = y.ravel()
        kind = type_of_target(y, input_name="y", raise_unknown=True)
        if kind == "multilabel-indicator":
            if not np.isin(y, (0, 1)).all():
                raise ValueError(
                    "A 2-D y must be a label indicator matrix holding only 0 and 1; got "
                    f"the values {np.unique(y).tolist()}."
                )
            attrs = {"classes_": np.arange(y.shape[1]), "target_type_": "multilabel"}
            return Targets(y=y.astype(np.float64), attrs=attrs)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type: {kind!r}. {type(self).__name__} needs a 2-D 0/1 "
                "label indicator matrix (use sklearn.preprocessing.MultiLabelBinarizer "
                "for label sets) or 1-D class labels."
            )
        targets = encode_classes(self, y)
        n_classes = len(targets.attrs["classes_"])
        kind = "binary" if n_classes == 2 else "multiclass"
        Y = (
            targets.y[:, None].astype(np.float64)
            if kind == "binary"
            else np.eye(n_classes)[targets.y]
        )
        return Targets(y=Y, attrs={**targets.attrs, "target_type_": kind}, stratify=targets.y)

    def _problem(self, X, targets, sample_weight):
        Y = targets.y
        pos_weight = self._pos_weight(Y, sample_weight)
        if self.loss == "zlpr":
            criterion = ZLPRLoss(reduction="none")
        elif self.loss == "bce":
            criterion = MultiLabelBCELoss(pos_weight, reduction="none")
        else:
            criterion = MultiLabelFocalLoss(self.gamma, pos_weight, reduction="none")
        bound = self._score_bound(targets.attrs["target_type_"])
        tau = (0.375 if self.loss == "zlpr" else 0.0) if self.tau == "auto" else float(self.tau)
        offset = None
        if tau > 0:
            offset = tau * _label_log_odds(Y, sample_weight)
            criterion = ShiftedScoresLoss(criterion, torch.as_tensor(offset), bound)
        attrs = {
            "n_labels_": Y.shape[1],
            "loss_": self.loss,
            "score_bound_": bound,
            "pos_weight_": None if pos_weight is None else pos_weight.numpy(),
            "tau_": tau,
            "score_offset_": offset,
        }
        return Problem(criterion=criterion, n_outputs=Y.shape[1], attrs=attrs)

    def _build_module(self, n_features, n_outputs, problem):
        network = super()._build_module(n_features, n_outputs, problem)
        return BoundedScores(network, problem.attrs["score_bound_"])

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
        self.__dict__.setdefault("tau", 0.0)  # pickles from before tau: no shift

    def _upgrade_state(self, state):
        # state format 1: the bound in a criterion wrapper, the reading in private names
        old = state.pop("_bound", None)
        if old is not None:
            state.setdefault("score_bound_", old.bound_value)
        state["target_type_"] = state.pop("_target_kind", "multilabel")
        state["loss_"] = "zlpr" if state.pop("_proba_scale", None) == 2.0 else state["loss"]
        state["module_"] = BoundedScores(state["module_"], state.get("score_bound_"))
        return state

    # ------------------------------------------------------------- prediction
    def decision_function(self, X):
        """Label scores (bounded by ``score_bound``); ``predict`` marks those above ``threshold``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_labels) or (n_samples,)
            One score per label, or one per sample for binary 1-D ``y``.
        """
        return self._scores(self._validate_X_predict(X))

    def _scores(self, X):
        scores = self._forward(X)
        return scores[:, 0] if self.target_type_ == "binary" else scores

    def _predict_validated(self, X):
        return self._labels(self._scores(X))

    def _labels(self, scores):
        if self.target_type_ == "multiclass":
            return self.classes_[np.argmax(scores, axis=1)]
        above = (scores > self.threshold).astype(np.int64)
        return self.classes_[above] if self.target_type_ == "binary" else above

    def predict(self, X):
        """Indicator matrix of scores above ``threshold`` (labels for 1-D ``y``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_labels) or (n_samples,)
            A 0/1 indicator matrix, or labels from ``classes_`` for 1-D ``y``.
        """
        return self._labels(self.decision_function(X))

    def predict_proba(self, X):
        """Per-label readings in (0, 1) of the scores (see the class docstring).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_labels) or (n_samples, n_classes)
            One value per label, or per class for 1-D ``y``.
        """
        scores = self.decision_function(X)
        if self.target_type_ == "multiclass":
            return softmax(scores, axis=1)
        p = expit((2.0 if self.loss_ == "zlpr" else 1.0) * scores)
        return np.column_stack([1.0 - p, p]) if self.target_type_ == "binary" else p


class _LegacyBoundedScores(torch.nn.Module):
    """Only to unpickle state-format-1 models, whose criterion applied the bound."""


def __getattr__(name):
    if name == "_BoundedScores":  # the criterion wrapper of state format 1
        return _LegacyBoundedScores
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
