"""Whitening followed by a Fisher-ratio weighting: P0(q) = diag(lambda_b^q) V^T P_w."""
import sys
import numpy as np
sys.path.insert(0, ".")
from data import CASES
from preprocessing import within_class_whitening
from sk_imbalance._siamese import leave_one_out_recall as loo

for name in sys.argv[1:]:
    Xtr, ytr, Xte, yte = CASES[name]()
    out = []
    for shr in ["auto", 0.1]:
        P, a = within_class_whitening(Xtr, ytr, shr)
        Z = Xtr @ P
        mu = Z.mean(0)
        _, g = np.unique(ytr, return_inverse=True)
        M = np.stack([Z[g == c].mean(0) for c in range(g.max() + 1)]) - mu
        n = np.bincount(g)
        Sb = (M * n[:, None]).T @ M / len(Z)
        lam, V = np.linalg.eigh(Sb)
        lam = np.maximum(lam, 0)
        for q in [0, 0.25, 0.5, 1.0]:
            Pq = P @ V * (lam / lam.max()) ** q
            out.append(f"shr={shr if shr != 'auto' else f'auto({a:.2f})'} q={q}: {loo(Xte @ Pq, yte):.3f}")
    print(name, "raw", f"{loo(Xte, yte):.3f}", " | ".join(out), flush=True)
