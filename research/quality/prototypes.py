"""Pure-PyTorch prototypes of the pieces the quality research tried (no sklearn, no numpy).

Written so that they can move to ``sk_imbalance/networks.py`` and ``sk_imbalance/losses/``:

- :class:`RobustScaleSmoothClip` -- RealMLP-style robust scaling and smooth clipping as a
  module whose statistics are buffers fitted once on the training inputs;
- :class:`EnsembleLinear` and :class:`EnsembleMLP` -- ``k`` independent MLPs in one
  vectorised module (packed ensemble), input ``(batch, n_features)``, output
  ``(batch, k, n_outputs)``; optional per-member weight decay through
  :func:`decoupled_weight_decay_`;
- :class:`PeriodicEmbedding` -- numerical feature embeddings (periodic, "PLR-lite");
- :func:`vs_loss` (Kini et al. 2021) with LA as its ``gamma=0`` case,
  :func:`ldam_loss` (Cao et al. 2019) and :func:`drw_weights` (deferred re-weighting);
- :func:`ensemble_loss` -- mean over members of a per-sample loss;
- :func:`average_members` -- the ensemble's decision scores (mean of log-probabilities,
  or log of mean probabilities).

Run ``python research/quality/prototypes.py`` for the self-tests.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "RobustScaleSmoothClip",
    "EnsembleLinear",
    "EnsembleMLP",
    "PeriodicEmbedding",
    "decoupled_weight_decay_",
    "member_decay_tensors",
    "apply_member_decay_",
    "vs_loss",
    "ldam_margins",
    "ldam_loss",
    "drw_weights",
    "ensemble_loss",
    "average_members",
]


# ----------------------------------------------------------------------------------
# Input scaling
# ----------------------------------------------------------------------------------
class RobustScaleSmoothClip(nn.Module):
    r"""Robust scaling then smooth clipping of every feature (RealMLP, Holzmueller 2024).

    ``z = (x - median) * s`` with ``s = 1 / (q75 - q25)``, falling back to
    ``s = 2 / (max - min)`` when the inter-quartile range is 0 and to ``s = 0`` for a
    constant feature; then :math:`z / \sqrt{1 + (z / c)^2}` (``c = 3``), which is the
    identity near 0 and bounded by ``c``. The statistics are buffers computed by
    :meth:`fit` from the training inputs (no gradient).

    Parameters
    ----------
    n_features : int
    clip : float or None, default=3.0
        ``None`` disables the smooth clip (robust scaling only).
    """

    def __init__(self, n_features, clip=3.0):
        super().__init__()
        self.clip = clip
        self.register_buffer("center", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    @torch.no_grad()
    def fit(self, X):
        X = X.to(self.center.dtype)
        q = torch.quantile(X, torch.tensor([0.25, 0.5, 0.75], dtype=X.dtype), dim=0)
        lo, hi = X.amin(0), X.amax(0)
        iqr = q[2] - q[0]
        rng = hi - lo
        scale = torch.where(iqr > 0, 1.0 / iqr.clamp_min(1e-300), 2.0 / rng.clamp_min(1e-300))
        scale = torch.where(rng > 0, scale, torch.zeros_like(scale))
        self.center.copy_(q[1])
        self.scale.copy_(scale)
        return self

    def forward(self, X):
        z = (X - self.center) * self.scale
        if self.clip is None:
            return z
        return z / torch.sqrt(1 + (z / self.clip) ** 2)


# ----------------------------------------------------------------------------------
# Packed (vectorised) ensemble
# ----------------------------------------------------------------------------------
class EnsembleLinear(nn.Module):
    """``k`` independent linear layers applied at once: ``(B, k, in) -> (B, k, out)``.

    Initialised member by member as :class:`torch.nn.Linear` is (uniform in
    ``+-1/sqrt(in)`` for weights and biases).
    """

    def __init__(self, k, in_features, out_features):
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(k, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(k, out_features).uniform_(-bound, bound))

    def forward(self, X):
        # (B, k, i) x (k, i, o) -> (B, k, o): one batched matmul over members.
        return torch.baddbmm(self.bias[:, None, :], X.transpose(0, 1), self.weight).transpose(0, 1)


class EnsembleMLP(nn.Module):
    """``k`` MLPs trained together in one module (a packed ensemble).

    Every member sees the same input; the first layer is one dense matmul into
    ``k * width`` units (cheap), the later layers are :class:`EnsembleLinear`.

    Parameters
    ----------
    n_features, n_outputs : int
    k : int, default=8
        Number of members.
    hidden_layer_sizes : tuple of int, default=(100,)
    activation : callable, default=torch.nn.ReLU
    dropout : float, default=0.0
    embedding : torch.nn.Module or None
        Applied to ``X`` first (e.g. :class:`PeriodicEmbedding`); must expose
        ``out_features``.
    scaler : torch.nn.Module or None
        Applied to ``X`` before anything (e.g. :class:`RobustScaleSmoothClip`).

    Output: ``(batch, k, n_outputs)`` logits.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        k=8,
        hidden_layer_sizes=(100,),
        activation=nn.ReLU,
        dropout=0.0,
        embedding=None,
        scaler=None,
    ):
        super().__init__()
        self.k = k
        self.scaler = scaler
        self.embedding = embedding
        width = embedding.out_features if embedding is not None else n_features
        sizes = tuple(hidden_layer_sizes)
        self.act = activation()
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        if sizes:
            first = sizes[0]
            bound = 1.0 / math.sqrt(width)
            self.w0 = nn.Parameter(torch.empty(width, k * first).uniform_(-bound, bound))
            self.b0 = nn.Parameter(torch.empty(k * first).uniform_(-bound, bound))
            self.first = first
            layers = [EnsembleLinear(k, a, b) for a, b in zip(sizes[:-1], sizes[1:])]
            self.hidden = nn.ModuleList(layers)
            self.output = EnsembleLinear(k, sizes[-1], n_outputs)
        else:
            self.w0 = None
            self.hidden = nn.ModuleList()
            self.output = EnsembleLinear(k, width, n_outputs)

    def forward(self, X):
        if self.scaler is not None:
            X = self.scaler(X)
        if self.embedding is not None:
            X = self.embedding(X)
        if self.w0 is None:
            h = X[:, None, :].expand(-1, self.k, -1)
        else:
            h = torch.addmm(self.b0, X, self.w0).view(X.shape[0], self.k, self.first)
            h = self.drop(self.act(h))
            for layer in self.hidden:
                h = self.drop(self.act(layer(h)))
        return self.output(h)

    def member_parameters(self):
        """(parameter, member axis) pairs, for per-member weight decay."""
        out = []
        if self.w0 is not None:
            out.append((self.w0, 1))  # columns grouped by member: view (in, k, first)
            out.append((self.b0, 0))
        for layer in list(self.hidden) + [self.output]:
            out.append((layer.weight, 0))
            out.append((layer.bias, 0))
        return out


