"""The evaluation cases of ``benchmarks/siamese_retrieval.py``, as arrays (cached).

``text_case(seed)`` and ``synthetic_case(seed)`` return ``(Xtr, ytr, Xte, yte)`` exactly
as the benchmark script builds them: the same module split, TF-IDF + SVD(128) fitted on
the training groups, the same ``make_classification`` call and scaler. The docstring
corpus takes ~25 s to collect, so it is cached in ``research/encoder/_cache/`` (not
committed: it depends on the installed package versions).
"""

from __future__ import annotations

import json
import pathlib

import numpy as np

CACHE = pathlib.Path(__file__).with_name("_cache")


def docstrings():
    """``(texts, groups)`` of ``sk_imbalance.datasets.load_docstrings()``, cached."""
    CACHE.mkdir(exist_ok=True)
    f = CACHE / "docstrings.json"
    if f.exists():
        d = json.loads(f.read_text())
        return np.asarray(d["texts"], dtype=object), np.asarray(d["groups"])
    import warnings

    from sk_imbalance.datasets import load_docstrings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        texts, groups = load_docstrings()
    f.write_text(json.dumps({"texts": list(texts), "groups": [str(g) for g in groups]}))
    return np.asarray(texts, dtype=object), np.asarray(groups)


def text_split(seed):
    """Boolean mask of the training texts (60% of the modules, as the benchmark)."""
    texts, groups = docstrings()
    modules = np.unique(groups)
    rng = np.random.default_rng(seed)
    train_modules = rng.choice(modules, size=int(0.6 * len(modules)), replace=False)
    return texts, groups, np.isin(groups, train_modules)


def text_case(seed, n_components=128):
    """TF-IDF + SVD(128) embeddings; train = 60% of modules; as the benchmark."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    f = CACHE / f"text_{seed}_{n_components}.npz"
    texts, groups, train = text_split(seed)
    if f.exists():
        E = np.load(f)["E"]
    else:
        tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(texts[train])
        svd = TruncatedSVD(n_components, random_state=0).fit(tfidf.transform(texts[train]))
        E = svd.transform(tfidf.transform(texts))
        np.savez(f, E=E)
    return E[train], groups[train], E[~train], groups[~train]


def synthetic_case(seed):
    """``make_classification`` 80 classes, train 0-49, test 50-79, as the benchmark."""
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        8000, 60, n_informative=12, n_redundant=8, n_classes=80,
        n_clusters_per_class=1, class_sep=1.5, random_state=seed,
    )  # fmt: skip
    train = y < 50
    X = StandardScaler().fit(X[train]).transform(X)
    return X[train], y[train], X[~train], y[~train]


def synthetic_long_tail_case(seed, ratio=20.0):
    """``synthetic_case`` with the training groups cut to a long tail (sizes 100 .. 100/ratio).

    Group ``c`` of the 50 training groups keeps ``round(100 * ratio ** (-c / 49))`` of its
    items (the first ones); the unseen test groups are unchanged.
    """
    Xtr, ytr, Xte, yte = synthetic_case(seed)
    keep = np.zeros(len(ytr), dtype=bool)
    for c in range(50):
        idx = np.flatnonzero(ytr == c)
        keep[idx[: max(2, round(idx.size * ratio ** (-c / 49)))]] = True
    return Xtr[keep], ytr[keep], Xte, yte


def bag_case(seed, tokeniser="char_hash", dim=256):
    """Token route: IDF-weighted (sublinear tf) sums of fixed random token vectors.

    The token ids of ``tokens.TOKENISERS[tokeniser]``; IDF from the training texts;
    token vectors N(0, 1/dim), seed 0. The cosine of these features approximates
    the TF-IDF cosine of the token ids (a random projection).
    """
    import scipy.sparse as sp

    from tokens import TOKENISERS

    texts, groups, train = text_split(seed)
    X, V = TOKENISERS[tokeniser](texts, train)
    n = len(X)
    rows = np.repeat(np.arange(n), X.shape[1])
    cols = X.ravel()
    keep = cols > 0
    C = sp.csr_matrix((np.ones(keep.sum()), (rows[keep], cols[keep])), shape=(n, V))
    df = np.asarray((C[train] > 0).sum(0)).ravel()
    idf = np.log((1 + train.sum()) / (1 + df)) + 1
    C.data = 1 + np.log(C.data)
    R = np.random.default_rng(0).standard_normal((V, dim)) / np.sqrt(dim)
    E = (C @ sp.diags(idf)) @ R
    return E[train], groups[train], E[~train], groups[~train]


def token_case(seed, tokeniser="char_hash", max_len=1500):
    """Token ids (float array, 0 = padding) of ``tokens.TOKENISERS[tokeniser]``; same split."""
    from tokens import TOKENISERS

    texts, groups, train = text_split(seed)
    X, _ = TOKENISERS[tokeniser](texts, train, max_len=max_len)
    X = X.astype(np.float64)
    return X[train], groups[train], X[~train], groups[~train]


CASES = {
    "text0": lambda: text_case(0),
    "text1": lambda: text_case(1),
    "syn0": lambda: synthetic_case(0),
    "syn1": lambda: synthetic_case(1),
    "bag0": lambda: bag_case(0),
    "bag1": lambda: bag_case(1),
    "wbag0": lambda: bag_case(0, "word_hash"),
    "wbag1": lambda: bag_case(1, "word_hash"),
    "tok0": lambda: token_case(0),
    "tok1": lambda: token_case(1),
    "wtok0": lambda: token_case(0, "word_hash", 150),
    "wtok1": lambda: token_case(1, "word_hash", 150),
    "syn0lt": lambda: synthetic_long_tail_case(0),
    "syn1lt": lambda: synthetic_long_tail_case(1),
}
