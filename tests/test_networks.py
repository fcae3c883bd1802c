"""The ensemble networks: members are independent networks, packed or stacked."""

import torch

from sk_imbalance.networks import MLP, Ensemble, EnsembleMLP, set_output_bias


def _member_by_hand(net, m, X):
    w0 = net.first_weight.view(X.shape[1], net.n_members, -1)[:, m]
    h = torch.relu(X @ w0 + net.first_bias.view(net.n_members, -1)[m])
    for layer in net.hidden:
        h = torch.relu(h @ layer.weight[m] + layer.bias[m])
    return h @ net.output.weight[m] + net.output.bias[m]


def test_packed_members_are_independent_mlps():
    torch.manual_seed(0)
    X = torch.randn(20, 5, dtype=torch.float64)
    net = EnsembleMLP(5, 3, n_members=4, hidden_layer_sizes=(7, 6)).double()
    out = net(X)
    assert out.shape == (20, 4, 3)
    for m in range(4):
        torch.testing.assert_close(out[:, m], _member_by_hand(net, m, X))
    # a member's gradient does not reach another member's weights
    out[:, 1].sum().backward()
    assert net.output.weight.grad[[0, 2, 3]].abs().max() == 0
    assert net.output.weight.grad[1].abs().max() > 0
    linear = EnsembleMLP(5, 3, n_members=2, hidden_layer_sizes=()).double()
    torch.testing.assert_close(linear(X)[:, 1], X @ linear.output.weight[1] + linear.output.bias[1])


def test_member_weight_decay_gives_each_entry_its_members_strength():
    net = EnsembleMLP(3, 2, n_members=4, hidden_layer_sizes=(5,))
    strengths = torch.tensor([0.1, 0.3, 1.0, 3.0])
    decay = dict((id(p), t) for p, t in net.member_weight_decay(strengths))
    first = decay[id(net.first_weight)].view(3, 4, 5)
    for m in range(4):
        assert torch.all(first[:, m] == strengths[m])
        assert torch.all(decay[id(net.output.weight)][m] == strengths[m])
    stacked = Ensemble([MLP(3, 2, (4,)) for _ in range(2)])
    pairs = stacked.member_weight_decay(torch.tensor([0.5, 2.0]))
    assert {float(t.unique()) for _, t in pairs} == {0.5, 2.0}


def test_output_bias_set_for_every_member():
    bias = torch.tensor([0.5, -1.0])
    packed = EnsembleMLP(3, 2, n_members=3)
    set_output_bias(packed, bias)
    torch.testing.assert_close(packed.output.bias.detach(), bias.expand(3, 2))
    stacked = Ensemble([MLP(3, 2) for _ in range(2)])
    set_output_bias(stacked, bias)
    for member in stacked.members:
        torch.testing.assert_close(member.output.bias.detach(), bias)
    assert stacked(torch.zeros(4, 3)).shape == (4, 2, 2)
