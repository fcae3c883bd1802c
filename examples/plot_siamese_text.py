"""
=======================================================
Text similarity with a GRU encoder on unseen groups
=======================================================

A real text collection that needs no download: the docstrings of the public functions
and classes of installed packages (NumPy, SciPy, scikit-learn, PyTorch), grouped by the
module that defines them (:func:`sk_imbalance.datasets.load_docstrings`). Two
docstrings are "similar" when they come from the same module.

We tokenise simply (lower-case words, a vocabulary from the training texts), train
:class:`~sk_imbalance.SiameseAMSoftmaxEncoder` with ``encoder="gru"`` on 60% of the
modules and evaluate on the other 40%, never seen in training: leave-one-out
recall@1 and a verification ROC curve on pairs (same module or not), next to the
cosine of TF-IDF vectors as a reference. Without pretrained token vectors the GRU
retrieves far worse than the TF-IDF cosine here (0.52 against 0.78 recall@1): for text,
the user guide recommends TF-IDF features (see "Text: TF-IDF features or the GRU?").
"""

import re
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.preprocessing import normalize

from sk_imbalance import SiameseAMSoftmaxEncoder
from sk_imbalance.datasets import load_docstrings
from sk_imbalance.metrics import leave_one_out_recall

torch.set_num_threads(1)

texts, groups = load_docstrings()
texts = np.asarray(texts, dtype=object)
modules = np.unique(groups)
rng = np.random.default_rng(0)
train = np.isin(groups, rng.choice(modules, size=int(0.6 * len(modules)), replace=False))
print(f"{len(texts)} docstrings from {len(modules)} modules; {train.sum()} for training")

# %%
# Simple tokenisation: words of the training texts seen at least twice get ids 1..V
# (0 is padding); other words are dropped; sequences are cut at 40 tokens.
words = [re.findall(r"[a-z]+", t.lower()) for t in texts]
counts = Counter(w for ws, tr in zip(words, train, strict=True) if tr for w in ws)
vocab = {w: i + 1 for i, (w, c) in enumerate(counts.most_common()) if c >= 2}
X = np.zeros((len(texts), 40), dtype=np.int64)
for r, ws in enumerate(words):
    ids = [vocab[w] for w in ws if w in vocab][:40]
    X[r, : len(ids)] = ids

# %%
# Train the GRU encoder on the training modules.
enc = SiameseAMSoftmaxEncoder(
    encoder="gru", hidden_layer_sizes=(64,), embedding_dim=64, learning_rate_init=3e-3,
    max_iter=10, random_state=0,
)  # fmt: skip
enc.fit(X[train], groups[train])

# TF-IDF cosine (fitted on the training texts) as a reference.
tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(texts[train])
T = normalize(tfidf.transform(texts[~train])).toarray()

Z = enc.transform(X[~train])
g = groups[~train]
print(f"recall@1 on unseen modules: GRU encoder {leave_one_out_recall(Z, g):.3f}, "
      f"TF-IDF cosine {leave_one_out_recall(T, g):.3f}")  # fmt: skip

# %%
# Verification: all same-module pairs of the unseen modules and as many random
# different-module pairs; the score is the cosine.
i, j = np.triu_indices(len(g), k=1)
same = g[i] == g[j]
neg = rng.choice(np.flatnonzero(~same), size=same.sum(), replace=False)
pairs = np.concatenate([np.flatnonzero(same), neg])
label = same[pairs]
fig, ax = plt.subplots(figsize=(4.5, 4.5))
for name, E in [("GRU encoder (AM-Softmax)", Z), ("TF-IDF cosine", T)]:
    score = np.sum(E[i[pairs]] * E[j[pairs]], axis=1)
    fpr, tpr, _ = roc_curve(label, score)
    ax.plot(fpr, tpr, label=f"{name}, AUC {roc_auc_score(label, score):.3f}")
ax.plot([0, 1], [0, 1], "k:", lw=1)
ax.set(xlabel="false positive rate", ylabel="true positive rate",
       title="Same module? (unseen modules)")  # fmt: skip
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
