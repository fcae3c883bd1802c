"""Pure PyTorch networks used by the estimators (no scikit-learn, no skorch, no NumPy).

Every ``nn.Module`` of the package that is not a loss: the MLP, the bounded-score
wrapper, the similarity encoders and the cosine head. An encoder maps a
``(batch, n_features)`` tensor to ``(batch, embedding_dim)`` embeddings;
:class:`CosineClassifierNetwork` puts a cosine head on top for training with
:class:`~sk_imbalance.losses.AMSoftmaxLoss`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "BoundedScores",
    "CosineClassifierNetwork",
    "GRUEncoder",
    "ResidualMLPEncoder",
    "cosine_logits",
    "find_output_layer",
    "set_output_bias",
    "unit_rows",
]

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


class BoundedScores(nn.Module):
    r"""``s = b tanh(f / b)`` of a network's outputs ``f``: scores bounded in ``(-b, b)``.

    Keeps the order and the sign of every output; near 0 it is the identity. Used by
    :class:`~sk_imbalance.ZLPRMultiLabelClassifier` to cap how confident the network
    may become. ``bound=None`` returns ``f`` unchanged.

    Parameters
    ----------
    module : torch.nn.Module
        The network whose outputs are bounded.
    bound : float > 0 or None
        :math:`b`.
    """

    def __init__(self, module, bound):
        super().__init__()
        self.module = module
        self.bound = None if bound is None else float(bound)

    def forward(self, X):
        f = self.module(X)
        return f if self.bound is None else self.bound * torch.tanh(f / self.bound)


def find_output_layer(module: nn.Module, n_outputs: int) -> nn.Linear:
    """Return the layer that produces the logits of ``module``.

    The attribute ``output`` is used when it is an ``nn.Linear``; otherwise the last
    ``nn.Linear`` with ``n_outputs`` output features.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    n_outputs : int
        Its number of outputs.

    Returns
    -------
    torch.nn.Linear
        The output layer.

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
    """Copy ``bias`` into the output layer's bias (see :func:`find_output_layer`).

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    bias : Tensor of shape (n_outputs,)
        The values.
    """
    layer = find_output_layer(module, bias.shape[0])
    layer.bias.copy_(bias.to(dtype=layer.bias.dtype, device=layer.bias.device))


def unit_rows(x, eps=1e-12):
    """Rows of ``x`` scaled to unit L2 norm; zero rows stay zero.

    A row with values beyond 1 is first divided by its largest absolute value, so that
    the norm of huge values does not overflow to infinity (which would silently give a
    zero vector).

    Parameters
    ----------
    x : Tensor of shape (n_samples, dim)
        The rows.
    eps : float, default=1e-12
        Lower bound of the norms.

    Returns
    -------
    Tensor of shape (n_samples, dim)
        Unit rows (zero rows stay zero).
    """
    scale = x.detach().abs().amax(dim=1, keepdim=True)
    x = x / scale.clamp_min(1.0)  # rows within [-1, 1] are left as they are
    return F.normalize(x, dim=1, eps=eps)


def cosine_logits(embeddings, weight, eps=1e-12):
    r"""Cosines between L2-normalised embeddings and L2-normalised class weights.

    .. math:: \cos_{ij} = \frac{\langle z_i, W_j \rangle}{\|z_i\| \, \|W_j\|}

    Parameters
    ----------
    embeddings : Tensor of shape (n_samples, dim)
    weight : Tensor of shape (n_classes, dim)
    eps : float, default=1e-12
        Lower bound of the norms (a zero vector gets cosine 0 with everything).

    Returns
    -------
    Tensor of shape (n_samples, n_classes), values in [-1, 1].
    """
    return unit_rows(embeddings, eps) @ unit_rows(weight, eps).T


