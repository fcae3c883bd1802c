r"""Post-hoc calibration of logits, and calibration metrics (pure NumPy and SciPy).

Three affine maps of a classifier's logits :math:`z \in \mathbb{R}^K`, each fitted by
minimising the (weighted) negative log-likelihood of held-out labels:

- temperature scaling (Guo et al., 2017): :math:`z / T`;
- bias-corrected temperature scaling, BCTS (Alexandari, Kundaje and Shrikumar, 2020):
  :math:`z / T + b`, one bias per class;
- vector scaling (Guo et al., 2017): :math:`w \odot z + b`, one scale and one bias per
  class.

The calibrated posteriors are :math:`\operatorname{softmax}` of the mapped logits. Fit
them on logits that the network did not train on (a held-out split or out-of-fold
logits), and on logits that estimate :math:`p(y \mid x)` under the class mix of those
held-out labels (for a logit-adjusted network: its training-prior scores). Shift to
another prior *after* calibrating (:func:`sk_imbalance.prior_shift.adjust_to_prior`):
temperature scaling cannot move a prior, and BCTS fitted at one prior would absorb it
into its biases.

The metrics, :func:`expected_calibration_error` and :func:`reliability_curve`, live in
this module (there is no ``sk_imbalance.metrics`` entry for them).

Nothing here imports torch or skorch.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.optimize import linprog, minimize
from scipy.special import log_softmax, softmax

__all__ = [
    "LogitCalibration",
    "apply_calibration",
    "expected_calibration_error",
    "fit_calibration",
    "reliability_curve",
]

_METHODS = ("temperature", "bcts", "vector")
_SMOOTHING = ("platt", None)


@dataclass(frozen=True, eq=False)
class LogitCalibration:
    r"""A fitted affine map of logits, :math:`z \mapsto \mathrm{scale} \odot z + \mathrm{bias}`.

    Returned by :func:`fit_calibration`; apply it with :func:`apply_calibration` (or its
    :meth:`transform` and :meth:`predict_proba` methods). The fields below are also its
    attributes.

    Parameters
    ----------
    method : {"temperature", "bcts", "vector"}
        The family that was fitted.
    scale : ndarray of shape (n_classes,)
        Multiplies the logits; all entries equal :math:`1 / T` for ``"temperature"`` and
        ``"bcts"``.
    bias : ndarray of shape (n_classes,)
        Added after scaling; zeros for ``"temperature"``, centred to sum to 0 otherwise
        (softmax ignores a common shift).
    nll : float
        Weighted mean negative log-likelihood of the held-out labels under the fitted
        map (with the unsmoothed labels).
    nll_before : float
        The same for the identity map (the logits as given).
    n_iter : int
        Iterations of the optimiser.
    """

    method: str
    scale: np.ndarray
    bias: np.ndarray
    nll: float
    nll_before: float
    n_iter: int

    @property
    def temperature(self):
        """float or None: :math:`T` (``"temperature"`` and ``"bcts"``), ``None`` for
        ``"vector"``."""
        if self.method == "vector":
            return None
        return float(1.0 / self.scale[0]) if self.scale[0] > 0 else float("inf")

    def transform(self, logits):
        """Calibrated logits (see :func:`apply_calibration`).

        Parameters
        ----------
        logits : array-like of shape (n_samples, n_classes)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return apply_calibration(logits, self)

    def predict_proba(self, logits):
        """Calibrated posteriors, the softmax of :meth:`transform`.

        Parameters
        ----------
        logits : array-like of shape (n_samples, n_classes)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Rows sum to 1.
        """
        return softmax(apply_calibration(logits, self), axis=1)


def _check_logits(logits, name="logits"):
    Z = np.asarray(logits, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] < 2:
        raise ValueError(
            f"`{name}` must be 2-D of shape (n_samples, n_classes) with n_classes >= 2; "
            f"got shape {Z.shape}."
        )
    if not np.isfinite(Z).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return Z


