"""FocalClassifier: focal loss and its relatives (hard truncation, GHM-C, label smoothing)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch

from ._base import Problem
from ._classifier import BaseNeuralClassifier, DecisionRule
from ._compat import Interval, StrOptions
from ._docs import fill_shared_doc
from .losses import FocalLoss, GHMCLoss, LabelSmoothingLoss, ReportedLoss, TruncatedLoss
from .prior_shift import smooth_prior

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
      :math:`-\alpha_y (1 - p_y)^{\gamma_y} \log p_y`; ``gamma=0`` is cross-entropy.
      For two classes this is the binary (sigmoid) focal loss of the logit difference.
      ``focus`` says which classes are focused: with ``"frequent"`` (default)
      :math:`\gamma_y = \gamma` for the classes whose training share is at least
      :math:`1/K` and :math:`\gamma_y = 0` (the :math:`\alpha`-weighted
      cross-entropy) for the rarer ones; with ``"all"``, Lin et al.'s loss,
      :math:`\gamma_y = \gamma` for every class. On exactly balanced data the two
      are the same loss.
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

    **Parameters after fitting.** None acts at prediction: every parameter shaped
    training, and a changed value acts at the next ``fit`` only (the decision rule is
    the argmax of the logits; :meth:`fit_prior_shift` reads the fitted ``alpha_``).

    **Calibration.** With ``calibration``, the training-prior scores
    :math:`f(x) - \log \alpha` (the class reweighting undone, exact for weighted
    cross-entropy) are calibrated, :math:`c(x) = s \odot (f(x) - \log \alpha) + b`,
    and the decision scores are :math:`c(x) + \log \alpha` (the same reweighting put
    back), so ``predict_proba`` stays a reweighted posterior whose argmax favours the
    rare classes as the uncalibrated one does; :meth:`fit_prior_shift` runs EM on
    :math:`\operatorname{softmax} c(x)`.

    Read more in the :ref:`User Guide <focal>`.

    Parameters
    ----------
    loss : {"focal", "truncated", "ghm", "cross_entropy"}, default="focal"
        The training objective (see above). Parameters of the other losses are
        ignored.
    gamma : float >= 0, default=2.0
        Focusing parameter of the focal loss (the paper's default).
    focus : {"frequent", "all"}, default="frequent"
        Which classes the focal loss focuses (``loss="focal"`` only). ``"frequent"``
        down-weights the easy examples of the classes at least as frequent as the
        uniform share :math:`1/K` only, and trains the rarer classes with the
        (``alpha``-weighted) cross-entropy: a network fits the few rows of a rare class
        early, and Lin et al.'s symmetric loss then down-weights exactly those rows,
        which moves the decision back towards the frequent classes (asymmetric
        focusing, as Ridnik et al.'s ASL does for the negatives of multi-label data).
        On the 28 KEEL development sets it raised the G-mean from 0.855 to 0.878
        (class-weighted cross-entropy: 0.865) and on long-tailed digits the balanced
        accuracy from 0.746 to 0.765 (see the user guide). ``"all"`` focuses every
        class (the paper's loss; what this estimator trained before ``focus`` existed).
    alpha : "balanced", float in (0, 1), dict, array-like or None, default="balanced"
        Class weights :math:`\alpha_y` of every loss; this estimator's only class
        weighting (it plays the part of scikit-learn's ``class_weight``, which it
        therefore does not have). ``"balanced"`` uses
        :math:`\alpha_y = 1 / (K \pi_y)` from the (sample-weighted) class frequencies
        :math:`\pi`, so the weights average 1 over the training set: the default,
        since the package is for imbalanced data (the paper's ``alpha=0.25`` for the
        positive class is tuned to detection, not to classification). A float is the
        weight of the positive class ``classes_[1]`` with :math:`1 - \alpha` for
        ``classes_[0]`` (binary only). A dict maps class labels to weights (classes
        left out weigh 1, as in scikit-learn's ``class_weight``); an array gives one
        non-negative weight per class in the order of ``classes_``. ``None`` weights
        all classes equally. GHM-C
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
    %(shared_params)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    alpha_ : ndarray of shape (n_classes,) or None
        The class weights :math:`\alpha` used in training.
    gamma_ : ndarray of shape (n_classes,) or None
        The focusing parameter :math:`\gamma_y` of each class used in training
        (``loss="focal"``; ``None`` for the other losses).
    class_prior_ : ndarray of shape (n_classes,)
        (Sample-weighted, smoothed) class frequencies of the training data.
    %(calibration_attrs)s
    %(fitted_attrs)s
    validation_loss_curve_ : list of float
        Validation loss of each epoch (only with ``early_stopping=True``).
    best_validation_loss_ : float
        Best validation loss, whose weights were restored (``early_stopping=True``).

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
    .. [4] T. Ridnik, E. Ben-Baruch, N. Zamir, A. Noy, I. Friedman, M. Protter and
       L. Zelnik-Manor, "Asymmetric Loss for Multi-Label Classification", ICCV 2021
       (focusing the negatives only).

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
        **{
            k: v
            for k, v in BaseNeuralClassifier._parameter_constraints.items()
            if k != "class_weight"
        },
        "loss": [StrOptions({"focal", "truncated", "ghm", "cross_entropy"})],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "focus": [StrOptions({"frequent", "all"})],
        "alpha": [
            None,
            StrOptions({"balanced"}),
            Interval(Real, 0, 1, closed="neither"),
            dict,
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
        focus="frequent",
        alpha="balanced",
        margin=0.7,
        sharpness=None,
        bins=10,
        momentum=0.75,
        label_smoothing=0.0,
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
        self.loss = loss
        self.gamma = gamma
        self.focus = focus
        self.alpha = alpha
        self.margin = margin
        self.sharpness = sharpness
        self.bins = bins
        self.momentum = momentum
        self.label_smoothing = label_smoothing
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

    def _problem(self, X, targets, sample_weight):
        if self.label_smoothing > 0 and self.loss in ("truncated", "ghm"):
            raise ValueError(
                f"label_smoothing={self.label_smoothing} is supported with loss='focal' "
                f"or loss='cross_entropy' only; got loss={self.loss!r}."
            )
        prior = smooth_prior(self._class_masses(targets, sample_weight))
        alpha = self._resolve_alpha(prior, targets.attrs["classes_"])
        gamma = self._resolve_gamma(prior)
        return Problem(
            criterion=self._make_criterion(
                None if alpha is None else torch.as_tensor(alpha), gamma
            ),
            n_outputs=len(prior),
            attrs={"alpha_": alpha, "gamma_": gamma, "class_prior_": prior},
        )

    def _resolve_gamma(self, prior):
        """The focusing parameter of each class (``None`` unless ``loss="focal"``)."""
        if self.loss != "focal":
            return None
        gamma = np.full(len(prior), float(self.gamma))
        if self.focus == "frequent":
            # at least the uniform share (up to rounding: balanced data focuses all)
            gamma[prior < (1.0 - 1e-9) / len(prior)] = 0.0
        return gamma

    def _resolve_alpha(self, prior, classes):
        alpha, n_classes = self.alpha, len(prior)
        if alpha is None:
            return None
        if isinstance(alpha, str):  # "balanced" (the only string the constraints allow)
            return 1.0 / (n_classes * prior)
        if isinstance(alpha, dict):
            unknown = [label for label in alpha if label not in set(classes.tolist())]
            if unknown:
                raise ValueError(
                    f"alpha names classes not in the training data: {unknown}; the "
                    f"classes are {classes.tolist()}."
                )
            alpha = [alpha.get(label, 1.0) for label in classes.tolist()]
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

    def _make_criterion(self, alpha, gamma):
        if self.loss == "focal":
            # one number when every class has the same (the loss's scalar fast paths)
            g = gamma[0] if np.all(gamma == gamma[0]) else torch.as_tensor(gamma)
            return FocalLoss(g, alpha, self.label_smoothing, reduction="none")
        if self.loss == "truncated":
            return TruncatedLoss(self.margin, self.sharpness, alpha, reduction="none")
        if self.loss == "ghm":
            # GHM-C's weights move with the network: report (alpha-weighted) cross-entropy
            return ReportedLoss(
                GHMCLoss(self.bins, self.momentum, alpha, reduction="none"),
                LabelSmoothingLoss(0.0, alpha, reduction="none"),
            )
        return LabelSmoothingLoss(self.label_smoothing, alpha, reduction="none")

    def __setstate__(self, state):
        super().__setstate__(state)
        # pickles from before ``focus``: every class was focused
        self.__dict__.setdefault("focus", "all")

    def _decision_rule(self):
        return DecisionRule(np.zeros(len(self.classes_)))

    def _training_prior_rule(self):
        # Undo the class reweighting (exact for weighted cross-entropy, approximate for
        # gamma > 0), so that fit_prior_shift's EM starts from p(y | x) under the prior.
        if self.alpha_ is None:
            return self._decision_rule()
        return DecisionRule(-np.log(np.maximum(self.alpha_, 1e-300)))

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
        precision) and thresholds. With ``calibration="bcts"`` (or ``"temperature"``)
        the training-prior posterior is calibrated on out-of-sample logits and these
        probabilities are its reweighting by ``alpha_``,
        :math:`\propto \alpha_y\, p_{\mathrm{cal}}(y|x)`: with ``alpha=None`` they are
        the calibrated posterior itself, and after :meth:`fit_prior_shift` (whatever
        ``alpha``) the calibrated posterior moved to the estimated deployment prior. Do not wrap the estimator in scikit-learn's
        ``CalibratedClassifierCV``: it re-learns the class mix of its calibration
        labels and undoes the reweighting that ``alpha`` put in (see the user guide,
        "Probabilities and decisions").

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return super().predict_proba(X)
