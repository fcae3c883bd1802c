"""The recommended encoder recipe (issue 19) as one readable function: what to port.

``fit_encoder(X, y, random_state=0)`` returns a fitted ``torch.nn.Module`` whose
``encode(x)`` gives L2-normalised embeddings. It uses only the pure-torch prototypes
(``prototypes.py``) and the NumPy preprocessing (``preprocessing.py``), and is the
reference for moving the recipe into the package's new engine. Every default below is
the recipe's default; FINDINGS.md says where each comes from.

Steps
-----
1. Held-out groups: ``validation_fraction=0.2`` of the groups with >= 2 distinct items
   (at least 10 candidates; drawn with ``random_state`` from the sorted labels).
2. Starting projection ``P0``: for ``q`` in ``start_candidates=(0.0, 0.25, 0.5)``,
   ``fisher_whitening(X_train, q, shrinkage="auto")`` fitted on the training groups;
   keep the one with the best held-out recall@1 (no training; ties: the first).
3. Train ``z = P0 x + D x`` (``D`` at 0) with a cosine head (random init) and AM-Softmax
   ``scale=8, margin=0.35`` (logit adjustment ``tau=0`` by default, added after
   scaling when set) on shuffled batches of ``batch_size=200`` (``sampler=
   "m_per_class"``: ``m_per_class=4`` items of ``batch_size // 4 = 50`` groups,
   uniform over groups; better on balanced groups by <0.01, worse on long-tailed ones
   by 0.025), AdamW ``lr=1e-3, weight_decay=0.1``; after every epoch (and before the
   first) the held-out recall@1; stop after ``n_iter_no_change=40`` epochs without a
   gain of ``tol=0.01``; remember the best epoch ``E`` (0 possible).
4. Refit on *all* groups: ``P0`` refitted with the chosen ``q`` on all training
   groups, a fresh model trained for exactly ``E`` epochs (same seed), no validation.
   With ``E = 0`` the encoder is ``P0``.
   With fewer than 10 candidate groups: no selection, ``q = 0`` (whitening), train on
   all groups for ``max_iter`` epochs (the package's stall rule would apply).
"""

from __future__ import annotations

import math
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from preprocessing import fisher_whitening, select_start_projection  # noqa: E402
from prototypes import (  # noqa: E402
    CosineHead,
    MPerClassSampler,
    ResidualLinearEncoder,
    am_softmax_loss,
)

DEFAULTS = dict(
    validation_fraction=0.2,
    start_candidates=(0.0, 0.25, 0.5),
    shrinkage="auto",
    scale=8.0,
    margin=0.35,
    tau=0.0,
    sampler="shuffle",  # or "m_per_class"
    m_per_class=4,
    batch_size=200,
    learning_rate_init=1e-3,
    weight_decay=0.1,
    max_iter=400,
    n_iter_no_change=40,
    tol=1e-2,
    min_gain_z=None,  # keep a trained epoch only if its held-out sign-test z >= this
    refit=True,
)


class Encoder(torch.nn.Module):
    def __init__(self, encoder, head):
        super().__init__()
        self.encoder, self.head = encoder, head

    def encode(self, x):
        return F.normalize(self.encoder(x), dim=1)


def _hits(Z, g):
    """Per-query leave-one-out top-1 hits (bool), queries = items with a group-mate."""
    Z = F.normalize(Z.double(), dim=1)
    counts = torch.bincount(g)
    q = torch.nonzero(counts[g] > 1).squeeze(1)
    sim = Z[q] @ Z.T
    sim[torch.arange(q.numel()), q] = -math.inf
    return g[sim.argmax(1)] == g[q]


def _gain_z(hits_new, hits_start):
    """Sign-test z of the held-out queries fixed vs broken relative to the start."""
    fixed = int((hits_new & ~hits_start).sum())
    broken = int((~hits_new & hits_start).sum())
    return (fixed - broken) / math.sqrt(max(fixed + broken, 1))


