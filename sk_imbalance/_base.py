"""The shared estimator base: the only module of the package that imports skorch.

The estimators compose a private skorch net (``net_``); they do not inherit from one.
This module validates input, resolves the device and dtype, seeds training without
touching the global RNG, feeds the network through a fast index-slicing data path,
trains with skorch's loop and callbacks (early stopping, epoch log, progress bar) and
computes predictions in large ``no_grad`` chunks.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, ProgressBar
from skorch.helper import predefined_split
from tqdm.auto import tqdm

from ._parallel import (
    in_worker_process,
    limit_torch_threads,
    rebalance_torch_threads,
    worker_cuda_device,
)
from .networks import ACTIVATIONS, MLP, set_output_bias
from .prior_shift import estimate_deployment_prior

__all__ = [
    "BaseNeuralEstimator",
    "BaseNeuralClassifier",
    "InconsistentVersionWarning",
    "fill_shared_doc",
    "fit_atomically",
    "resolve_device",
]


# ----------------------------------------------------------------------------------
# Fast data path: tensors prepared once per fit, batches are index slices of them.
# ----------------------------------------------------------------------------------
class _TensorData(torch.utils.data.Dataset):
    """Inputs, targets and sample weights held as tensors (usually on the device)."""

    def __init__(self, X, y, w):
        self.X, self.y, self.w = X, y, w

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        return self.X[i], (self.y[i], self.w[i])


class _SliceLoader:
    """Iterator over mini-batches that are slices of the dataset's tensors.

    No per-sample collation: a batch is a view (``shuffle=False``) or one
    ``index_select`` per tensor. Shuffling uses its own seeded generator, so the global
    RNG is never touched, and is skipped when one batch holds all samples. Data kept
    on the host while training on an accelerator is copied once per batch.
    ``copy=True`` never hands out views of the stored data (for a user's module,
    which might write into its input).
    """

    def __init__(self, dataset, batch_size, shuffle=False, seed=0, device=None, copy=False):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.device = device
        self.copy = copy
        self.generator = torch.Generator().manual_seed(int(seed)) if shuffle else None

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def _move(self, t):
        if self.device is None or t.device == torch.device(self.device):
            return t
        return t.to(self.device, non_blocking=True)

    def __iter__(self):
        ds = self.dataset
        n, bs = len(ds), self.batch_size
        perm = None
        if self.shuffle and n > bs:
            perm = torch.randperm(n, generator=self.generator).to(ds.X.device)
        for start in range(0, n, bs):
            if perm is None:
                sl = slice(start, start + bs)
                Xb, yb, wb = ds.X[sl], ds.y[sl], ds.w[sl]
                if self.copy:
                    Xb = Xb.clone()
            else:
                idx = perm[start : start + bs]
                Xb, yb, wb = ds.X[idx], ds.y[idx], ds.w[idx]
            yield self._move(Xb), (self._move(yb), self._move(wb))


class _Net(NeuralNet):
    """skorch net whose criterion returns per-sample losses, averaged with weights.

    A criterion with ``uses_sample_weight = True`` also receives the batch's
    (normalised) sample weights as ``sample_weight=`` (e.g. for weighted statistics
    of the batch); the weighted mean is still taken here.
    """

    def initialize(self):
        super().initialize()
        # skorch unpickles only the attributes listed here with a ``map_location``
        # (CUDA -> CPU when no GPU is present); everything else goes through plain
        # pickle, which fails on a CPU-only machine for any CUDA tensor. The module and
        # criterion *instances* we pass as parameters and the callbacks can hold device
        # tensors too: route them (and their fitted ``_`` twins) the same way.
        extra = ["module", "criterion", "callbacks"]
        self.cuda_dependent_attributes_ = list(self.cuda_dependent_attributes_) + extra
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y, w = y_true
        if getattr(self.criterion_, "uses_sample_weight", False):
            per_sample = self.criterion_(y_pred, y, sample_weight=w)
        else:
            per_sample = self.criterion_(y_pred, y)
        return (per_sample * w.to(per_sample.dtype)).mean()


class _StopTraining(Exception):
    """Raised by our early-stopping callback (skorch uses KeyboardInterrupt)."""


class _EarlyStopping(EarlyStopping):
    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            if self.misses_ < self.patience:  # the user's Ctrl-C, not skorch's stop
                raise
            raise _StopTraining from None

    def on_train_end(self, net, **kwargs):
        super().on_train_end(net, **kwargs)
        self.best_model_weights_ = None  # restored; do not keep (and pickle) a copy


class _FiniteLossGuard(Callback):
    """Stops training with a clear error as soon as a batch loss is NaN or infinite."""

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if loss is not None:
            value = float(loss.detach())
            if not math.isfinite(value):
                phase = "training" if training else "validation"
                raise ValueError(
                    f"The {phase} loss became non-finite ({value}) in epoch "
                    f"{len(net.history)}. Lower `learning_rate_init`, scale the input "
                    "features, or check the data for extreme values."
                )


class _BestScore(Callback):
    """Early stopping on a score of the module (higher is better), best weights restored.

    ``score_fn(module)`` is evaluated before training (epoch 0: the initial weights are
    candidates too) and after every epoch, in eval mode and without gradients.
    """

    def __init__(self, score_fn, patience, tol):
        self.score_fn, self.patience, self.tol = score_fn, patience, tol

    def _score(self, net):
        module = net.module_
        was_training = module.training
        module.eval()
        with torch.no_grad():
            value = float(self.score_fn(module))
        module.train(was_training)
        return value

    def _snapshot(self, net):
        return {k: v.detach().clone() for k, v in net.module_.state_dict().items()}

    def on_train_begin(self, net, **kwargs):
        self.scores_ = [self._score(net)]
        self.best_, self.best_epoch_, self.misses_ = self.scores_[0], 0, 0
        self.best_state_ = self._snapshot(net)

    def on_epoch_end(self, net, **kwargs):
        value = self._score(net)
        self.scores_.append(value)
        net.history.record("valid_score", value)
        if value > self.best_ + self.tol:
            self.best_, self.best_epoch_, self.misses_ = value, len(self.scores_) - 1, 0
            self.best_state_ = self._snapshot(net)
        else:
            self.misses_ += 1
            if self.misses_ >= self.patience:
                raise _StopTraining

    def on_train_end(self, net, **kwargs):
        state = self.__dict__.pop("best_state_", None)
        if state is not None:
            net.module_.load_state_dict(state)
        self.score_fn = None  # it holds the validation data: neither kept nor pickled


class _ThreadBudget(Callback):
    """Re-applies the torch thread budget at every batch (see ``_parallel``)."""

    def on_batch_begin(self, net, **kwargs):
        rebalance_torch_threads()


class _EpochBar(Callback):
    """A tqdm progress bar over epochs with the current losses (``verbose=1``)."""

    def __init__(self, total, desc):
        self.total, self.desc = total, desc

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(total=self.total, desc=self.desc, unit="epoch", leave=False)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        self.bar_.set_postfix(
            {k: f"{row[k]:.4g}" for k in ("train_loss", "valid_loss") if k in row}, refresh=False
        )
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        bar = self.__dict__.pop("bar_", None)
        if bar is not None:
            bar.close()


@contextlib.contextmanager
def _readonly_ok():
    """Read-only inputs (memmaps) are only read from: torch's warning does not apply."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        yield