def _check_codes(y, n_samples, n_classes):
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise ValueError(
            f"`y` must be 1-D with one entry per row of `logits` ({n_samples}); "
            f"got shape {y.shape}."
        )
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or np.any(y != np.round(y)):
            raise ValueError("`y` must hold integer class indices (columns of `logits`).")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iub":
        raise ValueError(
            "`y` must hold integer class indices 0..n_classes-1 (columns of `logits`); "
            f"got dtype {y.dtype}. Encode labels first, e.g. with np.searchsorted(classes, y)."
        )
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"`y` must hold class indices in [0, {n_classes - 1}] (columns of `logits`); "
            f"got values in [{y.min()}, {y.max()}]."
        )
    return y


def _check_weights(sample_weight, n_samples):
    if sample_weight is None:
        return np.ones(n_samples)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n_samples:
        raise ValueError(
            f"`sample_weight` must be 1-D with {n_samples} entries; got shape {w.shape}."
        )
    if not np.isfinite(w).all() or np.any(w < 0):
        raise ValueError("`sample_weight` must be finite and non-negative.")
    return w


def _smoothed_targets(y, w, n_classes, smoothing):
    """One-hot targets, or Platt's (1999) targets generalised to K classes."""
    n = y.shape[0]
    T = np.zeros((n, n_classes))
    T[np.arange(n), y] = 1.0
    if smoothing is None:
        return T
    # Weighted class counts: an integer weight counts as that many repetitions.
    counts = np.bincount(y, weights=w, minlength=n_classes)
    off = 1.0 / (counts[y] + 2.0)  # Platt: the true class gets (n_y + 1) / (n_y + 2)
    T *= 1.0 - off[:, None]
    T += (off / (n_classes - 1))[:, None] * (1.0 - np.eye(n_classes)[y])
    return T


def _nll(U, y, w):
    logp = log_softmax(U, axis=1)
    return float(-np.sum(w * logp[np.arange(y.shape[0]), y]) / np.sum(w))


def _no_finite_optimum(Z, y, w, method):
    r"""Whether the unsmoothed likelihood has no finite maximiser (Albert and Anderson).

    The negative log-likelihood of :math:`u = s \odot z + b` decreases forever along a
    direction :math:`d` of the parameters when every margin
    :math:`u_{iy_i} - u_{ik}` is non-decreasing along it and one increases: a feasible
    linear programme ``M d >= 0, sum(M d) = 1`` (scales kept non-negative).
    """
    keep = w > 0
    Z, y = Z[keep], y[keep]
    n, K = Z.shape
    rows = np.repeat(np.arange(n), K - 1)
    other = np.array([[k for k in range(K) if k != c] for c in range(K)])[y].ravel()
    true = y[rows]
    # Parameters: scales (1 shared, or K), then K biases.
    n_scale = K if method == "vector" else 1
    M = np.zeros((rows.size, n_scale + K))
    if method == "vector":
        M[np.arange(rows.size), true] += Z[rows, true]
        M[np.arange(rows.size), other] -= Z[rows, other]
    else:
        M[:, 0] = Z[rows, true] - Z[rows, other]
    if method != "temperature":
        M[np.arange(rows.size), n_scale + true] += 1.0
        M[np.arange(rows.size), n_scale + other] -= 1.0
    else:
        M = M[:, :1]
    n_par = M.shape[1]
    res = linprog(
        np.zeros(n_par),
        A_ub=-M,
        b_ub=np.zeros(M.shape[0]),
        A_eq=M.sum(axis=0, keepdims=True),
        b_eq=[1.0],
        bounds=[(0, None)] * n_scale + [(None, None)] * (n_par - n_scale),
        method="highs",
    )
    return res.status == 0


