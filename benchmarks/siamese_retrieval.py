"""Retrieval on groups unseen in training: raw features, classical projections, encoders.

Usage::

    PYTHONPATH=. python benchmarks/siamese_retrieval.py [synthetic|text|all] [--nca-max-iter N]

``synthetic``: ``make_classification(8000, 60, n_informative=12, n_redundant=8,
n_classes=80, n_clusters_per_class=1, class_sep=1.5, random_state=s)`` for s in {0, 1},
standardised (scaler fitted on the training classes), encoders trained on classes
0-49; leave-one-out recall@1 by cosine among classes 50-79.

``text``: the package's docstring corpus (``sk_imbalance.datasets.load_docstrings()``:
docstrings of the public functions and classes of installed packages, grouped by the
module that defines them). Input embeddings are TF-IDF + truncated SVD(128) (fitted on
the training groups); encoders are trained on a random 60% of the modules (split seeds
0 and 1) and evaluated by leave-one-out recall@1 on the other 40%.

Rows (everything fitted on the training groups only, ``random_state=0``):

- the raw input's cosine;
- scikit-learn's shrinkage LDA, ``LinearDiscriminantAnalysis(solver="eigen",
  shrinkage="auto")``, used as a projection (``transform``, then cosine);
- ``NeighborhoodComponentsAnalysis(n_components=min(64, n_features))`` (``transform``,
  then cosine); ``--nca-max-iter`` caps its iterations on the synthetic case (default
  15; scikit-learn's default 50 took ~600 s there on one thread);
- a plain-softmax encoder of the same size (the same residual linear encoder with a
  linear softmax head instead of the cosine head): with the identity start and no
  refit (the encoder's previous recipe), and with the default recipe (start chosen
  among the whitenings, refit on all groups);
- ``SiameseAMSoftmaxEncoder()`` with its defaults, and with ``start="identity"`` (what
  the starting projection buys).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.neighbors import NeighborhoodComponentsAnalysis
from sklearn.preprocessing import StandardScaler

from sk_imbalance import SiameseAMSoftmaxEncoder
from sk_imbalance.metrics import leave_one_out_recall
from sk_imbalance.networks import ResidualMLPEncoder

torch.set_num_threads(1)


class _LinearHead(torch.nn.Module):
    """Encoder + plain linear softmax head (the baseline); ``encode`` as the AM one."""

    def __init__(self, encoder, n_classes, dim):
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(dim, n_classes)

    def encode(self, X):
        return torch.nn.functional.normalize(self.encoder(X), dim=1)

    def forward(self, X):
        return self.head(self.encoder(X))


class _CE(torch.nn.Module):
    def forward(self, logits, target):
        return torch.nn.functional.cross_entropy(logits, target, reduction="none")


class SoftmaxEncoder(SiameseAMSoftmaxEncoder):
    """The same encoder trained with plain softmax cross-entropy (benchmark baseline).

    It overrides the encoder's private hooks (criterion and module): a benchmark-only
    variant, not a public estimator.
    """

    def _make_criterion(self, log_prior):
        return _CE()

    def _build_module(self, n_features, n_outputs, problem):
        dim = problem.attrs["embedding_dim_"]
        sizes = tuple(int(h) for h in np.atleast_1d(self.hidden_layer_sizes))
        start = problem.build.get("start")
        start = None if start is None else torch.as_tensor(start)
        enc = ResidualMLPEncoder(n_features, dim, sizes, self.activation, self.dropout, start=start)
        return _LinearHead(enc, n_outputs, dim)


def _projection(model, Xtr, ytr, Xte, yte):
    """Recall@1 on the test groups of ``model`` fitted on the training groups, fit time."""
    t0 = time.perf_counter()
    model.fit(Xtr, ytr)
    t = time.perf_counter() - t0
    return leave_one_out_recall(model.transform(Xte), yte), t


def _describe(enc):
    start = enc.start_ if enc.fisher_exponent_ is None else f"q={enc.fisher_exponent_}"
    return f"start {start}, best epoch {enc.best_epoch_}, n_iter_ {enc.n_iter_}"


def _report(name, Xtr, ytr, Xte, yte, nca_max_iter=50):
    rows = [("raw input (cosine)", leave_one_out_recall(Xte, yte), 0.0, "")]
    lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto")
    rows.append(("shrinkage LDA (projection)", *_projection(lda, Xtr, ytr, Xte, yte), ""))
    nca = NeighborhoodComponentsAnalysis(
        n_components=min(64, Xtr.shape[1]), max_iter=nca_max_iter, random_state=0
    )
    label = f"NCA({nca.n_components}, max_iter={nca_max_iter})"
    rows.append((label, *_projection(nca, Xtr, ytr, Xte, yte), ""))
    runs = [
        ("softmax encoder (identity, no refit)", SoftmaxEncoder, dict(start="identity", refit=False)),
        ("softmax encoder (default recipe)", SoftmaxEncoder, {}),
        ("AM encoder, start='identity'", SiameseAMSoftmaxEncoder, dict(start="identity")),
        ("AM encoder (default)", SiameseAMSoftmaxEncoder, {}),
    ]  # fmt: skip
    for label, cls, params in runs:
        t0 = time.perf_counter()
        enc = cls(random_state=0, **params).fit(Xtr, ytr)
        t = time.perf_counter() - t0
        rows.append((label, enc.score(Xte, yte), t, _describe(enc)))
    print(f"\n{name}")
    for label, r, t, info in rows:
        print(
            f"  {label:<38s} recall@1 = {r:.3f}  (vs raw {r - rows[0][1]:+.3f}, "
            f"fit {t:5.1f} s{', ' + info if info else ''})",
            flush=True,
        )
    return rows


def synthetic(seeds=(0, 1), nca_max_iter=15):
    for s in seeds:
        X, y = make_classification(
            8000, 60, n_informative=12, n_redundant=8, n_classes=80,
            n_clusters_per_class=1, class_sep=1.5, random_state=s,
        )  # fmt: skip
        train = y < 50
        scaler = StandardScaler().fit(X[train])
        X = scaler.transform(X)
        _report(f"make_classification seed {s}: train classes 0-49, test 50-79",
                X[train], y[train], X[~train], y[~train], nca_max_iter)  # fmt: skip


def text(seeds=(0, 1), n_components=128):
    import warnings

    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    from sk_imbalance.datasets import load_docstrings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation warnings of the scanned packages
        texts, groups = load_docstrings()
    texts = np.asarray(texts, dtype=object)
    groups = np.asarray(groups)
    modules = np.unique(groups)
    print(f"\ndocstring corpus: {len(texts)} texts in {len(modules)} modules")
    for s in seeds:
        rng = np.random.default_rng(s)
        train_modules = rng.choice(modules, size=int(0.6 * len(modules)), replace=False)
        train = np.isin(groups, train_modules)
        tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(texts[train])
        svd = TruncatedSVD(n_components, random_state=0).fit(tfidf.transform(texts[train]))
        E = svd.transform(tfidf.transform(texts))
        tf_cos = leave_one_out_recall(tfidf.transform(texts[~train]).toarray(), groups[~train])
        _report(f"docstrings seed {s}: TF-IDF+SVD({n_components}), {train.sum()} train / "
                f"{(~train).sum()} test texts, unseen modules (TF-IDF cosine before the "
                f"SVD: {tf_cos:.3f})",
                E[train], groups[train], E[~train], groups[~train])  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="all", choices=["synthetic", "text", "all"])
    parser.add_argument("--nca-max-iter", type=int, default=15)
    args = parser.parse_args(argv)
    if args.what in ("synthetic", "all"):
        synthetic(nca_max_iter=args.nca_max_iter)
    if args.what in ("text", "all"):
        text()


if __name__ == "__main__":
    main()
