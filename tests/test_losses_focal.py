"""The focal family of losses: degenerate cases, hand values, gradients, stability."""

import math

import pytest
import torch
import torch.nn.functional as F

from sk_imbalance.losses import (
    FocalLoss,
    GHMCLoss,
    LabelSmoothingLoss,
    TruncatedLoss,
    binary_focal_loss,
    focal_loss,
    ghm_c_loss,
    ghm_weights,
    label_smoothing_loss,
    truncated_loss,
)


def _data(n=12, k=3, seed=0, dtype=torch.float64, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, k, generator=g, dtype=dtype)
    target = torch.randint(0, k, (n,), generator=g)
    return logits, target


# ------------------------------------------------------------------ degenerate cases
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_focal_gamma0_is_cross_entropy_exactly(dtype):
    logits, target = _data(dtype=dtype)
    for reduction in ("none", "mean", "sum"):
        got = focal_loss(logits, target, gamma=0.0, reduction=reduction)
        assert torch.equal(got, F.cross_entropy(logits, target, reduction=reduction))
    assert torch.equal(
        FocalLoss(0.0, reduction="none")(logits, target),
        F.cross_entropy(logits, target, reduction="none"),
    )


def test_focal_hand_value_and_alpha():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], dtype=torch.float64)
    target = torch.tensor([0, 1])
    p = torch.softmax(logits, 1)
    p_t = p[torch.arange(2), target]
    expected = -((1 - p_t) ** 2) * torch.log(p_t)
    got = focal_loss(logits, target, gamma=2.0, reduction="none")
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=0)
    alpha = torch.tensor([0.2, 3.0, 1.0], dtype=torch.float64)
    got = focal_loss(logits, target, gamma=2.0, alpha=alpha, reduction="none")
    torch.testing.assert_close(got, expected * alpha[target], rtol=1e-12, atol=0)
    # focal loss never exceeds cross-entropy and shrinks easy examples the most
    ce = F.cross_entropy(logits, target, reduction="none")
    assert torch.all(focal_loss(logits, target, reduction="none") <= ce)