def fit_calibration(
    logits, y, method="bcts", *, sample_weight=None, smoothing=None, ridge=1.0, max_iter=1000
):
    r"""Fit temperature scaling, BCTS or vector scaling on held-out logits.

    Minimises the weighted mean negative log-likelihood plus a ridge penalty,

    .. math:: L(s, b) = -\frac{1}{W} \sum_i w_i \sum_k t_{ik}
              \log \operatorname{softmax}(s \odot z_i + b)_k
              + \frac{\lambda}{2W} \left(\lVert s - \mathbf{1} \rVert^2
              + \lVert b \rVert^2\right), \qquad W = \sum_i w_i,

    over, by ``method``:

    - ``"temperature"``: :math:`s = (1/T)\mathbf{1}`, :math:`b = 0` (Guo et al., 2017);
    - ``"bcts"``: :math:`s = (1/T)\mathbf{1}` and a free bias per class: the
      bias-corrected temperature scaling of Alexandari et al. (2020), whose reference
      code (``abstention.calibration.TempScaling(bias_positions="all")``) minimises the
      same mean NLL of :math:`\operatorname{softmax}(z/T + b)` (one-hot targets, no
      penalty) by L-BFGS-B from :math:`T = 1, b = 0`;
    - ``"vector"``: :math:`s \ge 0` and :math:`b` free per class (Guo et al., 2017; the
      reference code's ``VectorScaling``).

    The problem is solved in the inverse temperature :math:`1/T` (and :math:`s`), where
    it is convex, so L-BFGS-B finds the global optimum; with ``ridge=0`` and
    ``smoothing=None`` it is the reference code's optimum whenever that one is finite.
    Softmax ignores a common shift of the biases: they are returned centred.

    ``ridge`` (:math:`\lambda`) is a Gaussian prior centred on the identity map
    (:math:`T = 1`, :math:`b = 0`) worth :math:`\lambda` held-out samples: it keeps the
    optimum finite when the maximum-likelihood one is not (separable held-out logits,
    which small held-out sets often are, or a class with no held-out sample, whose bias
    would go to :math:`-\infty`), leaves a bias that the held-out set cannot estimate
    near 0, and fades as the held-out set grows. The default, 1, was chosen on the
    measurements in ``research/calibration/FINDINGS.md`` (where it matched the
    maximum-likelihood fits wherever those exist).

    The targets :math:`t_{ik}` are set by ``smoothing``:

    - ``None`` (default): one-hot targets, :math:`t_{ik} = [y_i = k]`;
    - ``"platt"``: Platt's (1999) targets, generalised to :math:`K` classes: a sample of
      class :math:`y` puts :math:`(n_y + 1) / (n_y + 2)` on :math:`y` and
      :math:`1 / (n_y + 2)` spread evenly on the other classes, where :math:`n_y` is the
      weighted held-out count of class :math:`y` (for two classes, Platt's targets).
      They also keep the optimum finite, but they move the calibrated class mix away
      from the held-out one (a class with one held-out sample gets target mass 2/3 from
      it plus pseudo-mass from every other sample), which biases prior-shift estimation
      on long-tailed data (see the findings).

    With ``ridge=0`` and ``smoothing=None`` (exact maximum likelihood) and no finite
    optimum, a ``ValueError`` says why.

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)
        Held-out scores whose softmax estimates :math:`p(y \mid x)` under the class mix
        of ``y`` (not logits the network was trained on). ``"temperature"`` and
        ``"bcts"`` do not depend on a per-row shift of the logits (log-probabilities give
        the same fit); ``"vector"`` does.
    y : array-like of shape (n_samples,)
        Class indices, integers in ``[0, n_classes)`` (the columns of ``logits``).
    method : {"temperature", "bcts", "vector"}, default="bcts"
        The calibration family.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights of the held-out samples; an integer weight is equivalent to
        repeating the sample (so zero weight to removing it).
    smoothing : {"platt"} or None, default=None
        Targets (see above).
    ridge : float >= 0, default=1.0
        Strength :math:`\lambda` of the penalty towards the identity map, in samples of
        unit weight; 0 for the maximum-likelihood fit.
    max_iter : int, default=1000
        Maximum L-BFGS-B iterations.

    Returns
    -------
    calibration : LogitCalibration
        ``scale``, ``bias``, ``temperature`` and the NLL before and after.

    Raises
    ------
    ValueError
        If the logits are not a finite 2-D array with at least two columns, ``y`` does not
        hold one class index per row, the weights are negative, non-finite or sum to 0,
        ``method``, ``smoothing`` or ``ridge`` is invalid, the optimiser fails, or (with
        ``ridge=0`` and ``smoothing=None``) the maximum-likelihood fit has no finite
        optimum.

    See Also
    --------
    apply_calibration : Apply the fitted map.
    expected_calibration_error : Measure the calibration.
    sklearn.calibration.CalibratedClassifierCV : One-vs-rest sigmoid or isotonic
        calibration (which re-learns the prior of its labels).

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of modern
       neural networks", ICML 2017.
    .. [2] A. Alexandari, A. Kundaje and A. Shrikumar, "Maximum likelihood with
       bias-corrected calibration is hard-to-beat at label shift adaptation",
       ICML 2020.
    .. [3] J. Platt, "Probabilistic outputs for support vector machines and
       comparisons to regularized likelihood methods", Advances in Large Margin
       Classifiers, 1999.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_imbalance.calibration import fit_calibration
    >>> rng = np.random.default_rng(0)
    >>> true_logits = rng.normal(scale=2.0, size=(4000, 3))
    >>> y = np.array([rng.choice(3, p=p) for p in np.exp(true_logits)
    ...               / np.exp(true_logits).sum(1, keepdims=True)])
    >>> cal = fit_calibration(3.0 * true_logits, y, method="temperature")
    >>> round(cal.temperature, 1)  # the logits were 3 times too confident
    3.0
    >>> cal.nll < cal.nll_before
    True
    """
    if method not in _METHODS:
        raise ValueError(f"`method` must be one of {_METHODS}; got {method!r}.")
    if smoothing not in _SMOOTHING:
        raise ValueError(f"`smoothing` must be 'platt' or None; got {smoothing!r}.")
    if not isinstance(ridge, Real) or not np.isfinite(ridge) or ridge < 0:
        raise ValueError(f"`ridge` must be a finite number >= 0; got {ridge!r}.")
    if not isinstance(max_iter, Integral) or max_iter < 1:
        raise ValueError(f"`max_iter` must be a positive integer; got {max_iter!r}.")
    Z = _check_logits(logits)
    n, K = Z.shape
    y = _check_codes(y, n, K)
    w = _check_weights(sample_weight, n)
    if not w.sum() > 0:
        raise ValueError(
            "Calibration needs at least one held-out sample with positive weight; got "
            f"{n} samples with total weight {w.sum()}."
        )
    nll_before = _nll(Z, y, w)
    if smoothing is None and ridge == 0:
        if method != "temperature":
            mass = np.bincount(y, weights=w, minlength=K)
            missing = np.flatnonzero(mass == 0)
            if missing.size:
                raise ValueError(
                    f"Classes {missing.tolist()} have no held-out sample: their {method!r} "
                    "bias has no finite maximum-likelihood value. Use ridge > 0 or hold out "
                    "samples of every class."
                )
        if _no_finite_optimum(Z, y, w, method):
            raise ValueError(
                "The held-out logits are separable: the maximum-likelihood "
                f"{method!r} calibration has no finite optimum (the temperature goes to 0). "
                "Use ridge > 0 or more held-out samples."
            )

    T = _smoothed_targets(y, w, K, smoothing)
    wn = w / w.sum()
    # Conditioning: the row shift does not matter to the shared-scale families; the
    # problem is solved on logits of unit spread and the scale mapped back.
    Zw = Z - Z.mean(axis=1, keepdims=True) if method != "vector" else Z
    spread = float(np.sqrt(np.mean(Zw**2)))
    spread = spread if spread > 0 else 1.0
    Zs = Zw / spread
    n_scale = K if method == "vector" else 1
    n_bias = 0 if method == "temperature" else K
    # The ridge is a Gaussian prior on (1/T or the scales, biases) centred on the identity
    # map (1, 0), worth `ridge` samples of unit weight next to the weighted mean NLL.
    lam = ridge / w.sum()

    def unpack(x):
        s = np.broadcast_to(x[:n_scale], (K,))
        b = x[n_scale:] if n_bias else np.zeros(K)
        return s, b

    def objective(x):
        s, b = unpack(x)
        U = Zs * s + b
        logp = log_softmax(U, axis=1)
        loss = -np.sum(wn[:, None] * T * logp)
        G = wn[:, None] * (np.exp(logp) - T)  # d loss / d U (target rows sum to 1)
        gs = np.sum(G * Zs, axis=0)
        grad = [gs if method == "vector" else np.array([gs.sum()])]
        if n_bias:
            grad.append(G.sum(axis=0))
        grad = np.concatenate(grad)
        if lam:
            dev = x.copy()
            dev[:n_scale] = x[:n_scale] / spread - 1.0  # 1/T - 1 (or each scale - 1)
            loss += 0.5 * lam * np.sum(dev**2)
            grad[:n_scale] += lam * dev[:n_scale] / spread
            grad[n_scale:] += lam * dev[n_scale:]
        return loss, grad

    x0 = np.concatenate([np.full(n_scale, spread), np.zeros(n_bias)])  # T = 1, b = 0
    res = minimize(
        objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * n_scale + [(None, None)] * n_bias,
        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10},
    )
    if not np.isfinite(res.x).all() or not np.isfinite(res.fun):
        raise ValueError(f"The {method!r} calibration fit failed: {res.message}")
    s, b = unpack(res.x)
    scale = np.array(s, dtype=np.float64) / spread
    bias = np.array(b, dtype=np.float64)
    bias -= bias.mean()
    # For the shared-scale families the fit ran on row-centred logits: applied to the
    # logits as given, the map differs by a per-row constant, which softmax ignores.
    U = Z * scale + bias
    return LogitCalibration(
        method=method,
        scale=scale,
        bias=bias,
        nll=_nll(U, y, w),
        nll_before=nll_before,
        n_iter=int(res.nit),
    )


