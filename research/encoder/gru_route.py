"""The GRU text route vs the TF-IDF routes on the docstring splits of the benchmark (issue 19).

``PYTHONPATH=. python research/encoder/gru_route.py`` from the repository root, one
torch thread. For split seeds 0 and 1 (60% of the modules for training, as
``benchmarks/siamese_retrieval.py``): recall@1 on the unseen modules of

- the GRU encoder with the gallery example's tokenisation and parameters
  (``examples/plot_siamese_text.py``: lower-case words seen twice in the training
  texts, 40 tokens, ``hidden_layer_sizes=(64,), embedding_dim=64,
  learning_rate_init=3e-3, max_iter=10``), with the encoder's current defaults
  otherwise (scale 8, early stopping on held-out modules, refit);
- the same with ``max_iter=400`` (the default; early stopping decides);
- the raw TF-IDF cosine (word, sublinear, ``min_df=2``, fitted on the training texts);
- ``SiameseAMSoftmaxEncoder()`` on TF-IDF + SVD(128) (the benchmark's text input).
"""

import re
import sys
import time
import warnings
from collections import Counter

import numpy as np
import torch
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from sk_imbalance import SiameseAMSoftmaxEncoder
from sk_imbalance.datasets import load_docstrings
from sk_imbalance.metrics import leave_one_out_recall

torch.set_num_threads(1)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    texts, groups = load_docstrings()
texts, groups = np.asarray(texts, dtype=object), np.asarray(groups)
modules = np.unique(groups)
configs = sys.argv[1].split(",") if len(sys.argv) > 1 else ["example", "default_epochs"]
for seed in (0, 1):
    rng = np.random.default_rng(seed)
    train = np.isin(groups, rng.choice(modules, size=int(0.6 * len(modules)), replace=False))
    g = groups[~train]
    words = [re.findall(r"[a-z]+", t.lower()) for t in texts]
    counts = Counter(w for ws, tr in zip(words, train, strict=True) if tr for w in ws)
    vocab = {w: i + 1 for i, (w, c) in enumerate(counts.most_common()) if c >= 2}
    X = np.zeros((len(texts), 40), dtype=np.int64)
    for r, ws in enumerate(words):
        ids = [vocab[w] for w in ws if w in vocab][:40]
        X[r, : len(ids)] = ids
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(texts[train])
    T = tfidf.transform(texts)
    rows = [("TF-IDF cosine", leave_one_out_recall(T[~train].toarray(), g), 0.0, "")]
    E = TruncatedSVD(128, random_state=0).fit(T[train]).transform(T)
    t0 = time.perf_counter()
    enc = SiameseAMSoftmaxEncoder(random_state=0).fit(E[train], groups[train])
    rows.append(
        ("AM encoder on TF-IDF+SVD(128)", enc.score(E[~train], g), time.perf_counter() - t0, "")
    )
    gru = dict(encoder="gru", hidden_layer_sizes=(64,), embedding_dim=64, learning_rate_init=3e-3)
    for name in configs:
        params = dict(gru, max_iter=10) if name == "example" else gru
        t0 = time.perf_counter()
        enc = SiameseAMSoftmaxEncoder(random_state=0, **params).fit(X[train], groups[train])
        info = f"best epoch {enc.best_epoch_}, n_iter_ {enc.n_iter_}"
        rows.append((f"GRU ({name})", enc.score(X[~train], g), time.perf_counter() - t0, info))
    print(f"\nsplit seed {seed}: {train.sum()} train / {(~train).sum()} test texts")
    for label, r, t, info in rows:
        print(f"  {label:<32s} recall@1 = {r:.3f}  fit {t:6.1f} s  {info}", flush=True)
