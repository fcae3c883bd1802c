"""FocalClassifier: focal loss and its relatives (hard truncation, GHM-C, label smoothing)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseNeuralClassifier, fill_shared_doc, fit_atomically
from ._priors import smooth_prior
from .losses import FocalLoss, GHMCLoss, LabelSmoothingLoss, TruncatedLoss, label_smoothing_loss

__all__ = ["FocalClassifier"]


@fill_shared_doc
class FocalClassifier(BaseNeuralClassifier):
    r"""Neural network classifier trained with focal loss or a relative of it.

    Hard-example reweighting: on imbalanced data the many easy (mostly majority)
    examples dominate the cross-entropy gradient; these losses make them count less.
    With :math:`p = \operatorname{softmax}(f(x))` over the network's ``n_classes``
    logits and :math:`\alpha_y` the class weight of a sample's true class, ``loss``
    picks the per-sample objective:

    - ``"focal"`` (default, Lin et al. 2017):
      :math:`-\alpha_y (1 - p_y)^\gamma \log p_y`; ``gamma=0`` is cross-entropy.
      For two classes this is the binary (sigmoid) focal loss of the logit difference.
    - ``"truncated"``: :math:`-\alpha_y\, \theta(m - p_y) \log p_y`, cross-entropy that
      ignores samples whose true-class probability exceeds the ``margin`` :math:`m`;
      with ``sharpness`` :math:`k` the step becomes :math:`\operatorname{sigmoid}(k x)`.
    - ``"ghm"`` (GHM-C, Li et al. 2019): :math:`-\alpha_y w_i \log p_y` with
      :math:`w_i` inversely proportional to the density of the gradient norm
      :math:`g = 1 - p_y` over ``bins`` bins (moving average with ``momentum``),
      normalised to average 1 on each batch. As these weights move while the
      network learns, ``loss_curve_`` and the stopping rule track the
      (:math:`\alpha`-weighted) cross-entropy; the gradient is GHM-C's.
    - ``"cross_entropy"``: :math:`-\alpha_y \log p_y`, the baseline.

    ``label_smoothing`` :math:`\varepsilon` replaces the one-hot target by
    :math:`(1 - \varepsilon)\,\mathrm{onehot}(y) + \varepsilon / K` (``"focal"`` and
    ``"cross_entropy"`` only). All losses are computed from ``log_softmax``.

    Read more in the :ref:`User Guide <focal>`.

    Parameters
    ----------
    loss : {"focal", "truncated", "ghm", "cross_entropy"}, default="focal"
        The training objective (see above). Parameters of the other losses are
        ignored.
    gamma : float >= 0, default=2.0
        Focusing parameter of the focal loss (the paper's default).
    alpha : "balanced", float in (0, 1), array-like or None, default="balanced"
        Class weights :math:`\alpha_y` of every loss. ``"balanced"`` uses
        :math:`\alpha_y = 1 / (K \pi_y)` from the (sample-weighted) class frequencies
        :math:`\pi`, so the weights average 1 over the training set: the default,
        since the package is for imbalanced data (the paper's ``alpha=0.25`` for the
        positive class is tuned to detection, not to classification). A float is the
        weight of the positive class ``classes_[1]`` with :math:`1 - \alpha` for
        ``classes_[0]`` (binary only). An array gives one non-negative weight per class
        in the order of ``classes_``. ``None`` weights all classes equally. GHM-C
        already up-weights the rare, hard examples; combined with ``"balanced"`` it
        can over-correct (predict the rare class everywhere), so try ``alpha=None``
        with ``loss="ghm"``.
    margin : float in (0, 1), default=0.7
        Margin :math:`m` of ``loss="truncated"`` (0.6 to 0.8 is the usual range).
    sharpness : float > 0 or None, default=None
        :math:`k` of the smoothed truncation ``sigmoid(k (m - p_y))``; ``None`` is the
        hard step. Values around 10 to 50 approximate the step.
    bins : int >= 1, default=10
        Number of gradient-norm bins of ``loss="ghm"`` (``bins=1`` is cross-entropy).
    momentum : float in [0, 1), default=0.75
        Momentum of GHM-C's moving-average density (the paper's 0.75); 0 uses each
        batch's own density.
    label_smoothing : float in [0, 1), default=0.0
        :math:`\varepsilon` above.
    class_weight : dict, "balanced" or None, default=None
        scikit-learn class weights, applied as sample weights. They multiply
        ``alpha``; set one of the two (``alpha=None`` to use ``class_weight``).
    %(shared_params)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    alpha_ : ndarray of shape (n_classes,) or None
        The class weights :math:`\alpha` used in training.
    class_prior_ : ndarray of shape (n_classes,)
        (Sample-weighted, smoothed) class frequencies of the training data.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.
    n_iter_ : int
        Number of epochs run.
    loss_curve_ : list of float
        Mean training loss of each epoch.
    validation_loss_curve_ : list of float
        Validation loss of each epoch (only with ``early_stopping=True``).
    best_validation_loss_ : float
        Best validation loss, whose weights were restored (``early_stopping=True``).
    device_ : str
        Device the network lives on.
    net_ : skorch.NeuralNet
        The fitted skorch net (private composition; its ``module_`` is the network).

    See Also
    --------
    LogitAdjustedClassifier : Prior-corrected cross-entropy for long-tailed data.
    imblearn.over_sampling.SMOTE : Resampling, the incumbent answer to imbalance.

    References
    ----------
    .. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss for
       Dense Object Detection", ICCV 2017.
    .. [2] B. Li, Y. Liu and X. Wang, "Gradient Harmonized Single-stage Detector",
       AAAI 2019.
    .. [3] C. Szegedy et al., "Rethinking the Inception Architecture for Computer
       Vision", CVPR 2016 (label smoothing).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sk_imbalance import FocalClassifier
    >>> X, y = make_classification(500, 10, weights=[0.95], random_state=0)
    >>> clf = FocalClassifier(max_iter=50, random_state=0).fit(X, y)
    >>> clf.alpha_.round(2)
    array([0.53, 8.06])
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        **BaseNeuralClassifier._parameter_constraints,
        "loss": [StrOptions({"focal", "truncated", "ghm", "cross_entropy"})],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "alpha": [
            None,
            StrOptions({"balanced"}),
            Interval(Real, 0, 1, closed="neither"),
            "array-like",
        ],
        "margin": [Interval(Real, 0, 1, closed="neither")],
        "sharpness": [None, Interval(Real, 0, None, closed="neither")],
        "bins": [Interval(Integral, 1, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        loss="focal",
        gamma=2.0,
        alpha="balanced",
        margin=0.7,
        sharpness=None,
        bins=10,
        momentum=0.75,
        label_smoothing=0.0,
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
        self.loss = loss
        self.gamma = gamma
        self.alpha = alpha
        self.margin = margin
        self.sharpness = sharpness
        self.bins = bins
        self.momentum = momentum
        self.label_smoothing = label_smoothing
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (NumPy, pandas or anything array-like; dense only).
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights; integer weights are equivalent to
            repeating samples.

        Returns
        -------
        self : FocalClassifier
            The fitted estimator.
        """
        if self.label_smoothing > 0 and self.loss in ("truncated", "ghm"):
            raise ValueError(
                f"label_smoothing={self.label_smoothing} is supported with loss='focal' "
                f"or loss='cross_entropy' only; got loss={self.loss!r}."
            )

        def _fit():
            Xv, y_enc, classes, sw, mass = self._prepare_fit(X, y, sample_weight)
            prior = smooth_prior(mass)
            alpha = self._resolve_alpha(prior)  # validates before training
            attrs = self._fit_classifier(Xv, y_enc, sw, prior)
            attrs.update(classes_=classes, alpha_=alpha, class_prior_=prior)
            return attrs

        return fit_atomically(self, _fit)

    def _resolve_alpha(self, prior):
        alpha, n_classes = self.alpha, len(prior)
        if alpha is None:
            return None
        if isinstance(alpha, str):  # "balanced" (the only string the constraints allow)
            return 1.0 / (n_classes * prior)
        if isinstance(alpha, Real):
            if n_classes != 2:
                raise ValueError(
                    f"A float alpha ({alpha}) is the positive-class weight of a binary "
                    f"problem; got {n_classes} classes. Pass 'balanced' or one weight "
                    "per class."
                )
            return np.array([1.0 - alpha, alpha])
        arr = np.asarray(alpha, dtype=np.float64)
        if arr.ndim != 1 or arr.shape[0] != n_classes:
            raise ValueError(
                f"alpha must have one weight per class ({n_classes}); got shape {arr.shape}."
            )
        if not np.all(np.isfinite(arr)) or np.any(arr < 0) or not arr.sum() > 0:
            raise ValueError(f"alpha must be finite, non-negative and not all zero; got {arr}.")
        return arr

    def _make_criterion(self, class_prior):
        alpha = self._resolve_alpha(class_prior)
        alpha = None if alpha is None else torch.as_tensor(alpha)
        if self.loss == "focal":
            return FocalLoss(self.gamma, alpha, self.label_smoothing, reduction="none")
        if self.loss == "truncated":
            return TruncatedLoss(self.margin, self.sharpness, alpha, reduction="none")
        if self.loss == "ghm":
            return _ReportCrossEntropy(GHMCLoss(self.bins, self.momentum, alpha, reduction="none"))
        return LabelSmoothingLoss(self.label_smoothing, alpha, reduction="none")

    def _training_prior_scores(self, logits):
        # Undo the class reweighting (exact for weighted cross-entropy, approximate for
        # gamma > 0), so that fit_prior_shift's EM starts from p(y | x) under the prior.
        if self.alpha_ is None:
            return logits
        return logits - np.log(np.maximum(self.alpha_, 1e-300)).astype(logits.dtype)

    def predict_proba(self, X):
        r"""Class probabilities: the softmax of the network's logits.

        They are **not calibrated** estimates of :math:`p(y|x)`. With
        ``alpha="balanced"`` (or any class weights) the network fits a reweighted
        posterior :math:`\propto \alpha_y\, p(y|x)`, so rare classes get probabilities
        far above their true frequency (which is what moves ``predict`` towards them);
        for weighted cross-entropy :math:`\log \alpha` can be subtracted from the
        logits to undo this. ``gamma > 0`` additionally pulls the probabilities of
        confident predictions towards the middle (focal-trained networks are
        under-confident), GHM-C and truncation stop fitting probabilities once
        examples are easy, and label smoothing pulls them towards
        at most :math:`1 - \varepsilon (K - 1) / K`. Use them for ranking (ROC AUC, average
        precision) and thresholds; calibrate them (e.g. with
        :class:`~sklearn.calibration.CalibratedClassifierCV`) before reading them as
        frequencies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return super().predict_proba(X)


class _ReportCrossEntropy(torch.nn.Module):
    r"""Train with a reweighting criterion's gradient, report (alpha-weighted) cross-entropy.

    GHM-C's weights move as examples change bins, so its loss value does not decrease
    as the network improves and is useless to the stopping rule. The returned value is
    the cross-entropy :math:`-\alpha_y \log p_y`; its gradient is the wrapped loss's.
    """

    def __init__(self, loss):
        super().__init__()
        self.loss = loss
        self.uses_sample_weight = getattr(loss, "uses_sample_weight", False)

    def forward(self, logits, target, **kwargs):
        train = self.loss(logits, target, **kwargs)
        report = label_smoothing_loss(logits, target, 0.0, self.loss.alpha, reduction="none")
        return report + (train - train.detach()) - (report - report.detach())
