"""Pickles: which sk_imbalance wrote them, whether this one reads them, and where the
network goes when they are loaded."""

from __future__ import annotations

import copy
import warnings

import torch

from . import _version

__all__ = ["InconsistentVersionWarning", "dump_state", "load_state"]

#: Layout of a pickled estimator's state. Bump it (and keep reading the old layouts
#: where possible, listing them in ``_READABLE_STATE_FORMATS``) whenever a change of the
#: fitted attributes would make older pickles load into a broken estimator.
#: 1: the fitted skorch net in ``net_``; 2: the trained module in ``module_``.
_STATE_FORMAT = 2
_READABLE_STATE_FORMATS = (1, 2)


def _written_by(version):
    if version is None:
        return "an earlier sk_imbalance release (one that did not record its version)"
    return f"sk_imbalance {version}"


class InconsistentVersionWarning(UserWarning):
    """A pickled estimator was written by another version of sk_imbalance.

    Its state format is one this version reads, so it was loaded; predictions may
    still differ. Refit it, or load it with the version that wrote it, to be sure.
    ``original_version`` is None for pickles older than the version stamp.

    Parameters
    ----------
    estimator_name : str
        The estimator's class name.
    current_version : str
        The version loading the pickle.
    original_version : str or None
        The version that wrote it.
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


def _upgrade_format_1(state):
    """State format 1 (a skorch net in ``net_``) as format 2 (the module in ``module_``)."""
    net = state.pop("net_", None)
    if net is not None:
        state["module_"] = net.module_
        state["dtype_"] = str(state.pop("_dtype", next(net.module_.parameters()).dtype))[6:]
    state.pop("_chunk_rows", None)
    return state


def _loadable_device(device):
    """The device a pickled network returns to: its own if present, else the CPU."""
    dev = torch.device(device)
    if dev.type == "cuda" and (
        not torch.cuda.is_available() or (dev.index or 0) >= torch.cuda.device_count()
    ):
        return "cpu"
    return str(dev)


def dump_state(estimator, state):
    """The state to pickle: the network on the CPU (it loads anywhere), version-stamped."""
    module = state.get("module_")
    if module is not None and str(estimator.device_) != "cpu":
        state["module_"] = copy.deepcopy(module).to("cpu")
    return dict(
        state,
        _sk_imbalance_version=_version.__version__,
        _sk_imbalance_state_format=_STATE_FORMAT,
    )


def load_state(estimator, state):
    """Check a pickled state's version and format; returns it in the current format.

    Format-1 states are upgraded (the estimator's ``_upgrade_state`` fills in what
    it records since). Call :func:`place_network` once the state is set.
    """
    __version__ = _version.__version__
    state = dict(state)
    # Pickles written before the version was recorded have the first layout.
    original = state.pop("_sk_imbalance_version", None)
    state_format = state.pop("_sk_imbalance_state_format", 1)
    name = type(estimator).__name__
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
            stacklevel=3,
        )
    if state_format == 1:
        state = estimator._upgrade_state(_upgrade_format_1(state))
    return state


def place_network(estimator):
    """Move a loaded network to its device, or to the CPU (with a warning) if it is gone."""
    if "module_" not in estimator.__dict__:
        return
    device = _loadable_device(estimator.device_)
    if device != estimator.device_:
        warnings.warn(
            f"This {type(estimator).__name__} was fitted on {estimator.device_}, which is "
            f"not available here: it is loaded on the {device.upper()}.",
            UserWarning,
            stacklevel=3,
        )
    estimator.device_ = device
    estimator.module_.to(device)
