"""Tests of cnnlib.models.mobilenet: the depthwise separable, inverted residual and SE blocks,
and MobileNetV2 identical to torchvision's (and to the course's shipped weights)."""

from __future__ import annotations

import pytest
import torch
import torchvision
from test_models_resnet import randomize_batch_norms
from torch import nn
from torchvision.ops import SqueezeExcitation as TorchvisionSE

from cnnlib import data, models, shapes
from cnnlib.models.mobilenet import ConvBNAct


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- MobileNetV2


def test_mobilenet_v2_has_torchvisions_parameter_count():
    assert n_params(models.mobilenet_v2()) == 3_504_872
    assert n_params(models.mobilenet_v2(num_classes=10)) == 3_504_872 - 1281 * 990


def test_mobilenet_v2_computes_exactly_what_torchvision_computes():
    torch.manual_seed(0)
    reference = torchvision.models.mobilenet_v2().double().eval()
    randomize_batch_norms(reference)
    ours = models.mobilenet_v2().double().eval()
    assert list(ours.state_dict()) == list(reference.state_dict())  # same names, same order
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 96, 96, dtype=torch.float64)
    with torch.no_grad():
        expected, got = reference(x), ours(x)
    assert got.shape == (2, 1000)
    assert (got - expected).abs().max().item() <= 1e-10
    assert expected.std() > 0.01  # the outputs differ between classes: the check has teeth


def test_mobilenet_v2_loads_the_shipped_imagenet_weights_strictly():
    state = torch.load(data.fetch("mobilenet_v2/mobilenet_v2_imagenet_fp16.pth"), weights_only=True)
    ours = models.mobilenet_v2()
    ours.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()},
                         strict=True)
    assert isinstance(models.pretrained_mobilenet_v2(), type(ours))


def test_pretrained_mobilenet_v2_answers_like_torchvisions_with_the_same_weights():
    ours = models.pretrained_mobilenet_v2()
    reference = torchvision.models.mobilenet_v2().eval()
    reference.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        assert torch.allclose(ours(x), reference(x), atol=1e-5)


def test_mobilenet_v2_initialises_like_torchvision_from_the_same_seed():
    torch.manual_seed(3)
    reference = torchvision.models.mobilenet_v2()
    torch.manual_seed(3)
    ours = models.mobilenet_v2()
    for (name, a), b in zip(ours.state_dict().items(), reference.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_mobilenet_v2_halves_the_resolution_five_times():
    rows = shapes.layer_counts(models.mobilenet_v2(), (3, 224, 224))
    assert {r.out_shape[-1] for r in rows if r.kind == "Conv2d"} == {112, 56, 28, 14, 7}
    assert rows[-1].out_shape == (1, 1000)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"num_classes": 0}, "num_classes must be an int >= 1"),
    ({"dropout": 1.0}, "dropout must be a probability in [0, 1)"),
    ({"dropout": True}, "dropout must be a probability"),
])
def test_mobilenet_v2_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace(")", r"\)")):
        models.mobilenet_v2(**kwargs)


# --------------------------------------------------------------------------- blocks


def test_inverted_residual_matches_torchvisions_block():
    from torchvision.models.mobilenetv2 import InvertedResidual as Theirs

    for inp, oup, stride, t in [(16, 16, 1, 6), (16, 24, 2, 6), (32, 16, 1, 1)]:
        reference = Theirs(inp, oup, stride, t).double().eval()
        randomize_batch_norms(reference)
        ours = models.InvertedResidual(inp, oup, stride, t).double().eval()
        ours.load_state_dict(reference.state_dict(), strict=True)
        assert ours.use_res_connect == reference.use_res_connect == (stride == 1 and inp == oup)
        x = torch.randn(2, inp, 12, 12, dtype=torch.float64)
        with torch.no_grad():
            assert torch.allclose(ours(x), reference(x), atol=1e-12)


