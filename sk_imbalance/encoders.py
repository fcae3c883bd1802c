"""Pure PyTorch encoders for similarity learning (no scikit-learn, no skorch).

An encoder maps a ``(batch, n_features)`` tensor to ``(batch, embedding_dim)``
embeddings; :class:`CosineClassifierNetwork` puts a cosine head on top for training
with :class:`~sk_imbalance.losses.AMSoftmaxLoss`.
"""

from __future__ import annotations

import torch
from torch import nn

from .losses import cosine_logits
from .losses._am_softmax import unit_rows
from .networks import MLP

__all__ = ["ResidualMLPEncoder", "GRUEncoder", "CosineClassifierNetwork"]


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
        """L2-normalised embeddings."""
        return unit_rows(self.encoder(X))

    def forward(self, X):
        return cosine_logits(self.encoder(X), self.weight)
