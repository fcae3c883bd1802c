"""Piecewise-linear feature encoding: the encoding, the masked members, the estimators' option."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from sk_imbalance import (
    FocalClassifier,
    LogitAdjustedClassifier,
    LogitAdjustedClassifierCV,
    ZLPRMultiLabelClassifier,
)
from sk_imbalance.networks import (
    MLP,
    Encoded,
    Ensemble,
    EnsembleMLP,
    FirstColumns,
    PiecewiseLinearEncoding,
    piecewise_linear_edges,
)

FAST = dict(max_iter=5, random_state=0)


def _ple_by_hand(x, edges):
    """Gorishniy et al.'s formula, one value at a time."""
    t = len(edges) - 1
    out = []
    for i in range(t):
        v = (x - edges[i]) / (edges[i + 1] - edges[i])
        if i > 0:
            v = max(v, 0.0)
        if i < t - 1:
            v = min(v, 1.0)
        out.append(v)
    return out


def test_edges_are_training_quantiles_without_repeats():
    X = torch.tensor(
        [[0.0, 5.0, 1.0], [1.0, 5.0, 1.0], [2.0, 5.0, 2.0], [3.0, 5.0, 2.0], [4.0, 5.0, 2.0]],
        dtype=torch.float64,
    )
    edges = piecewise_linear_edges(X, 4)
    torch.testing.assert_close(
        edges[0], torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    )
    # a constant feature: one bin of width 1; two distinct values: repeated quantiles dropped
    torch.testing.assert_close(edges[1], torch.tensor([5.0, 6.0], dtype=torch.float64))
    torch.testing.assert_close(edges[2], torch.tensor([1.0, 2.0], dtype=torch.float64))


def test_encoding_matches_the_formula_and_pads_short_features():
    rng = np.random.default_rng(0)
    train = torch.as_tensor(np.c_[rng.normal(size=50), rng.integers(0, 3, 50)], dtype=torch.float64)
    edges = piecewise_linear_edges(train, 5)
    assert len(edges[0]) == 6 and len(edges[1]) < 6  # 3 distinct values: repeats dropped
    enc = PiecewiseLinearEncoding(edges).double()
    assert (enc.n_features, enc.n_bins, enc.n_outputs) == (2, 5, 12)
    X = torch.tensor([[-9.0, -1.0], [0.1, 0.5], [0.7, 1.5], [9.0, 7.0]], dtype=torch.float64)
    out = enc(X)
    torch.testing.assert_close(out[:, :2], X)  # the features come first
    for r in range(len(X)):
        for j in range(2):
            e = edges[j].tolist()
            expected = _ple_by_hand(X[r, j].item(), e)
            expected += [0.0] * (5 - len(expected))  # padding of the feature with 2 bins
            got = out[r, 2 + 5 * j : 2 + 5 * (j + 1)].tolist()
            np.testing.assert_allclose(got, expected, atol=1e-12)


def test_masked_members_see_only_their_inputs_and_start_like_nn_linear():
    torch.manual_seed(0)
    k, n_in, n_raw, width = 4, 10, 3, 6
    member_inputs = torch.zeros(k, n_in, dtype=torch.bool)
    member_inputs[:, :n_raw] = True
    member_inputs[2:] = True
    net = EnsembleMLP(n_in, 2, k, (width,), member_inputs=member_inputs).double()
    X = torch.randn(30, n_in, dtype=torch.float64)
    X2 = X.clone()
    X2[:, n_raw:] += 5.0
    out, out2 = net(X), net(X2)
    torch.testing.assert_close(out[:, :2], out2[:, :2])  # members 0, 1: the first 3 inputs only
    assert (out[:, 2:] - out2[:, 2:]).abs().max() > 1e-3
    # their masked first-layer weights get no gradient; nn.Linear's bound for their fan-in
    out.sum().backward()
    w = net.first_weight.view(n_in, k, width)
    grad = net.first_weight.grad.view(n_in, k, width)
    assert grad[n_raw:, :2].abs().max() == 0 and grad[n_raw:, 2:].abs().max() > 0
    assert w[n_raw:, :2].abs().max() == 0
    assert w[:, :2].abs().max() <= 1 / np.sqrt(n_raw) and w[:, :2].abs().max() > 1 / np.sqrt(n_in)
    assert w[:, 2:].abs().max() <= 1 / np.sqrt(n_in)
    with pytest.raises(ValueError, match="boolean mask"):
        EnsembleMLP(n_in, 2, k, (width,), member_inputs=member_inputs[:, :5])
    with pytest.raises(ValueError, match="hidden layer"):
        EnsembleMLP(n_in, 2, k, (), member_inputs=member_inputs)


@pytest.mark.parametrize("layout", ["prefix", "interleaved"])
def test_masked_first_layer_equals_the_dense_product_with_the_mask(layout):
    # the forward pass multiplies each group of members by its own inputs only; it must
    # equal the dense product of the masked weights, in member order, for any mask
    torch.manual_seed(1)
    k, n_in, width = 5, 7, 3
    member_inputs = torch.zeros(k, n_in, dtype=torch.bool)
    if layout == "prefix":
        member_inputs[:, :2] = True
        member_inputs[3:] = True
    else:  # members 0, 2, 4 see inputs 1, 4, 6; members 1, 3 see every input
        member_inputs[::2, [1, 4, 6]] = True
        member_inputs[1::2] = True
    net = EnsembleMLP(n_in, 2, k, (width,), member_inputs=member_inputs).double()
    X = torch.randn(11, n_in, dtype=torch.float64)
    dense = torch.addmm(net.first_bias, X, net.first_weight * net.input_mask)
    torch.testing.assert_close(net._first_layer(X), dense)
    net._first_layer(X).square().sum().backward()
    assert net.first_weight.grad[~net.input_mask.bool()].abs().max() == 0


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        120, 4, n_informative=3, n_redundant=0, weights=[0.8], random_state=0
    )
    return X, y


