"""The parameters every estimator shares: their constraints and their documentation."""

from __future__ import annotations

import inspect
from numbers import Integral, Real

from ._compat import Interval, StrOptions
from .networks import ACTIVATIONS

__all__ = ["AUTO_STEPS", "SHARED_CONSTRAINTS", "fill_shared_doc"]

SHARED_CONSTRAINTS = {
    "n_members": [Interval(Integral, 1, None, closed="left")],
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "feature_encoding": [None, StrOptions({"piecewise_linear", "mixed"})],
    "n_bins": [Interval(Integral, 1, None, closed="left")],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "learning_rate_schedule": [StrOptions({"warmup_cosine", "constant"})],
    "weight_decay": [Interval(Real, 0, None, closed="left"), "array-like"],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "max_iter": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [None, Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "module": [None, callable],
    "device": [str],
    "dtype": [StrOptions({"auto", "float32", "float64"})],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}

#: Optimiser steps of ``max_iter="auto"``.
AUTO_STEPS = 600

#: Each shared parameter's entry, in the order they are documented.
_SHARED_PARAMS_DOC = {
    "calibration": """
    calibration : {{"temperature", "bcts"}} or None, default={default}
        Post-hoc calibration of the training-prior posterior, fitted at ``fit`` on
        out-of-sample logits and applied before the shift to the ``objective``'s prior
        (and before :meth:`fit_prior_shift`): temperature scaling, :math:`z / T`, or
        bias-corrected temperature scaling (BCTS, Alexandari et al., 2020),
        :math:`z / T + b`, fitted by :func:`~sk_imbalance.calibration.fit_calibration`
        (its default ridge, 1). Temperature scaling keeps the argmax of the
        training-prior scores (``objective="accuracy"``), not of shifted ones. The
        held-out logits come from the early-stopping split when
        ``early_stopping=True`` (no extra fit); otherwise from 5-fold stratified
        cross-fitting: 5 extra networks, each trained like this one on 4/5 of the data,
        give out-of-fold logits, and the map fitted on them is applied to the network
        trained on all the data (an internal split would take data from that network
        and, on long-tailed data, leaves the rare classes out of the held-out set; in
        the measurements of ``research/calibration/FINDINGS.md`` cross-fitting was the
        better source); a held-out row whose class has fewer than 3 rows in its fold
        network's training data is left out of the fit (its logits come from a
        network that barely saw the class). :class:`~sk_imbalance.LogitAdjustedClassifierCV` with
        ``adjustment="post_hoc"`` reuses its search's fold networks when its folds
        partition the data. Classes with fewer samples than folds cannot be
        calibrated from the training data (see the user guide, "Probabilities and
        decisions"). ``None`` (the default) calibrates nothing. The fitted map is
        ``calibration_``; changing this parameter acts at the next ``fit``.""",
    "n_members": """
    n_members : int, default={default}
        Number of networks trained together, as one packed ensemble
        (:class:`~sk_imbalance.networks.EnsembleMLP`; with your own ``module``, that
        many copies of it). Every member sees every mini-batch and the members' losses
        are averaged; predictions average the members' log-probabilities (of their
        scores, for multi-label outputs), so every decision rule applies to the average
        unchanged. Members share each step's overhead: one extra member costs about a
        quarter of a one-network fit. 1 trains a single network.""",
    "hidden_layer_sizes": """
    hidden_layer_sizes : tuple of int, default={default}
        Widths of the hidden layers of the default MLP (as in ``MLPClassifier``).""",
    "activation": """
    activation : {{"relu", "tanh", "logistic", "identity", "gelu"}}, default={default}
        Hidden-layer non-linearity.""",
    "dropout": """
    dropout : float in [0, 1), default={default}
        Dropout probability after each hidden layer.""",
    "feature_encoding": """
    feature_encoding : {{"mixed", "piecewise_linear"}} or None, default={default}
        What the default MLP's members see. ``None``: the features. ``"piecewise_linear"``:
        the features and their piecewise-linear encodings
        (:class:`~sk_imbalance.networks.PiecewiseLinearEncoding`, Gorishniy et al.,
        2022) on ``n_bins`` bins per feature at the training quantiles, which let a
        member respond to thresholds along each feature as a tree does. ``"mixed"``:
        the last ``n_members // 2`` members see the encoding and the others the
        features only, so the ensemble averages both kinds (with the default
        ``weight_decay``, each kind gets every strength); with one member, no
        encoding. The bin edges are fitted on the training rows (not the
        early-stopping split) and kept in the network (``module_.encoding``). With
        your own ``module``, an encoded member is ``module(n_encoded, n_outputs)`` on the
        encoded input, whose first ``n_features`` columns are the features.""",
    "n_bins": """
    n_bins : int, default={default}
        Largest number of bins per feature of ``feature_encoding`` (a feature with
        fewer distinct values gets fewer).""",
    "learning_rate_init": """
    learning_rate_init : float, default={default}
        Learning rate of the AdamW optimiser (its peak under a schedule).""",
    "learning_rate_schedule": """
    learning_rate_schedule : {{"warmup_cosine", "constant"}}, default={default}
        ``"warmup_cosine"``: a linear warm-up over the first 5% of the optimiser steps,
        then a cosine decay to 0 at the last step of ``max_iter`` epochs (so training
        runs every epoch it plans). ``"constant"``: ``learning_rate_init`` throughout.""",
    "weight_decay": """
    weight_decay : float or tuple of float, default={default}
        Decoupled weight decay of AdamW (a regulariser that matters on imbalanced data,
        where the rare classes are easy to memorise). A tuple gives the members of the
        ensemble different strengths, cycled over them (a member ``m`` gets
        ``weight_decay[m % len(weight_decay)]``): no single strength suits every data
        set, and an ensemble whose members span several does better than any one of
        them (see the user guide's table of defaults).""",
    "batch_size": """
    batch_size : int or "auto", default={default}
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``. When the batch holds
        every sample, training is full-batch and deterministic in sample order.""",
    "max_iter": """
    max_iter : int or "auto", default={default}
        Maximum number of epochs. ``"auto"``: the number of epochs that gives about
        600 optimiser steps, ``ceil(600 / batches per epoch)``, whatever the data size
        (small data sets get many epochs, large ones few).""",
    "early_stopping": """
    early_stopping : bool, default={default}
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers), stop when the validation loss stops improving (see
        ``n_iter_no_change``) and restore the best weights. When False, the training
        loss is what ``n_iter_no_change`` watches. (The similarity encoder holds out
        groups instead and watches their retrieval score; see its ``encoder`` entry.)""",
    "validation_fraction": """
    validation_fraction : float in (0, 1), default={default}
        Fraction held out when ``early_stopping=True``.""",
    "n_iter_no_change": """
    n_iter_no_change : int or None, default={default}
        Patience, in epochs, of the stopping rule: training stops when the monitored
        loss has not improved by ``tol`` for this many epochs. ``None`` trains all
        ``max_iter`` epochs (with ``early_stopping=True`` the best validation epoch's
        weights are still restored).""",
    "tol": """
    tol : float, default={default}
        Minimum absolute improvement of the monitored loss (or score).""",
    "module": """
    module : callable or None, default={default}
        Your own network: called as ``module(n_features, n_outputs)`` and returning a
        ``torch.nn.Module`` that maps a ``(batch, n_features)`` tensor to
        ``(batch, n_outputs)`` scores. ``None`` builds the MLP described above.""",
    "device": """
    device : str, default={default}
        Torch device to train and predict on; ``"auto"`` picks CUDA when available
        (in a worker process of a parallel search, a GPU that no other worker holds,
        else the CPU; see the "Scaling out" guide). The device used is ``device_``.""",
    "dtype": """
    dtype : {{"auto", "float32", "float64"}}, default={default}
        Precision of the network. ``"auto"`` uses the input's float dtype on CPU
        (float64 for float64 or integer input, as scikit-learn's MLP does) and
        float32 on CUDA. Predictions and scores come back in the network's dtype.
        float64 makes results exactly reproducible across batchings (sample-weight
        and subset invariance hold to ~1e-12); float32 is about twice as fast on CPU
        and the only sensible choice on a GPU. The dtype used is ``dtype_``.""",
    "random_state": """
    random_state : int, RandomState instance or None, default={default}
        Seeds weight initialisation, shuffling, dropout and the validation split.
        Fitting never changes the global torch RNG.""",
    "verbose": """
    verbose : int, default={default}
        0 is silent, 1 shows a progress bar over epochs, 2 adds skorch's epoch table
        and a per-batch progress bar.""",
}

_FITTED_DOC = """
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.
    n_iter_ : int
        Number of epochs run.
    loss_curve_ : list of float
        Mean training loss of each epoch.
    module_ : torch.nn.Module
        The trained network (in eval mode).
    device_ : str
        Device the network lives on.
    dtype_ : str
        Precision of the network (``"float32"`` or ``"float64"``).
"""


_CALIBRATION_ATTRS_DOC = """
    calibration_ : LogitCalibration or None
        The fitted calibration map (``scale``, ``bias``, ``temperature``; see
        :class:`~sk_imbalance.calibration.LogitCalibration`), or None when fitted with
        ``calibration=None``.
    calibration_source_ : {"early_stopping", "cross_fitting"} or None
        Where its held-out logits came from.
"""


def _default(value):
    return f'"{value}"' if isinstance(value, str) else repr(value)


def fill_shared_doc(cls):
    """Class decorator: fill ``%(shared_params)s``, ``%(calibration_attrs)s`` and
    ``%(fitted_attrs)s`` of the docstring.

    The shared parameters are documented with this class's own defaults, read from
    the signature of its ``__init__``.
    """
    if cls.__doc__:
        signature = inspect.signature(cls.__init__).parameters
        shared = "".join(
            entry.format(default=_default(signature[name].default))
            for name, entry in _SHARED_PARAMS_DOC.items()
            if name in signature
        ).strip("\n")
        cls.__doc__ = (
            cls.__doc__.replace("    %(shared_params)s", shared)
            .replace("    %(calibration_attrs)s", _CALIBRATION_ATTRS_DOC.strip("\n"))
            .replace("    %(fitted_attrs)s", _FITTED_DOC.strip("\n"))
        )
    return cls