class ResidualMLPEncoder(nn.Module):
    r"""``z = P_0 x + D x + g(x)``: a fixed projection plus learnt corrections that start at 0.

    ``P_0`` is a fixed buffer: the identity when ``embedding_dim == n_features`` (so
    cosine similarity starts as the input's own cosine), otherwise a random
    semi-orthogonal projection (which roughly preserves angles). The linear
    correction ``D`` and the last layer of the MLP branch ``g`` start at zero, so
    weight decay pulls the encoder back towards the input's geometry rather than
    towards the zero map: training moves away from it only where the loss asks.

    Parameters
    ----------
    n_features : int
    embedding_dim : int
    hidden_layer_sizes : tuple of int, default=()
        Hidden widths of the branch ``g``; ``()`` leaves it out (a linear encoder).
    activation : str, default="relu"
        A key of :data:`sk_imbalance.networks.ACTIVATIONS`.
    dropout : float, default=0.0
    """

    def __init__(
        self, n_features, embedding_dim, hidden_layer_sizes=(), activation="relu", dropout=0.0
    ):
        super().__init__()
        if embedding_dim == n_features:
            base = torch.eye(n_features)
        else:
            base = nn.init.orthogonal_(torch.empty(embedding_dim, n_features))
        self.register_buffer("base", base)
        self.skip = nn.Linear(n_features, embedding_dim, bias=False)
        nn.init.zeros_(self.skip.weight)
        self.branch = None
        if len(hidden_layer_sizes) > 0:
            self.branch = MLP(n_features, embedding_dim, hidden_layer_sizes, activation, dropout)
            nn.init.zeros_(self.branch.output.weight)
            nn.init.zeros_(self.branch.output.bias)

    def forward(self, X):
        z = X @ self.base.to(X.dtype).T + self.skip(X)
        return z if self.branch is None else z + self.branch(X)


class GRUEncoder(nn.Module):
    """Bidirectional GRU over integer token ids; ``0`` is padding.

    Each row of the input holds token ids (as floats or integers; they are cast to
    ``long``). Padding tokens are removed before the GRU runs (the non-zero tokens
    are moved to the front in their order and the sequences packed), so padding
    anywhere in a row does not change its embedding. Ids at or above
    ``n_tokens - 1`` share the last embedding row (out of vocabulary).

    Parameters
    ----------
    n_tokens : int
        Size of the embedding table (largest training id + 2: padding and OOV).
    embedding_dim : int
        Output dimension.
    token_dim : int, default=64
        Dimension of the token embeddings.
    hidden_size : int, default=64
        GRU hidden size per direction.
    dropout : float, default=0.0
        Dropout on the token embeddings.
    """

    def __init__(self, n_tokens, embedding_dim, token_dim=64, hidden_size=64, dropout=0.0):
        super().__init__()
        self.n_tokens = int(n_tokens)
        self.embed = nn.Embedding(self.n_tokens, token_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(token_dim, hidden_size, batch_first=True, bidirectional=True)
        self.output = nn.Linear(2 * hidden_size, embedding_dim)

    def forward(self, X):
        ids = X.round().long().clamp(0, self.n_tokens - 1)
        # Non-padding tokens first, in order (stable sort), so packing drops all padding.
        order = torch.argsort((ids == 0).to(torch.int8), dim=1, stable=True)
        ids = ids.gather(1, order)
        lengths = (ids != 0).sum(dim=1).clamp(min=1).cpu()
        tokens = self.dropout(self.embed(ids))
        packed = nn.utils.rnn.pack_padded_sequence(
            tokens, lengths, batch_first=True, enforce_sorted=False
        )
        _, h = self.gru(packed)  # (2, batch, hidden)
        return self.output(torch.cat([h[0], h[1]], dim=1))


class CosineClassifierNetwork(nn.Module):
    """An encoder with a cosine head: ``forward`` returns cosines to the class weights.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps ``(batch, n_features)`` to ``(batch, embedding_dim)``.
    n_classes : int
    embedding_dim : int

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_classes, embedding_dim)
        The class (group) centres; only their direction matters.
    """

    def __init__(self, encoder, n_classes, embedding_dim):
        super().__init__()
        self.encoder = encoder
        self.weight = nn.Parameter(torch.randn(n_classes, embedding_dim) / embedding_dim**0.5)

    def encode(self, X):
        """L2-normalised embeddings.

        Parameters
        ----------
        X : Tensor of shape (n_samples, n_features)
            Items.

        Returns
        -------
        Tensor of shape (n_samples, embedding_dim)
            Unit embeddings.
        """
        return unit_rows(self.encoder(X))

    def forward(self, X):
        return cosine_logits(self.encoder(X), self.weight)