def test_mixed_encodes_the_last_half_of_the_members(data):
    X, y = data
    est = LogitAdjustedClassifier(feature_encoding="mixed", n_members=5, n_bins=3, **FAST).fit(X, y)
    assert isinstance(est.module_, Encoded)
    net = est.module_.network
    assert isinstance(net, EnsembleMLP) and net.first_weight.shape[0] == 4 * (1 + 3)
    sees = net.input_mask.view(16, 5, -1)[:, :, 0].T.bool()
    assert sees[:, :4].all()  # every member sees the features
    assert sees[3:].all() and not sees[:3, 4:].any()  # members 3 and 4 see the encoding
    assert len(est.bin_edges_) == 4
    for e, ref in zip(est.bin_edges_, piecewise_linear_edges(torch.as_tensor(X), 3), strict=True):
        np.testing.assert_allclose(e, ref.numpy())
    # with one member "mixed" encodes nothing: the plain network, bit for bit
    one = LogitAdjustedClassifier(feature_encoding="mixed", n_members=1, **FAST).fit(X, y)
    plain = LogitAdjustedClassifier(n_members=1, **FAST).fit(X, y)
    assert isinstance(one.module_, MLP) and not hasattr(one, "bin_edges_")
    np.testing.assert_array_equal(one.decision_function(X), plain.decision_function(X))


def test_piecewise_linear_encodes_every_member_and_a_single_network(data):
    X, y = data
    est = FocalClassifier(feature_encoding="piecewise_linear", n_members=3, **FAST).fit(X, y)
    assert est.module_.network.input_mask is None
    assert est.module_.network.first_weight.shape[0] == est.module_.encoding.n_outputs
    single = LogitAdjustedClassifier(feature_encoding="piecewise_linear", n_members=1, **FAST).fit(
        X, y
    )
    assert isinstance(single.module_.network, MLP)
    assert single.predict_proba(X).shape == (len(X), 2)


def test_edges_come_from_the_training_rows_not_the_validation_split(data):
    X, y = data
    est = LogitAdjustedClassifier(
        feature_encoding="piecewise_linear",
        n_bins=50,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=2,
        **FAST,
    ).fit(X, y)
    # 50 bins over 90 training rows: the outermost edges are the training rows' extremes
    lows = np.array([e[0] for e in est.bin_edges_])
    assert np.all(lows >= X.min(axis=0)) and np.any(lows > X.min(axis=0))


def test_own_module_members_get_the_encoded_or_the_raw_width(data):
    X, y = data
    widths = []

    def module(n_in, n_out):
        widths.append(n_in)
        return torch.nn.Linear(n_in, n_out)

    est = LogitAdjustedClassifier(
        module=module, feature_encoding="mixed", n_members=4, n_bins=2, **FAST
    )
    est.fit(X, y)
    assert widths == [4, 4, 12, 12]
    members = est.module_.network.members
    assert isinstance(est.module_.network, Ensemble)
    assert [type(m) for m in members] == [
        FirstColumns,
        FirstColumns,
        torch.nn.Linear,
        torch.nn.Linear,
    ]


def test_mixed_without_hidden_layer_is_a_clear_error_and_fits_nothing(data):
    X, y = data
    est = LogitAdjustedClassifier(feature_encoding="mixed", hidden_layer_sizes=(), **FAST)
    with pytest.raises(ValueError, match="needs a hidden layer"):
        est.fit(X, y)
    assert not hasattr(est, "module_")
    with pytest.raises(ValueError, match="feature_encoding"):
        LogitAdjustedClassifier(feature_encoding="quantile").fit(X, y)


def test_cv_and_multilabel_estimators_take_the_encoding(data):
    X, y = data
    cv = LogitAdjustedClassifierCV(
        feature_encoding="mixed", n_members=2, taus=(0.0, 1.0), cv=2, **FAST
    ).fit(X, y)
    assert isinstance(cv.module_, Encoded)
    Y = np.c_[y, 1 - y, (X[:, 0] > 0).astype(int)]
    zlpr = ZLPRMultiLabelClassifier(feature_encoding="piecewise_linear", n_members=2, **FAST).fit(
        X, Y
    )
    assert zlpr.predict(X).shape == Y.shape


def test_pickles_from_before_the_encoding_load_as_unencoded(data):
    import pickle

    X, y = data
    est = LogitAdjustedClassifier(feature_encoding=None, **FAST).fit(X, y)
    state = est.__getstate__()
    del state["feature_encoding"], state["n_bins"]
    old = LogitAdjustedClassifier.__new__(LogitAdjustedClassifier)
    old.__setstate__(state)
    assert old.get_params()["feature_encoding"] is None and old.n_bins == 4
    np.testing.assert_array_equal(old.predict(X), est.predict(X))
    again = pickle.loads(pickle.dumps(old))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
