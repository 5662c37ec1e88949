"""Tests of cnnlib.models.convnext: ConvNeXt-T identical to torchvision's (layer scale and
stochastic depth included), its block, and the roadmap's CIFAR networks."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models.convnext import CNBlock
from torchvision.models.convnext import LayerNorm2d as TorchvisionLayerNorm2d
from torchvision.ops import StochasticDepth as TorchvisionStochasticDepth

from cnnlib import models, shapes
from cnnlib.models.convnext import Design, RoadmapNet


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def randomize(model: nn.Module, seed: int = 0) -> None:
    """Every parameter random (layer scale too, which starts at 1e-6 and would hide the
    blocks' branches), so that the comparison covers every layer."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.add_(1.0)


# --------------------------------------------------------------------------- ConvNeXt-T


def test_convnext_tiny_has_torchvisions_parameter_count():
    assert n_params(models.convnext_tiny()) == 28_589_128


def test_convnext_tiny_computes_exactly_what_torchvision_computes_in_eval_mode():
    reference = torchvision.models.convnext_tiny().double().eval()
    randomize(reference)
    ours = models.convnext_tiny().double().eval()
    assert list(ours.state_dict()) == list(reference.state_dict())  # same names, same order
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        expected, got = reference(x), ours(x)
    assert got.shape == (2, 1000)
    assert (got - expected).abs().max().item() <= 1e-9
    assert expected.std() > 0.01


def test_convnext_tiny_stochastic_depth_grows_linearly_like_torchvisions():
    ours = [m.p for m in models.convnext_tiny().modules() if isinstance(m, models.StochasticDepth)]
    theirs = [m.p for m in torchvision.models.convnext_tiny().modules()
              if isinstance(m, TorchvisionStochasticDepth)]
    assert ours == theirs and len(ours) == 18
    assert ours[0] == 0.0 and ours[-1] == pytest.approx(0.1)


def test_convnext_block_in_train_mode_drops_the_same_images_as_torchvision_with_one_seed():
    reference = CNBlock(16, layer_scale=0.5, stochastic_depth_prob=0.5).double().train()
    randomize(reference)
    ours = models.ConvNeXtBlock(16, layer_scale=0.5, stochastic_depth_prob=0.5).double().train()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(32, 16, 8, 8, dtype=torch.float64)
    torch.manual_seed(7)
    expected = reference(x)
    torch.manual_seed(7)
    got = ours(x)
    assert torch.allclose(got, expected, atol=1e-12)
    dropped = [(got[i] - x[i]).abs().max().item() == 0 for i in range(32)]
    assert 4 <= sum(dropped) <= 28  # some images skip the branch, some do not


def test_stochastic_depth_keeps_the_expected_value_and_is_the_identity_in_eval_mode():
    drop = models.StochasticDepth(0.25)
    x = torch.ones(20_000, 3)
    torch.manual_seed(0)
    out = drop.train()(x)
    kept = out[:, 0] != 0
    assert torch.allclose(out[kept], torch.full_like(out[kept], 1 / 0.75))
    assert (out == out[:, :1]).all()  # one draw per image (row), not per value
    assert out.mean().item() == pytest.approx(1.0, abs=0.03)
    assert torch.equal(drop.eval()(x), x)


def test_layer_norm_2d_normalises_the_channels_of_each_pixel_like_torchvisions():
    x = torch.randn(2, 8, 5, 5)
    ours, theirs = models.LayerNorm2d(8, eps=1e-6), TorchvisionLayerNorm2d(8, eps=1e-6)
    out = ours(x)
    assert torch.allclose(out, theirs(x), atol=1e-6)
    assert torch.allclose(out.mean(dim=1), torch.zeros(2, 5, 5), atol=1e-5)


def test_layer_scale_starts_at_one_in_a_million():
    block = models.ConvNeXtBlock(8)
    assert torch.equal(block.layer_scale, torch.full((8, 1, 1), 1e-6))
    x = torch.randn(1, 8, 7, 7)
    assert (block.eval()(x) - x).abs().max() < 1e-4  # almost the identity at the start


def test_convnext_block_counts_match_the_formula():
    dim, size = 96, 14
    rows = shapes.layer_counts(models.ConvNeXtBlock(dim), (dim, size, size))
    expected_macs = (49 * dim + dim + 2 * 4 * dim * dim + 4 * dim + dim) * size * size
    assert sum(r.macs for r in rows) == expected_macs  # with biases, as shapes counts them
    assert sum(r.params for r in rows) + dim == (49 * dim + dim + 2 * 4 * dim * dim + 5 * dim
                                                 + 2 * dim + dim)  # + LN, + layer scale


@pytest.mark.parametrize("kwargs, fragment", [
    ({"num_classes": 0}, "num_classes must be an int >= 1"),
    ({"stochastic_depth_prob": 1.0}, "stochastic_depth_prob must be a probability"),
    ({"layer_scale": 0}, "layer_scale must be a positive number"),
])
def test_convnext_tiny_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        models.convnext_tiny(**kwargs)


# --------------------------------------------------------------------------- the roadmap


def test_roadmap_starts_at_the_courses_cifar_resnet_20():
    net = models.roadmap_net(0)
    assert n_params(net) == n_params(models.cifar_resnet(20)) == 269_722
    assert Design() == models.roadmap_designs()[0][1]


def test_roadmap_changes_one_thing_per_step():
    designs = [d for _, d in models.roadmap_designs()]
    assert len(designs) == len(models.ROADMAP_STEPS) == 10
    changed = [sum(getattr(a, f) != getattr(b, f) for f in Design.__dataclass_fields__)
               for a, b in zip(designs, designs[1:], strict=False)]
    assert changed[0] == 0  # the recipe changes the training, not the network
    assert all(1 <= n <= 2 for n in changed[1:])


def test_every_roadmap_network_classifies_cifar_images():
    x = torch.randn(2, 3, 32, 32)
    for step in range(len(models.ROADMAP_STEPS)):
        net = models.roadmap_net(step)
        assert net(x).shape == (2, 10), step


def test_roadmap_final_step_is_built_of_convnext_style_blocks():
    net = models.roadmap_net(len(models.ROADMAP_STEPS) - 1)
    kinds = {type(m) for m in net.modules()}
    assert nn.GELU in kinds and models.LayerNorm2d in kinds
    assert nn.BatchNorm2d not in kinds and nn.ReLU not in kinds
    depthwise = [m for m in net.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert depthwise and all(m.kernel_size == (7, 7) and m.groups == m.in_channels
                             for m in depthwise)


def test_roadmap_patchify_stem_halves_the_resolution():
    before = RoadmapNet(models.roadmap_designs()[2][1]).features[0]
    after = RoadmapNet(models.roadmap_designs()[3][1]).features[0]
    x = torch.randn(1, 3, 32, 32)
    assert before(x).shape[-1] == 32 and after(x).shape[-1] == 16


@pytest.mark.parametrize("step", [-1, 10, True, 2.0])
def test_roadmap_net_rejects_a_step_outside_the_roadmap(step):
    with pytest.raises(ValueError, match="step must be a whole number from 0 to 9"):
        models.roadmap_net(step)
