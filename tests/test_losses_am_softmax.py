"""AM-Softmax loss: degenerate case, hand-computed value, gradients."""

import math

import pytest
import torch
import torch.nn.functional as F

from sk_imbalance.losses import AMSoftmaxLoss, am_softmax_loss
from sk_imbalance.networks import cosine_logits


def _data(n=7, c=4, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, d, generator=g, dtype=torch.float64)
    w = torch.randn(c, d, generator=g, dtype=torch.float64)
    y = torch.randint(0, c, (n,), generator=g)
    return z, w, y


def test_margin0_scale1_is_cross_entropy_over_cosines():
    z, w, y = _data()
    cos = cosine_logits(z, w)
    for red in ("mean", "sum", "none"):
        torch.testing.assert_close(
            am_softmax_loss(cos, y, scale=1.0, margin=0.0, reduction=red),
            F.cross_entropy(cos, y, reduction=red),
        )


def test_cosines_are_cosines():
    z, w, _ = _data()
    cos = cosine_logits(z, w)
    ref = torch.stack([F.cosine_similarity(z, wj[None, :].expand_as(z), dim=1) for wj in w], dim=1)
    torch.testing.assert_close(cos, ref)
    # scale invariance in both arguments
    torch.testing.assert_close(cosine_logits(3.0 * z, 0.5 * w), cos)


def test_hand_computed_value():
    cos = torch.tensor([[0.8, 0.1, -0.3]], dtype=torch.float64)
    y = torch.tensor([0])
    s, m = 30.0, 0.35
    num = math.exp(s * (0.8 - m))
    expected = -math.log(num / (num + math.exp(s * 0.1) + math.exp(s * -0.3)))
    got = AMSoftmaxLoss(scale=s, margin=m)(cos, y)
    assert got.item() == pytest.approx(expected, rel=1e-12)


def test_per_sample_reduction_and_margin_increases_loss():
    z, w, y = _data()
    cos = cosine_logits(z, w)
    per = AMSoftmaxLoss(reduction="none")(cos, y)
    assert per.shape == (7,)
    torch.testing.assert_close(per.mean(), AMSoftmaxLoss()(cos, y))
    assert torch.all(
        am_softmax_loss(cos, y, margin=0.35, reduction="none")
        > am_softmax_loss(cos, y, margin=0.0, reduction="none")
    )


def test_finite_at_extreme_scale():
    cos = torch.tensor([[1.0, -1.0], [-1.0, 1.0]], requires_grad=True)
    loss = am_softmax_loss(cos, torch.tensor([1, 1]), scale=1e4, margin=0.35)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(cos.grad).all()


def test_gradcheck_through_normalisation():
    z, w, y = _data(n=4, c=3, d=3)
    z.requires_grad_(True)
    w.requires_grad_(True)

    def f(z, w):
        return am_softmax_loss(cosine_logits(z, w), y, scale=5.0, margin=0.2, reduction="none")

    assert torch.autograd.gradcheck(f, (z, w))


def test_logit_adjustment_is_added_after_scaling():
    torch.manual_seed(0)
    cos = torch.rand(7, 4, dtype=torch.float64) * 2 - 1
    y = torch.tensor([0, 1, 2, 3, 0, 0, 1])
    log_prior = torch.log(torch.tensor([0.6, 0.25, 0.1, 0.05], dtype=torch.float64))
    for s, m, tau in [(8.0, 0.35, 1.0), (30.0, 0.2, 0.5), (1.0, 0.0, 2.0)]:
        onehot = torch.nn.functional.one_hot(y, 4).to(cos.dtype)
        ref = F.cross_entropy(s * (cos - m * onehot) + tau * log_prior, y, reduction="none")
        got = am_softmax_loss(cos, y, s, m, "none", log_prior=log_prior, tau=tau)
        torch.testing.assert_close(got, ref)
        module = AMSoftmaxLoss(s, m, reduction="none", log_prior=log_prior, tau=tau)
        torch.testing.assert_close(module(cos, y), ref)
    # the adjustment's size does not grow with the scale: at cosines all 0 the loss is
    # the logit-adjusted cross-entropy of the prior alone, whatever s
    zero = torch.zeros(4, 4, dtype=torch.float64)
    t = torch.arange(4)
    expected = F.cross_entropy(log_prior.expand(4, 4), t, reduction="none")
    for s in (1.0, 8.0, 30.0):
        got = am_softmax_loss(zero, t, s, 0.0, "none", log_prior=log_prior, tau=1.0)
        torch.testing.assert_close(got, expected)
    # tau=0 (the default) or no prior: plain AM-Softmax
    torch.testing.assert_close(
        am_softmax_loss(cos, y, 8.0, 0.35, log_prior=log_prior, tau=0.0),
        am_softmax_loss(cos, y, 8.0, 0.35),
    )
