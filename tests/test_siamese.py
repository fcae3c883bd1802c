"""SiameseAMSoftmaxEncoder: embeddings, similarity, retrieval, GRU padding, pickling."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.covariance import ledoit_wolf
from sklearn.datasets import make_classification
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_imbalance import SiameseAMSoftmaxEncoder

# Unit tests of the early-stopping helpers (the group split and its recall score) need
# their private names; everything else goes through the public estimator.
from sk_imbalance._siamese import _group_split, _HeldOutRecall
from sk_imbalance._whitening import fisher_whitening  # the start, checked against refits
from sk_imbalance.metrics import leave_one_out_recall
from sk_imbalance.networks import GRUEncoder, ResidualMLPEncoder


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


def _unseen_case():
    # a smaller version of issue 5's benchmark (benchmarks/siamese_retrieval.py)
    X, y = make_classification(
        3000, 60, n_informative=12, n_redundant=8, n_classes=30,
        n_clusters_per_class=1, class_sep=1.5, random_state=0,
    )  # fmt: skip
    train = y < 20
    X = StandardScaler().fit(X[train]).transform(X)
    return X[train], y[train], X[~train], y[~train]


def test_unseen_groups_improve_over_raw_features():
    Xtr, ytr, Xte, yte = _unseen_case()
    enc = SiameseAMSoftmaxEncoder(random_state=0).fit(Xtr, ytr)
    raw = leave_one_out_recall(Xte, yte)  # 0.545
    assert enc.score(Xte, yte) > raw + 0.25  # 0.832
    # the Fisher-weighted start was chosen on the 4 held-out groups, then refitted
    assert enc.validation_groups_.shape == (4,) and enc.start_ == "whiten"
    assert enc.fisher_exponent_ == 0.25 and set(enc.start_scores_) == {0.0, 0.25, 0.5}
    assert enc.refitted_ and enc.n_iter_ == enc.best_epoch_ == len(enc.loss_curve_)
    # the identity start without the refit: the early-stopping record (0.828)
    ident = SiameseAMSoftmaxEncoder(start="identity", refit=False, random_state=0)
    ident.fit(Xtr, ytr)
    assert ident.start_ == "identity" and ident.fisher_exponent_ is None
    assert not hasattr(ident, "start_scores_") and not ident.refitted_
    assert ident.score(Xte, yte) > raw + 0.2 and ident.best_epoch_ > 0
    assert len(ident.validation_scores_) == ident.n_iter_ + 1
    # the restored epoch: the last to improve by tol (a later, smaller gain is no better)
    assert ident.best_validation_score_ == ident.validation_scores_[ident.best_epoch_]
    assert ident.best_validation_score_ > max(ident.validation_scores_) - ident.tol
    assert ident.n_iter_ == ident.best_epoch_ + ident.n_iter_no_change
    held = np.isin(ytr, ident.validation_groups_)
    assert ident.score(Xtr[held], ytr[held]) == pytest.approx(ident.best_validation_score_)
    # only the trained module is kept (not the held-out data), and pickling works
    for e in (enc, ident):
        assert not any(
            isinstance(v, np.ndarray) and v.shape[0] == held.sum() for v in vars(e).values()
        )
        restored = pickle.loads(pickle.dumps(e))
        np.testing.assert_array_equal(restored.transform(Xte[:50]), e.transform(Xte[:50]))


def test_fisher_weighting_wins_when_noise_features_vary_within_groups():
    # 8 informative features, 32 noise features as variable within the groups as the
    # informative ones: plain whitening keeps the noise, Fisher weighting shrinks it
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(30), 20)
    X = rng.normal(size=(600, 40))
    X[:, :8] += 1.5 * rng.normal(size=(30, 8))[y]
    enc = SiameseAMSoftmaxEncoder(max_iter=1, random_state=0).fit(X, y)
    scores = enc.start_scores_
    assert enc.fisher_exponent_ > 0 and scores[enc.fisher_exponent_] > scores[0.0] + 0.05
    whiten = SiameseAMSoftmaxEncoder(start="whiten", max_iter=1, random_state=0).fit(X, y)
    assert whiten.fisher_exponent_ == 0.0 and list(whiten.start_scores_) == [0.0]
    assert whiten.start_scores_[0.0] == scores[0.0]


def test_refit_is_deterministic_and_trains_the_chosen_epochs():
    Xtr, ytr, Xte, yte = _unseen_case()
    params = dict(
        start="identity", max_iter=30, n_iter_no_change=5, tol=0.0, learning_rate_init=1e-2,
        random_state=0,
    )  # fmt: skip
    a = SiameseAMSoftmaxEncoder(**params).fit(Xtr, ytr)
    b = SiameseAMSoftmaxEncoder(**params).fit(Xtr, ytr)
    np.testing.assert_array_equal(a.transform(Xte), b.transform(Xte))
    assert a.refitted_ and 0 < a.best_epoch_ == a.n_iter_ == len(a.loss_curve_)
    no = SiameseAMSoftmaxEncoder(refit=False, **params).fit(Xtr, ytr)
    assert no.best_epoch_ == a.best_epoch_ and no.n_iter_ > a.n_iter_  # it ran its patience
    assert not np.allclose(no.transform(Xte), a.transform(Xte))  # trained on all groups


def test_logit_adjustment_acts_in_training():
    Xtr, ytr, _, _ = _unseen_case()
    keep = np.concatenate([np.flatnonzero(ytr == c)[: 10 + 8 * c] for c in range(20)])
    params = dict(start="identity", refit=False, max_iter=3, random_state=0)
    a = SiameseAMSoftmaxEncoder(**params).fit(Xtr[keep], ytr[keep])
    b = SiameseAMSoftmaxEncoder(tau=1.0, **params).fit(Xtr[keep], ytr[keep])
    assert a.loss_curve_ != b.loss_curve_


def test_zero_epochs_reproduce_the_starting_geometry():
    # the training groups differ in the first 10 features only (the last 10 are noise
    # to them), the held-out groups in the last 10 only: training can only hurt them
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(20), 30)
    held = _group_split(rng.normal(size=(600, 2)), y, np.ones(600), 0.2, 0)
    centres = 1.5 * rng.normal(size=(20, 20))
    centres[np.ix_(held, np.arange(10))] = 0.0
    centres[np.ix_(np.setdiff1d(np.arange(20), held), np.arange(10, 20))] = 0.0
    X = centres[y] + rng.normal(size=(600, 20))
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    params = dict(learning_rate_init=1e-2, random_state=0)
    enc = SiameseAMSoftmaxEncoder(start="identity", refit=False, **params).fit(X, y)
    np.testing.assert_array_equal(enc.validation_groups_, held)
    assert min(enc.validation_scores_) < enc.validation_scores_[0] - 0.1  # it hurt
    assert enc.best_epoch_ == 0 and enc.n_iter_ == enc.n_iter_no_change
    np.testing.assert_allclose(enc.transform(X), unit)
    m = np.isin(y, held)
    raw = leave_one_out_recall(X[m], y[m])
    assert enc.score(X[m], y[m]) == pytest.approx(raw) == enc.best_validation_score_
    # refitted for 0 epochs: the untrained identity start, the input's own cosines
    refit = SiameseAMSoftmaxEncoder(start="identity", **params).fit(X, y)
    assert refit.refitted_ and refit.n_iter_ == 0 and refit.loss_curve_ == []
    np.testing.assert_allclose(refit.transform(X), unit)
    # a whitening start kept at epoch 0 is the whitening fitted on all groups
    white = SiameseAMSoftmaxEncoder(start="whiten", **params).fit(X, y)
    if white.best_epoch_ == 0:
        Z = X @ fisher_whitening(X, y, 0.0)
        np.testing.assert_allclose(
            white.transform(X), Z / np.linalg.norm(Z, axis=1, keepdims=True), atol=1e-10
        )


def test_fisher_whitening_weights_are_repeated_items():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(5), 8)
    X = rng.normal(size=(40, 6)) + rng.normal(size=(5, 6))[y]
    sw = rng.integers(0, 4, 40)
    for q in (0.0, 0.5):
        P = fisher_whitening(X, y, q, sample_weight=sw.astype(float))
        R = fisher_whitening(np.repeat(X, sw, axis=0), np.repeat(y, sw), q)
        np.testing.assert_allclose(P @ P.T, R @ R.T, atol=1e-10)  # up to a rotation
    # whitening: the Ledoit-Wolf within-group covariance becomes a multiple of I
    P = fisher_whitening(X, y, 0.0)
    resid = X - np.stack([X[y == c].mean(0) for c in range(5)])[y]
    cov, _ = ledoit_wolf(resid, assume_centered=True)
    np.testing.assert_allclose(P.T @ cov @ P, np.trace(cov) / 6 * np.eye(6), atol=1e-10)


def test_group_split_depends_on_label_set_only_and_needs_ten_groups():
    X, y = _blobs(n_classes=12)
    perm = np.random.default_rng(0).permutation(len(y))
    a = SiameseAMSoftmaxEncoder(max_iter=1, random_state=3).fit(X, y)
    b = SiameseAMSoftmaxEncoder(max_iter=1, random_state=3).fit(X[perm], y[perm])
    np.testing.assert_array_equal(a.validation_groups_, b.validation_groups_)
    assert a.validation_groups_.shape == (2,) and len(a.validation_scores_) == 2
    # groups with a single distinct item are no candidates: 9 left, no hold-out
    X2 = X.copy()
    X2[y == 11] = X[y == 11][0]
    m = ~np.isin(y, [9, 10])
    few = SiameseAMSoftmaxEncoder(max_iter=3, random_state=3).fit(X2[m], y[m])
    assert few.validation_groups_.shape == (0,) and not hasattr(few, "validation_scores_")
    none = SiameseAMSoftmaxEncoder(early_stopping=False, max_iter=3).fit(X, y)
    assert none.validation_groups_.shape == (0,) and none.n_iter_ == 3


class _Normalise(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def encode(self, X):
        return torch.nn.functional.normalize(X, dim=1)


def test_held_out_recall_is_sample_weight_aware():
    X, y = _blobs(n_classes=4)
    X, y = X[:120] + 2 * np.random.default_rng(0).normal(size=(120, 20)), y[:120]
    module = _Normalise()
    score = _HeldOutRecall(X, y, np.ones(120))(module)
    assert score == pytest.approx(leave_one_out_recall(X, y))
    sw = np.random.default_rng(1).integers(0, 4, 120)
    weighted = _HeldOutRecall(X, y, sw.astype(float))(module)
    perm = np.random.default_rng(2).permutation(int(sw.sum()))
    Xr, yr = np.repeat(X, sw, axis=0)[perm], np.repeat(y, sw)[perm]
    assert _HeldOutRecall(Xr, yr, np.ones(len(yr)))(module) == pytest.approx(weighted)
    # zero weights drop items; integer weights count a query that many times
    keep = sw > 0
    Z = X[keep] / np.linalg.norm(X[keep], axis=1, keepdims=True)
    sim = Z @ Z.T
    np.fill_diagonal(sim, -np.inf)
    hit = y[keep][np.argmax(sim, axis=1)] == y[keep]
    assert weighted == pytest.approx(np.average(hit, weights=sw[keep]))


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


def test_pickle_of_an_earlier_version_loads_with_its_recipe(fitted):
    # a state pickled before start/refit/tau existed: it was the identity recipe
    enc, X, _ = fitted
    state = enc.__getstate__()
    for key in ("start", "refit", "tau", "start_", "fisher_exponent_", "refitted_"):
        del state[key]
    old = SiameseAMSoftmaxEncoder.__new__(SiameseAMSoftmaxEncoder)
    old.__setstate__(state)
    assert old.get_params()["start"] == "identity" and old.get_params()["refit"] is False
    assert old.start_ == "identity" and not old.refitted_
    np.testing.assert_array_equal(old.transform(X), enc.transform(X))
    clone(old)


def test_residual_encoder_starts_at_input_geometry():
    torch.manual_seed(0)
    x = torch.randn(5, 7, dtype=torch.float64)
    enc = ResidualMLPEncoder(7, 7, hidden_layer_sizes=(16,)).double()
    torch.testing.assert_close(enc(x), x)
    proj = ResidualMLPEncoder(7, 3).double()
    torch.testing.assert_close(proj.base @ proj.base.T, torch.eye(3, dtype=torch.float64))
    # a fitted start: z = S x before training, and Q S for another embedding size
    S = torch.randn(7, 7, dtype=torch.float64)
    torch.testing.assert_close(ResidualMLPEncoder(7, 7, start=S).double()(x), x @ S.T)
    small = ResidualMLPEncoder(7, 3, start=S).double()
    q = small.base @ torch.linalg.pinv(S)
    torch.testing.assert_close(q @ q.T, torch.eye(3, dtype=torch.float64), atol=1e-6, rtol=0)


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
    with pytest.raises(ValueError, match="start"):
        SiameseAMSoftmaxEncoder(start="lda").fit(X, y)