def _train(X, y, q, p, seed, epochs, X_val=None, y_val=None):
    """Train from ``P0(q)``; early-stop on (X_val, y_val) if given. Returns (model, best epoch)."""
    torch.manual_seed(seed)
    n_classes = int(y.max()) + 1
    P0, _ = fisher_whitening(X, y, q, p["shrinkage"])
    enc = ResidualLinearEncoder(torch.tensor(P0.T, dtype=torch.float32))
    model = Encoder(enc, CosineHead(n_classes, P0.shape[1]))
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.as_tensor(y)
    counts = torch.bincount(yt, minlength=n_classes).float()
    log_prior = torch.log(counts / counts.sum())
    opt = torch.optim.AdamW(model.parameters(), lr=p["learning_rate_init"],
                            weight_decay=p["weight_decay"])  # fmt: skip
    gen = torch.Generator().manual_seed(seed)
    if p["sampler"] == "m_per_class":
        sampler = MPerClassSampler(yt, p["m_per_class"], p["batch_size"] // p["m_per_class"], 0.0, gen)
    else:
        sampler = None
    Xv = None if X_val is None else torch.tensor(X_val, dtype=torch.float32)
    gv = None if y_val is None else torch.as_tensor(y_val)

    def score():
        with torch.no_grad():
            return _hits(model.encoder(Xv), gv)

    if Xv is not None:
        start_hits = best_hits = score()
        best, best_epoch = float(best_hits.double().mean()), 0
    else:
        best, best_epoch = None, epochs
    start_state = best_state = {k: v.clone() for k, v in model.state_dict().items()}
    for epoch in range(1, epochs + 1):
        batches = sampler if sampler is not None else torch.split(torch.randperm(len(yt), generator=gen), p["batch_size"])
        for idx in batches:
            cos = model.head(model.encoder(Xt[idx]))
            loss = am_softmax_loss(cos, yt[idx], p["scale"], p["margin"], log_prior, p["tau"])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if Xv is not None:
            hits = score()
            s = float(hits.double().mean())
            if s > best + p["tol"]:
                best, best_epoch, best_hits = s, epoch, hits
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            elif epoch - best_epoch >= p["n_iter_no_change"]:
                break
    if Xv is not None:
        if p["min_gain_z"] is not None and _gain_z(best_hits, start_hits) < p["min_gain_z"]:
            best_epoch, best_state = 0, start_state  # not a clear gain over the start
        model.load_state_dict(best_state)
    return model.eval(), best_epoch


def fit_encoder(X, y, random_state=0, **params):
    """Fit the recipe on ``(X, y)``; returns ``(model, info)``."""
    p = {**DEFAULTS, **params}
    X = np.asarray(X, dtype=np.float64)
    _, y = np.unique(y, return_inverse=True)
    seed = int(random_state)
    n = int(y.max()) + 1
    cand = np.array([c for c in range(n) if np.unique(X[y == c], axis=0).shape[0] >= 2])
    if cand.size < 10:
        model, _ = _train(X, y, 0.0, p, seed, p["max_iter"])
        return model, dict(q=0.0, best_epoch=None)
    n_held = min(max(2, int(round(p["validation_fraction"] * cand.size))), n - 2)
    held = np.sort(np.random.RandomState(seed).choice(cand, size=n_held, replace=False))
    val = np.isin(y, held)
    q, q_scores = select_start_projection(X, y, val, p["start_candidates"], p["shrinkage"])
    _, ytr = np.unique(y[~val], return_inverse=True)
    _, yva = np.unique(y[val], return_inverse=True)
    model, best_epoch = _train(X[~val], ytr, q, p, seed, p["max_iter"], X[val], yva)
    if p["refit"]:
        model, _ = _train(X, y, q, p, seed, best_epoch)
    return model, dict(q=q, q_scores=q_scores, best_epoch=best_epoch)


def transform(model, X):
    with torch.no_grad():
        return model.encode(torch.tensor(np.asarray(X), dtype=torch.float32)).double().numpy()


if __name__ == "__main__":
    import json
    import time

    from data import CASES
    from preprocessing import leave_one_out_recall

    torch.set_num_threads(1)
    torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])  # import warm-up, not timed
    cases = sys.argv[1].split(",") if len(sys.argv) > 1 else ["text0", "text1", "syn0", "syn1"]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    params = {}
    for a in sys.argv[3:]:
        k, v = a.split("=", 1)
        params[k] = json.loads(v) if v[:1] in "0123456789-[{tfn" else v
    tag = "".join(f"_{k}={v}" for k, v in params.items())
    for case in cases:
        Xtr, ytr, Xte, yte = CASES[case]()
        t0 = time.perf_counter()
        model, info = fit_encoder(Xtr, ytr, random_state=seed, **params)
        t = time.perf_counter() - t0
        r = leave_one_out_recall(transform(model, Xte), yte)
        print(f"recipe{tag} seed={seed} {case:<7s} recall@1={r:.3f} fit={t:.1f}s q={info['q']} "
              f"best_epoch={info['best_epoch']}", flush=True)
        with open(pathlib.Path(__file__).with_name("results.jsonl"), "a") as f:
            f.write(json.dumps(dict(name=f"RECIPE{tag}_seed{seed}", case=case, overrides=params,
                                    recall=r, fit_s=t, **{k: v for k, v in info.items()})) + "\n")
