"""Classical projections on the four cases: raw, LDA variants, within-class whitening, NCA."""
import sys, time
import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.neighbors import NeighborhoodComponentsAnalysis
sys.path.insert(0, ".")
from data import CASES
from sk_imbalance._siamese import leave_one_out_recall as loo

def wc_whiten(X, y, alpha):
    Xc = X.copy()
    for c in np.unique(y):
        Xc[y == c] -= X[y == c].mean(0)
    S = Xc.T @ Xc / len(X)
    S = (1 - alpha) * S + alpha * np.trace(S) / S.shape[0] * np.eye(S.shape[0])
    w, V = np.linalg.eigh(S)
    return V @ np.diag(w ** -0.5) @ V.T

def main():
  for name in sys.argv[1:] or CASES:
        Xtr, ytr, Xte, yte = CASES[name]()
        print(name, Xtr.shape, len(np.unique(ytr)), Xte.shape, len(np.unique(yte)), flush=True)
        print("  raw", round(loo(Xte, yte), 3))
        mu = Xtr.mean(0)
        print("  centered", round(loo(Xte - mu, yte), 3))
        t = time.perf_counter(); lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(Xtr, ytr)
        print("  LDA eigen auto", round(loo(lda.transform(Xte), yte), 3), f"{time.perf_counter()-t:.1f}s", lda.transform(Xte).shape)
        for a in [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7]:
            W = wc_whiten(Xtr, ytr, a)
            print(f"  wc-whiten a={a}", round(loo(Xte @ W, yte), 3), "centered", round(loo((Xte - mu) @ W, yte), 3))
        t = time.perf_counter(); nca = NeighborhoodComponentsAnalysis(n_components=min(64, Xtr.shape[1]), random_state=0).fit(Xtr, ytr)
        print("  NCA", round(loo(nca.transform(Xte), yte), 3), f"{time.perf_counter()-t:.1f}s", flush=True)


if __name__ == '__main__':
    main()