def _all_finite(t):
    """Whether a tensor holds no NaN or infinity; one fast reduction in the usual case."""
    return math.isfinite(float(t.sum())) or bool(torch.isfinite(t).all())


def _as_network_input(X, device, dtype, copy=False):
    """A finite NumPy ``X`` as a tensor of the network's dtype on ``device``.

    ``copy=True`` never shares memory with ``X`` (a user's module may write into its
    input). A float64 value beyond the range of a float32 network would silently
    become infinite: that raises instead.
    """
    t = torch.as_tensor(X)
    out = t.to(device=device, dtype=dtype, copy=copy)
    if out.dtype.itemsize < t.dtype.itemsize and not _all_finite(out):
        raise ValueError(
            f"X holds values too large for the network's precision ({dtype}, largest "
            f"{torch.finfo(dtype).max:.3g}): scale the features, or use dtype='float64'."
        )
    return out


def _check_weights(sample_weight, X):
    """Validated non-negative float64 sample weights, rescaled if their sum overflows.

    Only the ratios of the weights matter. Weights near the float64 maximum would make
    their sums (class masses, the mean that normalises the loss) infinite and the
    training weights silently zero; they are divided by their maximum instead.
    """
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if not np.isfinite(sw.sum()):
        sw = sw / sw.max()
    return sw


