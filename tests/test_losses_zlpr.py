"""ZLPR, multi-label BCE and sigmoid focal losses: reference values and numerics."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sk_imbalance.losses import (
    MultiLabelBCELoss,
    MultiLabelFocalLoss,
    ZLPRLoss,
    multilabel_bce_loss,
    multilabel_focal_loss,
    zlpr_loss,
    zlpr_loss_pairwise,
)


def _random(n=7, k=5, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, k, generator=g, dtype=dtype) * 3
    y = (torch.rand(n, k, generator=g) < 0.4).to(dtype)
    y[0] = 0  # a sample with no positive label
    y[1] = 1  # a sample with no negative label
    return s, y


def test_zlpr_hand_computed():
    s = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]], dtype=torch.float64)
    y = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]], dtype=torch.float64)
    expected = [
        math.log(1 + math.exp(-1) + math.exp(0.5)) + math.log(1 + math.exp(-2)),
        math.log(1 + math.exp(-2)) + math.log(1 + math.exp(0) + math.exp(-3)),
    ]
    got = zlpr_loss(s, y, reduction="none")
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    assert float(zlpr_loss(s, y)) == pytest.approx(np.mean(expected), rel=1e-12)
    assert float(zlpr_loss(s, y, reduction="sum")) == pytest.approx(np.sum(expected), rel=1e-12)
    # all-negative / all-positive samples: only one term is left
    s1 = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    assert float(zlpr_loss(s1, torch.zeros(1, 2, dtype=torch.float64))) == pytest.approx(
        math.log(1 + math.exp(1) + math.exp(-2))
    )
    assert float(zlpr_loss(s1, torch.ones(1, 2, dtype=torch.float64))) == pytest.approx(
        math.log(1 + math.exp(-1) + math.exp(2))
    )


def test_zlpr_equals_pairwise_form_and_accepts_bool_targets():
    s, y = _random()
    a = zlpr_loss(s, y, reduction="none")
    np.testing.assert_allclose(a, zlpr_loss_pairwise(s, y, reduction="none"), rtol=1e-12)
    np.testing.assert_allclose(a, zlpr_loss(s, y.bool(), reduction="none"), rtol=0)
    np.testing.assert_allclose(a, ZLPRLoss(reduction="none")(s, y), rtol=0)


def test_zlpr_one_positive_is_softmax_cross_entropy_with_zero_threshold():
    """One positive p: the loss is softmax CE choosing p over the zero threshold score,
    plus softmax CE choosing the threshold over all negative scores; the pairwise
    (no-threshold) part alone is the plain softmax CE over the scores."""
    s, _ = _random(n=9, k=6, seed=3)
    p = torch.arange(9) % 6
    y = F.one_hot(p, 6).to(s.dtype)
    zero = torch.zeros(9, 1, dtype=s.dtype)
    neg = s.masked_fill(y.bool(), float("-inf"))
    ce_pos_vs_threshold = F.cross_entropy(
        torch.cat([s.gather(1, p[:, None]), zero], 1),
        torch.zeros(9, dtype=torch.long),
        reduction="none",
    )
    ce_threshold_vs_negs = F.cross_entropy(
        torch.cat([zero, neg], 1), torch.zeros(9, dtype=torch.long), reduction="none"
    )
    np.testing.assert_allclose(
        zlpr_loss(s, y, reduction="none"), ce_pos_vs_threshold + ce_threshold_vs_negs, rtol=1e-12
    )
    # the full expansion: CE over [scores, 0] for p, plus the negatives-vs-threshold pairs
    ce_aug = F.cross_entropy(torch.cat([s, zero], 1), p, reduction="none")
    extra = torch.log1p(torch.exp(torch.logsumexp(neg, 1)) * torch.exp(-ce_aug))
    np.testing.assert_allclose(zlpr_loss(s, y, reduction="none"), ce_aug + extra, rtol=1e-10)
    # when the negatives sit far below the threshold, the loss IS that softmax CE
    s_far = s.masked_fill(~y.bool(), -60.0)
    ce_far = F.cross_entropy(torch.cat([s_far, zero], 1), p, reduction="none")
    np.testing.assert_allclose(zlpr_loss(s_far, y, reduction="none"), ce_far, rtol=1e-12)


def test_zlpr_single_label_is_logistic_loss():
    s, y = _random(n=11, k=1, seed=4)
    ref = F.binary_cross_entropy_with_logits(s, y, reduction="none")[:, 0]
    np.testing.assert_allclose(zlpr_loss(s, y, reduction="none"), ref, rtol=1e-12)


def test_bce_matches_torch_builtin_with_and_without_pos_weight():
    s, y = _random()
    pw = torch.tensor([1.0, 2.0, 0.5, 4.0, 3.0], dtype=torch.float64)
    for w in (None, pw):
        ref = F.binary_cross_entropy_with_logits(s, y, pos_weight=w, reduction="none").sum(1)
        np.testing.assert_allclose(multilabel_bce_loss(s, y, w, reduction="none"), ref, rtol=1e-12)
        np.testing.assert_allclose(MultiLabelBCELoss(w, reduction="none")(s, y), ref, rtol=1e-12)


def test_focal_hand_computed_and_gamma_zero_is_bce():
    s, y = _random()
    np.testing.assert_allclose(
        multilabel_focal_loss(s, y, gamma=0.0, reduction="none"),
        multilabel_bce_loss(s, y, reduction="none"),
        rtol=1e-12,
    )
    p = torch.sigmoid(s)
    pt = torch.where(y > 0.5, p, 1 - p)
    w = torch.tensor([1.0, 2.0, 0.5, 4.0, 3.0], dtype=torch.float64)
    ref = (-((1 - pt) ** 2) * torch.log(pt) * torch.where(y > 0.5, w, 1.0)).sum(1)
    got = MultiLabelFocalLoss(2.0, w, reduction="none")(s, y)
    np.testing.assert_allclose(got, ref, rtol=1e-9)


@pytest.mark.parametrize(
    "fn",
    [
        zlpr_loss,
        multilabel_bce_loss,
        lambda s, y: multilabel_focal_loss(s, y, gamma=2.0, pos_weight=torch.arange(1.0, 6.0)),
    ],
)
def test_gradcheck(fn):
    s, y = _random(n=4)
    s.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: fn(t, y), (s,))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_zlpr_finite_in_half_precision_with_large_scores(dtype):
    g = torch.Generator().manual_seed(0)
    s64 = (torch.randn(64, 30, generator=g, dtype=torch.float64) * 1e4).clamp(-3e4, 3e4)
    y = (torch.rand(64, 30, generator=g) < 0.2).double()
    y[0], y[1] = 0, 1
    s = s64.to(dtype).requires_grad_(True)
    loss = zlpr_loss(s, y.to(dtype), reduction="none")
    loss.sum().backward()
    assert loss.dtype == dtype
    assert torch.isfinite(loss).all() and torch.isfinite(s.grad).all()
    ref = zlpr_loss(s.detach().double(), y, reduction="none")
    np.testing.assert_allclose(loss.double().detach(), ref, rtol=1e-2)
    # and at ordinary scores the half-precision values are close to float64
    small = s64 / 1e4
    np.testing.assert_allclose(
        zlpr_loss(small.to(dtype), y.to(dtype), reduction="none").double(),
        zlpr_loss(small, y, reduction="none"),
        rtol=2e-2,
        atol=2e-2,
    )


def test_reference_1e12_masking_breaks_in_float16_but_ours_does_not():
    """The reference code masks with ``y * 1e12``; with the constant in the tensor's
    dtype (as Keras casts it) that is ``0 * inf = nan`` in float16."""
    s = torch.tensor([[2.0, -1.0, 0.5]], dtype=torch.float16)
    y = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float16)
    big = torch.tensor(1e12, dtype=torch.float16)
    assert torch.isinf(big)
    signed = (1 - 2 * y) * s
    ref_neg = torch.logsumexp(torch.cat([signed - y * big, torch.zeros(1, 1, dtype=s.dtype)], 1), 1)
    assert not torch.isfinite(ref_neg).all()
    assert torch.isfinite(zlpr_loss(s, y)).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("fn", [multilabel_bce_loss, multilabel_focal_loss])
def test_bce_and_focal_finite_in_half_precision(dtype, fn):
    g = torch.Generator().manual_seed(1)
    s = (torch.randn(16, 10, generator=g) * 100).to(dtype).requires_grad_(True)
    y = (torch.rand(16, 10, generator=g) < 0.3).to(dtype)
    loss = fn(s, y, reduction="none")
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(s.grad).all()


def test_gradients_finite_at_extreme_scores():
    s = torch.tensor([[1e4, -1e4, 50.0, -50.0]], dtype=torch.float32, requires_grad=True)
    y = torch.tensor([[0.0, 1.0, 1.0, 0.0]])
    for fn in (zlpr_loss, multilabel_bce_loss, multilabel_focal_loss):
        s.grad = None
        fn(s, y).backward()
        assert torch.isfinite(s.grad).all()


def test_errors():
    s = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="shape"):
        zlpr_loss(s, torch.zeros(3, 5))
    with pytest.raises(ValueError, match="reduction"):
        zlpr_loss(s, torch.zeros(3, 4), reduction="avg")