def apply_calibration(logits, calibration):
    r"""Apply a fitted calibration: :math:`\mathrm{scale} \odot z + \mathrm{bias}`.

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)
        Scores of the same kind as those the calibration was fitted on.
    calibration : LogitCalibration
        From :func:`fit_calibration`.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Calibrated logits; their softmax is the calibrated posterior. Temperature
        scaling keeps every row's ranking of the classes (and so the argmax).

    Raises
    ------
    ValueError
        If ``logits`` is not finite and 2-D with one column per calibrated class.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_imbalance.calibration import LogitCalibration, apply_calibration
    >>> cal = LogitCalibration("bcts", scale=np.array([0.5, 0.5]),
    ...                        bias=np.array([-1.0, 1.0]), nll=0.0, nll_before=0.0, n_iter=0)
    >>> apply_calibration([[2.0, 0.0]], cal).tolist()
    [[0.0, 1.0]]
    """
    if not isinstance(calibration, LogitCalibration):
        raise TypeError(
            "`calibration` must be a LogitCalibration from fit_calibration; got "
            f"{type(calibration).__name__}."
        )
    Z = _check_logits(logits)
    K = calibration.scale.shape[0]
    if Z.shape[1] != K:
        raise ValueError(
            f"`logits` has {Z.shape[1]} columns but the calibration was fitted on {K} classes."
        )
    return Z * calibration.scale + calibration.bias