def _check_labels(y):
    """Missing or mutually incomparable labels in ``y`` raise a clear error.

    Object labels (strings, pandas string or categorical columns) are sorted to find
    the classes; a missing value or a mix of strings and numbers would otherwise fail
    there, or in scikit-learn's checks, with an unrelated message.
    """
    if y is None or hasattr(y, "toarray"):  # sparse targets are validated elsewhere
        return
    try:
        flat = np.asarray(y).ravel()
    except (ValueError, TypeError):  # ragged: validation reports it
        return
    if flat.dtype != object or flat.size == 0:
        return
    import pandas as pd

    if pd.isna(flat).any():
        raise ValueError(
            "y contains missing labels (NaN, None or pandas.NA): drop those samples or "
            "fill in their labels."
        )
    try:
        np.unique(flat)
    except TypeError:
        kinds = ", ".join(sorted({type(v).__name__ for v in flat}))
        raise TypeError(
            f"The labels in y mix types that cannot be compared ({kinds}): use labels of "
            "one type, all strings or all numbers."
        ) from None


def _chunk_rows(module):
    """Rows per prediction chunk: about 2M activations of the widest linear layer."""
    widths = [
        max(m.in_features, m.out_features)
        for m in module.modules()
        if isinstance(m, torch.nn.Linear)
    ]
    width = max(widths) if widths else 1024
    return int(np.clip((1 << 21) // max(width, 1), 512, 1 << 14))


def _fused_ok(device, dtype):
    """Use AdamW's fused kernel (one pass over all parameters) where PyTorch has one."""
    if device.startswith("cuda"):
        return True
    return device == "cpu" and dtype in (torch.float32, torch.float64)


def _silent(*args, **kwargs):
    """A picklable no-op sink for skorch callbacks' messages."""


def resolve_device(device):
    """Turn ``"auto"`` into ``"cuda"`` when a GPU is available, else ``"cpu"``.

    In a worker process of a parallel search (loky, multiprocessing, Dask),
    ``"auto"`` claims a GPU that no other worker holds (``"cuda:<i>"``) and falls
    back to ``"cpu"`` when all are claimed, so that workers do not share a GPU
    unless asked to with an explicit ``"cuda"`` or ``"cuda:<i>"``.

    Raises
    ------
    ValueError
        If the device string is not understood by PyTorch or names an unavailable
        CUDA device.
    """
    if device == "auto":
        if not torch.cuda.is_available():
            return "cpu"
        return worker_cuda_device() if in_worker_process() else "cuda"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a valid torch device: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available; use "
            "device='auto' or device='cpu'."
        )
    return str(dev)


_SHARED_CONSTRAINTS = {
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
    hidden_layer_sizes : tuple of int, default=(100,)
        Widths of the hidden layers of the default MLP (as in ``MLPClassifier``).
    activation : {"relu", "tanh", "logistic", "identity", "gelu"}, default="relu"
        Hidden-layer non-linearity.
    dropout : float in [0, 1), default=0.0
        Dropout probability after each hidden layer.
    learning_rate_init : float, default=1e-3
        Learning rate of the AdamW optimiser.
    weight_decay : float, default=0.1
        Decoupled weight decay of AdamW (a regulariser that matters on long-tailed
        data, where the tail classes are easy to memorise).
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``. When the batch holds
        every sample, training is full-batch and deterministic in sample order.
    max_iter : int, default=400
        Maximum number of epochs.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers), stop when the validation loss stops improving and restore the
        best weights. When False, training stops when the training loss has not
        improved by ``tol`` for ``n_iter_no_change`` epochs.
    validation_fraction : float in (0, 1), default=0.1
        Fraction held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience, in epochs, of the stopping rule.
    tol : float, default=1e-4
        Minimum absolute improvement of the monitored loss.
    module : callable or None, default=None
        Your own network: called as ``module(n_features, n_outputs)`` and returning a
        ``torch.nn.Module`` that maps a ``(batch, n_features)`` tensor to
        ``(batch, n_outputs)`` scores. ``None`` builds the MLP described above.
    device : str, default="auto"
        Torch device to train and predict on; ``"auto"`` picks CUDA when available
        (in a worker process of a parallel search, a GPU that no other worker holds,
        else the CPU; see the "Scaling out" guide). The device used is stored in
        ``device_``.
    dtype : {"auto", "float32", "float64"}, default="auto"
        Precision of the network. ``"auto"`` uses the input's float dtype on CPU
        (float64 for float64 or integer input, as scikit-learn's MLP does) and
        float32 on CUDA. Predictions and scores come back in the network's dtype. float64 makes results exactly reproducible across batchings
        (sample-weight and subset invariance hold to ~1e-12); float32 is about twice
        as fast on CPU and the only sensible choice on a GPU.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation split.
        Fitting never changes the global torch RNG.
    verbose : int, default=0
        0 is silent, 1 shows a progress bar over epochs, 2 adds skorch's epoch table
        and a per-batch progress bar.
"""


def fill_shared_doc(cls):
    """Class decorator: replace the ``%(shared_params)s`` line of the docstring."""
    if cls.__doc__:
        cls.__doc__ = cls.__doc__.replace("    %(shared_params)s", _SHARED_PARAMS_DOC.strip("\n"))
    return cls


# ----------------------------------------------------------------------------------
# Pickles: which sk_imbalance wrote them, and whether this one can read them.
# ----------------------------------------------------------------------------------
#: Layout of a pickled estimator's state. Bump it (and keep reading the old layouts
#: where possible, listing them in ``_READABLE_STATE_FORMATS``) whenever a change of the
#: fitted attributes would make older pickles load into a broken estimator.
_STATE_FORMAT = 1
_READABLE_STATE_FORMATS = (1,)


def _written_by(version):
    if version is None:
        return "an earlier sk_imbalance release (one that did not record its version)"
    return f"sk_imbalance {version}"


class InconsistentVersionWarning(UserWarning):
    """A pickled estimator was written by another version of sk_imbalance.

    Its state format is one this version reads, so it was loaded; predictions may
    still differ. Refit it, or load it with the version that wrote it, to be sure.
    ``original_version`` is None for pickles older than the version stamp.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"This {self.estimator_name} was pickled with "
            f"{_written_by(self.original_version)} and is loaded by sk_imbalance "
            f"{self.current_version}. Its state format is compatible, but results may "
            f"differ: refit it with sk_imbalance {self.current_version}, or load it with "
            "the version that wrote it."
        )


class BaseNeuralEstimator(BaseEstimator):
    """Shared machinery of the package's estimators (not for direct use).

    Subclasses validate their targets, choose a criterion returning per-sample
    losses (``reduction="none"``) and a decision rule, and call :meth:`_fit_network`
    and :meth:`_forward`.
    """

    _parameter_constraints: dict = dict(_SHARED_CONSTRAINTS)

    # ------------------------------------------------------------------ helpers
    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

    def __getstate__(self):
        from . import __version__

        state = super().__getstate__()
        return dict(
            state, _sk_imbalance_version=__version__, _sk_imbalance_state_format=_STATE_FORMAT
        )

    def __setstate__(self, state):
        from . import __version__

        state = dict(state)
        # Pickles written before the version was recorded have the first layout.
        original = state.pop("_sk_imbalance_version", None)
        state_format = state.pop("_sk_imbalance_state_format", 1)
        name = type(self).__name__
        if state_format not in _READABLE_STATE_FORMATS:
            readable = ", ".join(map(str, _READABLE_STATE_FORMATS))
            raise ValueError(
                f"Cannot load this {name}: it was pickled with {_written_by(original)} in "
                f"state format {state_format}, and sk_imbalance {__version__} reads state "
                f"format {readable} only. Load it with the version that wrote it, or refit "
                f"it with sk_imbalance {__version__}."
            )
        if original != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=name, current_version=__version__, original_version=original
                ),
                stacklevel=2,
            )
        super().__setstate__(state)
        # skorch maps a CUDA-trained net to the CPU when CUDA is missing on load.
        if "net_" in self.__dict__:
            self.device_ = str(self.net_.device)

    def _resolve_dtype(self, X_dtype, device):
        if self.dtype != "auto":
            return getattr(torch, self.dtype)
        if torch.device(device).type != "cpu":
            return torch.float32
        return torch.float32 if X_dtype == np.float32 else torch.float64

    def _build_module(self, n_features, n_outputs):
        if self.module is not None:
            module = self.module(n_features, n_outputs)
            if not isinstance(module, torch.nn.Module):
                raise TypeError(
                    "`module` must return a torch.nn.Module when called as "
                    f"module(n_features, n_outputs); got {type(module).__name__}."
                )
            return module
        return MLP(
            n_features,
            n_outputs,
            hidden_layer_sizes=tuple(int(h) for h in np.atleast_1d(self.hidden_layer_sizes)),
            activation=self.activation,
            dropout=self.dropout,
        )

    def _make_callbacks(self, has_valid, score_fn=None):
        monitor = "valid_loss" if has_valid else "train_loss"
        if score_fn is not None:
            stopping = _BestScore(score_fn, self.n_iter_no_change, self.tol)
        else:
            stopping = _EarlyStopping(
                monitor=monitor,
                patience=self.n_iter_no_change,
                threshold=self.tol,
                threshold_mode="abs",
                load_best=has_valid,
                sink=_silent,
            )
        callbacks = [
            ("finite_loss", _FiniteLossGuard()),
            ("stopping", stopping),
            ("thread_budget", _ThreadBudget()),
        ]
        if self.verbose == 1:
            callbacks.append(("epoch_bar", _EpochBar(self.max_iter, type(self).__name__)))
        elif self.verbose and self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def _fit_network(
        self,
        X,
        targets,
        sample_weight,
        n_outputs,
        criterion,
        *,
        output_bias=None,
        stratify=None,
        score_fn=None,
    ):
        """Train the network and return ``(net, attrs)``; sets no attribute itself.

        ``targets`` is a NumPy array (class indices or a float matrix),
        ``sample_weight`` a non-negative float array, ``criterion`` a module returning
        per-sample losses. ``output_bias`` (tensor) initialises the output layer.
        ``score_fn(module) -> float`` (higher is better), when given, replaces the
        stopping rule: it is evaluated on the initial weights and after every epoch,
        training stops after ``n_iter_no_change`` epochs without an improvement of
        ``tol``, and the best weights (possibly the initial ones) are restored. The
        caller holds out whatever data the score uses; no internal split is made.
        """
        device = resolve_device(self.device)
        dtype = self._resolve_dtype(X.dtype, device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        n_samples = X.shape[0]

        # Validation split for early stopping (stratified when possible).
        idx_train = np.arange(n_samples)
        idx_valid = None
        if self.early_stopping and score_fn is None:
            try:
                idx_train, idx_valid = train_test_split(
                    idx_train,
                    test_size=self.validation_fraction,
                    random_state=seed,
                    stratify=stratify,
                )
            except ValueError:
                idx_train, idx_valid = train_test_split(
                    idx_train, test_size=self.validation_fraction, random_state=seed
                )
            if len(idx_train) == 0 or len(idx_valid) == 0:
                raise ValueError(
                    f"early_stopping=True needs more samples: validation_fraction="
                    f"{self.validation_fraction} of {n_samples} samples leaves an empty split."
                )

        batch_size = min(200, n_samples) if self.batch_size == "auto" else int(self.batch_size)
        target_dtype = torch.long if targets.dtype.kind in "iu" else dtype
        storage = self._storage_device(X, device, dtype)

        def tensors(idx):
            w = np.asarray(sample_weight[idx], dtype=np.float64)
            mean_w = w.mean()
            if not mean_w > 0:
                raise ValueError("The sample weights of the training samples sum to zero.")
            Xt = _as_network_input(np.ascontiguousarray(X[idx]), storage, dtype)
            yt = torch.as_tensor(np.ascontiguousarray(targets[idx])).to(
                device=storage, dtype=target_dtype
            )
            wt = torch.as_tensor(w / mean_w).to(device=storage, dtype=dtype)
            return _TensorData(Xt, yt, wt)

        train_ds = tensors(idx_train)
        valid_ds = tensors(idx_valid) if idx_valid is not None else None
        loader_device = device if storage != device else None

        cuda_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=cuda_devices), limit_torch_threads():
            torch.random.default_generator.manual_seed(seed)
            if cuda_devices:
                with torch.cuda.device(cuda_devices[0]):
                    torch.cuda.manual_seed(seed)
            module = self._build_module(X.shape[1], n_outputs).to(dtype=dtype)
            if output_bias is not None:
                set_output_bias(module, output_bias)
            net = _Net(
                module=module,
                criterion=criterion,
                optimizer=torch.optim.AdamW,
                lr=self.learning_rate_init,
                optimizer__weight_decay=self.weight_decay,
                optimizer__fused=_fused_ok(device, dtype),
                max_epochs=self.max_iter,
                batch_size=batch_size,
                iterator_train=_SliceLoader,
                iterator_train__shuffle=True,
                iterator_train__seed=seed,
                iterator_train__device=loader_device,
                iterator_train__copy=self.module is not None,
                iterator_valid=_SliceLoader,
                iterator_valid__batch_size=max(batch_size, 4096),
                iterator_valid__device=loader_device,
                iterator_valid__copy=self.module is not None,
                train_split=predefined_split(valid_ds) if valid_ds is not None else None,
                callbacks=self._make_callbacks(valid_ds is not None, score_fn),
                device=device,
                verbose=int(bool(self.verbose and self.verbose >= 2)),
            )
            net.initialize()
            stopped = False
            net.notify("on_train_begin", X=train_ds, y=None)
            try:
                net.fit_loop(train_ds, None)
            except _StopTraining:
                stopped = True
            finally:
                net.notify("on_train_end", X=train_ds, y=None)
        net.module_.eval()
        net.train_split = None  # do not keep (and pickle) the validation data

        history = net.history
        n_iter = len(history)
        attrs = {
            "net_": net,
            "_chunk_rows": _chunk_rows(net.module_),
            "_dtype": dtype,
            "device_": device,
            "n_iter_": n_iter,
            "loss_curve_": [float(v) for v in history[:, "train_loss"]],
        }
        if score_fn is not None:
            best = dict(net.callbacks_)["stopping"]
            attrs["validation_scores_"] = list(best.scores_)
            attrs["best_validation_score_"] = float(best.best_)
            attrs["best_epoch_"] = int(best.best_epoch_)
            stopped = True  # the score decides; no convergence warning
        if valid_ds is not None:
            attrs["validation_loss_curve_"] = [float(v) for v in history[:, "valid_loss"]]
            attrs["best_validation_loss_"] = float(min(attrs["validation_loss_curve_"]))
        if not stopped and n_iter == self.max_iter:
            warnings.warn(
                f"{type(self).__name__}: the maximum number of epochs (max_iter="
                f"{self.max_iter}) was reached and the optimisation has not converged yet.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return attrs

    @staticmethod
    def _storage_device(X, device, dtype):
        """Keep training data on the device unless it would take over half its free memory."""
        if not device.startswith("cuda"):
            return device
        nbytes = X.size * torch.empty((), dtype=dtype).element_size()
        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return device if nbytes < 0.5 * free else "cpu"

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        # Fast path for the common case (a finite float ndarray, model fitted without
        # feature names): scikit-learn's full validation costs ~100 us, which would
        # dominate single-row prediction. Anything else goes through validate_data,
        # which also raises the standard errors.
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float32, np.float64)
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
            and (np.isfinite(X.sum()) or np.isfinite(X).all())
        ):
            return X
        return validate_data(self, X, reset=False, dtype=[np.float64, np.float32])

    def _forward(self, X, call=None, post=None):
        """Network outputs for validated ``X`` as NumPy, computed in no-grad chunks.

        ``call(module, X_chunk)`` replaces ``module(X_chunk)`` when given (e.g. to
        return an encoder's embeddings instead of the training head's scores).
        Outputs keep the network's dtype (float64 by default on the CPU; float32
        networks give float32 results, which halves prediction memory).
        ``post(chunk)`` maps each chunk's NumPy outputs to the final result
        (a decision rule, a softmax, an argmax), so that no full-size intermediate is
        ever held: peak memory is the result plus one chunk.
        """
        module = self.net_.module_
        if module.training:
            module.eval()
        dtype = getattr(self, "_dtype", None)
        if dtype is None:
            dtype = next(module.parameters()).dtype
        device = self.net_.device
        chunk = getattr(self, "_chunk_rows", None) or _chunk_rows(module)
        n = X.shape[0]
        out = None
        # Our networks only read their input; a user's module might write into it, and
        # the chunk may share memory with the caller's array: give it a copy.
        copy = self.module is not None
        quiet = contextlib.nullcontext() if X.flags.writeable else _readonly_ok()
        with torch.inference_mode(), quiet, limit_torch_threads():
            for start in range(0, n, chunk):
                Xc = _as_network_input(X[start : start + chunk], device, dtype, copy=copy)
                scores = module(Xc) if call is None else call(module, Xc)
                if not _all_finite(scores):
                    finite = torch.isfinite(scores).reshape(scores.shape[0], -1).all(dim=1)
                    row = start + int(torch.nonzero(~finite)[0, 0])
                    raise ValueError(
                        f"The network's output is not finite (NaN or infinity) for row {row} "
                        "of X: its values are far outside the range seen in training. Scale "
                        "the features as for training, or check X for extreme values."
                    )
                scores = scores.to("cpu").numpy()
                if post is not None:
                    scores = post(scores)
                if n <= chunk:  # one chunk: no copy into a result array
                    return scores
                if out is None:
                    out = np.empty((n,) + scores.shape[1:], dtype=scores.dtype)
                out[start : start + chunk] = scores
        return out


