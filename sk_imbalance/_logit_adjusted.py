"""LogitAdjustedClassifier: long-tail learning via logit adjustment."""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseNeuralClassifier, fill_shared_doc, fit_atomically
from ._priors import check_prior, smooth_prior
from .losses import LogitAdjustedLoss

__all__ = ["LogitAdjustedClassifier"]


@fill_shared_doc
class LogitAdjustedClassifier(BaseNeuralClassifier):
    r"""Neural network classifier trained with logit adjustment for long-tailed data.

    The network's logits :math:`f(x)` are trained so that they estimate the
    *balanced* posterior (the pointwise mutual information :math:`\log p(y|x)/p(y)`
    up to a constant); the training prior :math:`\pi` supplies the rest
    (Menon et al., 2021). How the prior enters is set by ``adjustment``:

    - ``"loss"`` (default): train with
      :math:`-\log \operatorname{softmax}(f(x) + \tau \log \pi)_y`
      (with ``tau=1`` this is the Balanced Softmax loss);
    - ``"post_hoc"``: train plain cross-entropy, predict with
      :math:`f(x) - \tau \log \pi` (``tau`` can be changed after fitting);
    - ``"bias_init"``: plain cross-entropy with the output bias initialised to
      :math:`\tau \log \pi`; the same offset is removed at prediction;
    - ``"none"``: plain cross-entropy, raw logits (the ERM baseline).

    What ``predict`` optimises is a separate choice, ``objective``, which can be
    changed with ``set_params`` after fitting. With :math:`g(x)` the balanced logits
    above, the decision scores are :math:`g(x)` for ``"balanced"`` (minimise the
    balanced error), :math:`g(x) + \tau \log \pi` for ``"accuracy"`` (accuracy under
    the training prior) and :math:`g(x) + \tau \log q` for a deployment prior
    :math:`q`. ``predict_proba`` is the softmax of the scores, ``decision_function``
    the scores, so ``argmax(predict_proba) == predict`` always. The adjustment is
    never applied twice: the adjusted loss is not combined with a post-hoc
    subtraction. With ``adjustment="none"`` the raw logits estimate the training
    posterior, so ``"balanced"`` and ``"accuracy"`` both use them unchanged and a
    deployment prior :math:`q` gives the Bayes correction
    :math:`f(x) + \log q - \log \pi`.

    Read more in the :ref:`User Guide <logit_adjustment>`.

    Parameters
    ----------
    adjustment : {"loss", "post_hoc", "bias_init", "none"}, default="loss"
        Where the prior adjustment enters (see above).
    tau : float >= 0, default=1.0
        Temperature of the adjustment. ``tau=1`` is near optimal for the loss form
        (the paper's default); the post-hoc form benefits from tuning it.
    objective : "balanced", "accuracy" or array-like of shape (n_classes,), default="balanced"
        What ``predict``, ``predict_proba`` and ``decision_function`` target: the
        balanced error, accuracy under the training prior, or a known deployment
        prior (normalised to sum to 1, zero entries smoothed as the class prior).
    class_prior : array-like of shape (n_classes,) or None, default=None
        The training prior :math:`\pi`. ``None`` estimates it from ``y`` (weighted by
        ``sample_weight``, not by ``class_weight``). A class with zero mass gets half
        the prior of the rarest present class, so :math:`\log \pi` stays finite.
    class_weight : dict, "balanced" or None, default=None
        Weights multiplying each class's loss, as in scikit-learn.
    %(shared_params)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    class_prior_ : ndarray of shape (n_classes,)
        The (smoothed) training prior used for the adjustment.
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
    FocalClassifier : Hard-example reweighting losses for imbalanced data.
    sklearn.neural_network.MLPClassifier : The same network with plain cross-entropy.

    References
    ----------
    .. [1] A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit and S. Kumar,
       "Long-tail learning via logit adjustment", ICLR 2021.
    .. [2] J. Ren et al., "Balanced Meta-Softmax for Long-Tailed Visual
       Recognition", NeurIPS 2020.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sk_imbalance import LogitAdjustedClassifier
    >>> X, y = make_classification(500, 10, n_informative=5, n_classes=3,
    ...                            weights=[0.8, 0.15, 0.05], random_state=0)
    >>> clf = LogitAdjustedClassifier(max_iter=50, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> clf.set_params(objective="accuracy").predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints: dict = {
        **BaseNeuralClassifier._parameter_constraints,
        "adjustment": [StrOptions({"loss", "post_hoc", "bias_init", "none"})],
        "tau": [Interval(Real, 0, None, closed="left")],
        "objective": [StrOptions({"balanced", "accuracy"}), "array-like"],
        "class_prior": [None, "array-like"],
    }

    def __init__(
        self,
        adjustment="loss",
        tau=1.0,
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
        self.tau = tau
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
        self : LogitAdjustedClassifier
            The fitted estimator.
        """

        def _fit():
            Xv, y_enc, classes, sw, mass = self._prepare_fit(X, y, sample_weight)
            prior = self._class_prior_from(mass, len(classes))
            attrs = self._fit_classifier(Xv, y_enc, sw, prior)
            attrs.update(classes_=classes, class_prior_=prior)
            return attrs

        return fit_atomically(self, _fit)

    def _class_prior_from(self, mass, n_classes):
        if self.class_prior is None:
            return smooth_prior(mass)
        return check_prior(self.class_prior, n_classes, "class_prior")

    # -- what distinguishes this estimator: the loss, the bias and the decision rule
    def _make_criterion(self, class_prior):
        tau = self._effective_tau() if self.adjustment == "loss" else 0.0
        return LogitAdjustedLoss(torch.as_tensor(np.log(class_prior)), tau=tau, reduction="none")

    def _output_bias(self, class_prior):
        if self.adjustment != "bias_init":
            return None
        return torch.as_tensor(self._effective_tau() * np.log(class_prior))

    def _decision_scores_from_logits(self, logits):
        log_pi = np.log(self.class_prior_).astype(logits.dtype)
        objective = self.objective
        if isinstance(objective, str):
            if objective not in ("balanced", "accuracy"):
                raise ValueError(
                    f"objective must be 'balanced', 'accuracy' or a prior; got {objective!r}."
                )
            log_q = log_pi if objective == "accuracy" else None
        else:
            log_q = np.log(check_prior(objective, len(self.classes_), "objective"))
            log_q = log_q.astype(logits.dtype)
        if self.adjustment == "none":
            # Raw logits estimate the training posterior; only a prior shift changes them.
            return logits if log_q is None else logits + log_q - log_pi
        tau = self._effective_tau()
        balanced = logits if self.adjustment == "loss" else logits - tau * log_pi
        return balanced if log_q is None else balanced + tau * log_q

    def _training_prior_scores(self, logits):
        # Scores whose softmax estimates p(y | x) under the training prior.
        if self.adjustment == "none":
            return logits
        tau = self._effective_tau()
        log_pi = np.log(self.class_prior_).astype(logits.dtype)
        balanced = logits if self.adjustment == "loss" else logits - tau * log_pi
        return balanced + tau * log_pi

    def _effective_tau(self):
        return self.tau
