"""How much the SVD(128) input limits the text case: raw / LDA / whitening at other SVD sizes."""
import sys
import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
sys.path.insert(0, ".")
from data import text_case
from preprocessing import within_class_whitening
from sk_imbalance._siamese import leave_one_out_recall as loo

for seed in (0, 1):
    for k in [int(a) for a in sys.argv[1:]]:
        Xtr, ytr, Xte, yte = text_case(seed, k)
        lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(Xtr, ytr)
        P, a = within_class_whitening(Xtr, ytr)
        P2, _ = within_class_whitening(Xtr, ytr, 0.1)
        print(f"text{seed} SVD({k}) raw {loo(Xte, yte):.3f} LDA {loo(lda.transform(Xte), yte):.3f} "
              f"whiten(auto={a:.2f}) {loo(Xte @ P, yte):.3f} whiten(0.1) {loo(Xte @ P2, yte):.3f}", flush=True)
