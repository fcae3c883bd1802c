"""Spread over random_state of the ported encoder on the synthetic benchmark case (issue 19).

``PYTHONPATH=. python research/encoder/seed_spread.py`` from the repository root: for
the two synthetic seeds of ``benchmarks/siamese_retrieval.py``, recall@1 on the unseen
classes of ``SiameseAMSoftmaxEncoder(random_state=r)`` (defaults) and with
``start="identity"``, for r in 0..4 (the seed also draws the held-out groups).
"""

import sys
import time

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from sk_imbalance import SiameseAMSoftmaxEncoder

torch.set_num_threads(1)
seeds = range(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
for s in (0, 1):
    X, y = make_classification(
        8000, 60, n_informative=12, n_redundant=8, n_classes=80,
        n_clusters_per_class=1, class_sep=1.5, random_state=s,
    )  # fmt: skip
    tr = y < 50
    X = StandardScaler().fit(X[tr]).transform(X)
    for label, params in [("default", {}), ("start='identity'", dict(start="identity"))]:
        scores, epochs, t0 = [], [], time.perf_counter()
        for r in seeds:
            enc = SiameseAMSoftmaxEncoder(random_state=r, **params).fit(X[tr], y[tr])
            scores.append(enc.score(X[~tr], y[~tr]))
            epochs.append(enc.best_epoch_)
        print(
            f"syn{s} {label:<17s} recall@1 {np.round(scores, 3).tolist()} mean {np.mean(scores):.3f} "
            f"best epochs {epochs} ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