def member_decay_tensors(module, weight_decay):
    """Parameters of an :class:`EnsembleMLP` and their per-element decay strengths.

    Returns ``(params, strengths)``: ``strengths[i]`` has the shape of ``params[i]`` and
    holds the decay of the member each element belongs to (``weight_decay`` is a float or
    a ``(k,)`` tensor); parameters shared by all members get the mean. One decoupled
    (AdamW) decay step is then :func:`apply_member_decay_`. Built once per fit.
    """
    k = module.k
    wd = torch.as_tensor(weight_decay, dtype=next(module.parameters()).dtype)
    wd_k = wd.expand(k) if wd.ndim == 0 else wd
    member = {id(p) for p, _ in module.member_parameters()}
    params, strengths = [], []
    for p in module.parameters():
        if p is getattr(module, "w0", None):  # (in, k * width), columns grouped by member
            t = wd_k.repeat_interleave(p.shape[1] // k)[None, :]
        elif p is getattr(module, "b0", None):
            t = wd_k.repeat_interleave(p.shape[0] // k)
        elif id(p) in member:  # (k, ...)
            t = wd_k.view(-1, *([1] * (p.ndim - 1)))
        else:
            t = wd_k.mean().view(*([1] * p.ndim))
        params.append(p)
        strengths.append(t.expand_as(p).contiguous())
    return params, strengths


@torch.no_grad()
def apply_member_decay_(params, strengths, lr):
    """``p <- p - lr * wd * p`` elementwise; call before the (plain Adam) update, as AdamW does."""
    for p, t in zip(params, strengths):
        p.addcmul_(p, t, value=-lr)


@torch.no_grad()
def decoupled_weight_decay_(module, lr, weight_decay):
    """``p <- p * (1 - lr * wd_m)`` for every member ``m`` (AdamW's decoupled decay).

    ``weight_decay`` is a float or a tensor of shape ``(k,)`` (one strength per member).
    Parameters of ``module.member_parameters()`` get their member's strength; any other
    parameter (embeddings shared by all members) gets the mean.
    """
    wd = torch.as_tensor(weight_decay, dtype=torch.float64)
    seen = set()
    if hasattr(module, "member_parameters"):
        k = module.k
        wd_k = wd.expand(k) if wd.ndim == 0 else wd
        for p, axis in module.member_parameters():
            seen.add(id(p))
            factor = (1 - lr * wd_k).to(p.dtype)
            if p is getattr(module, "w0", None):
                p.view(p.shape[0], k, -1).mul_(factor[None, :, None])
            elif p is getattr(module, "b0", None):
                p.view(k, -1).mul_(factor[:, None])
            else:
                p.mul_(factor.view(-1, *([1] * (p.ndim - 1))))
    mean_wd = float(wd.mean())
    for p in module.parameters():
        if id(p) not in seen:
            p.mul_(1 - lr * mean_wd)


# ----------------------------------------------------------------------------------
# Numerical feature embeddings
# ----------------------------------------------------------------------------------
class PeriodicEmbedding(nn.Module):
    r"""Periodic embedding of each numerical feature, then a per-feature linear + ReLU.

    For feature ``j``: :math:`v_j = [\sin(2\pi c_j x_j), \cos(2\pi c_j x_j)]` with
    ``n_frequencies`` trainable frequencies :math:`c_j \sim N(0, \sigma^2)`, then
    ``ReLU(W_j v_j + b_j)`` of width ``d_embedding`` (the "PLR" embedding of Gorishniy
    et al. 2022, with the lite variant's shared linear when ``lite=True``). Output
    ``(batch, n_features * d_embedding)``.
    """

    def __init__(self, n_features, n_frequencies=16, sigma=1.0, d_embedding=8, lite=True):
        super().__init__()
        self.frequencies = nn.Parameter(torch.randn(n_features, n_frequencies) * sigma)
        self.lite = lite
        if lite:
            self.linear = nn.Linear(2 * n_frequencies, d_embedding)
        else:
            bound = 1.0 / math.sqrt(2 * n_frequencies)
            self.weight = nn.Parameter(
                torch.empty(n_features, 2 * n_frequencies, d_embedding).uniform_(-bound, bound)
            )
            self.bias = nn.Parameter(torch.empty(n_features, d_embedding).uniform_(-bound, bound))
        self.out_features = n_features * d_embedding

    def forward(self, X):
        a = 2 * math.pi * self.frequencies[None] * X[..., None]  # (B, d, m)
        v = torch.cat([torch.sin(a), torch.cos(a)], dim=-1)  # (B, d, 2m)
        if self.lite:
            e = self.linear(v)
        else:
            e = torch.einsum("bdm,dme->bde", v, self.weight) + self.bias
        return torch.relu(e).flatten(1)


# ----------------------------------------------------------------------------------
# Losses (per-sample, on logits)
# ----------------------------------------------------------------------------------
def vs_loss(logits, target, log_prior, gamma=0.0, tau=1.0, reduction="none"):
    r"""Vector-scaling loss (Kini et al., NeurIPS 2021).

    :math:`\ell = -\log\operatorname{softmax}(\Delta \odot f(x) + \iota)_y` with
    :math:`\Delta_c = (\pi_c / \pi_{\max})^\gamma` (multiplicative, shrinks the logits
    of rare classes during training so they need larger raw margins) and
    :math:`\iota_c = \tau \log \pi_c` (additive, logit adjustment). ``gamma=0`` is the
    logit-adjusted loss; ``gamma=0, tau=0`` is cross-entropy. The reference code
    (orparask/VS-Loss) uses ``Delta = (n_c / n_max)^gamma`` and
    ``iota = tau * log(n_c / n)``, the same thing. Prediction uses the raw ``f``.
    """
    log_prior = log_prior.to(dtype=logits.dtype, device=logits.device)
    delta = torch.exp(gamma * (log_prior - log_prior.max()))
    return F.cross_entropy(logits * delta + tau * log_prior, target, reduction=reduction)


def ldam_margins(class_counts, max_margin=0.5):
    r"""LDAM margins :math:`m_c = C / n_c^{1/4}`, with ``C`` so that the largest is ``max_margin``."""
    m = class_counts.to(torch.float64).clamp_min(1).pow(-0.25)
    return m * (max_margin / m.max())


def ldam_loss(logits, target, margins, scale=30.0, weight=None, reduction="none"):
    r"""LDAM loss (Cao et al. 2019): ``CE(s * (f - m_y e_y), y)``, optional class weights.

    The reference code (kaidic/LDAM-DRW) subtracts the margin of the true class from its
    logit and multiplies all logits by ``s = 30`` (its logits are cosines of a normalised
    head). For an unnormalised MLP head the scale acts as a temperature: ``scale=1``
    keeps the logits' own scale.
    """
    margins = margins.to(dtype=logits.dtype, device=logits.device)
    shifted = logits - F.one_hot(target, logits.shape[-1]).to(logits.dtype) * margins[target, None]
    w = None if weight is None else weight.to(dtype=logits.dtype, device=logits.device)
    return F.cross_entropy(scale * shifted, target, weight=w, reduction=reduction)


def drw_weights(class_counts, beta=0.9999):
    r"""Class-balanced weights by effective number (Cui et al. 2019), normalised to sum K.

    :math:`w_c \propto (1 - \beta) / (1 - \beta^{n_c})`; LDAM-DRW switches them on after
    a first phase of unweighted training (deferred re-weighting).
    """
    n = class_counts.to(torch.float64)
    w = (1 - beta) / (1 - beta**n)
    return w * (len(n) / w.sum())


def ensemble_loss(loss_fn, logits, target, sample_weight=None):
    """Mean over members and samples of ``loss_fn(logits_(B*k, C), target_(B*k,))``.

    ``logits`` has shape ``(B, k, C)``; every member is trained on the whole batch, and
    the member losses are summed with weight ``1/k`` (TabM trains its members this way).
    ``sample_weight`` of shape ``(B,)`` or ``(B, k)`` (e.g. bootstrap counts per member).
    """
    B, k, C = logits.shape
    per = loss_fn(logits.reshape(B * k, C), target.repeat_interleave(k)).view(B, k)
    if sample_weight is not None:
        w = sample_weight if sample_weight.ndim == 2 else sample_weight[:, None]
        per = per * w.to(per.dtype)
    return per.mean()


def average_members(logits, space="log_proba"):
    """Ensemble decision scores ``(B, C)`` from member logits ``(B, k, C)``.

    ``"log_proba"``: the mean of the members' log-probabilities (a geometric mean of
    their distributions): a prior shift of every member is a prior shift of the
    average, so LA's decision rules (balanced, training prior, deployment prior) apply
    to it unchanged. ``"proba"``: the log of the mean probability (TabM's average).
    ``"logit"``: the mean logit (equal to ``"log_proba"`` up to a per-row constant).
    """
    if space == "log_proba":
        return torch.log_softmax(logits, dim=-1).mean(dim=1)
    if space == "proba":
        return torch.logsumexp(torch.log_softmax(logits, dim=-1), dim=1) - math.log(logits.shape[1])
    if space == "logit":
        return logits.mean(dim=1)
    raise ValueError(f"space must be 'log_proba', 'proba' or 'logit'; got {space!r}")


# ----------------------------------------------------------------------------------
# Self-tests
# ----------------------------------------------------------------------------------
def _self_test():
    torch.manual_seed(0)
    X = torch.randn(64, 5, dtype=torch.float64) * 10 + 3
    y = torch.randint(0, 3, (64,))
    lp = torch.log(torch.tensor([0.7, 0.2, 0.1], dtype=torch.float64))

    # Scaling: median 0, IQR 1 before the clip; bounded by 3 after.
    sc = RobustScaleSmoothClip(5, clip=None).to(torch.float64).fit(X)
    z = sc(X)
    assert torch.allclose(z.median(0).values, torch.zeros(5, dtype=torch.float64), atol=0.2)
    sc.clip = 3.0
    assert sc(X * 1e6).abs().max() < 3.0
    const = torch.ones(10, 2, dtype=torch.float64)
    assert torch.isfinite(RobustScaleSmoothClip(2).to(torch.float64).fit(const)(const)).all()

    # Packed ensemble equals k separate MLPs.
    net = EnsembleMLP(5, 3, k=4, hidden_layer_sizes=(7, 6)).to(torch.float64)
    out = net(X)
    assert out.shape == (64, 4, 3)
    m = 2
    h = torch.relu(X @ net.w0.view(5, 4, 7)[:, m] + net.b0.view(4, 7)[m])
    h = torch.relu(h @ net.hidden[0].weight[m] + net.hidden[0].bias[m])
    ref = h @ net.output.weight[m] + net.output.bias[m]
    assert torch.allclose(out[:, m], ref)

    # Per-member decay touches each member with its own strength.
    before = net.output.weight.detach().clone()
    decoupled_weight_decay_(net, lr=0.1, weight_decay=torch.tensor([0.0, 1.0, 2.0, 3.0]))
    assert torch.allclose(net.output.weight[0], before[0])
    assert torch.allclose(net.output.weight[3], before[3] * 0.7)

    # The precomputed form agrees with the direct one.
    net3 = EnsembleMLP(5, 3, k=4, hidden_layer_sizes=(7,)).to(torch.float64)
    net4 = EnsembleMLP(5, 3, k=4, hidden_layer_sizes=(7,)).to(torch.float64)
    net4.load_state_dict(net3.state_dict())
    wdv = torch.tensor([0.1, 0.3, 1.0, 3.0], dtype=torch.float64)
    decoupled_weight_decay_(net3, lr=0.01, weight_decay=wdv)
    ps, ts = member_decay_tensors(net4, wdv)
    apply_member_decay_(ps, ts, lr=0.01)
    for a, b in zip(net3.parameters(), net4.parameters()):
        assert torch.allclose(a, b)

    # Embedding shape.
    emb = PeriodicEmbedding(5, n_frequencies=4, d_embedding=3).to(torch.float64)
    assert emb(X).shape == (64, 15)
    net2 = EnsembleMLP(5, 3, k=2, embedding=emb, scaler=sc).to(torch.float64)
    assert net2(X).shape == (64, 2, 3)

    # VS: gamma=0 is LA, gamma=tau=0 is CE.
    f = torch.randn(64, 3, dtype=torch.float64)
    la = F.cross_entropy(f + lp, y, reduction="none")
    assert torch.allclose(vs_loss(f, y, lp, gamma=0.0, tau=1.0), la)
    assert torch.allclose(vs_loss(f, y, lp, gamma=0.0, tau=0.0), F.cross_entropy(f, y, reduction="none"))
    # LDAM with zero margins and scale 1 is CE.
    zero = torch.zeros(3, dtype=torch.float64)
    assert torch.allclose(ldam_loss(f, y, zero, scale=1.0), F.cross_entropy(f, y, reduction="none"))
    mg = ldam_margins(torch.tensor([700, 200, 100]))
    assert abs(float(mg.max()) - 0.5) < 1e-12 and mg[2] > mg[0]
    assert torch.allclose(drw_weights(torch.tensor([5, 5])), torch.ones(2, dtype=torch.float64))
    # Gradients finite at extreme logits.
    g = (f * 1e3).requires_grad_()
    vs_loss(g, y, lp, gamma=0.3, tau=1.0).sum().backward()
    assert torch.isfinite(g.grad).all()
    assert torch.autograd.gradcheck(lambda t: vs_loss(t, y, lp, 0.3, 1.0).sum(), (f.clone().requires_grad_(),))

    # Ensemble helpers.
    L = torch.randn(8, 4, 3, dtype=torch.float64)
    t = torch.randint(0, 3, (8,))
    ref = torch.stack([F.cross_entropy(L[:, j], t) for j in range(4)]).mean()
    assert torch.allclose(ensemble_loss(lambda a, b: F.cross_entropy(a, b, reduction="none"), L, t), ref)
    a = average_members(L, "log_proba")
    b = average_members(L, "logit")
    assert torch.equal(a.argmax(1), b.argmax(1))
    p = average_members(L, "proba").exp().sum(1)
    assert torch.allclose(p, torch.ones_like(p))
    print("prototypes: all self-tests passed")


if __name__ == "__main__":
    _self_test()
