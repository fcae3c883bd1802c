"""The package's GRU route as it is: SiameseAMSoftmaxEncoder(encoder="gru") on token ids."""
import sys, time
import numpy as np
import torch
sys.path.insert(0, ".")
from data import text_split
from tokens import TOKENISERS
from sk_imbalance import SiameseAMSoftmaxEncoder
from sk_imbalance._siamese import leave_one_out_recall as loo

torch.set_num_threads(1)
configs = {
    "default": dict(encoder="gru"),
    "example": dict(encoder="gru", hidden_layer_sizes=(64,), embedding_dim=64, learning_rate_init=3e-3, max_iter=10),
}
for seed in (0, 1):
    texts, groups, train = text_split(seed)
    for tok in sys.argv[1].split(","):
        X, V = TOKENISERS[tok](texts, train)
        for name in sys.argv[2].split(","):
            t0 = time.perf_counter()
            enc = SiameseAMSoftmaxEncoder(random_state=0, **configs[name]).fit(X[train], groups[train])
            t = time.perf_counter() - t0
            print(f"text{seed} {tok} GRU {name}: recall@1 {enc.score(X[~train], groups[~train]):.3f} "
                  f"fit {t:.0f}s epochs {enc.n_iter_} best {getattr(enc, 'best_epoch_', '-')}", flush=True)
