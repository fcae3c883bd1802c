"""Pure-PyTorch pieces of the encoder recipe (no scikit-learn, skorch or NumPy).

Written so that they can move to ``sk_imbalance/networks.py`` and
``sk_imbalance/losses/`` as they are. Run ``python research/encoder/prototypes.py`` for
the self-tests.

- :class:`ResidualLinearEncoder`: ``z = P0 x + D x (+ g(x))`` with a fitted, fixed
  ``P0`` (e.g. a within-class whitening) and a correction that starts at zero.
- :class:`CosineHead`: cosines to (sub-)centres of each group, ``K`` sub-centres
  pooled by max (sub-center CosFace/ArcFace, Deng et al. 2020) or by a soft max
  (SoftTriple, Qian et al. 2019).
- :func:`am_softmax_loss`: AM-Softmax / CosFace with logit adjustment applied after
  scaling (``s (cos - m 1_y) + tau log pi``).
- :func:`proxy_anchor_loss`: Proxy-Anchor (Kim et al. 2020) on cosines.
- :func:`supcon_loss`: supervised contrastive loss (Khosla et al. 2020) in a batch.
- :class:`MPerClassSampler`: batches of ``P`` groups x ``M`` items (torch generator).
- :func:`hashed_random_vectors`, :class:`TokenBagEncoder`: the token-id route's
  starting geometry, an IDF-weighted bag of fixed pseudo-random token vectors (a
  random projection of TF-IDF, no table stored), plus a learnt linear correction and
  an optional GRU branch that starts at zero.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ResidualLinearEncoder",
    "CosineHead",
    "am_softmax_loss",
    "proxy_anchor_loss",
    "supcon_loss",
    "MPerClassSampler",
    "hashed_random_vectors",
    "TokenBagEncoder",
]


class ResidualLinearEncoder(nn.Module):
    r"""``z = P_0 (x - \mu) + D (x - \mu) + g(x - \mu)`` with ``P_0`` fixed, ``D`` and ``g`` at 0.

    ``P_0`` (a buffer) is the starting geometry: the identity (the input's own
    cosine), or a projection fitted on the training data before training, such as a
    within-class whitening. ``D`` starts at zero, so the untrained encoder *is*
    ``P_0`` and (decoupled) weight decay pulls it back there; ``g``, an optional MLP
    branch, has its last layer at zero for the same reason.

    Parameters
    ----------
    init : Tensor of shape (embedding_dim, n_features)
        ``P_0``.
    center : Tensor of shape (n_features,) or None, default=None
        ``mu``, subtracted first (``None``: nothing).
    hidden_layer_sizes : tuple of int, default=()
        Widths of the MLP branch ``g``; ``()`` leaves it out.
    low_rank : int or None, default=None
        ``D = U V`` of this rank (``U`` at zero) instead of a full matrix.
    """

    def __init__(self, init, center=None, hidden_layer_sizes=(), low_rank=None):
        super().__init__()
        dim, n_features = init.shape
        self.register_buffer("base", init.clone())
        self.register_buffer("center", None if center is None else center.clone())
        if low_rank is None:
            self.skip = nn.Linear(n_features, dim, bias=False)
            nn.init.zeros_(self.skip.weight)
        else:
            v = nn.Linear(n_features, low_rank, bias=False)
            u = nn.Linear(low_rank, dim, bias=False)
            nn.init.zeros_(u.weight)
            self.skip = nn.Sequential(v, u)
        self.branch = None
        if hidden_layer_sizes:
            layers, width = [], n_features
            for h in hidden_layer_sizes:
                layers += [nn.Linear(width, h), nn.ReLU()]
                width = h
            last = nn.Linear(width, dim)
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            self.branch = nn.Sequential(*layers, last)

    def forward(self, x):
        if self.center is not None:
            x = x - self.center.to(x.dtype)
        z = x @ self.base.to(x.dtype).T + self.skip(x)
        return z if self.branch is None else z + self.branch(x)


class CosineHead(nn.Module):
    """Cosines between embeddings and ``n_subcenters`` learnt centres per group.

    ``pool="max"`` keeps the closest sub-centre of each group (sub-center ArcFace);
    ``pool="soft"`` averages the sub-centre cosines with softmax weights of
    temperature ``gamma`` (SoftTriple). With one sub-centre both are the plain
    cosine head.

    Parameters
    ----------
    n_classes, embedding_dim : int
    n_subcenters : int, default=1
    pool : {"max", "soft"}, default="max"
    gamma : float, default=0.1
    init : Tensor of shape (n_classes, embedding_dim) or None
        Starting centres (e.g. the class means of the initial embeddings); the
        sub-centres start at them plus small noise. ``None``: random.
    """

    def __init__(
        self, n_classes, embedding_dim, n_subcenters=1, pool="max", gamma=0.1, init=None
    ):
        super().__init__()
        self.n_classes, self.k, self.pool, self.gamma = n_classes, n_subcenters, pool, gamma
        w = torch.randn(n_classes, n_subcenters, embedding_dim) / embedding_dim**0.5
        if init is not None:
            init = F.normalize(init.to(w.dtype), dim=1)[:, None, :]
            w = init + (0.05 * w if n_subcenters > 1 else 0.0 * w)
        self.weight = nn.Parameter(w.reshape(n_classes * n_subcenters, embedding_dim))

    def forward(self, z):
        cos = F.normalize(z, dim=1) @ F.normalize(self.weight, dim=1).T
        if self.k == 1:
            return cos
        cos = cos.view(-1, self.n_classes, self.k)
        if self.pool == "max":
            return cos.amax(dim=2)
        return (torch.softmax(cos / self.gamma, dim=2) * cos).sum(dim=2)


def am_softmax_loss(cosine, target, scale=30.0, margin=0.35, log_prior=None, tau=0.0,
                    weight=None, reduction="mean"):  # fmt: skip
    r"""AM-Softmax (CosFace) with logit adjustment after scaling.

    .. math:: \ell = \mathrm{CE}\big(s(\cos - m\,1_y) + \tau \log\pi,\; y\big)

    The log-prior is added to the *scaled* logits, so its size does not depend on
    ``s`` (added to the bounded cosines before scaling, ``s tau log pi`` swamps
    them). ``margin=0, scale=1, tau=0`` is ``F.cross_entropy(cosine, target)``.

    Parameters
    ----------
    cosine : Tensor (n, n_classes)
    target : LongTensor (n,)
    scale, margin : float
    log_prior : Tensor (n_classes,) or None
    tau : float, default=0.0
    weight : Tensor (n,) or None
        Per-sample weights (the mean of ``weight * loss`` for ``"mean"``).
    reduction : {"mean", "sum", "none"}
    """
    logits = scale * (cosine - margin * F.one_hot(target, cosine.shape[1]).to(cosine.dtype))
    if tau and log_prior is not None:
        logits = logits + tau * log_prior.to(cosine.dtype)
    loss = F.cross_entropy(logits, target, reduction="none")
    return _reduce(loss, weight, reduction)


def proxy_anchor_loss(cosine, target, alpha=32.0, margin=0.1, reduction="mean"):
    r"""Proxy-Anchor loss (Kim et al., CVPR 2020) on cosines to one proxy per class.

    .. math::

        \frac{1}{|P^+|}\sum_{p \in P^+} \log\Big(1 + \sum_{x \in X_p^+} e^{-\alpha(\cos(x,p) - \delta)}\Big)
        + \frac{1}{|P|}\sum_{p \in P} \log\Big(1 + \sum_{x \in X_p^-} e^{\alpha(\cos(x,p) + \delta)}\Big)

    ``P^+`` are the proxies with a positive in the batch. The loss is per batch
    (``reduction`` other than ``"mean"`` is not defined).
    """
    pos = F.one_hot(target, cosine.shape[1]).bool()
    neg_inf = torch.finfo(cosine.dtype).min
    pos_logits = torch.where(pos, -alpha * (cosine - margin), neg_inf)
    neg_logits = torch.where(~pos, alpha * (cosine + margin), neg_inf)
    zero = torch.zeros(1, cosine.shape[1], dtype=cosine.dtype, device=cosine.device)
    pos_term = torch.logsumexp(torch.cat([zero, pos_logits]), dim=0)
    neg_term = torch.logsumexp(torch.cat([zero, neg_logits]), dim=0)
    with_pos = pos.any(dim=0)
    return pos_term[with_pos].sum() / with_pos.sum().clamp_min(1) + neg_term.mean()


def supcon_loss(z, target, temperature=0.1, weight=None, reduction="mean"):
    r"""Supervised contrastive loss (Khosla et al. 2020, "SupCon-out") within a batch.

    .. math::

        \ell_i = -\frac{1}{|P(i)|} \sum_{p \in P(i)}
            \log \frac{e^{z_i \cdot z_p / t}}{\sum_{a \ne i} e^{z_i \cdot z_a / t}}

    on L2-normalised ``z``; items without a positive in the batch get 0 and are left
    out of the mean.
    """
    z = F.normalize(z, dim=1)
    sim = z @ z.T / temperature
    n = z.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(eye, torch.finfo(sim.dtype).min)
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    pos = (target[:, None] == target[None, :]) & ~eye
    n_pos = pos.sum(dim=1)
    loss = -(log_prob.masked_fill(~pos, 0.0)).sum(dim=1) / n_pos.clamp_min(1)
    has = n_pos > 0
    if reduction == "none":
        return loss * has
    w = has.to(z.dtype) if weight is None else weight * has
    return (loss * w).sum() / w.sum().clamp_min(1e-12)


def _reduce(loss, weight, reduction):
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (weight.sum() if weight is not None else loss.shape[0])


class MPerClassSampler:
    """Batches of ``n_groups_per_batch`` groups x ``m`` items, drawn with a torch generator.

    Each batch draws its groups without replacement (uniformly: class-balanced, or
    with probability proportional to ``size**power``), then ``m`` items of each
    (without replacement when the group has ``m`` items, else with). An epoch has
    ``ceil(n_items / (n_groups_per_batch * m))`` batches, so it sees about as many
    items as a plain epoch.

    Parameters
    ----------
    target : LongTensor (n,)
        Group index of each item, ``0..n_groups-1``.
    m : int, default=4
    n_groups_per_batch : int, default=32
    power : float, default=0.0
        0: every group equally likely (class-balanced); 1: proportional to size.
    generator : torch.Generator or None
    """

    def __init__(self, target, m=4, n_groups_per_batch=32, power=0.0, generator=None):
        self.target = target.cpu()
        self.m, self.p = int(m), int(n_groups_per_batch)
        n_groups = int(self.target.max()) + 1
        order = torch.argsort(self.target, stable=True)
        counts = torch.bincount(self.target, minlength=n_groups)
        self.members = list(torch.split(order, counts.tolist()))
        self.group_p = counts.double() ** power
        self.p = min(self.p, n_groups)
        self.generator = generator

    def __len__(self):
        return math.ceil(self.target.numel() / (self.p * self.m))

    def __iter__(self):
        g = self.generator
        for _ in range(len(self)):
            groups = torch.multinomial(self.group_p, self.p, replacement=False, generator=g)
            idx = []
            for c in groups.tolist():
                mem = self.members[c]
                if mem.numel() >= self.m:
                    pick = torch.randperm(mem.numel(), generator=g)[: self.m]
                else:
                    pick = torch.randint(mem.numel(), (self.m,), generator=g)
                idx.append(mem[pick])
            yield torch.cat(idx)


def hashed_random_vectors(ids, dim, seed=0):
    """Pseudo-random vectors of entries +-1/sqrt(dim), a function of (id, coordinate, seed).

    Nothing is stored: coordinate ``j`` of token ``t`` is the sign of an integer hash
    (a 32-bit multiply-xorshift mix) of ``(t, j, seed)``, so any id (a hash bucket,
    a vocabulary index) gets a fixed vector, and distinct ids are nearly orthogonal
    (a Johnson-Lindenstrauss random projection of the token-count space).

    Parameters
    ----------
    ids : LongTensor of shape (n,)
    dim : int
    seed : int, default=0

    Returns
    -------
    Tensor of shape (n, dim), float32.
    """
    mask = 0xFFFFFFFF
    j = torch.arange(dim, device=ids.device, dtype=torch.int64)
    h = (ids.to(torch.int64)[:, None] * 0x9E3779B1 + j[None, :] * 0x85EBCA77 + seed * 0xC2B2AE3D) & mask
    for _ in range(2):
        h = ((h ^ (h >> 16)) * 0x45D9F3B) & mask
    h = h ^ (h >> 16)
    return ((h & 1).to(torch.float32) * 2 - 1) / dim**0.5


class TokenBagEncoder(nn.Module):
    r"""``z = b(x) + D b(x) + g(x)`` over token ids; ``b`` is a TF-IDF random projection.

    ``b(x) = \sum_{t \in x} (1 + \log \mathrm{tf}_t)\, \mathrm{idf}_t\, r_t`` with
    :func:`hashed_random_vectors` ``r_t`` (fixed): its cosine approximates the
    sublinear TF-IDF cosine of the ids. ``D`` (linear, at zero) and the optional
    bidirectional-GRU branch ``g`` (output layer at zero) are learnt, so the untrained
    encoder is the bag and early stopping with epoch 0 as a candidate never does
    worse than it on the held-out groups. ``0`` is padding; order does not matter to
    ``b``.

    Parameters
    ----------
    idf : Tensor of shape (n_tokens,)
        Inverse document frequencies of the ids (fitted on the training texts, e.g.
        ``log((1 + n) / (1 + df)) + 1``); ids at or above ``n_tokens`` use the last.
    embedding_dim : int, default=256
    gru_width : int, default=0
        Token and hidden size of the GRU branch; 0 leaves it out.
    seed : int, default=0
        Seed of the random token vectors.
    chunk : int, default=256
        Rows per chunk of the bag (its intermediate is rows x distinct ids).
    """

    def __init__(self, idf, embedding_dim=256, gru_width=0, seed=0, chunk=256):
        super().__init__()
        self.register_buffer("idf", idf.clone().float())
        self.dim, self.seed, self.chunk = int(embedding_dim), int(seed), int(chunk)
        self.skip = nn.Linear(self.dim, self.dim, bias=False)
        nn.init.zeros_(self.skip.weight)
        self.gru = None
        if gru_width:
            n_tokens = idf.shape[0]
            self.embed = nn.Embedding(n_tokens, gru_width, padding_idx=0)
            self.gru = nn.GRU(gru_width, gru_width, batch_first=True, bidirectional=True)
            self.out = nn.Linear(2 * gru_width, self.dim)
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

    def bag(self, X):
        ids = X.round().long().clamp(0, self.idf.shape[0] - 1)
        parts = []
        for start in range(0, ids.shape[0], self.chunk):
            part = ids[start : start + self.chunk]
            uniq, inv = torch.unique(part, return_inverse=True)
            rows = torch.arange(part.shape[0], device=ids.device)[:, None].expand_as(part)
            tf = torch.zeros(part.shape[0], uniq.numel(), device=ids.device)
            tf.index_put_((rows.reshape(-1), inv.reshape(-1)), torch.ones(part.numel(), device=ids.device), accumulate=True)
            tf[:, uniq == 0] = 0.0
            w = torch.where(tf > 0, (1 + torch.log(tf.clamp_min(1))) * self.idf[uniq], 0.0)
            parts.append(w @ hashed_random_vectors(uniq, self.dim, self.seed))
        return torch.cat(parts).to(self.skip.weight.dtype)

    def forward(self, X):
        b = self.bag(X)
        z = b + self.skip(b)
        if self.gru is None:
            return z
        ids = X.round().long().clamp(0, self.idf.shape[0] - 1)
        order = torch.argsort((ids == 0).to(torch.int8), dim=1, stable=True)
        ids = ids.gather(1, order)
        lengths = (ids != 0).sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embed(ids).to(b.dtype), lengths, batch_first=True, enforce_sorted=False
        )
        _, h = self.gru(packed)
        return z + self.out(torch.cat([h[0], h[1]], dim=1))


def _self_test():
    torch.manual_seed(0)
    cos = torch.rand(6, 4) * 2 - 1
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    # degenerate case: plain cross-entropy on cosines
    assert torch.allclose(am_softmax_loss(cos, y, 1.0, 0.0), F.cross_entropy(cos, y))
    # margin and logit adjustment by hand
    lp = torch.log(torch.tensor([0.4, 0.3, 0.2, 0.1]))
    ref = F.cross_entropy(30 * (cos - 0.35 * F.one_hot(y, 4)) + 1.0 * lp, y)
    assert torch.allclose(am_softmax_loss(cos, y, 30.0, 0.35, lp, 1.0), ref)
    # proxy anchor against a loop
    a, d = 32.0, 0.1
    tot_p, n_p, tot_n = 0.0, 0, 0.0
    for p in range(4):
        xp, xn = cos[y == p, p], cos[y != p, p]
        if xp.numel():
            tot_p += torch.log1p(torch.exp(-a * (xp - d)).sum())
            n_p += 1
        tot_n += torch.log1p(torch.exp(a * (xn + d)).sum())
    assert torch.allclose(proxy_anchor_loss(cos, y, a, d), tot_p / n_p + tot_n / 4)
    # supcon against a loop
    z = torch.randn(6, 3)
    zn = F.normalize(z, dim=1)
    losses = []
    for i in range(6):
        others = [j for j in range(6) if j != i]
        pos = [j for j in others if y[j] == y[i]]
        if not pos:
            continue
        den = torch.logsumexp(torch.stack([zn[i] @ zn[j] / 0.1 for j in others]), 0)
        losses.append(-torch.stack([zn[i] @ zn[p] / 0.1 - den for p in pos]).mean())
    assert torch.allclose(supcon_loss(z, y, 0.1), torch.stack(losses).mean(), atol=1e-6)
    # encoder starts as P0
    P0 = torch.randn(3, 5)
    enc = ResidualLinearEncoder(P0, hidden_layer_sizes=(7,))
    x = torch.randn(4, 5)
    assert torch.allclose(enc(x), x @ P0.T)
    # sub-centres: K=1 equals the cosine head; max pooling >= each sub-centre
    head = CosineHead(4, 3, n_subcenters=3)
    full = F.normalize(z, dim=1) @ F.normalize(head.weight, dim=1).T
    assert torch.allclose(head(z), full.view(6, 4, 3).amax(2))
    # sampler: P groups x M items per batch
    t = torch.tensor([0] * 10 + [1] * 3 + [2] * 7 + [3] * 1)
    s = MPerClassSampler(t, m=2, n_groups_per_batch=3, generator=torch.Generator().manual_seed(0))
    batches = list(s)
    assert len(batches) == len(s) == 4
    for b in batches:
        assert b.numel() == 6 and torch.bincount(t[b]).max() == 2
    # hashed vectors: fixed, +-1/sqrt(d), nearly orthogonal for distinct ids
    ids = torch.arange(1, 201)
    R = hashed_random_vectors(ids, 256)
    assert torch.equal(R, hashed_random_vectors(ids, 256))
    assert torch.allclose(R.abs(), torch.full_like(R, 1 / 16))
    off = (R @ R.T - torch.eye(200)).abs().max()
    assert off < 0.35, off
    # bag: order- and padding-invariant; equals the TF-IDF-weighted sum by hand
    idf = torch.rand(50) + 1
    enc = TokenBagEncoder(idf, 64, gru_width=8)
    x = torch.tensor([[3.0, 5, 3, 0, 0], [0, 7, 0, 0, 0]])
    x2 = torch.tensor([[5.0, 0, 3, 3, 0], [7, 0, 0, 0, 0]])
    assert torch.allclose(enc(x), enc(x2), atol=1e-6)
    r = hashed_random_vectors(torch.tensor([3, 5, 7]), 64)
    ref0 = (1 + math.log(2)) * idf[3] * r[0] + idf[5] * r[1]
    assert torch.allclose(enc.bag(x)[0], ref0, atol=1e-6)
    print("prototypes: all self-tests passed")


if __name__ == "__main__":
    _self_test()
