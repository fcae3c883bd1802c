"""Experiment harness for the encoder research (issue 19): own training loop, pure torch.

Usage::

    PYTHONPATH=. python research/encoder/harness.py NAME [key=value ...] [--cases text0,text1,syn0,syn1]

trains the configuration (defaults in ``DEFAULTS``, overridden by ``key=value``) on
each case of ``data.CASES``, prints recall@1 on the unseen groups and fit time, and
appends one JSON line per case to ``research/encoder/results.jsonl``.

The protocol is the package's: a ``val_frac`` of the training groups with >= 2
distinct items is held out (drawn with the seed from the sorted groups); after every
epoch (and before the first) the leave-one-out recall@1 by cosine among the held-out
items is measured; training stops after ``patience`` epochs without a gain of
``tol``; the best epoch is restored. One torch thread.
"""

from __future__ import annotations

import json
import math
import pathlib
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))

from data import CASES  # noqa: E402
from preprocessing import fisher_whitening, within_class_whitening  # noqa: E402
from prototypes import (  # noqa: E402
    CosineHead,
    MPerClassSampler,
    ResidualLinearEncoder,
    TokenBagEncoder,
    am_softmax_loss,
    proxy_anchor_loss,
    supcon_loss,
)

torch.set_num_threads(1)
# warm-up: the first optimiser import costs seconds (torch._dynamo), not part of a fit
torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])

DEFAULTS = dict(
    # input / starting projection
    encoder="mlp",  # mlp (numeric input) | bag (token ids: TokenBagEncoder)
    gru_width=0,  # bag only: GRU branch width (0: none)
    n_tokens=2**16 + 2,  # bag only: size of the id space (hash buckets + padding)
    init="identity",  # identity | whiten | fisher | auto (best fisher q on the held-out groups)
    fisher_q=0.5,
    auto_qs=(0.0, 0.25, 0.5),  # None in the list = the identity
    auto_folds=1,
    shrinkage="auto",  # of the within-class whitening
    power=0.5,  # of the whitening
    center=False,  # subtract the training mean first
    unit_input=False,  # L2-normalise the input rows first
    dim=None,  # embedding dim (None: n_features)
    hidden=(),  # MLP branch
    low_rank=None,
    # loss
    loss="am",  # am | ce (linear softmax head) | proxy_anchor | norm_softmax
    scale=30.0,
    margin=0.35,
    tau=0.0,  # logit adjustment (after scaling)
    subcenters=1,
    pool="max",
    head_init="random",  # random | means
    supcon=0.0,  # weight of a SupCon term
    supcon_t=0.1,
    pa_alpha=32.0,
    pa_margin=0.1,
    # optimisation
    lr=1e-3,
    head_lr=None,  # None: lr
    wd=0.1,
    batch=200,
    sampler="shuffle",  # shuffle | mpc
    m_per_class=4,
    mpc_power=0.0,
    max_epochs=400,
    patience=40,
    tol=5e-3,
    val_frac=0.2,
    refit=False,  # refit on all training groups for the chosen number of epochs
    refit_epochs_scale=1.0,
    ensemble=1,  # members (different seeds and held-out draws), embeddings concatenated
    seed=0,
    dtype="float32",
    trace=False,  # diagnostic only: also record the test recall after every epoch
)

_TRACE = {}  # set by evaluate() when cfg["trace"]: the test data, for diagnostics only


def loo_recall(Z, g):
    """Leave-one-out recall@1 by cosine (torch; ties to the first index as the package)."""
    Z = F.normalize(Z.double(), dim=1)
    g = torch.as_tensor(g)
    counts = torch.bincount(g)
    q = torch.nonzero(counts[g] > 1).squeeze(1)
    sim = Z[q] @ Z.T
    sim[torch.arange(q.numel()), q] = -math.inf
    return float((g[sim.argmax(1)] == g[q]).double().mean())