def test_inverted_residual_is_wide_in_the_middle_and_linear_at_the_end():
    block = models.InvertedResidual(24, 24, 1, expand_ratio=6)
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.groups) for c in convs] == [
        (24, 144, 1), (144, 144, 144), (144, 24, 1)]
    assert not isinstance(block.conv[-1], (nn.ReLU, nn.ReLU6))  # the linear bottleneck
    assert isinstance(block.conv[-1], nn.BatchNorm2d)


def test_squeeze_excitation_matches_torchvisions_and_gates_each_channel():
    torch.manual_seed(0)
    reference = TorchvisionSE(32, 8)
    ours = models.SqueezeExcitation(32, 8)
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(3, 32, 9, 9)
    with torch.no_grad():
        out = ours(x)
        assert torch.allclose(out, reference(x), atol=1e-6)
    gate = out / x  # one factor per image and channel, the same at every pixel
    assert torch.allclose(gate, gate[..., :1, :1].expand_as(gate), atol=1e-4)
    assert 0 < gate.min() and gate.max() < 1
    assert n_params(ours) == 32 * 8 + 8 + 8 * 32 + 32


def test_depthwise_separable_is_a_depthwise_then_a_pointwise_convolution():
    block = models.DepthwiseSeparable(32, 64, kernel_size=3, stride=2)
    dw, pw = block.depthwise[0], block.pointwise[0]
    assert (dw.groups, dw.in_channels, dw.out_channels, dw.stride) == (32, 32, 32, (2, 2))
    assert (pw.kernel_size, pw.in_channels, pw.out_channels) == ((1, 1), 32, 64)
    assert block(torch.randn(2, 32, 16, 16)).shape == (2, 64, 8, 8)


@pytest.mark.parametrize("c_in, c_out, k", [(32, 64, 3), (64, 128, 3), (96, 96, 5), (16, 256, 7)])
def test_depthwise_separable_costs_one_over_c_out_plus_one_over_k_squared(c_in, c_out, k):
    size = 14
    separable = [r for r in shapes.layer_counts(models.DepthwiseSeparable(c_in, c_out, k),
                                                (c_in, size, size)) if r.kind == "Conv2d"]
    dense = shapes.layer_counts(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
                                (c_in, size, size))
    ratio_macs = sum(r.macs for r in separable) / dense[0].macs
    ratio_params = sum(r.params for r in separable) / dense[0].params
    assert ratio_macs == pytest.approx(1 / c_out + 1 / k**2, rel=1e-12)
    assert ratio_params == pytest.approx(1 / c_out + 1 / k**2, rel=1e-12)


def test_inverted_residual_counts_match_the_formula():
    c, t, size = 24, 6, 28
    rows = shapes.layer_counts(models.InvertedResidual(c, c, 1, t), (c, size, size))
    macs = sum(r.macs for r in rows)
    # 1x1 expand + 3x3 depthwise + 1x1 project, per output pixel
    assert macs == (c * t * c + 9 * c * t + c * t * c) * size * size


@pytest.mark.parametrize("make, fragment", [
    (lambda: models.InvertedResidual(16, 16, 3, 6), "stride must be one of 1, 2"),
    (lambda: models.InvertedResidual(16, 16, True, 6), "stride must be one of 1, 2"),
    (lambda: models.InvertedResidual(16, 16, 1, 0), "expand_ratio must be an int >= 1"),
    (lambda: models.DepthwiseSeparable(0, 16), "in_channels must be an int >= 1"),
    (lambda: models.SqueezeExcitation(16, 0), "squeeze_channels must be an int >= 1"),
])
def test_blocks_reject_bad_arguments_with_a_message(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make()


def test_conv_bn_act_keeps_torchvisions_layout():
    block = ConvBNAct(8, 16, kernel_size=3, stride=2)
    assert [type(m) for m in block] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU6]
    assert block[0].padding == (1, 1) and block[0].bias is None
