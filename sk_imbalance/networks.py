"""Pure PyTorch networks used by the estimators (no scikit-learn, no skorch)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLP", "ACTIVATIONS", "find_output_layer"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
    "gelu": nn.GELU,
}


class MLP(nn.Module):
    """Multi-layer perceptron: ``Linear -> activation -> dropout`` blocks and a linear head.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_outputs : int
        Number of output scores (logits).
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` gives a linear model.
    activation : {"relu", "tanh", "logistic", "identity", "gelu"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.

    Attributes
    ----------
    body : torch.nn.Sequential
        The hidden layers.
    output : torch.nn.Linear
        The output layer; its bias is what ``adjustment="bias_init"`` initialises.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
    ):
        super().__init__()
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers.append(nn.Linear(width, size))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        self.body = nn.Sequential(*layers)
        self.output = nn.Linear(width, n_outputs)

    def forward(self, X):
        return self.output(self.body(X))


def find_output_layer(module: nn.Module, n_outputs: int) -> nn.Linear:
    """Return the layer that produces the logits of ``module``.

    The attribute ``output`` is used when it is an ``nn.Linear``; otherwise the last
    ``nn.Linear`` with ``n_outputs`` output features.

    Raises
    ------
    ValueError
        If no such layer exists or it has no bias.
    """
    layer = getattr(module, "output", None)
    if not isinstance(layer, nn.Linear):
        candidates = [
            m for m in module.modules() if isinstance(m, nn.Linear) and m.out_features == n_outputs
        ]
        layer = candidates[-1] if candidates else None
    if layer is None or layer.bias is None:
        raise ValueError(
            "Could not find the output layer of the module: expected an attribute "
            f"`output` or a last torch.nn.Linear with {n_outputs} outputs and a bias."
        )
    return layer


@torch.no_grad()
def set_output_bias(module: nn.Module, bias: torch.Tensor) -> None:
    """Copy ``bias`` into the output layer's bias (see :func:`find_output_layer`)."""
    layer = find_output_layer(module, bias.shape[0])
    layer.bias.copy_(bias.to(dtype=layer.bias.dtype, device=layer.bias.device))
