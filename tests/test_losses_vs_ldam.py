"""VS and LDAM-DRW losses: degenerate cases, hand-computed values, gradients; the
member-averaging criterion of ensembles."""

import math

import pytest
import torch
import torch.nn.functional as F

from sk_imbalance.losses import (
    LDAMLoss,
    MemberMean,
    VSLoss,
    effective_number_weights,
    ldam_loss,
    ldam_margins,
    logit_adjusted_loss,
    vs_loss,
)


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(32, 4, generator=g, dtype=torch.float64)
    target = torch.randint(0, 4, (32,), generator=g)
    prior = torch.tensor([0.6, 0.25, 0.1, 0.05], dtype=torch.float64)
    return logits, target, prior


# ----------------------------------------------------------------------------- VS
def test_vs_with_gamma_zero_is_the_logit_adjusted_loss(batch):
    logits, target, prior = batch
    for tau in (0.0, 1.0, 1.7):
        a = vs_loss(logits, target, prior.log(), gamma=0.0, tau=tau, reduction="none")
        b = logit_adjusted_loss(logits, target, prior.log(), tau, reduction="none")
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    ce = F.cross_entropy(logits, target, reduction="none")
    torch.testing.assert_close(VSLoss(prior.log(), 0.0, 0.0, "none")(logits, target), ce)


def test_vs_hand_computed_value():
    # prior (0.8, 0.2): Delta = (1, 0.25^gamma); gamma = 0.5 -> (1, 0.5), tau = 1.
    # logits (2, 2), true class 1: loss = -log softmax(2 + log .8, 1 + log .2)_1
    logits = torch.tensor([[2.0, 2.0]], dtype=torch.float64)
    prior = torch.tensor([0.8, 0.2], dtype=torch.float64)
    a, b = 2.0 + math.log(0.8), 1.0 + math.log(0.2)
    expected = -(b - math.log(math.exp(a) + math.exp(b)))
    got = vs_loss(logits, torch.tensor([1]), prior.log(), gamma=0.5, tau=1.0)
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_vs_gradcheck(batch):
    logits, target, prior = batch
    logits = logits[:6].clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda z: vs_loss(z, target[:6], prior.log(), gamma=0.3, tau=1.0), (logits,)
    )


# --------------------------------------------------------------------------- LDAM
def test_ldam_margins_follow_the_quarter_power_law():
    m = ldam_margins(torch.tensor([1000.0, 100.0, 10.0, 1.0]), max_margin=0.5)
    torch.testing.assert_close(
        m,
        0.5 * torch.tensor([1000, 100, 10, 1.0], dtype=torch.float64).pow(-0.25),
        rtol=1e-12,
        atol=0,
    )
    assert float(m.max()) == pytest.approx(0.5) and float(m[-1]) == pytest.approx(0.5)


def test_ldam_without_margin_or_weights_is_cross_entropy(batch):
    logits, target, _ = batch
    got = ldam_loss(logits, target, torch.zeros(4), scale=1.0, reduction="none")
    torch.testing.assert_close(got, F.cross_entropy(logits, target, reduction="none"))


def test_ldam_hand_computed_value():
    # margin 0.5 on the true class 0, scale 2: -log softmax(2 * (1 - 0.5), 2 * 0)_0
    logits = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    got = ldam_loss(logits, torch.tensor([0]), torch.tensor([0.5, 0.1]), scale=2.0)
    assert float(got) == pytest.approx(math.log(1 + math.exp(-1.0)), rel=1e-12)


def test_effective_number_weights():
    counts = torch.tensor([1000.0, 10.0])
    w = effective_number_weights(counts, beta=0.99)
    raw = torch.tensor(
        [(1 - 0.99) / (1 - 0.99**1000), (1 - 0.99) / (1 - 0.99**10)], dtype=torch.float64
    )
    torch.testing.assert_close(w, raw * (2 / raw.sum()))
    torch.testing.assert_close(
        effective_number_weights(counts, beta=0.0), torch.ones(2, dtype=torch.float64)
    )


def test_deferred_reweighting_switches_on_at_drw_start(batch):
    logits, target, prior = batch
    counts = prior * 1000
    loss = LDAMLoss(counts, max_margin=0.3, drw_start=0.8, reduction="none")
    margins = ldam_margins(counts, 0.3)
    before = ldam_loss(logits, target, margins, reduction="none")
    torch.testing.assert_close(loss(logits, target), before)
    loss.set_progress(0.8)
    after = ldam_loss(
        logits, target, margins, weight=effective_number_weights(counts), reduction="none"
    )
    torch.testing.assert_close(loss(logits, target), after)
    assert not torch.allclose(before, after)


# --------------------------------------------------------------------- MemberMean
def test_member_mean_averages_each_members_loss(batch):
    logits, target, prior = batch
    g = torch.Generator().manual_seed(1)
    members = torch.randn(32, 3, 4, generator=g, dtype=torch.float64)  # (batch, k, classes)
    criterion = MemberMean(VSLoss(prior.log(), 0.2, 1.0, "none"))
    expected = torch.stack(
        [vs_loss(members[:, m], target, prior.log(), 0.2, 1.0, "none") for m in range(3)], 1
    ).mean(1)
    torch.testing.assert_close(criterion(members, target), expected)
    # a single network's outputs pass straight through
    torch.testing.assert_close(
        criterion(logits, target), vs_loss(logits, target, prior.log(), 0.2, 1.0, "none")
    )
    # multi-label targets (batch, labels) are repeated per member too
    from sk_imbalance.losses import ZLPRLoss

    Y = (torch.rand(32, 4, generator=g) < 0.3).double()
    z = MemberMean(ZLPRLoss(reduction="none"))(members, Y)
    ref = torch.stack([ZLPRLoss(reduction="none")(members[:, m], Y) for m in range(3)], 1).mean(1)
    torch.testing.assert_close(z, ref)
