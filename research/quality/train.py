"""A fast, self-contained training loop for the candidate recipes (pure PyTorch).

``fit_predict(cfg, X_train, y_train, X_test, seed)`` trains the configured network and
returns the test-set decision scores for the *balanced* objective (``(n_test, K)``,
argmax = balanced prediction), the fit time and a few diagnostics.

Configuration keys (defaults = today's package default, ``DEFAULT``):

- network: ``k`` members, ``hidden`` widths, ``act`` (relu/gelu/selu/silu), ``dropout``,
  ``emb`` (None or dict(n_freq, sigma, d, lite)), ``scale`` (None | "robust_clip" |
  "robust" | "standard" inside the module), ``dtype`` (float64/float32)
- loss: ``loss`` in {"la", "vs", "ldam_drw", "ce", "ce_bal", "focal_bal", "focal"},
  ``tau``, ``gamma``, ``ldam_max_m``, ``ldam_s``, ``drw_frac``, ``ls`` (label smoothing)
- optimiser: ``lr``, ``wd`` (float, or list of per-member strengths), ``betas``,
  ``batch`` ("auto" = min(200, n), int, or "full")
- length: ``stop`` = "train_loss" (today's rule: ``tol``, ``patience``, ``max_epochs``)
  or "fixed" (``epochs``, or ``steps`` to fix the number of optimiser steps);
  ``sched`` = "const" | "cos" | "lin" with ``warmup`` (fraction of the steps)
- validation: ``val`` fraction (0 = none), ``val_metric`` ("bal_nll" | "ba"),
  ``val_patience``; best epoch restored
- ensemble: ``avg`` space ("log_proba" | "proba" | "logit"), ``bag`` (Poisson(1)
  bootstrap weights per member)
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from prototypes import (
    EnsembleMLP,
    PeriodicEmbedding,
    RobustScaleSmoothClip,
    average_members,
    decoupled_weight_decay_,
    drw_weights,
    ldam_loss,
    ldam_margins,
    vs_loss,
)

DEFAULT = dict(
    k=1, hidden=(100,), act="relu", dropout=0.0, emb=None, scale=None, dtype="float64",
    loss="la", tau=1.0, gamma=0.0, ldam_max_m=0.5, ldam_s=1.0, drw_frac=0.5, ls=0.0,
    focal_gamma=2.0,
    lr=1e-3, wd=0.1, betas=(0.9, 0.999), batch="auto",
    stop="train_loss", tol=1e-4, patience=10, max_epochs=400, epochs=100, steps=None,
    min_steps=1, max_steps=10**9,
    sched="const", warmup=0.0, val=0.0, val_metric="bal_nll", val_patience=20,
    avg="log_proba", bag=0, posthoc_tau=None, oob_tau=False,
)

ACTS = {"relu": nn.ReLU, "gelu": nn.GELU, "selu": nn.SELU, "silu": nn.SiLU, "mish": nn.Mish}


class _StandardInside(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.register_buffer("center", torch.zeros(n))
        self.register_buffer("scale", torch.ones(n))

    @torch.no_grad()
    def fit(self, X):
        sd = X.std(0)
        self.center.copy_(X.mean(0))
        self.scale.copy_(torch.where(sd > 0, 1 / sd.clamp_min(1e-300), torch.zeros_like(sd)))
        return self

    def forward(self, X):
        return (X - self.center) * self.scale


def build(cfg, n_features, n_classes, Xt):
    scaler = None
    if cfg["scale"] in ("robust_clip", "robust"):
        scaler = RobustScaleSmoothClip(n_features, clip=3.0 if cfg["scale"] == "robust_clip" else None)
    elif cfg["scale"] == "standard":
        scaler = _StandardInside(n_features)
    if scaler is not None:
        scaler = scaler.to(Xt.dtype).fit(Xt)
    emb = None
    if cfg["emb"]:
        e = cfg["emb"]
        emb = PeriodicEmbedding(n_features, e.get("n_freq", 16), e.get("sigma", 1.0), e.get("d", 8), e.get("lite", True))
    net = EnsembleMLP(
        n_features, n_classes, k=cfg["k"], hidden_layer_sizes=cfg["hidden"],
        activation=ACTS[cfg["act"]], dropout=cfg["dropout"], embedding=emb, scaler=scaler,
    )
    return net.to(Xt.dtype)


def make_member_loss(cfg, counts, dtype, tau_m, gamma_m, ls_m):
    """Per-member VS/LA loss with label smoothing: (B, k, C), (B,) -> (B, k)."""
    K = len(counts)
    prior = (counts + 1e-12) / (counts.sum() + K * 1e-12)
    lp = torch.log(torch.as_tensor(prior, dtype=dtype))
    delta = torch.exp(gamma_m[:, None] * (lp - lp.max())[None, :])  # (k, C)
    shift = tau_m[:, None] * lp[None, :]  # (k, C)
    cnt = torch.as_tensor(counts, dtype=dtype)
    bal_w = (cnt.sum() / (K * cnt.clamp_min(1))).to(dtype)
    weighted = cfg["loss"] in ("vs_bal", "focal_bal_m")
    focal_m = cfg.get("_focal_m") if cfg["loss"] == "focal_bal_m" else None

    def fn(out, y, frac):
        z = out * delta + shift
        logp = torch.log_softmax(z, dim=-1)
        nll = -logp.gather(2, y[:, None, None].expand(-1, out.shape[1], 1))[..., 0]
        per = nll if not bool((ls_m > 0).any()) else (1 - ls_m) * nll - ls_m * logp.mean(-1)
        if focal_m is not None:  # focal modulation (1 - p_y)^gamma_m, gamma_m = 0: CE
            per = (1 - torch.exp(-nll)).clamp_min(0) ** focal_m * per
        return per * bal_w[y][:, None] if weighted else per

    return fn, lp


def make_loss(cfg, counts, dtype):
    K = len(counts)
    prior = counts / counts.sum()
    prior = (counts + 1e-12) / (counts.sum() + K * 1e-12)
    lp = torch.log(torch.as_tensor(prior, dtype=dtype))
    cnt = torch.as_tensor(counts, dtype=dtype)
    bal_w = (cnt.sum() / (K * cnt.clamp_min(1))).to(dtype)
    ls = cfg["ls"]
    name = cfg["loss"]

    def la(f, y, epoch_frac):
        return F.cross_entropy(f + cfg["tau"] * lp, y, reduction="none", label_smoothing=ls)

    def vs(f, y, epoch_frac):
        delta = torch.exp(cfg["gamma"] * (lp - lp.max()))
        return F.cross_entropy(f * delta + cfg["tau"] * lp, y, reduction="none", label_smoothing=ls)

    margins = ldam_margins(torch.as_tensor(counts), cfg["ldam_max_m"]).to(dtype)
    drw = drw_weights(torch.as_tensor(counts)).to(dtype)

    def ldam(f, y, epoch_frac):
        w = drw if epoch_frac >= cfg["drw_frac"] else None
        return ldam_loss(f, y, margins, scale=cfg["ldam_s"], weight=w)

    def ce(f, y, epoch_frac):
        return F.cross_entropy(f, y, reduction="none", label_smoothing=ls)

    def ce_bal(f, y, epoch_frac):
        return F.cross_entropy(f, y, reduction="none", label_smoothing=ls) * bal_w[y]

    def focal(f, y, epoch_frac, weighted=False):
        logp = torch.log_softmax(f, -1).gather(1, y[:, None])[:, 0]
        out = -((1 - logp.exp()) ** cfg["focal_gamma"]) * logp
        return out * bal_w[y] if weighted else out

    table = dict(la=la, vs=vs, ldam_drw=ldam, ce=ce, ce_bal=ce_bal, focal=focal,
                 focal_bal=lambda f, y, e: focal(f, y, e, True))
    return table[name], lp


def balanced_scores(cfg, logits_avg, lp):
    """Member-averaged log-probabilities -> balanced decision scores."""
    name = cfg["loss"]
    if name == "focal_bal_m":
        return logits_avg
    if cfg.get("posthoc_tau") is not None:
        return logits_avg - cfg["posthoc_tau"] * lp
    if name == "ce":
        return logits_avg - 1.0 * lp  # post-hoc LA, tau = 1
    return logits_avg


def member_decay_tensors(net, wd, dtype):
    """Parameters and broadcastable per-member decay strengths (for one foreach call)."""
    k = net.k
    wd_k = torch.as_tensor(wd, dtype=dtype).expand(k) if np.ndim(wd) == 0 else torch.as_tensor(wd, dtype=dtype)
    ps, ts = [], []
    member = {id(p): p for p, _ in net.member_parameters()}
    for p in net.parameters():
        if p is getattr(net, "w0", None):
            t = wd_k.repeat_interleave(p.shape[1] // k)[None, :]
        elif p is getattr(net, "b0", None):
            t = wd_k.repeat_interleave(p.shape[0] // k)
        elif id(p) in member:
            t = wd_k.view(-1, *([1] * (p.ndim - 1)))
        else:
            t = wd_k.mean().view(*([1] * p.ndim))
        ps.append(p)
        ts.append(t.expand_as(p).contiguous())
    return ps, ts


def _lr_at(cfg, step, total):
    w = int(round(cfg["warmup"] * total))
    if step < w:
        return (step + 1) / w
    if cfg["sched"] == "const":
        return 1.0
    t = (step - w) / max(1, total - w)
    if cfg["sched"] == "cos":
        return 0.5 * (1 + math.cos(math.pi * t))
    if cfg["sched"] == "lin":
        return 1.0 - t
    raise ValueError(cfg["sched"])


def expand_grid(cfg):
    """``cfg["grid"]`` (dict of lists over wd, tau, gamma, ls) -> list of (name, overrides)."""
    import itertools

    grid = cfg.get("grid") or {}
    if not grid:
        return [("", {})]
    keys = list(grid)
    out = []
    for vals in itertools.product(*(grid[k] for k in keys)):
        name = ",".join(f"{k}={json_val(v)}" for k, v in zip(keys, vals))
        out.append((name, dict(zip(keys, vals))))
    return out


def json_val(v):
    return "x".join(str(a) for a in v) if isinstance(v, (list, tuple)) else str(v)


def _ba(scores, y, K, dtype):
    cnt = torch.bincount(y, minlength=K).to(dtype).clamp_min(1)
    pred = scores.argmax(1)
    return float((torch.bincount(y[pred == y], minlength=K).to(dtype) / cnt).mean())


def _oob_tau(base, y, K, lp, dtype):
    """The post-hoc shift tau' (scores - tau' log pi) maximising OOB balanced accuracy.

    Ties (common: BA is a step function) go to the value closest to 0 among the best.
    """
    taus = torch.linspace(-2.0, 4.0, 61, dtype=dtype)
    bas = torch.tensor([_ba(base - t * lp, y, K, dtype) for t in taus])
    ok = torch.nonzero(bas >= bas.max() - 1e-9)[:, 0]
    return float(taus[ok][torch.argmin(taus[ok].abs())])


def oob_outputs(cfg, net, Xt, yt, logits, bag_w, bag_m, groups, k, K, lp, dtype, scores, info):
    """Out-of-bag decisions: a post-hoc tau per group, and the choice among groups.

    For every bagged group: OOB scores of each training sample (mean log-probability over
    the members whose bootstrap left it out), then ``+oob``: the test scores shifted by
    the tau' that maximises OOB balanced accuracy. With ``oob_select``: ``sel`` is the
    group with the lowest OOB balanced NLL, ``sel+oob`` the same with its tau'.
    """
    lt = torch.log_softmax(net(Xt), -1)
    crit = {}
    for gi, (gname, ov) in enumerate(groups):
        sl = slice(gi * k, (gi + 1) * k)
        if not bool((bag_m[sl] > 0).all()):
            continue
        oob = (bag_w[:, sl] == 0).to(dtype)
        has = oob.sum(1) > 0
        o = (lt[:, sl] * oob[..., None]).sum(1) / oob.sum(1).clamp_min(1)[:, None]
        c = {**cfg, **{kk: v for kk, v in ov.items() if kk != "wd"}}
        base = balanced_scores(c, o, lp)[has]
        yo = yt[has]
        cnt = torch.bincount(yo, minlength=K).to(dtype).clamp_min(1)
        bnll = float(F.cross_entropy(base, yo, weight=1 / cnt))
        t = _oob_tau(base, yo, K, lp, dtype)
        test = balanced_scores(c, average_members(logits[:, sl], cfg["avg"]), lp)
        crit[gname] = (bnll, t, test, _ba(base, yo, K, dtype))
        if cfg.get("oob_tau"):
            scores[gname + "+oob"] = (test - t * lp).numpy()
    info["oob"] = {g: (v[0], v[1], v[3]) for g, v in crit.items()}
    if cfg.get("oob_select") and crit:
        g = min(crit, key=lambda q: crit[q][0])
        scores["sel"] = crit[g][2].numpy()
        scores["sel+oob"] = (crit[g][2] - crit[g][1] * lp).numpy()
        gba = max(crit, key=lambda q: (crit[q][3], -crit[q][0]))
        scores["selba"] = crit[gba][2].numpy()
        info["selected"] = g
        # the mixture: every member of every group averaged
        oob = (bag_w == 0).to(dtype)
        has = oob.sum(1) > 0
        o = (lt * oob[..., None]).sum(1) / oob.sum(1).clamp_min(1)[:, None]
        base = balanced_scores(cfg, o, lp)[has]
        t = _oob_tau(base, yt[has], K, lp, dtype)
        mix = balanced_scores(cfg, average_members(logits, cfg["avg"]), lp)
        scores["mix"] = mix.numpy()
        scores["mix+oob"] = (mix - t * lp).numpy()


def fit_predict(cfg, X_train, y_train, X_test, seed=0, return_model=False):
    """Train; return ({group: balanced test scores (n_test, K)}, fit seconds, info).

    With ``cfg["grid"]`` every combination of the listed member-level hyper-parameters
    (``wd``, ``tau``, ``gamma``, ``ls``) is a group of ``k`` members trained in the same
    module, on the same batches (groups do not interact: the loss is a sum over
    members); each group is evaluated as its own ensemble. ``wd`` may itself be a list
    (per-member strengths inside a group, length ``k``).
    """
    cfg = {**DEFAULT, **cfg}
    dtype = getattr(torch, cfg["dtype"])
    t0 = time.perf_counter()
    gen = np.random.RandomState(seed)
    torch.manual_seed(seed)
    K = int(y_train.max()) + 1
    groups = expand_grid(cfg)
    G, k = len(groups), cfg["k"]

    def member_vec(key):
        vals = []
        for _, ov in groups:
            v = ov.get(key, cfg[key])
            vals.extend(list(v) if isinstance(v, (list, tuple)) else [v] * k)
        return torch.as_tensor(vals, dtype=dtype)

    idx_tr = np.arange(len(y_train))
    idx_va = None
    if cfg["val"] > 0:
        from sklearn.model_selection import train_test_split

        idx_tr, idx_va = train_test_split(idx_tr, test_size=cfg["val"], random_state=seed, stratify=y_train)
    Xt = torch.as_tensor(X_train[idx_tr], dtype=dtype)
    yt = torch.as_tensor(y_train[idx_tr], dtype=torch.long)
    n = len(yt)
    counts = np.bincount(y_train[idx_tr], minlength=K).astype(np.float64)
    net = build({**cfg, "k": G * k}, X_train.shape[1], K, Xt)
    if cfg["loss"] == "focal_bal_m":  # class-balanced focal / CE, tau = gamma = 0
        cfg = {**cfg, "_focal_m": member_vec("focal_gamma")}
        loss_fn, lp = make_member_loss(cfg, counts, dtype, member_vec("tau") * 0, member_vec("gamma") * 0,
                                       member_vec("ls"))
    elif cfg["loss"] in ("la", "vs", "vs_bal"):
        loss_fn, lp = make_member_loss(cfg, counts, dtype, member_vec("tau"),
                                       member_vec("gamma") if cfg["loss"] != "la" else member_vec("gamma") * 0,
                                       member_vec("ls"))
    else:
        base_fn, lp = make_loss(cfg, counts, dtype)

        def loss_fn(out, y, frac):
            B, kk, C = out.shape
            return base_fn(out.reshape(B * kk, C), y.repeat_interleave(kk), frac).view(B, kk)

    bs = cfg["batch"]
    bs = min(200, n) if bs == "auto" else (n if bs == "full" else min(int(bs), n))
    steps_per_epoch = math.ceil(n / bs)
    if cfg["stop"] == "fixed":
        total = cfg["steps"] if cfg["steps"] else cfg["epochs"] * steps_per_epoch
        total = int(np.clip(total, cfg["min_steps"], cfg["max_steps"]))
        n_epochs = math.ceil(total / steps_per_epoch)
    else:
        n_epochs = cfg["max_epochs"]
        total = n_epochs * steps_per_epoch

    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=cfg["lr"], betas=tuple(cfg["betas"]), fused=True)
    wd_params, wd_tensors = member_decay_tensors(net, member_vec("wd"), dtype)

    bag_w = None
    bag_m = member_vec("bag")
    if bool((bag_m > 0).any()):
        draws = torch.as_tensor(gen.poisson(1.0, size=(n, G * k)), dtype=dtype)
        bag_w = torch.where(bag_m[None, :] > 0, draws, torch.ones_like(draws))

    def group_scores(logits):
        out = {}
        for gi, (gname, ov) in enumerate(groups):
            sub = logits[:, gi * k:(gi + 1) * k]
            c = {**cfg, **{kk: v for kk, v in ov.items() if kk != "wd"}}
            out[gname] = balanced_scores(c, average_members(sub, cfg["avg"]), lp)
        return out

    if idx_va is not None:
        assert G == 1, "validation-based stopping is implemented for one group"
        Xv = torch.as_tensor(X_train[idx_va], dtype=dtype)
        yv = torch.as_tensor(y_train[idx_va], dtype=torch.long)
        cnt_v = torch.bincount(yv, minlength=K).to(dtype).clamp_min(1)

    def val_score():
        net.eval()
        with torch.no_grad():
            s = group_scores(net(Xv))[groups[0][0]]
        net.train()
        if cfg["val_metric"] == "ba":
            pred = s.argmax(1)
            rec = torch.bincount(yv[pred == yv], minlength=K).to(dtype) / cnt_v
            return float(rec.mean()) - 1e-3 * float(F.cross_entropy(s, yv, weight=1 / cnt_v))
        return -float(F.cross_entropy(s, yv, weight=1 / cnt_v))  # balanced NLL

    best = (-math.inf, None, 0)
    if idx_va is not None:
        best = (val_score(), copy.deepcopy(net.state_dict()), 0)
    g = torch.Generator().manual_seed(seed)
    step = 0
    best_loss, misses = math.inf, 0
    epochs_run = 0
    net.train()
    for epoch in range(n_epochs):
        perm = torch.randperm(n, generator=g) if n > bs else None
        ep_loss = 0.0
        for start in range(0, n, bs):
            if step >= total:
                break
            if perm is None:
                xb, yb, wb = Xt, yt, bag_w
            else:
                ib = perm[start:start + bs]
                xb, yb = Xt[ib], yt[ib]
                wb = bag_w[ib] if bag_w is not None else None
            lr = cfg["lr"] * _lr_at(cfg, step, total)
            for gr in opt.param_groups:
                gr["lr"] = lr
            per = loss_fn(net(xb), yb, epoch / max(1, n_epochs))
            loss = (per * wb).sum() / wb.sum() if wb is not None else per.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():  # decoupled (AdamW) decay, one strength per member
                torch._foreach_addcmul_(wd_params, wd_params, wd_tensors, value=-lr)
            opt.step()
            step += 1
            ep_loss += float(loss.detach()) * len(yb)
        epochs_run = epoch + 1
        if idx_va is not None:
            sc = val_score()
            if sc > best[0] + 1e-6:
                best = (sc, copy.deepcopy(net.state_dict()), epoch + 1)
            elif epoch + 1 - best[2] >= cfg["val_patience"]:
                break
            if step >= total:
                break
        elif cfg["stop"] == "fixed":
            if step >= total:
                break
        else:
            ep_loss /= n
            if ep_loss < best_loss - cfg["tol"]:
                best_loss, misses = ep_loss, 0
            else:
                misses += 1
                if misses >= cfg["patience"]:
                    break
    if idx_va is not None and best[1] is not None:
        net.load_state_dict(best[1])
    fit_s = time.perf_counter() - t0
    info = {}
    net.eval()
    with torch.no_grad():
        logits = net(torch.as_tensor(X_test, dtype=dtype))
        scores = {gname: s.numpy() for gname, s in group_scores(logits).items()}
        if (cfg.get("oob_tau") or cfg.get("oob_select")) and bag_w is not None:
            oob_outputs(cfg, net, Xt, yt, logits, bag_w, bag_m, groups, k, K, lp, dtype, scores, info)
    info.update(epochs=epochs_run, steps=step, best_epoch=best[2])
    if return_model:
        info["net"] = net
        info["member_logits"] = logits
    return scores, fit_s, info