class BaseNeuralClassifier(ClassifierMixin, BaseNeuralEstimator):
    """Single-label classifier base: labels, class weights, the class prior.

    Subclasses implement ``_make_criterion(class_prior)`` (a module returning
    per-sample losses from logits and class indices), optionally
    ``_output_bias(class_prior)``, and ``_decision_scores_from_logits(logits)``:
    the per-class scores whose argmax is ``predict`` and whose softmax is
    ``predict_proba``.
    """

    _parameter_constraints: dict = {
        **BaseNeuralEstimator._parameter_constraints,
        "class_weight": [None, dict, StrOptions({"balanced"})],
    }

    def _output_bias(self, class_prior):
        return None

    def _decision_scores_from_logits(self, logits):
        return logits

    def _prepare_fit(self, X, y, sample_weight):
        _check_labels(y)
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        classes, y_enc = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data; "
                f"got only one class: {classes.tolist()[0]!r}."
            )
        sw = _check_weights(sample_weight, X)
        sw_train, mass = self._training_weights(y_enc, classes, sw)
        return X, y_enc, classes, sw_train, mass

    def _training_weights(self, y_enc, classes, sw):
        """Sample weights times class weights, and the weighted class counts.

        ``y_enc`` indexes ``classes``; a class may have no sample here (a
        cross-validation fold), its count is then 0. Raises if fewer than two classes
        keep a positive weight.
        """
        n_classes = classes.shape[0]
        mass = np.bincount(y_enc, weights=sw, minlength=n_classes)
        if np.count_nonzero(mass > 0) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes with positive "
                "sample_weight; after weighting only one class is left."
            )
        if self.class_weight is None:
            return sw, mass
        if isinstance(self.class_weight, str):  # "balanced"
            # From the sample-weighted counts (integer weights act as repeats); a class
            # whose samples all weigh zero (or that has none) gets weight 0, not 0 * inf.
            present = mass > 0
            cw = np.zeros(n_classes)
            keep = sw > 0
            cw[present] = compute_class_weight(
                "balanced",
                classes=classes[present],
                y=classes[y_enc[keep]],
                sample_weight=sw[keep],
            )
        else:
            cw = compute_class_weight(self.class_weight, classes=classes, y=classes[y_enc])
        return sw * cw[y_enc], mass

    def _fit_classifier(self, X, y, sample_weight, class_prior):
        """Fit given validated data; returns the attributes to set."""
        criterion = self._make_criterion(class_prior)
        bias = self._output_bias(class_prior)
        return self._fit_network(
            X, y, sample_weight, len(class_prior), criterion, output_bias=bias, stratify=y
        )

    # ------------------------------------------------------------- prediction
    def _training_prior_scores(self, logits):
        """Scores whose softmax estimates ``p(y | x)`` under ``class_prior_``."""
        return self._decision_scores_from_logits(logits)

    def _rule(self):
        """The per-chunk decision rule, including a fitted prior shift."""
        if getattr(self, "deployment_prior_", None) is None:
            return self._decision_scores_from_logits
        shift = np.log(self.deployment_prior_) - np.log(self.class_prior_)
        return lambda z: _log_softmax(self._training_prior_scores(z)) + shift.astype(z.dtype)

    def _decision_scores(self, X, post=None):
        X = self._validate_X_predict(X)
        rule = self._rule()
        return self._forward(X, post=rule if post is None else lambda z: post(rule(z)))

    def fit_prior_shift(self, X, *, max_iter=1000, tol=1e-8):
        r"""Estimate the class prior of unlabelled data and predict for it.

        Runs the EM procedure of Saerens et al. (2002) on the network's posteriors
        under the training prior (see
        :func:`~sk_imbalance.prior_shift.estimate_deployment_prior`), stores the
        estimate in ``deployment_prior_``, and from then on ``predict``,
        ``predict_proba`` and ``decision_function`` give the Bayes decision and
        posteriors for that prior, :math:`p_q(y|x) \propto (q_y / \pi_y)\,
        p_\pi(y|x)`, whatever ``objective`` says. Refitting, or
        :meth:`reset_prior_shift`, removes it. The estimate assumes that only the
        class mix changed (not the class-conditional distributions); it is as good as
        the network's posteriors are calibrated.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Unlabelled samples from the deployment distribution.
        max_iter : int, default=1000
            Maximum number of EM iterations.
        tol : float, default=1e-8
            Stop when the L1 change of the prior falls below this.

        Returns
        -------
        self : object
            The estimator, with ``deployment_prior_`` and ``prior_shift_n_iter_`` set.
        """
        X = self._validate_X_predict(X)
        if X.shape[0] == 0:
            raise ValueError("fit_prior_shift needs at least one unlabelled sample.")
        proba = self._forward(X, post=lambda z: _softmax(self._training_prior_scores(z)))
        prior, n_iter = estimate_deployment_prior(
            proba, self.class_prior_, max_iter=max_iter, tol=tol
        )
        self.deployment_prior_ = prior
        self.prior_shift_n_iter_ = n_iter
        return self

    def reset_prior_shift(self):
        """Forget ``deployment_prior_``: predictions follow ``objective`` again.

        Returns
        -------
        self : object
        """
        self.__dict__.pop("deployment_prior_", None)
        self.__dict__.pop("prior_shift_n_iter_", None)
        return self

    def decision_function(self, X):
        """Decision scores; ``predict`` is their argmax.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (score of ``classes_[1]``
        minus that of ``classes_[0]``), else (n_samples, n_classes)
        """

        def binary(scores):
            return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

        return self._decision_scores(X, post=binary)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return self._decision_scores(X, post=_log_softmax)

    def predict_proba(self, X):
        """Class probabilities: the softmax of the decision scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._decision_scores(X, post=_softmax)

    def predict(self, X):
        """Predicted labels, ``classes_[argmax(decision scores)]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        idx = self._decision_scores(X, post=lambda s: np.argmax(s, axis=1))
        return self.classes_[idx]