def _held_out(X, y, frac, seed, min_groups=10):
    n = int(y.max()) + 1
    cand = np.array([c for c in range(n) if np.unique(X[y == c], axis=0).shape[0] >= 2])
    if cand.size < min_groups:
        return np.array([], dtype=int)
    n_held = min(max(2, int(round(frac * cand.size))), n - 2)
    return np.sort(np.random.RandomState(seed).choice(cand, size=n_held, replace=False))


class Model(torch.nn.Module):
    def __init__(self, encoder, head):
        super().__init__()
        self.encoder, self.head = encoder, head

    def encode(self, x):
        return F.normalize(self.encoder(x), dim=1)


def _idf(ids, n_tokens):
    """``log((1 + n) / (1 + df)) + 1`` of the token ids (as scikit-learn's smooth idf).

    ``n_tokens`` covers ids never seen in training (hash buckets): they get df = 0.
    """
    ids = ids.astype(np.int64)
    n_tokens = max(int(ids.max()) + 2, n_tokens)
    df = np.zeros(n_tokens)
    for row in ids:
        df[np.unique(row[row > 0])] += 1
    return np.log((1 + len(ids)) / (1 + df)) + 1


def _build(cfg, Xtr, ytr, n_classes, dtype):
    if cfg["encoder"] == "bag":
        dim = cfg["dim"] or 256
        enc = TokenBagEncoder(torch.tensor(_idf(Xtr, cfg["n_tokens"])), dim, cfg["gru_width"]).to(dtype)
        head = CosineHead(n_classes, dim, cfg["subcenters"], cfg["pool"]).to(dtype)
        return Model(enc, head)
    d = Xtr.shape[1]
    dim = d if cfg["dim"] is None else cfg["dim"]
    if cfg["init"] == "whiten":
        P, _ = within_class_whitening(Xtr, ytr, cfg["shrinkage"], cfg["power"])
    elif cfg["init"] == "fisher":
        P, _ = fisher_whitening(Xtr, ytr, cfg["fisher_q"], cfg["shrinkage"], cfg["power"])
    else:
        P = np.eye(d)
    P = P.T  # numpy maps X @ P; the encoder's buffer maps x -> base @ x
    if dim != d:
        Q = torch.nn.init.orthogonal_(torch.empty(dim, d, dtype=torch.float64)).numpy()
        P = Q @ P
    center = torch.tensor(Xtr.mean(0), dtype=dtype) if cfg["center"] else None
    enc = ResidualLinearEncoder(torch.tensor(P, dtype=dtype), center, tuple(cfg["hidden"]),
                                cfg["low_rank"]).to(dtype)  # fmt: skip
    if cfg["loss"] == "ce":
        head = torch.nn.Linear(dim, n_classes).to(dtype)
    else:
        init = None
        if cfg["head_init"] == "means":
            with torch.no_grad():
                Z = F.normalize(enc(torch.tensor(Xtr, dtype=dtype)), dim=1)
            init = torch.zeros(n_classes, dim, dtype=dtype).index_add_(0, torch.as_tensor(ytr), Z)
        head = CosineHead(n_classes, dim, cfg["subcenters"], cfg["pool"], init=init).to(dtype)
    return Model(enc, head)


def _loss(cfg, model, xb, yb, log_prior):
    z = model.encoder(xb)
    if cfg["loss"] == "ce":
        loss = F.cross_entropy(model.head(z), yb)
    elif cfg["loss"] == "proxy_anchor":
        loss = proxy_anchor_loss(model.head(z), yb, cfg["pa_alpha"], cfg["pa_margin"])
    else:
        scale = cfg["scale"]
        if scale == "adacos":  # Zhang et al. 2019's fixed scale: sqrt(2) log(C - 1)
            scale = math.sqrt(2) * math.log(max(log_prior.shape[0] - 1, 2))
        loss = am_softmax_loss(model.head(z), yb, scale, cfg["margin"], log_prior, cfg["tau"])
    if cfg["supcon"]:
        loss = loss + cfg["supcon"] * supcon_loss(z, yb, cfg["supcon_t"])
    return loss


