import math

import pytest
import torch
import torch.nn.functional as F

from sk_imbalance.losses import LogitAdjustedLoss, logit_adjusted_loss, logit_adjusted_loss_pairwise


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(32, 5, generator=g, dtype=torch.float64)
    target = torch.randint(0, 5, (32,), generator=g)
    prior = torch.tensor([0.5, 0.25, 0.15, 0.07, 0.03], dtype=torch.float64)
    return logits, target, prior.log()


def test_tau_zero_is_cross_entropy(batch):
    logits, target, log_prior = batch
    expected = F.cross_entropy(logits, target, reduction="none")
    got = LogitAdjustedLoss(log_prior, tau=0.0, reduction="none")(logits, target)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0])
def test_pairwise_form_equals_softmax_form(batch, tau):
    logits, target, log_prior = batch
    a = logit_adjusted_loss(logits, target, log_prior, tau, reduction="none")
    b = logit_adjusted_loss_pairwise(logits, target, log_prior, tau, reduction="none")
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_hand_computed_value():
    # Two classes, prior (0.8, 0.2), logits (1, 0), true class 1, tau = 1:
    # loss = log(1 + (0.8 / 0.2) * exp(1 - 0)) = log(1 + 4e)
    logits = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    target = torch.tensor([1])
    log_prior = torch.tensor([0.8, 0.2], dtype=torch.float64).log()
    got = logit_adjusted_loss(logits, target, log_prior, tau=1.0)
    assert got.item() == pytest.approx(math.log(1 + 4 * math.e), rel=1e-12)


def test_gradcheck(batch):
    logits, target, log_prior = batch
    logits = logits[:6].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda z: logit_adjusted_loss(z, target[:6], log_prior, 1.0), (logits,)
    )


def test_extreme_logits_are_finite():
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 3e3]], requires_grad=True)
    target = torch.tensor([1, 0])
    log_prior = torch.tensor([0.98, 0.01, 0.01]).log()
    loss = logit_adjusted_loss(logits, target, log_prior, 1.0)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()


def test_module_casts_prior_to_logit_dtype(batch):
    logits, target, log_prior = batch
    loss = LogitAdjustedLoss(log_prior)(logits.float(), target)
    assert loss.dtype == torch.float32
