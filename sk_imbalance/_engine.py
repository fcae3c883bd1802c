"""The training engine: the only module of the package that imports skorch.

It knows nothing about labels or scikit-learn. The facade (``_base``) builds a frozen
:class:`TrainSpec` once per fit from an estimator's parameters and calls
:func:`train` with a module factory, a criterion returning per-sample losses and a
:class:`TrainData`; :func:`train` returns a :class:`TrainResult` holding the trained
module and its curves. :func:`predict` computes a module's outputs in large
``no_grad`` chunks. Replacing skorch means rewriting this file only.

What it does for every fit: resolves nothing (the spec is final), seeds training
without touching the global RNG, holds out a (stratified) validation split when asked,
feeds the network through an index-slicing data path with the data on the device,
trains with skorch's loop and callbacks (stopping rule, best-weight restore, epoch
bar), keeps torch's thread count within the machine's budget (``_parallel``), and
stops with a clear error when the loss turns non-finite or training diverges.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
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

__all__ = [
    "DIVERGENCE_FACTOR",
    "WEIGHT_GROWTH_LIMIT",
    "TrainData",
    "TrainResult",
    "TrainSpec",
    "predict",
    "resolve_device",
    "resolve_dtype",
    "train",
]

#: A fit has diverged when its last epoch's training loss exceeds this many times the
#: larger of its best epoch's loss and 1 (so at least four orders of magnitude), or
#: when its largest weight grew by more than :data:`WEIGHT_GROWTH_LIMIT` (bounded
#: losses, such as a score-bounded or cosine head's, cannot blow up themselves).
DIVERGENCE_FACTOR = 1e4
#: See :data:`DIVERGENCE_FACTOR`: ten orders of magnitude over the initial weights.
WEIGHT_GROWTH_LIMIT = 1e10


# ----------------------------------------------------------------------------------
# Devices and dtypes
# ----------------------------------------------------------------------------------
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


def resolve_dtype(dtype, X_dtype, device):
    """The network's torch dtype: ``"auto"`` is float32 on accelerators and for
    float32 input, else float64 (as scikit-learn's MLP computes)."""
    if dtype != "auto":
        return getattr(torch, dtype)
    if torch.device(device).type != "cpu":
        return torch.float32
    return torch.float32 if X_dtype == np.float32 else torch.float64


def _fused_ok(device, dtype):
    """Use AdamW's fused kernel (one pass over all parameters) where PyTorch has one."""
    if device.startswith("cuda"):
        return True
    return device == "cpu" and dtype in (torch.float32, torch.float64)


def _storage_device(X, device, dtype):
    """Keep training data on the device unless it would take over half its free memory."""
    if not device.startswith("cuda"):
        return device
    nbytes = X.size * torch.empty((), dtype=dtype).element_size()
    free, _ = torch.cuda.mem_get_info(torch.device(device))
    return device if nbytes < 0.5 * free else "cpu"


# ----------------------------------------------------------------------------------
# Tensors
# ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _readonly_ok():
    """Read-only inputs (memmaps) are only read from: torch's warning does not apply."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        yield


def all_finite(t):
    """Whether a tensor holds no NaN or infinity; one fast reduction in the usual case."""
    return math.isfinite(float(t.sum())) or bool(torch.isfinite(t).all())


def as_network_input(X, device, dtype, copy=False):
    """A finite NumPy ``X`` (native byte order, no negative strides) as a tensor.

    ``copy=True`` never shares memory with ``X`` (a user's module may write into its
    input). A float64 value beyond the range of a float32 network would silently
    become infinite: that raises instead.
    """
    with _readonly_ok() if not X.flags.writeable else contextlib.nullcontext():
        t = torch.as_tensor(X)
    out = t.to(device=device, dtype=dtype, copy=copy)
    if out.dtype.itemsize < t.dtype.itemsize and not all_finite(out):
        raise ValueError(
            f"X holds values too large for the network's precision ({dtype}, largest "
            f"{torch.finfo(dtype).max:.3g}): scale the features, or use dtype='float64'."
        )
    return out


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


# ----------------------------------------------------------------------------------
# The skorch net and its callbacks
# ----------------------------------------------------------------------------------
class _Net(NeuralNet):
    """skorch net whose criterion returns per-sample losses, averaged with weights.

    A criterion with ``uses_sample_weight = True`` also receives the batch's
    (normalised) sample weights as ``sample_weight=`` (e.g. for weighted statistics
    of the batch); the weighted mean is still taken here.
    """

    def get_default_callbacks(self):
        # skorch's PrintLog formats a table row at every epoch even when it prints
        # nothing (a fifth of the time of a small fit of one batch per epoch), and its
        # validation-loss scorer looks up the history when there is no validation
        # split: keep each only where it does something.
        return [
            (name, cb)
            for name, cb in super().get_default_callbacks()
            if not (name == "print_log" and not self.verbose)
            and not (name == "valid_loss" and self.train_split is None)
        ]

    def train_step(self, batch, **fit_params):
        # skorch's step runs inside an optimiser closure and hands every parameter to
        # the callbacks' on_grad_computed; Adam needs no closure and no callback here
        # listens, so the step is the plain one (a sixth of a small fit's time).
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self.optimizer_.step()
        return step

    def _set_training(self, training=True):
        # skorch sets the mode of every module at every batch; it only changes when
        # training and validation alternate.
        if self.module_.training != training or self.criterion_.training != training:
            super()._set_training(training)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y, w = y_true
        if getattr(self.criterion_, "uses_sample_weight", False):
            per_sample = self.criterion_(y_pred, y, sample_weight=w)
        else:
            per_sample = self.criterion_(y_pred, y)
        return (per_sample * w.to(per_sample.dtype)).mean()


class _EarlyStopping(EarlyStopping):
    """skorch's patience rule, telling its own stop from the user's Ctrl-C.

    skorch stops training by raising ``KeyboardInterrupt``, which ``partial_fit``
    swallows; ``stopped_`` records that the stop was the rule's.
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.stopped_ = False

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            self.stopped_ = self.misses_ >= self.patience
            raise

    def on_train_end(self, net, **kwargs):
        super().on_train_end(net, **kwargs)
        self.best_model_weights_ = None  # restored; do not keep a copy


class _NoStopping(Callback):
    """The stopping rule of a fit that trains every planned epoch and keeps the last."""

    def on_train_begin(self, net, **kwargs):
        self.stopped_ = False


class _FiniteLossGuard(Callback):
    """Stops training with a clear error as soon as a batch loss is NaN or infinite."""

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if loss is not None:
            value = float(loss.detach())
            if not math.isfinite(value):
                phase = "training" if training else "validation"
                raise ValueError(
                    f"Training diverged: the {phase} loss became non-finite ({value}) in epoch "
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
        self.stopped_ = False

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
                self.stopped_ = True
                raise KeyboardInterrupt  # skorch's way to end the loop

    def on_train_end(self, net, **kwargs):
        state = self.__dict__.pop("best_state_", None)
        if state is not None:
            net.module_.load_state_dict(state)


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
        self.close()

    def close(self):
        bar = self.__dict__.pop("bar_", None)
        if bar is not None:
            bar.close()


class _Progress(Callback):
    """Tells a criterion with ``set_progress`` the fraction of epochs done (LDAM-DRW)."""

    def __init__(self, max_epochs):
        self.max_epochs = max_epochs

    def on_epoch_begin(self, net, **kwargs):
        set_progress = getattr(net.criterion_, "set_progress", None)
        if set_progress is not None:
            set_progress((len(net.history) - 1) / self.max_epochs)


class _WarmupCosine(Callback):
    """The learning rate at each training step: 5% linear warm-up, then cosine to 0."""

    def __init__(self, total_steps, warmup=0.05):
        self.total_steps = max(int(total_steps), 1)
        self.warmup_steps = max(1, round(warmup * self.total_steps))

    def on_train_begin(self, net, **kwargs):
        self.step_ = 0
        self.peak_ = [group["lr"] for group in net.optimizer_.param_groups]

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        self.step_ += 1
        t, w = self.step_, self.warmup_steps
        if t <= w:
            factor = t / w
        else:
            progress = min((t - w) / max(self.total_steps - w, 1), 1.0)
            factor = 0.5 * (1.0 + math.cos(math.pi * progress))
        for group, peak in zip(net.optimizer_.param_groups, self.peak_, strict=True):
            group["lr"] = peak * factor


class _MemberAdamW(torch.optim.Adam):
    """Adam with decoupled weight decay given per entry (one strength per member).

    ``decay`` pairs every parameter with a tensor of its shape; each step first applies
    ``p <- p - lr * decay * p`` (as ``torch.optim.AdamW`` does with one strength), then
    Adam's update without decay.
    """

    def __init__(self, params, decay=(), **kwargs):
        super().__init__(params, weight_decay=0.0, **kwargs)
        self.decay = list(decay)

    @torch.no_grad()
    def step(self, closure=None):
        lr = self.param_groups[0]["lr"]
        for p, strength in self.decay:
            p.addcmul_(p, strength, value=-lr)
        return super().step(closure)


def _member_decay(module, weight_decay, dtype, device):
    """Per-entry decays of an ensemble whose members get different strengths, else None.

    Member ``m`` gets ``weight_decay[m % len(weight_decay)]`` (a single network is
    member 0).
    """
    strengths = tuple(np.atleast_1d(np.asarray(weight_decay, dtype=np.float64)).tolist())
    k = getattr(module, "n_members", 1)
    per_member = [strengths[m % len(strengths)] for m in range(k)]
    if len(set(per_member)) == 1:
        return None  # one strength: plain AdamW
    tensor = torch.tensor(per_member, dtype=dtype, device=device)
    return [(p, t.to(device)) for p, t in module.member_weight_decay(tensor)]


def _single_decay(weight_decay):
    """The one strength of a network whose members share it (member 0's)."""
    return float(np.atleast_1d(np.asarray(weight_decay, dtype=np.float64))[0])


def _silent(*args, **kwargs):
    """A picklable no-op sink for skorch callbacks' messages."""


# ----------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainSpec:
    """Everything that decides how a network is trained, fixed for one fit.

    Parameters
    ----------
    device : str
        A resolved torch device (see :func:`resolve_device`).
    dtype : torch.dtype
        The network's precision (see :func:`resolve_dtype`).
    seed : int
        Seeds initialisation, shuffling, dropout and the validation split.
    batch_size : int
        Mini-batch size.
    max_epochs : int
        Maximum number of epochs; 0 returns the initial module untrained.
    learning_rate : float
        Of the AdamW optimiser (its peak, under a schedule).
    weight_decay : float or tuple of float
        AdamW's decoupled weight decay. A tuple gives the members of an ensemble
        (a module with ``member_weight_decay``) their own strengths, cycled over the
        members.
    patience : int or None
        Epochs without an improvement of ``tol`` after which training stops; ``None``
        trains every epoch (with a validation split, the best epoch's weights are still
        restored).
    tol : float
        Minimum absolute improvement of the monitored quantity.
    score_fn : callable or None, default=None
        ``score_fn(module) -> float`` (higher is better) replaces the stopping rule:
        evaluated on the initial weights and after every epoch; the best weights
        (possibly the initial ones) are restored. The caller holds out the data it
        scores on.
    copy_inputs : bool, default=False
        Never hand the module a view of the stored data (for a user's module,
        which might write into its input).
    verbose : int, default=0
        1: a progress bar over epochs; 2: skorch's epoch table and batch bar.
    name : str, default="training"
        Label of the progress bar.
    schedule : {"constant", "warmup_cosine"}, default="constant"
        The learning rate over the optimiser steps: constant, or a linear warm-up over
        the first 5% of the steps followed by a cosine decay to 0 at the last step.
    """

    device: str
    dtype: torch.dtype
    seed: int
    batch_size: int
    max_epochs: int
    learning_rate: float
    weight_decay: float | tuple
    patience: int | None
    tol: float
    score_fn: Callable | None = None
    copy_inputs: bool = False
    verbose: int = 0
    name: str = "training"
    schedule: str = "constant"


@dataclass(frozen=True)
class TrainData:
    """The training data as NumPy arrays.

    ``targets`` are class indices (integers) or a float matrix; ``sample_weight`` are
    non-negative float weights (normalised per split to average 1). With
    ``validation_index`` (row indices) those rows are held out of training: their
    loss is monitored by the stopping rule and the best epoch's weights are
    restored. Without it the training loss is monitored.
    """

    X: np.ndarray
    targets: np.ndarray
    sample_weight: np.ndarray
    validation_index: np.ndarray | None = None


@dataclass
class TrainResult:
    """What training produced: the module (in eval mode) and its record."""

    module: torch.nn.Module
    n_iter: int
    loss_curve: list
    converged: bool
    validation_loss_curve: list | None = None
    validation_index: np.ndarray | None = None
    validation_scores: list | None = None
    best_epoch: int | None = None


def _tensors(data, idx, device, dtype):
    w = np.asarray(data.sample_weight[idx], dtype=np.float64)
    mean_w = w.mean()
    if not mean_w > 0:
        raise ValueError("The sample weights of the training samples sum to zero.")
    target_dtype = torch.long if data.targets.dtype.kind in "iu" else dtype
    X = as_network_input(np.ascontiguousarray(data.X[idx]), device, dtype)
    y = torch.as_tensor(np.ascontiguousarray(data.targets[idx])).to(device, target_dtype)
    return _TensorData(X, y, torch.as_tensor(w / mean_w).to(device=device, dtype=dtype))


def _callbacks(spec, has_valid, n_batches):
    # no patience: a rule that never fires, still restoring the best validation epoch
    patience = spec.max_epochs + 1 if spec.patience is None else spec.patience
    if spec.score_fn is not None:
        stopping = _BestScore(spec.score_fn, patience, spec.tol)
    elif spec.patience is None and not has_valid:
        stopping = _NoStopping()  # nothing to watch: every planned epoch is trained
    else:
        stopping = _EarlyStopping(
            monitor="valid_loss" if has_valid else "train_loss",
            patience=patience,
            threshold=spec.tol,
            threshold_mode="abs",
            load_best=has_valid,
            sink=_silent,
        )
    callbacks = [
        ("finite_loss", _FiniteLossGuard()),
        ("stopping", stopping),
        ("thread_budget", _ThreadBudget()),
        ("progress", _Progress(spec.max_epochs)),
    ]
    if spec.schedule == "warmup_cosine":
        callbacks.append(("schedule", _WarmupCosine(spec.max_epochs * n_batches)))
    if spec.verbose == 1:
        callbacks.append(("epoch_bar", _EpochBar(spec.max_epochs, spec.name)))
    elif spec.verbose and spec.verbose >= 2:
        callbacks.append(("progress_bar", ProgressBar()))
    return callbacks


def _largest_weight(module):
    values = [p.detach().abs().max() for p in module.parameters() if p.numel()]
    return float(torch.stack(values).max()) if values else 0.0


def _check_divergence(loss_curve, learning_rate, initial_weight, final_weight):
    best, last = min(loss_curve), loss_curve[-1]
    advice = (
        f"Lower `learning_rate_init` (now {learning_rate:g}) or scale the input features "
        "(e.g. with sklearn.preprocessing.StandardScaler)."
    )
    if last > DIVERGENCE_FACTOR * max(best, 1.0):
        raise ValueError(
            f"Training diverged: the training loss rose from {best:.3g} (its best) to "
            f"{last:.3g} and did not recover. {advice}"
        )
    if final_weight > WEIGHT_GROWTH_LIMIT * max(initial_weight, 1e-3):
        raise ValueError(
            f"Training diverged: the network's largest weight grew from "
            f"{initial_weight:.3g} to {final_weight:.3g}. {advice}"
        )


def train(module_factory, criterion, data, spec):
    """Train a network; returns a :class:`TrainResult`.

    Parameters
    ----------
    module_factory : callable
        ``module_factory() -> torch.nn.Module``, called inside the seeded RNG context
        (so that initialisation is reproducible and the global RNG untouched).
    criterion : torch.nn.Module
        Returns per-sample losses from ``(outputs, targets)``.
    data : TrainData
    spec : TrainSpec

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        If a loss turns non-finite, training diverges (:data:`DIVERGENCE_FACTOR`), or
        the sample weights of the training rows sum to zero.
    KeyboardInterrupt
        When the user interrupts training (never swallowed).
    """
    valid_idx = data.validation_index
    train_idx = np.arange(data.X.shape[0])
    if valid_idx is not None:
        train_idx = np.setdiff1d(train_idx, valid_idx)
    storage = _storage_device(data.X, spec.device, spec.dtype)
    train_ds = _tensors(data, train_idx, storage, spec.dtype)
    valid_ds = None if valid_idx is None else _tensors(data, valid_idx, storage, spec.dtype)
    loader_device = spec.device if storage != spec.device else None
    callbacks = _callbacks(spec, valid_ds is not None, math.ceil(len(train_ds) / spec.batch_size))

    cuda = [torch.device(spec.device).index or 0] if spec.device.startswith("cuda") else []
    with torch.random.fork_rng(devices=cuda), limit_torch_threads():
        torch.random.default_generator.manual_seed(spec.seed)
        if cuda:
            with torch.cuda.device(cuda[0]):
                torch.cuda.manual_seed(spec.seed)
        module = module_factory().to(dtype=spec.dtype, device=spec.device)
        if spec.max_epochs == 0:  # a plan of no epochs: the initial module
            return TrainResult(module=module.eval(), n_iter=0, loss_curve=[], converged=True)
        initial_weight = _largest_weight(module)
        decay = _member_decay(module, spec.weight_decay, spec.dtype, spec.device)
        if decay is None:
            optimizer = {"optimizer": torch.optim.AdamW}
            optimizer["optimizer__weight_decay"] = _single_decay(spec.weight_decay)
        else:
            optimizer = {"optimizer": _MemberAdamW, "optimizer__decay": decay}
        net = _Net(
            module=module,
            criterion=criterion,
            **optimizer,
            lr=spec.learning_rate,
            optimizer__fused=_fused_ok(spec.device, spec.dtype),
            max_epochs=spec.max_epochs,
            batch_size=spec.batch_size,
            iterator_train=_SliceLoader,
            iterator_train__shuffle=True,
            iterator_train__seed=spec.seed,
            iterator_train__device=loader_device,
            iterator_train__copy=spec.copy_inputs,
            iterator_valid=_SliceLoader,
            iterator_valid__batch_size=max(spec.batch_size, 4096),
            iterator_valid__device=loader_device,
            iterator_valid__copy=spec.copy_inputs,
            train_split=predefined_split(valid_ds) if valid_ds is not None else None,
            callbacks=callbacks,
            device=spec.device,
            verbose=int(bool(spec.verbose and spec.verbose >= 2)),
        )
        try:
            net.partial_fit(train_ds, None)
        finally:
            for _, cb in callbacks:
                if isinstance(cb, _EpochBar):
                    cb.close()
    stopping = dict(callbacks)["stopping"]
    n_iter = len(net.history)
    if not stopping.stopped_ and n_iter < spec.max_epochs:
        raise KeyboardInterrupt  # the user's: skorch's partial_fit swallowed it
    converged = stopping.stopped_ or spec.patience is None  # None: the schedule is the plan
    module = net.module_.eval()
    loss_curve = [float(v) for v in net.history[:, "train_loss"]]
    _check_divergence(loss_curve, spec.learning_rate, initial_weight, _largest_weight(module))
    result = TrainResult(module=module, n_iter=n_iter, loss_curve=loss_curve, converged=converged)
    if valid_ds is not None:
        result.validation_loss_curve = [float(v) for v in net.history[:, "valid_loss"]]
        result.validation_index = valid_idx
    if spec.score_fn is not None:
        result.validation_scores = list(stopping.scores_)
        result.best_epoch = int(stopping.best_epoch_)
    return result


# ----------------------------------------------------------------------------------
# Prediction
# ----------------------------------------------------------------------------------
_MIN_CHUNK = 512


def _chunk_rows(module):
    """Rows per prediction chunk: about 2M activations of the widest linear layer."""
    widths = [
        max(m.in_features, m.out_features)
        for m in module.modules()
        if isinstance(m, torch.nn.Linear)
    ]
    width = max(widths) if widths else 1024
    return int(np.clip((1 << 21) // max(width, 1), _MIN_CHUNK, 1 << 14))


def predict(module, X, *, device, dtype, call=None, post=None, copy=False):
    """A module's outputs for NumPy ``X`` as NumPy, computed in no-grad chunks.

    ``X`` must have native byte order and no negative strides (the facade's
    validation makes it so). ``call(module, X_chunk)`` replaces ``module(X_chunk)``
    when given (e.g. an encoder's embeddings instead of the training head's scores).
    Outputs keep the network's dtype. ``post(chunk)`` maps each chunk's NumPy outputs
    to the final result (a decision rule, a softmax, an argmax), so that no
    full-size intermediate is ever held: peak memory is the result plus one chunk.
    ``copy=True`` gives the module copies of ``X`` (a user's module might write into
    its input).

    Raises
    ------
    ValueError
        If an output is not finite (the message names the row).
    """
    if module.training:
        module.eval()
    n = X.shape[0]
    chunk = n if n <= _MIN_CHUNK else _chunk_rows(module)
    out = None
    with torch.inference_mode(), limit_torch_threads():
        for start in range(0, n, chunk):
            Xc = as_network_input(X[start : start + chunk], device, dtype, copy=copy)
            scores = module(Xc) if call is None else call(module, Xc)
            if not all_finite(scores):
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
