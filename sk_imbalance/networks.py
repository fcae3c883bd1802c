"""Pure PyTorch networks used by the estimators (no scikit-learn, no skorch, no NumPy).

Every ``nn.Module`` of the package that is not a loss: the MLP, the bounded-score
wrapper, the similarity encoders and the cosine head. An encoder maps a
``(batch, n_features)`` tensor to ``(batch, embedding_dim)`` embeddings;
:class:`CosineClassifierNetwork` puts a cosine head on top for training with
:class:`~sk_imbalance.losses.AMSoftmaxLoss`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "Ensemble",
    "EnsembleLinear",
    "EnsembleMLP",
    "BoundedScores",
    "CosineClassifierNetwork",
    "Encoded",
    "FirstColumns",
    "PiecewiseLinearEncoding",
    "GRUEncoder",
    "ResidualMLPEncoder",
    "cosine_logits",
    "find_output_layer",
    "piecewise_linear_edges",
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


class EnsembleLinear(nn.Module):
    r"""``k`` independent linear layers applied at once: ``(batch, k, in) -> (batch, k, out)``.

    Each member is initialised as :class:`torch.nn.Linear` initialises itself (weights
    and biases uniform in :math:`\pm 1/\sqrt{in}`).

    Parameters
    ----------
    n_members : int
        ``k``.
    in_features, out_features : int
        Widths of each member's layer.

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_members, in_features, out_features)
    bias : torch.nn.Parameter of shape (n_members, out_features)
    """

    def __init__(self, n_members, in_features, out_features):
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        weight = torch.empty(n_members, in_features, out_features).uniform_(-bound, bound)
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.empty(n_members, out_features).uniform_(-bound, bound))

    def forward(self, X):
        # (B, k, i) x (k, i, o) -> (B, k, o): one batched matrix product over members.
        return torch.baddbmm(self.bias[:, None, :], X.transpose(0, 1), self.weight).transpose(0, 1)


class _MemberGroups(NamedTuple):
    products: list  # (input index, first-layer unit index) per group
    order: object  # LongTensor putting the groups' units back in member order, or None


def _index(positions):
    """A slice for consecutive positions (a view, no copy), else an index tensor."""
    positions = [int(p) for p in positions]
    if positions == list(range(positions[0], positions[-1] + 1)):
        return slice(positions[0], positions[-1] + 1)
    return torch.as_tensor(positions)


def _member_groups(input_mask, width):
    """The members of an :class:`EnsembleMLP` grouped by the inputs they see."""
    patterns = input_mask[:, ::width].T.bool()  # (n_members, n_features)
    groups = {}
    for m, row in enumerate(patterns.tolist()):
        groups.setdefault(tuple(row), []).append(m)
    products, units_order = [], []
    for row, members in groups.items():
        units = [m * width + j for m in members for j in range(width)]
        products.append((_index([i for i, seen in enumerate(row) if seen]), _index(units)))
        units_order.extend(units)
    order = torch.as_tensor(units_order).argsort()
    return _MemberGroups(products, None if units_order == sorted(units_order) else order)


class EnsembleMLP(nn.Module):
    """``n_members`` independent MLPs in one vectorised module (a packed ensemble).

    Every member sees the same input. The first layer is one dense matrix product into
    ``n_members * hidden_layer_sizes[0]`` units, the later layers are
    :class:`EnsembleLinear`; each member is initialised as a separate :class:`MLP` would
    be. ``forward`` returns ``(batch, n_members, n_outputs)`` scores, one row per member
    (the estimators average them for prediction and average the members' losses in
    training); training all members together costs far less than ``n_members`` fits,
    since they share every step's overhead.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_outputs : int
        Number of output scores per member.
    n_members : int, default=8
        Number of members.
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden widths of every member; ``()`` gives linear members.
    activation : {"relu", "tanh", "logistic", "identity", "gelu"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    member_inputs : Tensor of shape (n_members, n_features) or None, default=None
        Which inputs each member sees (booleans): member ``m`` is an MLP on the
        features where ``member_inputs[m]`` is true, initialised for that fan-in, and
        its first-layer weights on the other inputs stay 0. None: every member sees
        every input. Needs a hidden layer.

    Attributes
    ----------
    output : EnsembleLinear
        The members' output layers (``adjustment="bias_init"`` initialises their biases).
    input_mask : Tensor of shape (n_features, n_members * hidden_layer_sizes[0]) or None
        The first layer's fixed mask (a buffer) when ``member_inputs`` is given.

    References
    ----------
    .. [1] Y. Gorishniy, A. Kotelnikov and A. Babenko, "TabM: Advancing Tabular Deep
       Learning with Parameter-Efficient Ensembling", ICLR 2025.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        n_members=8,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        member_inputs=None,
    ):
        super().__init__()
        self.n_members = k = int(n_members)
        sizes = tuple(int(h) for h in hidden_layer_sizes)
        self.activation = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.first_width = sizes[0] if sizes else 0
        if sizes:
            bound = 1.0 / math.sqrt(n_features)
            self.first_weight = nn.Parameter(
                torch.empty(n_features, k * sizes[0]).uniform_(-bound, bound)
            )
            self.first_bias = nn.Parameter(torch.empty(k * sizes[0]).uniform_(-bound, bound))
            if member_inputs is not None:
                self._mask_members(torch.as_tensor(member_inputs, dtype=torch.bool), sizes[0])
            else:
                self.input_mask = None
            self.hidden = nn.ModuleList(
                [EnsembleLinear(k, a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
            )
            self.output = EnsembleLinear(k, sizes[-1], n_outputs)
        else:
            if member_inputs is not None:
                raise ValueError("member_inputs needs a hidden layer (hidden_layer_sizes=()).")
            self.first_weight = self.first_bias = self.input_mask = None
            self.hidden = nn.ModuleList()
            self.output = EnsembleLinear(k, n_features, n_outputs)

    @torch.no_grad()
    def _mask_members(self, member_inputs, width):
        k, n_features = self.n_members, self.first_weight.shape[0]
        if member_inputs.shape != (k, n_features) or not bool(member_inputs.any(dim=1).all()):
            raise ValueError(
                f"member_inputs must be a ({k}, {n_features}) boolean mask with at least "
                f"one input per member; got shape {tuple(member_inputs.shape)}."
            )
        mask = member_inputs.T.repeat_interleave(width, dim=1).to(self.first_weight.dtype)
        # nn.Linear's bound 1/sqrt(fan_in) for each member's own fan-in.
        rescale = (n_features / member_inputs.sum(dim=1).to(mask.dtype)).sqrt()
        rescale = rescale.repeat_interleave(width)
        self.first_weight.mul_(mask * rescale)
        self.first_bias.mul_(rescale)
        self.register_buffer("input_mask", mask)
        self._input_groups = _member_groups(mask, width)

    def forward(self, X):
        k = self.n_members
        if self.first_weight is None:
            h = X[:, None, :].expand(-1, k, -1)
        else:
            h = self._first_layer(X).view(X.shape[0], k, -1)
            h = self.dropout(self.activation(h))
            for layer in self.hidden:
                h = self.dropout(self.activation(layer(h)))
        return self.output(h)

    def _first_layer(self, X):
        if getattr(self, "input_mask", None) is None:  # absent from older pickles
            return torch.addmm(self.first_bias, X, self.first_weight)
        # One product per group of members seeing the same inputs, on those inputs only:
        # the masked weights are never read (they stay 0: no gradient reaches them).
        groups = getattr(self, "_input_groups", None)
        if groups is None:
            groups = self._input_groups = _member_groups(self.input_mask, self.first_width)
        weight, bias = self.first_weight, self.first_bias
        parts = [
            torch.addmm(bias[units], X[:, inputs], weight[inputs][:, units])
            for inputs, units in groups.products
        ]
        h = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        return h if groups.order is None else h[:, groups.order]

    def member_weight_decay(self, weight_decay):
        """Each parameter with the decay of the member each of its entries belongs to.

        Parameters
        ----------
        weight_decay : Tensor of shape (n_members,)
            One decoupled weight-decay strength per member.

        Returns
        -------
        list of (torch.nn.Parameter, Tensor)
            Every parameter with a tensor of its shape holding each entry's strength.
        """
        k = self.n_members
        out = []
        for p in self.parameters():
            wd = weight_decay.to(p.dtype)
            if p is self.first_weight:  # columns grouped by member
                t = wd.repeat_interleave(self.first_width)[None, :]
            elif p is self.first_bias:
                t = wd.repeat_interleave(self.first_width)
            else:  # (k, ...) parameters of EnsembleLinear
                t = wd.view(k, *([1] * (p.ndim - 1)))
            out.append((p, t.expand_as(p).contiguous()))
        return out


class Ensemble(nn.Module):
    """Independent networks whose outputs are stacked: ``(batch, n_members, n_outputs)``.

    The ensemble of any networks (e.g. a user's ``module``); :class:`EnsembleMLP` is the
    faster, vectorised form for MLPs.

    Parameters
    ----------
    members : list of torch.nn.Module
        Networks mapping ``(batch, n_features)`` to ``(batch, n_outputs)``.

    Attributes
    ----------
    members : torch.nn.ModuleList
        The networks.
    n_members : int
        Their number.
    """

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.n_members = len(self.members)

    def forward(self, X):
        # Every member but the last gets its own copy of the batch: a user's module may
        # modify its input in place, and the next member must see the original rows
        # (the copies are the batch's size, small next to the members' forward passes).
        last = self.n_members - 1
        return torch.stack(
            [member(X if m == last else X.clone()) for m, member in enumerate(self.members)],
            dim=1,
        )

    def member_weight_decay(self, weight_decay):
        """Each member's parameters with that member's decay (see :class:`EnsembleMLP`).

        Parameters
        ----------
        weight_decay : Tensor of shape (n_members,)
            One decoupled weight-decay strength per member.

        Returns
        -------
        list of (torch.nn.Parameter, Tensor)
            Every parameter with a tensor of its shape holding its strength.
        """
        return [
            (p, torch.full_like(p, float(wd)))
            for member, wd in zip(self.members, weight_decay, strict=True)
            for p in member.parameters()
        ]


def piecewise_linear_edges(X, n_bins, sample_weight=None):
    """Bin edges of each feature at its training quantiles (for :class:`PiecewiseLinearEncoding`).

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
        Training features.
    n_bins : int
        Largest number of bins per feature: the edges are the quantiles at
        ``0, 1 / n_bins, ..., 1``, with repeated values dropped (a feature with few
        distinct values gets fewer bins; a constant feature one bin of width 1).
    sample_weight : Tensor of shape (n_samples,) or None, default=None
        Non-negative weights: the quantiles are those of the weighted empirical
        distribution (the "inverted CDF" definition, the smallest value whose
        cumulative weight reaches the level), so an integer weight is the same as
        repeating the row and a zero weight the same as leaving it out.

    Returns
    -------
    list of Tensor
        One increasing 1-D float64 tensor of at least 2 edges per feature.
    """
    X = X.to(torch.float64)
    w = torch.ones(X.shape[0], dtype=torch.float64) if sample_weight is None else sample_weight
    w = torch.as_tensor(w, dtype=torch.float64)
    keep = w > 0
    X, w = X[keep], w[keep]
    levels = torch.linspace(0, 1, int(n_bins) + 1, dtype=torch.float64)
    edges = []
    for column in X.T:
        values, order = torch.sort(column)
        cdf = torch.cumsum(w[order], 0)
        cdf = cdf / cdf[-1]
        # the first value whose cumulative weight reaches each level (1e-12: rounding)
        index = torch.searchsorted(cdf, levels - 1e-12).clamp(max=len(values) - 1)
        e = torch.unique(values[index])
        if e.numel() == 1:
            e = torch.cat([e, e + 1])
        edges.append(e)
    return edges


class PiecewiseLinearEncoding(nn.Module):
    r"""The features followed by their piecewise-linear encodings on fixed bin edges.

    The encoding of Gorishniy, Rubachev and Babenko (2022, "PLE" with quantile bins):
    feature :math:`x` with edges :math:`b_0 < \dots < b_T` gets :math:`T` values
    :math:`e_t = (x - b_{t-1}) / (b_t - b_{t-1})`, clipped to 1 for bins below
    :math:`x`'s and to 0 for bins above it (the first bin is not clipped below, the
    last not above), so that a network's first layer can respond to each bin
    separately: steps and thresholds along each feature, as trees have. The output
    is ``[x, e(x_1), ..., e(x_F)]`` of width ``n_features * (1 + n_bins)``, where
    ``n_bins`` is the largest ``T``; a feature with fewer bins has zeros in the rest.

    Parameters
    ----------
    edges : list of Tensor
        The bin edges of each feature (:func:`piecewise_linear_edges`).

    Attributes
    ----------
    n_features : int
        Input width.
    n_bins : int
        Encoded values per feature.
    n_outputs : int
        Output width, ``n_features * (1 + n_bins)``; the first ``n_features`` columns
        are the input.

    References
    ----------
    .. [1] Y. Gorishniy, I. Rubachev and A. Babenko, "On Embeddings for Numerical
       Features in Tabular Deep Learning", NeurIPS 2022.
    """

    def __init__(self, edges):
        super().__init__()
        self.n_features = len(edges)
        self.n_bins = t_max = max(len(e) - 1 for e in edges)
        self.n_outputs = self.n_features * (1 + t_max)
        lower = torch.zeros(self.n_features, t_max, dtype=torch.float64)
        scale = torch.zeros_like(lower)
        low = torch.zeros_like(lower)  # clip below: 0, or -inf for the first bin
        high = torch.ones_like(lower)  # clip above: 1, or +inf for the last bin
        for j, e in enumerate(edges):
            e = torch.as_tensor(e, dtype=torch.float64)
            t = len(e) - 1
            lower[j, :t] = e[:-1]
            scale[j, :t] = 1.0 / (e[1:] - e[:-1])
            low[j, 0] = -math.inf
            high[j, t - 1] = math.inf
            high[j, t:] = 0.0  # unused bins: always 0
        self.register_buffer("lower", lower)
        self.register_buffer("scale", scale)
        self.register_buffer("low", low)
        self.register_buffer("high", high)

    def forward(self, X):
        z = (X[:, :, None] - self.lower) * self.scale
        z = torch.maximum(torch.minimum(z, self.high), self.low)  # unused bins stay 0
        return torch.cat([X, z.flatten(1)], dim=1)


class Encoded(nn.Module):
    """A fixed input encoding followed by a network: ``network(encoding(X))``.

    Parameters
    ----------
    encoding : torch.nn.Module
        E.g. :class:`PiecewiseLinearEncoding`; it has no trained parameters.
    network : torch.nn.Module
        The trained network on the encoded input.
    """

    def __init__(self, encoding, network):
        super().__init__()
        self.encoding = encoding
        self.network = network
        self.n_members = getattr(network, "n_members", 1)

    def forward(self, X):
        return self.network(self.encoding(X))

    def member_weight_decay(self, weight_decay):
        """The network's parameters with their members' decays (see :class:`EnsembleMLP`).

        Parameters
        ----------
        weight_decay : Tensor of shape (n_members,)
            One decoupled weight-decay strength per member.

        Returns
        -------
        list of (torch.nn.Parameter, Tensor)
        """
        return self.network.member_weight_decay(weight_decay)


class FirstColumns(nn.Module):
    """``network(X[:, :n_columns])``: a member of an ensemble that sees only some inputs.

    Parameters
    ----------
    n_columns : int
        Leading columns passed on.
    network : torch.nn.Module
        The network on them.
    """

    def __init__(self, n_columns, network):
        super().__init__()
        self.n_columns = int(n_columns)
        self.network = network

    def forward(self, X):
        return self.network(X[:, : self.n_columns])


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

    @property
    def n_members(self):
        """int: the wrapped network's number of ensemble members (1 for one network)."""
        return getattr(self.module, "n_members", 1)

    def member_weight_decay(self, weight_decay):
        """The wrapped ensemble's parameters with each member's decay.

        Parameters
        ----------
        weight_decay : Tensor of shape (n_members,)
            One decoupled weight-decay strength per member.

        Returns
        -------
        list of (Parameter, Tensor)
            Each parameter of the wrapped ensemble with a tensor of its shape holding
            the decay of the member each entry belongs to.
        """
        return self.module.member_weight_decay(weight_decay)

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
    torch.nn.Linear or EnsembleLinear
        The output layer.

    Raises
    ------
    ValueError
        If no such layer exists or it has no bias.
    """
    layer = getattr(module, "output", None)
    if isinstance(layer, EnsembleLinear):
        return layer
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

    For an ensemble (:class:`Ensemble`, :class:`EnsembleMLP`) every member's output
    bias gets it.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    bias : Tensor of shape (n_outputs,)
        The values.
    """
    if isinstance(module, Ensemble):
        for member in module.members:
            set_output_bias(member, bias)
        return
    if isinstance(module, (Encoded, FirstColumns)):
        set_output_bias(module.network, bias)
        return
    layer = find_output_layer(module, bias.shape[0])
    layer.bias.copy_(
        bias.to(dtype=layer.bias.dtype, device=layer.bias.device).expand_as(layer.bias)
    )


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

    ``P_0`` is a fixed buffer, ``Q S``: ``S`` is the starting map ``start`` (the
    identity by default, or a fitted one such as a within-group whitening), ``Q`` the
    identity when ``embedding_dim`` equals ``S``'s number of rows, otherwise a random
    semi-orthogonal projection (which roughly preserves angles). By default, then,
    cosine similarity starts as the input's own cosine. The linear correction ``D``
    and the last layer of the MLP branch ``g`` start at zero, so weight decay pulls
    the encoder back towards the starting geometry rather than towards the zero map:
    training moves away from it only where the loss asks.

    Parameters
    ----------
    n_features : int
    embedding_dim : int
    hidden_layer_sizes : tuple of int, default=()
        Hidden widths of the branch ``g``; ``()`` leaves it out (a linear encoder).
    activation : str, default="relu"
        A key of :data:`sk_imbalance.networks.ACTIVATIONS`.
    dropout : float, default=0.0
    start : Tensor of shape (n_directions, n_features) or None, default=None
        The starting map ``S`` (``z = S x`` before any training, when ``embedding_dim
        == n_directions``); ``None`` is the identity.
    """

    def __init__(
        self,
        n_features,
        embedding_dim,
        hidden_layer_sizes=(),
        activation="relu",
        dropout=0.0,
        start=None,
    ):
        super().__init__()
        start = torch.eye(n_features) if start is None else torch.as_tensor(start).clone()
        if embedding_dim == start.shape[0]:
            base = start
        else:
            q = nn.init.orthogonal_(torch.empty(embedding_dim, start.shape[0]))
            base = q.to(start.dtype) @ start
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