def test_per_class_gamma_matches_the_formula_and_reduces_to_the_scalar_loss():
    logits, target = _data()
    gamma = torch.tensor([2.0, 0.0, 0.5], dtype=torch.float64)
    p = torch.softmax(logits, 1)
    p_t = p[torch.arange(len(target)), target]
    expected = -((1 - p_t) ** gamma[target]) * torch.log(p_t)
    got = focal_loss(logits, target, gamma=gamma, reduction="none")
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-300)
    alpha = torch.tensor([0.2, 3.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(
        FocalLoss(gamma, alpha, reduction="none")(logits, target), expected * alpha[target]
    )
    # the class-0 rows get the gamma-2 loss, the class-1 rows cross-entropy
    rows0, rows1 = target == 0, target == 1
    torch.testing.assert_close(got[rows0], focal_loss(logits, target, 2.0, reduction="none")[rows0])
    torch.testing.assert_close(got[rows1], F.cross_entropy(logits, target, reduction="none")[rows1])
    # equal entries: the scalar loss, with label smoothing too (term k focused by gamma_k)
    same = torch.full((3,), 1.5, dtype=torch.float64)
    for eps in (0.0, 0.2):
        torch.testing.assert_close(
            focal_loss(logits, target, gamma=same, label_smoothing=eps, reduction="none"),
            focal_loss(logits, target, gamma=1.5, label_smoothing=eps, reduction="none"),
        )
    q = torch.full_like(p, 0.2 / 3)
    q[torch.arange(len(target)), target] += 0.8
    torch.testing.assert_close(
        focal_loss(logits, target, gamma=gamma, label_smoothing=0.2, reduction="none"),
        -(q * (1 - p) ** gamma * torch.log(p)).sum(1),
    )
    with pytest.raises(ValueError, match="one value per class"):
        focal_loss(logits, target, gamma=torch.tensor([2.0, 0.0]))
    with pytest.raises(ValueError, match="non-negative"):
        FocalLoss(torch.tensor([2.0, -1.0, 0.0]))
    assert "gamma" in dict(FocalLoss(gamma).named_buffers())


def test_focal_label_smoothing_gamma0_matches_torch():
    logits, target = _data()
    got = focal_loss(logits, target, gamma=0.0, label_smoothing=0.2, reduction="none")
    torch.testing.assert_close(
        got, F.cross_entropy(logits, target, label_smoothing=0.2, reduction="none")
    )


def test_binary_focal_reduces_to_bce_and_matches_two_class_softmax():
    g = torch.Generator().manual_seed(1)
    z = 3 * torch.randn(20, generator=g, dtype=torch.float64)
    y = (torch.rand(20, generator=g) < 0.3).long()
    assert torch.equal(
        binary_focal_loss(z, y, gamma=0.0, reduction="none"),
        F.binary_cross_entropy_with_logits(z, y.double(), reduction="none"),
    )
    two = torch.stack([torch.zeros_like(z), z], dim=1)
    alpha = torch.tensor([0.75, 0.25], dtype=torch.float64)
    torch.testing.assert_close(
        binary_focal_loss(z, y, gamma=2.0, alpha=0.25, reduction="none"),
        focal_loss(two, y, gamma=2.0, alpha=alpha, reduction="none"),
        rtol=1e-10,
        atol=1e-12,
    )


def test_label_smoothing_matches_torch_and_zero_is_ce():
    logits, target = _data()
    for eps in (0.0, 0.1, 0.5):
        torch.testing.assert_close(
            label_smoothing_loss(logits, target, eps, reduction="none"),
            F.cross_entropy(logits, target, label_smoothing=eps, reduction="none"),
        )
    assert torch.equal(
        LabelSmoothingLoss(0.0, reduction="none")(logits, target),
        F.cross_entropy(logits, target, reduction="none"),
    )
    with pytest.raises(ValueError, match="label_smoothing"):
        label_smoothing_loss(logits, target, 1.0)


# ------------------------------------------------------------------------- truncation
def test_truncation_gives_zero_loss_to_confident_examples():
    logits = torch.tensor([[3.0, 0.0], [0.2, 0.0], [-2.0, 0.0], [0.0, 5.0]], requires_grad=True)
    target = torch.tensor([0, 0, 0, 1])
    p_t = torch.softmax(logits, 1)[torch.arange(4), target]
    loss = truncated_loss(logits, target, margin=0.7, reduction="none")
    confident = p_t > 0.7
    assert confident.tolist() == [True, False, False, True]
    assert torch.all(loss[confident] == 0)
    ce = F.cross_entropy(logits, target, reduction="none")
    torch.testing.assert_close(loss[~confident], ce[~confident])
    loss.sum().backward()
    assert torch.all(logits.grad[confident] == 0)
    assert torch.all(logits.grad[~confident].abs().sum(1) > 0)


def test_smooth_truncation_approaches_the_step():
    logits, target = _data(n=200, k=2, seed=3)
    hard = truncated_loss(logits, target, margin=0.7, reduction="none")
    soft = truncated_loss(logits, target, margin=0.7, sharpness=1e4, reduction="none")
    p_t = torch.softmax(logits, 1)[torch.arange(200), target]
    away = (p_t - 0.7).abs() > 0.01
    torch.testing.assert_close(soft[away], hard[away], rtol=1e-6, atol=1e-12)
    soft10 = TruncatedLoss(0.7, 10.0, reduction="none")(logits, target)
    ce = F.cross_entropy(logits, target, reduction="none")
    expected = torch.sigmoid(10 * (0.7 - p_t)) * ce
    torch.testing.assert_close(soft10, expected)
    with pytest.raises(ValueError, match="margin"):
        truncated_loss(logits, target, margin=1.5)


# -------------------------------------------------------------------------------- GHM
def test_ghm_weights_average_one_and_are_inverse_density():
    g = torch.tensor([0.01, 0.02, 0.03, 0.05, 0.07, 0.5, 0.95], dtype=torch.float64)
    w = ghm_weights(g, bins=10)
    torch.testing.assert_close(w.mean(), torch.tensor(1.0, dtype=torch.float64))
    # 5 examples share bin 0, one each in bins 5 and 9: N / GD normalised -> 7/(5*3), 7/3
    torch.testing.assert_close(w[:5], torch.full((5,), 7 / 15, dtype=torch.float64))
    torch.testing.assert_close(w[5:], torch.full((2,), 7 / 3, dtype=torch.float64))
    # weighted: integer weights act as repeated samples, weighted mean is 1
    sw = torch.tensor([2.0, 1, 1, 1, 1, 3, 1], dtype=torch.float64)
    ws = ghm_weights(g, bins=10, sample_weight=sw)
    rep = ghm_weights(g.repeat_interleave(sw.long()), bins=10)
    torch.testing.assert_close(ws.repeat_interleave(sw.long()), rep)
    torch.testing.assert_close((ws * sw).sum() / sw.sum(), torch.tensor(1.0, dtype=torch.float64))


def test_ghm_loss_bins1_is_cross_entropy_and_module_momentum():
    logits, target = _data(n=50)
    ce = F.cross_entropy(logits, target, reduction="none")
    torch.testing.assert_close(ghm_c_loss(logits, target, bins=1, reduction="none"), ce)
    loss = GHMCLoss(bins=10, momentum=0.0, reduction="none")
    torch.testing.assert_close(
        loss(logits, target), ghm_c_loss(logits, target, bins=10, reduction="none")
    )
    ema = GHMCLoss(bins=10, momentum=0.5, reduction="none")
    ema(logits, target)
    first = ema.density.clone()
    assert torch.isclose(first.sum(), torch.tensor(1.0, dtype=first.dtype))
    logits2, target2 = _data(n=50, seed=5)
    out = ema(logits2, target2)
    g2 = -torch.expm1(-F.cross_entropy(logits2, target2, reduction="none"))
    from sk_imbalance.losses._ghm import batch_density

    torch.testing.assert_close(ema.density, 0.5 * first + 0.5 * batch_density(g2, 10))
    # every batch's weights average 1 even with the moving average
    w = out / F.cross_entropy(logits2, target2, reduction="none")
    torch.testing.assert_close(w.mean(), torch.tensor(1.0, dtype=w.dtype))
    # eval mode neither updates nor uses the moving average
    ema.eval()
    before = ema.density.clone()
    torch.testing.assert_close(ema(logits, target), ghm_c_loss(logits, target, reduction="none"))
    assert torch.equal(ema.density, before)


def test_ghm_downweights_easy_examples():
    logits = torch.cat([torch.tensor([[6.0, 0.0]]).repeat(90, 1), torch.tensor([[0.0, 0.1]] * 10)])
    target = torch.zeros(100, dtype=torch.long)
    w = ghm_c_loss(logits, target, reduction="none") / F.cross_entropy(
        logits, target, reduction="none"
    )
    assert w[:90].max() < 1 < w[90:].min()


# ------------------------------------------------------------ gradients and stability
LOSSES = {
    "focal": lambda lo, t: focal_loss(lo, t, gamma=2.0, reduction="none"),
    "focal_alpha_ls": lambda lo, t: focal_loss(
        lo,
        t,
        gamma=1.5,
        alpha=torch.tensor([0.5, 2.0, 1.0], dtype=lo.dtype),
        label_smoothing=0.1,
        reduction="none",
    ),
    "focal_gamma_half": lambda lo, t: focal_loss(lo, t, gamma=0.5, reduction="none"),
    "focal_per_class": lambda lo, t: focal_loss(
        lo, t, gamma=torch.tensor([2.0, 0.0, 0.5], dtype=lo.dtype), reduction="none"
    ),
    "focal_per_class_ls": lambda lo, t: focal_loss(
        lo,
        t,
        gamma=torch.tensor([0.0, 2.0, 1.0], dtype=lo.dtype),
        label_smoothing=0.1,
        reduction="none",
    ),
    "binary_focal": lambda lo, t: binary_focal_loss(
        lo[:, 0] - lo[:, 1], (t > 0).long(), gamma=2.0, alpha=0.25, reduction="none"
    ),
    "truncated": lambda lo, t: truncated_loss(lo, t, margin=0.7, reduction="none"),
    "truncated_smooth": lambda lo, t: truncated_loss(
        lo, t, margin=0.7, sharpness=10.0, reduction="none"
    ),
    "ghm": lambda lo, t: ghm_c_loss(lo, t, bins=10, reduction="none"),
    "label_smoothing": lambda lo, t: label_smoothing_loss(lo, t, 0.1, reduction="none"),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradcheck_float64(name):
    logits, target = _data(n=8)
    fn = LOSSES[name]
    if name.startswith("truncated") or name == "ghm":
        # keep every example away from the step / bin edges, where the function jumps
        p_t = torch.softmax(logits, 1)[torch.arange(8), target]
        edges = torch.tensor([0.7]) if name.startswith("truncated") else torch.arange(11) / 10
        assert ((1 - p_t if name == "ghm" else p_t)[:, None] - edges).abs().min() > 1e-3
    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: fn(x, target), (logits,))


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_logits_give_finite_losses_and_gradients(name, dtype):
    big = 1e4
    logits = torch.tensor(
        [[big, -big, 0.0], [-big, big, 0.0], [0.0, 0.0, big], [big, big, -big], [0.0, 0.0, 0.0]],
        dtype=dtype,
        requires_grad=True,
    )
    target = torch.tensor([0, 0, 2, 1, 1])
    loss = LOSSES[name](logits, target)
    assert torch.all(torch.isfinite(loss))
    loss.sum().backward()
    assert torch.all(torch.isfinite(logits.grad))
    # a confidently wrong example keeps a large, finite loss
    if name not in ("binary_focal",):
        assert loss[1] > 100


def test_modules_keep_alpha_as_buffer():
    alpha = torch.tensor([1.0, 2.0])
    for m in (
        FocalLoss(alpha=alpha),
        TruncatedLoss(alpha=alpha),
        GHMCLoss(alpha=alpha),
        LabelSmoothingLoss(alpha=alpha),
    ):
        assert "alpha" in dict(m.named_buffers())
    assert math.isclose(FocalLoss().gamma, 2.0)
