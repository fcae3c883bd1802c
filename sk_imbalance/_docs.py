"""The parameters every estimator shares: their constraints and their documentation."""

from __future__ import annotations

import inspect
from numbers import Integral, Real

from ._compat import Interval, StrOptions
from .networks import ACTIVATIONS

__all__ = ["SHARED_CONSTRAINTS", "fill_shared_doc"]

SHARED_CONSTRAINTS = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "module": [None, callable],
    "device": [str],
    "dtype": [StrOptions({"auto", "float32", "float64"})],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}

_SHARED_PARAMS_DOC = """
    hidden_layer_sizes : tuple of int, default={hidden_layer_sizes}
        Widths of the hidden layers of the default MLP (as in ``MLPClassifier``).
    activation : {{"relu", "tanh", "logistic", "identity", "gelu"}}, default={activation}
        Hidden-layer non-linearity.
    dropout : float in [0, 1), default={dropout}
        Dropout probability after each hidden layer.
    learning_rate_init : float, default={learning_rate_init}
        Learning rate of the AdamW optimiser.
    weight_decay : float, default={weight_decay}
        Decoupled weight decay of AdamW (a regulariser that matters on long-tailed
        data, where the tail classes are easy to memorise).
    batch_size : int or "auto", default={batch_size}
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``. When the batch holds
        every sample, training is full-batch and deterministic in sample order.
    max_iter : int, default={max_iter}
        Maximum number of epochs.
    early_stopping : bool, default={early_stopping}
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers), stop when the validation loss stops improving and restore the
        best weights. When False, training stops when the training loss has not
        improved by ``tol`` for ``n_iter_no_change`` epochs.
    validation_fraction : float in (0, 1), default={validation_fraction}
        Fraction held out when ``early_stopping=True``.
    n_iter_no_change : int, default={n_iter_no_change}
        Patience, in epochs, of the stopping rule.
    tol : float, default={tol}
        Minimum absolute improvement of the monitored loss.
    module : callable or None, default={module}
        Your own network: called as ``module(n_features, n_outputs)`` and returning a
        ``torch.nn.Module`` that maps a ``(batch, n_features)`` tensor to
        ``(batch, n_outputs)`` scores. ``None`` builds the MLP described above.
    device : str, default={device}
        Torch device to train and predict on; ``"auto"`` picks CUDA when available
        (in a worker process of a parallel search, a GPU that no other worker holds,
        else the CPU; see the "Scaling out" guide). The device used is ``device_``.
    dtype : {{"auto", "float32", "float64"}}, default={dtype}
        Precision of the network. ``"auto"`` uses the input's float dtype on CPU
        (float64 for float64 or integer input, as scikit-learn's MLP does) and
        float32 on CUDA. Predictions and scores come back in the network's dtype.
        float64 makes results exactly reproducible across batchings (sample-weight
        and subset invariance hold to ~1e-12); float32 is about twice as fast on CPU
        and the only sensible choice on a GPU. The dtype used is ``dtype_``.
    random_state : int, RandomState instance or None, default={random_state}
        Seeds weight initialisation, shuffling, dropout and the validation split.
        Fitting never changes the global torch RNG.
    verbose : int, default={verbose}
        0 is silent, 1 shows a progress bar over epochs, 2 adds skorch's epoch table
        and a per-batch progress bar.
"""

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


def _default(value):
    return f'"{value}"' if isinstance(value, str) else repr(value)


def fill_shared_doc(cls):
    """Class decorator: fill ``%(shared_params)s`` and ``%(fitted_attrs)s`` of the docstring.

    The shared parameters are documented with this class's own defaults, read from
    the signature of its ``__init__``.
    """
    if cls.__doc__:
        defaults = {
            name: _default(p.default)
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if name in SHARED_CONSTRAINTS
        }
        shared = _SHARED_PARAMS_DOC.format(**defaults).strip("\n")
        cls.__doc__ = cls.__doc__.replace("    %(shared_params)s", shared).replace(
            "    %(fitted_attrs)s", _FITTED_DOC.strip("\n")
        )
    return cls