def _train(cfg, X, y, seed, Xval=None, yval=None, epochs=None):
    """Train; with validation data early-stop on its recall, else run ``epochs`` epochs."""
    dtype = getattr(torch, cfg["dtype"])
    torch.manual_seed(seed)
    n_classes = int(y.max()) + 1
    model = _build(cfg, X, y, n_classes, dtype)
    Xt, yt = torch.tensor(X, dtype=dtype), torch.as_tensor(y)
    counts = torch.bincount(yt, minlength=n_classes).double()
    log_prior = torch.log(counts / counts.sum()).to(dtype)
    head_lr = cfg["head_lr"] or cfg["lr"]
    opt = torch.optim.AdamW(
        [{"params": model.encoder.parameters(), "lr": cfg["lr"]},
         {"params": model.head.parameters(), "lr": head_lr}],
        weight_decay=cfg["wd"],
    )  # fmt: skip
    gen = torch.Generator().manual_seed(seed)
    if cfg["sampler"] == "mpc":
        sampler = MPerClassSampler(yt, cfg["m_per_class"], max(1, cfg["batch"] // cfg["m_per_class"]),
                                   cfg["mpc_power"], gen)  # fmt: skip
    Xv = None if Xval is None else torch.tensor(Xval, dtype=dtype)

    def score():
        model.eval()
        with torch.no_grad():
            s = loo_recall(model.encoder(Xv), yval)
        model.train()
        return s

    scores, best, best_epoch, best_state = [], -1.0, 0, None
    trace = []

    def record():
        if _TRACE and Xv is not None:
            model.eval()
            with torch.no_grad():
                trace.append(loo_recall(model.encoder(_TRACE["X"].to(dtype)), _TRACE["g"]))
            model.train()

    record()
    if Xv is not None:
        best = score()
        scores.append(best)
        best_state = {k: v.clone() for k, v in model.state_dict().items()}
    n_epochs = cfg["max_epochs"] if epochs is None else epochs
    epoch = 0
    for epoch in range(1, n_epochs + 1):
        if cfg["sampler"] == "mpc":
            batches = list(sampler)
        else:
            perm = torch.randperm(len(yt), generator=gen)
            batches = list(torch.split(perm, cfg["batch"]))
        for idx in batches:
            loss = _loss(cfg, model, Xt[idx], yt[idx], log_prior)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if Xv is not None:
            record()
            s = score()
            scores.append(s)
            if s > best + cfg["tol"]:
                best, best_epoch = s, epoch
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            elif epoch - best_epoch >= cfg["patience"]:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return model, dict(best_epoch=best_epoch, n_epochs=epoch, scores=scores, trace=trace)


def _choose_q(cfg, X, y, val, seed):
    """Starting projection among ``auto_qs`` (``None`` = identity) by held-out recall.

    ``auto_folds=1``: scored on the early-stopping groups ``val``; ``k > 1``: mean over
    ``k`` folds of the groups (each fold's projection fitted on the other groups).
    Ties go to the first candidate.
    """
    cands = list(cfg["auto_qs"])
    if cfg["auto_folds"] <= 1:
        folds = [val]
    else:
        groups = np.unique(y)
        perm = np.random.RandomState(seed).permutation(groups)
        folds = [np.isin(y, part) for part in np.array_split(perm, cfg["auto_folds"])]
    scores = np.zeros(len(cands))
    for f in folds:
        _, gtr = np.unique(y[~f], return_inverse=True)
        _, gva = np.unique(y[f], return_inverse=True)
        for i, q in enumerate(cands):
            if q is None:
                P = np.eye(X.shape[1])
            else:
                P, _ = fisher_whitening(X[~f], gtr, q, cfg["shrinkage"], cfg["power"])
            scores[i] += loo_recall(torch.tensor(X[f] @ P), gva) / len(folds)
    return cands[int(np.argmax(scores))]  # first of the ties


def fit_transform(cfg, Xtr, ytr, seed):
    """Fit one member on the training groups; return ``transform`` and info."""
    _, y = np.unique(ytr, return_inverse=True)
    held = _held_out(Xtr, y, cfg["val_frac"], seed)
    chosen_q = None
    if held.size:
        val = np.isin(y, held)
        _, ytrain = np.unique(y[~val], return_inverse=True)
        if cfg["init"] == "auto":
            # the starting projection with the best held-out recall (no training)
            chosen_q = _choose_q(cfg, Xtr, y, val, seed)
            cfg = dict(cfg, init="identity") if chosen_q is None else dict(cfg, init="fisher", fisher_q=chosen_q)
        model, info = _train(cfg, Xtr[~val], ytrain, seed, Xtr[val], y[val])
        if cfg["refit"]:
            n = max(0, round(info["best_epoch"] * cfg["refit_epochs_scale"]))
            model, _ = _train(cfg, Xtr, y, seed, epochs=n)
    else:
        model, info = _train(cfg, Xtr, y, seed, epochs=cfg["max_epochs"])
    info["q"] = chosen_q
    dtype = getattr(torch, cfg["dtype"])

    def transform(X):
        with torch.no_grad():
            return model.encode(torch.tensor(X, dtype=dtype)).double()

    return transform, info


def evaluate(cfg, case):
    Xtr, ytr, Xte, yte = CASES[case]()
    _, gte = np.unique(yte, return_inverse=True)
    _TRACE.clear()
    if cfg["trace"]:
        _TRACE.update(X=torch.tensor(Xte), g=gte)
    t0 = time.perf_counter()
    members, infos = [], []
    for k in range(cfg["ensemble"]):
        tf, info = fit_transform(cfg, Xtr, ytr, cfg["seed"] + k)
        members.append(tf)
        infos.append(info)
    fit_s = time.perf_counter() - t0
    Z = torch.cat([tf(Xte) for tf in members], dim=1)
    per_member = [loo_recall(tf(Xte), gte) for tf in members] if len(members) > 1 else None
    return dict(recall=loo_recall(Z, gte), fit_s=fit_s, per_member=per_member,
                best_epoch=[i["best_epoch"] for i in infos], n_epochs=[i["n_epochs"] for i in infos],
                val_best=[max(i["scores"]) if i["scores"] else None for i in infos],
                q=[i["q"] for i in infos], val_curve=infos[0]["scores"], test_curve=infos[0]["trace"])  # fmt: skip


def _parse(v):
    try:
        return json.loads(v)
    except json.JSONDecodeError:
        return v


def main(argv):
    name, rest = argv[0], argv[1:]
    cases = list(CASES)
    cfg = dict(DEFAULTS)
    for a in rest:
        if a.startswith("--cases"):
            cases = a.split("=", 1)[1].split(",")
            continue
        k, v = a.split("=", 1)
        if k not in cfg:
            raise SystemExit(f"unknown key {k}")
        cfg[k] = _parse(v)
    overrides = {k: v for k, v in cfg.items() if DEFAULTS[k] != v}
    out = []
    for case in cases:
        r = evaluate(cfg, case)
        out.append(r["recall"])
        print(f"{name:<28s} {case:<6s} recall@1={r['recall']:.3f} fit={r['fit_s']:.1f}s "
              f"best_epoch={r['best_epoch']} epochs={r['n_epochs']} q={r['q']} "
              f"val={[round(v, 3) for v in r['val_best'] if v is not None]}"
              + (f" members={[round(x, 3) for x in r['per_member']]}" if r["per_member"] else ""),
              flush=True)  # fmt: skip
        with open(HERE / "results.jsonl", "a") as f:
            f.write(json.dumps(dict(name=name, case=case, overrides=overrides, **r)) + "\n")
    print(f"{name:<28s} ALL    " + " ".join(f"{c}={v:.3f}" for c, v in zip(cases, out)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
