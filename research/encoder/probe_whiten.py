"""Cheap fitted preprocessings on the four cases (fitted on the training groups)."""
import sys
import numpy as np
from scipy.linalg import eigh
sys.path.insert(0, ".")
from data import CASES
from sk_imbalance._siamese import leave_one_out_recall as loo

def unit(X): return X / np.linalg.norm(X, axis=1, keepdims=True)

def within_cov(X, y):
    Xc = X.copy()
    for c in np.unique(y):
        Xc[y == c] -= X[y == c].mean(0)
    return Xc.T @ Xc / len(X)

def shrink(S, a): return (1 - a) * S + a * np.trace(S) / len(S) * np.eye(len(S))

def powm(S, p):
    w, V = np.linalg.eigh(S); return V @ np.diag(np.maximum(w, 1e-12) ** p) @ V.T

for name in sys.argv[1:]:
    Xtr, ytr, Xte, yte = CASES[name]()
    r = {}
    for pre in ["none", "unit"]:
        A, B = (Xtr, Xte) if pre == "none" else (unit(Xtr), unit(Xte))
        Sw = within_cov(A, ytr); St = np.cov(A.T, bias=True)
        for a in [0.1, 0.3]:
            for p in [0.25, 0.5, 0.75]:
                r[f"{pre} Sw^-{p} a={a}"] = loo(B @ powm(shrink(Sw, a), -p), yte)
            r[f"{pre} St^-0.5 a={a}"] = loo(B @ powm(shrink(St, a), -0.5), yte)
        # full-rank LDA with between-class weighting (whitened, then Sb eigen-scaled)
        Sb = St - Sw
        for q in [0.25, 0.5]:
            W = powm(shrink(Sw, 0.1), -0.5)
            w, V = np.linalg.eigh(W @ Sb @ W)
            r[f"{pre} LDA-full q={q}"] = loo(B @ W @ V @ np.diag(np.maximum(w, 0) ** q + 1e-3), yte)
    print(name, "raw", round(loo(Xte, yte), 3))
    for k, v in r.items(): print(f"  {k:28s} {v:.3f}")
