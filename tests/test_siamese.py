"""SiameseAMSoftmaxEncoder: embeddings, similarity, retrieval, GRU padding, pickling."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_imbalance import SiameseAMSoftmaxEncoder
from sk_imbalance._siamese import leave_one_out_recall
from sk_imbalance.encoders import GRUEncoder, ResidualMLPEncoder


def _blobs(seed=0, n_classes=8):
    X, y = make_classification(
        800, 20, n_informative=8, n_redundant=0, n_classes=n_classes,
        n_clusters_per_class=1, class_sep=2.0, random_state=seed,
    )  # fmt: skip
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def fitted():
    X, y = _blobs()
    enc = SiameseAMSoftmaxEncoder(max_iter=40, learning_rate_init=1e-2, random_state=0)
    return enc.fit(X, y), X, y


def test_unit_norm_and_feature_names(fitted):
    enc, X, _ = fitted
    Z = enc.transform(X)
    assert Z.shape == (800, 20) and Z.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, atol=1e-10)
    assert list(enc.get_feature_names_out()[:2]) == [
        "siameseamsoftmaxencoder0",
        "siameseamsoftmaxencoder1",
    ]
    enc2 = SiameseAMSoftmaxEncoder(embedding_dim=6, max_iter=5, random_state=0).fit(X, fitted[2])
    assert enc2.transform(X).shape == (800, 6) and enc2.get_feature_names_out().shape == (6,)


def test_same_group_more_similar_than_other_groups(fitted):
    enc, X, y = fitted
    rng = np.random.default_rng(0)
    i = rng.integers(0, len(y), 3000)
    j = rng.integers(0, len(y), 3000)
    sim = enc.similarity(X[i], X[j])
    same, diff = sim[(y[i] == y[j]) & (i != j)], sim[y[i] != y[j]]
    assert same.mean() > diff.mean() + 0.25
    # similarity is the row-wise cosine of transform
    np.testing.assert_allclose(sim, np.sum(enc.transform(X[i]) * enc.transform(X[j]), axis=1))
    with pytest.raises(ValueError, match="same number of rows"):
        enc.similarity(X[:3], X[:4])


def test_score_is_leave_one_out_recall(fitted):
    enc, X, y = fitted
    Z = enc.transform(X)
    sim = Z @ Z.T
    np.fill_diagonal(sim, -np.inf)
    expected = np.mean(y[np.argmax(sim, axis=1)] == y)
    assert enc.score(X, y) == pytest.approx(expected)
    assert enc.score(X, y) > leave_one_out_recall(X, y) + 0.15  # raw features: 0.76
    # a singleton group is not a query
    y2 = y.copy()
    y2[0] = 99
    keep = np.arange(1, len(y))
    assert leave_one_out_recall(Z, y2) == pytest.approx(
        np.mean(y2[np.argmax(sim, axis=1)][keep] == y2[keep])
    )
    with pytest.raises(ValueError, match="two members"):
        leave_one_out_recall(Z[:3], [0, 1, 2])


def test_unseen_groups_improve_over_raw_features():
    X, y = make_classification(
        3000, 40, n_informative=10, n_redundant=5, n_classes=30,
        n_clusters_per_class=1, class_sep=1.5, random_state=0,
    )  # fmt: skip
    train = y < 20
    X = StandardScaler().fit(X[train]).transform(X)
    enc = SiameseAMSoftmaxEncoder(random_state=0).fit(X[train], y[train])
    raw = leave_one_out_recall(X[~train], y[~train])
    assert enc.score(X[~train], y[~train]) > raw + 0.1


def test_pipeline_with_cosine_knn():
    X, y = _blobs(seed=1)
    knn = KNeighborsClassifier(n_neighbors=5, metric="cosine")
    pipe = make_pipeline(
        SiameseAMSoftmaxEncoder(max_iter=40, learning_rate_init=1e-2, random_state=0), knn
    )
    pipe.fit(X[:600], y[:600])
    raw = clone(knn).fit(X[:600], y[:600]).score(X[600:], y[600:])  # 0.80
    assert pipe.score(X[600:], y[600:]) > raw + 0.05


def test_pickle_roundtrip(fitted):
    enc, X, y = fitted
    restored = pickle.loads(pickle.dumps(enc))
    np.testing.assert_array_equal(restored.transform(X), enc.transform(X))


def test_residual_encoder_starts_at_input_geometry():
    torch.manual_seed(0)
    x = torch.randn(5, 7, dtype=torch.float64)
    enc = ResidualMLPEncoder(7, 7, hidden_layer_sizes=(16,)).double()
    torch.testing.assert_close(enc(x), x)
    proj = ResidualMLPEncoder(7, 3).double()
    torch.testing.assert_close(proj.base @ proj.base.T, torch.eye(3, dtype=torch.float64))


def _token_groups(n_groups=6, per_group=30, length=12, seed=0):
    """Sequences whose group is set by which vocabulary block their tokens come from."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n_groups * per_group, length), dtype=np.int64)
    y = np.repeat(np.arange(n_groups), per_group)
    for r, g in enumerate(y):
        n = rng.integers(3, length + 1)
        X[r, :n] = rng.integers(1 + 5 * g, 6 + 5 * g, n)
    return X, y


def test_gru_padding_invariance():
    torch.manual_seed(0)
    enc = GRUEncoder(n_tokens=20, embedding_dim=8, token_dim=6, hidden_size=5).double().eval()
    seq = torch.tensor([[3, 7, 1, 9, 0, 0, 0, 0]], dtype=torch.float64)
    other = torch.tensor([[3, 7, 1, 9]], dtype=torch.float64)
    lead = torch.tensor([[0, 0, 3, 7, 0, 1, 9, 0, 0, 0]], dtype=torch.float64)
    z = enc(seq)
    torch.testing.assert_close(enc(other), z)
    torch.testing.assert_close(enc(lead), z)
    # in a batch with a longer sequence, too
    batch = torch.tensor([[3, 7, 1, 9, 0, 0], [1, 2, 3, 4, 5, 6]], dtype=torch.float64)
    torch.testing.assert_close(enc(batch)[:1], z)


def test_gru_estimator_learns_token_groups():
    X, y = _token_groups()
    enc = SiameseAMSoftmaxEncoder(
        encoder="gru", hidden_layer_sizes=(16,), embedding_dim=8, learning_rate_init=1e-2,
        max_iter=40, random_state=0,
    ).fit(X, y)  # fmt: skip
    assert enc.n_tokens_ == 32 and enc.transform(X).shape == (180, 8)
    assert enc.score(X, y) > leave_one_out_recall(X, y) + 0.15  # raw features: 0.76
    # leading instead of trailing padding: the same embeddings
    padded = np.take_along_axis(X, np.argsort(X != 0, axis=1, kind="stable"), axis=1)
    assert not np.array_equal(padded, X)
    # ids never seen in training map to the OOV row instead of failing
    X_oov = X.copy()
    X_oov[:, 0] = np.where(X_oov[:, 0] > 0, 500, 0)
    assert np.isfinite(enc.transform(X_oov)).all()
    np.testing.assert_allclose(enc.transform(padded), enc.transform(X))
    restored = pickle.loads(pickle.dumps(enc))
    np.testing.assert_array_equal(restored.transform(X), enc.transform(X))


def test_errors():
    X, y = _blobs()
    with pytest.raises(ValueError, match="at least 2 groups"):
        SiameseAMSoftmaxEncoder(max_iter=2).fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="token ids"):
        SiameseAMSoftmaxEncoder(encoder="gru", max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="margin"):
        SiameseAMSoftmaxEncoder(margin=-1.0).fit(X, y)