def _check_proba_and_labels(y_true, y_prob, labels, sample_weight):
    P = np.asarray(y_prob, dtype=np.float64)
    if P.ndim == 1:
        P = np.column_stack([1.0 - P, P])  # binary: the probability of the positive class
    if P.ndim != 2 or P.shape[1] < 2:
        raise ValueError(
            f"`y_prob` must be of shape (n_samples,) or (n_samples, n_classes); got {P.shape}."
        )
    if not np.isfinite(P).all() or np.any(P < 0) or np.any(P > 1):
        raise ValueError("`y_prob` must hold finite probabilities in [0, 1].")
    y_true = np.asarray(y_true)
    if y_true.ndim != 1 or y_true.shape[0] != P.shape[0]:
        raise ValueError(
            f"`y_true` must be 1-D with one entry per row of `y_prob` ({P.shape[0]}); "
            f"got shape {y_true.shape}."
        )
    if P.shape[0] == 0:
        raise ValueError("At least one sample is needed.")
    if labels is None:
        labels = np.unique(y_true)
        if labels.shape[0] != P.shape[1]:
            raise ValueError(
                f"`y_true` has {labels.shape[0]} distinct labels but `y_prob` has "
                f"{P.shape[1]} columns: pass `labels`, the labels of the columns in order "
                "(e.g. the classifier's classes_)."
            )
    else:
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.shape[0] != P.shape[1]:
            raise ValueError(
                f"`labels` must have one entry per column of `y_prob` ({P.shape[1]}); "
                f"got shape {labels.shape}."
            )
        if np.unique(labels).shape[0] != labels.shape[0]:
            raise ValueError("`labels` must not repeat a label.")
    order = np.argsort(labels, kind="stable")
    pos = np.searchsorted(labels[order], y_true)
    pos = np.clip(pos, 0, labels.shape[0] - 1)
    codes = order[pos]
    unknown = labels[codes] != y_true
    if np.any(unknown):
        raise ValueError(
            f"`y_true` holds labels not in `labels`: {np.unique(y_true[unknown]).tolist()}."
        )
    w = _check_weights(sample_weight, P.shape[0])
    if not w.sum() > 0:
        raise ValueError("`sample_weight` sums to 0.")
    return codes, P, w


