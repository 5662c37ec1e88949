"""Tests of cnnlib.models.resnet: torchvision's ResNet-18/34/50 and the CIFAR ResNets of He et al."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from cnnlib import models
from cnnlib.models.resnet import BasicBlock, Bottleneck, ShortcutA


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def randomize_batch_norms(model: nn.Module, seed: int = 0) -> None:
    """Give every BatchNorm non-trivial statistics and affine parameters, so that eval mode
    actually tests that each one sits where torchvision has it (the defaults are identities)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.1 * torch.randn(c, generator=g))


# --------------------------------------------------------------------------- ImageNet ResNets


@pytest.mark.parametrize("name, expected", [
    ("resnet18", 11_689_512), ("resnet34", 21_797_672), ("resnet50", 25_557_032),
])
def test_imagenet_resnets_have_the_papers_parameter_counts(name, expected):
    assert n_params(getattr(models, name)()) == expected


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50"])
def test_imagenet_resnets_compute_exactly_what_torchvision_computes(name):
    torch.manual_seed(0)
    reference = getattr(torchvision.models, name)().double().eval()
    randomize_batch_norms(reference)
    ours = getattr(models, name)().double().eval()
    assert list(ours.state_dict()) == list(reference.state_dict())  # same names, same order
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)  # adaptive pooling: any size works
    with torch.no_grad():
        expected, got = reference(x), ours(x)
    assert got.shape == (2, 1000)
    assert (got - expected).abs().max().item() <= 1e-5
    assert expected.std() > 0.1  # the outputs are not all (near) equal, so the check has teeth


def test_bottleneck_narrows_then_widens_four_times():
    block = Bottleneck(256, 64)
    assert [c.out_channels for c in (block.conv1, block.conv2, block.conv3)] == [64, 64, 256]
    assert block(torch.randn(2, 256, 8, 8)).shape == (2, 256, 8, 8)


def test_imagenet_resnet_num_classes_sets_the_output_width():
    assert models.resnet18(num_classes=10).eval()(torch.randn(1, 3, 32, 32)).shape == (1, 10)


@pytest.mark.parametrize("bad", [0, -1, True, 10.0])
def test_imagenet_resnet_rejects_bad_num_classes(bad):
    with pytest.raises(ValueError, match="num_classes must be an int"):
        models.resnet18(num_classes=bad)


# --------------------------------------------------------------------------- CIFAR ResNets


@pytest.mark.parametrize("depth, expected", [(20, 269_722), (56, 853_018)])
def test_cifar_resnet_has_the_papers_parameter_count(depth, expected):
    assert n_params(models.cifar_resnet(depth)) == expected


@pytest.mark.parametrize("depth", [8, 20, 32])
def test_plain_twin_has_the_same_layers_and_parameter_count(depth):
    resnet, plain = models.cifar_resnet(depth), models.cifar_resnet(depth, residual=False)
    assert n_params(plain) == n_params(resnet)
    assert list(plain.state_dict()) == list(resnet.state_dict())


@pytest.mark.parametrize("depth", [8, 20, 56])
def test_cifar_resnet_depth_counts_the_weighted_layers(depth):
    model = models.cifar_resnet(depth)
    weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weighted) == depth
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    assert len(blocks) == 3 * (depth - 2) // 6


def test_cifar_resnet_maps_32x32_images_to_class_scores_through_three_stages():
    model = models.cifar_resnet(20).eval()
    x = torch.randn(2, 3, 32, 32)
    shapes = []
    for stage in (model.layer1, model.layer2, model.layer3):
        stage.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape)))
    with torch.no_grad():
        assert model(x).shape == (2, 10)
    assert shapes == [(2, 16, 32, 32), (2, 32, 16, 16), (2, 64, 8, 8)]
    assert models.cifar_resnet(20, num_classes=100)(x).shape == (2, 100)


def test_option_a_shortcut_subsamples_and_pads_with_zero_channels():
    x = torch.randn(2, 16, 32, 32)
    y = ShortcutA(16, 32, stride=2)(x)
    assert y.shape == (2, 32, 16, 16)
    assert torch.equal(y[:, :16], x[:, :, ::2, ::2])  # every second pixel, unchanged
    assert torch.equal(y[:, 16:], torch.zeros(2, 16, 16, 16))  # the new channels are zeros
    assert n_params(ShortcutA(16, 32)) == 0
    assert ShortcutA(16, 32)(torch.randn(1, 16, 7, 7)).shape == (1, 32, 4, 4)  # like conv3x3, stride 2


def test_option_a_shortcut_refuses_to_drop_channels():
    with pytest.raises(ValueError, match="can only add channels"):
        ShortcutA(32, 16)


def test_cifar_resnet_stages_start_with_option_a_shortcuts():
    model = models.cifar_resnet(20)
    assert model.layer1[0].downsample is None
    for stage, (cin, cout) in [(model.layer2, (16, 32)), (model.layer3, (32, 64))]:
        shortcut = stage[0].downsample
        assert isinstance(shortcut, ShortcutA)
        assert (shortcut.in_channels, shortcut.out_channels, shortcut.stride) == (cin, cout, 2)
        assert all(block.downsample is None for block in stage[1:])


def test_residual_block_adds_its_input_and_plain_block_does_not():
    torch.manual_seed(0)
    residual = BasicBlock(8, 8).eval()
    plain = BasicBlock(8, 8, residual=False).eval()
    plain.load_state_dict(residual.state_dict())
    nn.init.zeros_(residual.bn2.weight)  # zero the branch: F(x) = 0
    nn.init.zeros_(plain.bn2.weight)
    x = torch.randn(2, 8, 5, 5)
    with torch.no_grad():
        assert torch.equal(residual(x), torch.relu(x))  # relu(0 + x)
        assert torch.equal(plain(x), torch.zeros_like(x))  # relu(0)


def test_plain_and_residual_twins_differ_only_by_the_shortcuts():
    torch.manual_seed(0)
    resnet, plain = models.cifar_resnet(8).eval(), models.cifar_resnet(8, residual=False).eval()
    plain.load_state_dict(resnet.state_dict())
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(resnet(x), plain(x))
        for block in plain.modules():
            if isinstance(block, BasicBlock):
                block.residual = True
        assert torch.equal(resnet(x), plain(x))


@pytest.mark.parametrize("bad", [0, 7, 9, 21, 22, -4, 2, 20.0, "20", True])
def test_cifar_resnet_rejects_depths_that_are_not_6n_plus_2(bad):
    with pytest.raises(ValueError, match=r"depth must be 6n \+ 2.*20, 32, 44, 56 and 110"):
        models.cifar_resnet(bad)


@pytest.mark.parametrize("bad", [1, 0, None, "yes"])
def test_cifar_resnet_rejects_a_residual_flag_that_is_not_a_bool(bad):
    with pytest.raises(ValueError, match="residual must be True"):
        models.cifar_resnet(20, residual=bad)


@pytest.mark.parametrize("bad", [0, False, 2.5])
def test_cifar_resnet_rejects_bad_num_classes(bad):
    with pytest.raises(ValueError, match="num_classes must be an int"):
        models.cifar_resnet(20, num_classes=bad)