def _log_softmax(a):
    """Row-wise log-softmax of a NumPy array, dtype kept.

    Written as max-shift, exp, sum and log on the whole chunk: with few classes this is
    about 3x faster than ``torch.log_softmax`` over ``dim=1`` (whose CPU kernel
    vectorises along the short class axis).
    """
    t = torch.from_numpy(np.ascontiguousarray(a))
    shifted = t - t.amax(dim=1, keepdim=True)
    return shifted.sub_(shifted.exp().sum(dim=1, keepdim=True).log_()).numpy()


def _softmax(a):
    """Row-wise softmax of a NumPy array, dtype kept (see :func:`_log_softmax`)."""
    t = torch.from_numpy(np.ascontiguousarray(a))
    e = (t - t.amax(dim=1, keepdim=True)).exp_()
    return e.div_(e.sum(dim=1, keepdim=True)).numpy()


def fit_atomically(estimator, fit_fn):
    """Run ``fit_fn()`` (which returns attributes); on any failure, restore the state.

    Guarantees that a failed or interrupted fit leaves the estimator unfitted or with
    its previous fit intact, never half-fitted.
    """
    state = estimator.__dict__.copy()
    try:
        attrs = fit_fn()
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(state)
        raise
    for key in [
        k
        for k in estimator.__dict__
        if k.endswith("_") and not k.startswith("_") and k not in attrs
    ]:
        if key not in ("n_features_in_", "feature_names_in_"):
            del estimator.__dict__[key]
    estimator.__dict__.update(attrs)
    return estimator