def _binned(conf, hit, w, n_bins, strategy):
    """Per-bin mean confidence, frequency of hits and weight (non-empty bins only)."""
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:  # "quantile": equal-mass bins of the confidences
        edges = np.quantile(conf, np.linspace(0.0, 1.0, n_bins + 1))
        edges[0], edges[-1] = 0.0, 1.0
    # Bin b is (edges[b], edges[b + 1]]; a confidence of 0 goes to the first bin.
    idx = np.searchsorted(edges[1:-1], conf, side="left")
    mass = np.bincount(idx, weights=w, minlength=n_bins)
    sum_conf = np.bincount(idx, weights=w * conf, minlength=n_bins)
    sum_hit = np.bincount(idx, weights=w * hit, minlength=n_bins)
    keep = mass > 0
    return sum_conf[keep] / mass[keep], sum_hit[keep] / mass[keep], mass[keep]


def _check_bins(n_bins, strategy):
    if not isinstance(n_bins, Integral) or n_bins < 1:
        raise ValueError(f"`n_bins` must be a positive integer; got {n_bins!r}.")
    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"`strategy` must be 'uniform' or 'quantile'; got {strategy!r}.")


def reliability_curve(
    y_true, y_prob, *, n_bins=15, strategy="uniform", labels=None, sample_weight=None
):
    r"""Top-label reliability diagram: confidence against accuracy, per bin.

    The confidence of a sample is its largest predicted probability; it is *correct*
    when that class (the first one on ties) is the true one. Samples are binned by
    confidence; for each non-empty bin the curve gives the mean confidence, the
    fraction correct and the bin's share of the (weighted) samples. A calibrated
    classifier has fraction correct equal to mean confidence in every bin. For two
    classes this is the reliability diagram of the predicted class, not of class 1
    (for that one, see :func:`sklearn.calibration.calibration_curve`).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities (columns in the order of ``labels``); a 1-D array is the
        probability of the second of two labels.
    n_bins : int, default=15
        Number of bins (15, as Guo et al. 2017).
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width bins of ``[0, 1]``, bin :math:`b` being
        :math:`(\frac{b}{B}, \frac{b+1}{B}]` (the first also holds 0), or bins of equal
        sample count.
    labels : array-like of shape (n_classes,), default=None
        The labels of the columns of ``y_prob``; ``None`` takes the sorted distinct
        labels of ``y_true``, which must then have one per column.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    prob_pred : ndarray of shape (n_nonempty_bins,)
        Mean confidence of each non-empty bin.
    prob_true : ndarray of shape (n_nonempty_bins,)
        Fraction correct of each non-empty bin.
    bin_weight : ndarray of shape (n_nonempty_bins,)
        Share of the total weight in each bin (sums to 1).

    Raises
    ------
    ValueError
        If the shapes disagree, the probabilities are not in [0, 1], a label of
        ``y_true`` is not in ``labels``, or the weights are invalid.

    Examples
    --------
    >>> from sk_imbalance.calibration import reliability_curve
    >>> conf, acc, share = reliability_curve(
    ...     [0, 1, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]], n_bins=5)
    >>> conf.round(2).tolist(), acc.tolist(), share.tolist()
    ([0.6, 0.75, 0.9], [0.0, 1.0, 1.0], [0.25, 0.5, 0.25])
    """
    _check_bins(n_bins, strategy)
    codes, P, w = _check_proba_and_labels(y_true, y_prob, labels, sample_weight)
    pred = np.argmax(P, axis=1)
    conf = P[np.arange(P.shape[0]), pred]
    mean_conf, freq, mass = _binned(conf, (pred == codes).astype(float), w, n_bins, strategy)
    return mean_conf, freq, mass / w.sum()


def expected_calibration_error(
    y_true,
    y_prob,
    *,
    n_bins=15,
    strategy="uniform",
    multi_class="top_label",
    labels=None,
    sample_weight=None,
):
    r"""Expected calibration error (ECE), top-label (default) or classwise.

    Top-label (Guo et al., 2017), with :math:`B_b` the samples whose confidence
    :math:`\max_k p_k(x)` falls in bin :math:`b` and :math:`w` the sample weights:

    .. math:: \mathrm{ECE} = \sum_b \frac{w(B_b)}{w(\text{all})}
              \left| \operatorname{acc}(B_b) - \operatorname{conf}(B_b) \right|

    (the weighted mean gap of :func:`reliability_curve`). Classwise (Kull et al., 2019,
    ``multi_class="classwise"``): the mean over classes :math:`k` of the same sum with
    :math:`p_k(x)` binned and :math:`\operatorname{acc}` replaced by the frequency of
    class :math:`k` in the bin; it sees miscalibration of the rare classes that the
    top-label ECE, dominated by the frequent predicted classes, misses.

    The top-label form is the default because it is the one the literature reports;
    with 15 equal-width bins it is comparable with Guo et al. and Alexandari et al.
    (whose code reports it as a percentage: multiply by 100). Binned ECE is biased
    upwards on small samples and depends on ``n_bins``; compare methods on the same
    samples and bins.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities (columns in the order of ``labels``); a 1-D array is the
        probability of the second of two labels.
    n_bins : int, default=15
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width or equal-count bins (see :func:`reliability_curve`).
    multi_class : {"top_label", "classwise"}, default="top_label"
        Which ECE.
    labels : array-like of shape (n_classes,), default=None
        The labels of the columns of ``y_prob``; ``None`` takes the sorted distinct
        labels of ``y_true``, which must then have one per column.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
        In ``[0, 1]``; 0 for a perfectly calibrated classifier (on these bins).

    Raises
    ------
    ValueError
        As :func:`reliability_curve`, or for an unknown ``multi_class``.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of modern
       neural networks", ICML 2017.
    .. [2] M. Kull, M. Perello-Nieto, M. Kängsepp, T. Silva Filho, H. Song and
       P. Flach, "Beyond temperature scaling: obtaining well-calibrated multi-class
       probabilities with Dirichlet calibration", NeurIPS 2019.

    Examples
    --------
    >>> from sk_imbalance.calibration import expected_calibration_error
    >>> y_prob = [[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]]
    >>> # bins (0.4, 0.6], (0.6, 0.8], (0.8, 1]: 0.25 * 0.6 + 0.5 * 0.25 + 0.25 * 0.1
    >>> round(expected_calibration_error([0, 1, 1, 1], y_prob, n_bins=5), 4)
    0.3
    """
    if multi_class not in ("top_label", "classwise"):
        raise ValueError(f"`multi_class` must be 'top_label' or 'classwise'; got {multi_class!r}.")
    if multi_class == "top_label":
        conf, freq, share = reliability_curve(
            y_true,
            y_prob,
            n_bins=n_bins,
            strategy=strategy,
            labels=labels,
            sample_weight=sample_weight,
        )
        return float(np.sum(share * np.abs(freq - conf)))
    _check_bins(n_bins, strategy)
    codes, P, w = _check_proba_and_labels(y_true, y_prob, labels, sample_weight)
    total = 0.0
    for k in range(P.shape[1]):
        conf, freq, mass = _binned(P[:, k], (codes == k).astype(float), w, n_bins, strategy)
        total += np.sum(mass * np.abs(freq - conf)) / w.sum()
    return float(total / P.shape[1])
