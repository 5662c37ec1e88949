"""Tests of cnnlib.receptive: analytic receptive fields against the gradient-measured ones."""

from __future__ import annotations

import random
from collections import OrderedDict

import pytest
import torch
import torchvision
from torch import nn

from cnnlib import receptive
from cnnlib.receptive import LayerSpec, receptive_field


def resnet18_stem() -> nn.Sequential:
    m = torchvision.models.resnet18(weights=None)
    return nn.Sequential(OrderedDict(conv1=m.conv1, bn1=m.bn1, relu=m.relu, maxpool=m.maxpool))


def test_resnet18_stem_receptive_field_is_11_with_jump_4():
    rows = receptive_field(resnet18_stem(), input_size=224)
    assert [(r.name, r.size, r.jump, r.start, r.out_size) for r in rows] == [
        ("conv1", 7, 2, 0.0, 112),
        ("maxpool", 11, 4, 0.0, 56),
    ]


def test_resnet18_stem_measured_receptive_field_matches_when_not_clipped():
    stem = resnet18_stem()
    last = receptive_field(stem, input_size=64)[-1]
    m = receptive.measured_receptive_field(stem, 64)
    assert (m.height, m.width) == (11, 11) and not m.clipped
    (top, bottom), (left, right) = last.region(m.position[0]), last.region(m.position[1])
    assert m.box == (top, left, bottom, right)
    # A corner output pixel's field hangs over the zero padding: the measured one is clipped.
    corner = receptive.measured_receptive_field(stem, 64, position=(0, 0))
    assert corner.clipped and corner.box == (0, 0, 5, 5)
    assert last.region(0) == (-5, 5)


@pytest.mark.parametrize("layers, size, jump", [
    ([(3, 1, 1)] * 3, 7, 1),                                  # three 3x3 convs see 7x7
    ([(3, 2, 1)] * 3, 15, 8),                                 # stride-2 stack
    ([(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)], 15, 1),      # dilations 1, 2, 4 (WaveNet-style)
    ([(5, 1, 2), (2, 2, 0), (5, 1, 2), (2, 2, 0)], 16, 4),     # conv/pool, LeNet-like
    ([(11, 4, 2), (3, 2, 0), (5, 1, 2), (3, 2, 0)], 67, 16),  # AlexNet's first layers
])
def test_receptive_field_of_known_stacks(layers, size, jump):
    last = receptive_field(layers)[-1]
    assert (last.size, last.jump) == (size, jump)


def check_measured_matches_analytic(model: nn.Module, size: int) -> None:
    rows = receptive_field(model, input_size=size)
    m = receptive.measured_receptive_field(model, size, in_channels=1)
    last = rows[-1]
    top, bottom = last.region(m.position[0])
    left, right = last.region(m.position[1])
    assert not m.clipped and top >= 0 and bottom < size, "input too small for the test"
    assert m.box == (top, left, bottom, right)
    assert (m.height, m.width) == (last.size, last.size)


@pytest.mark.parametrize("model", [
    nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.ReLU(), nn.Conv2d(4, 4, 3, 2, 1), nn.ReLU(),
                  nn.Conv2d(4, 4, 3, 2)),
    nn.Sequential(nn.Conv2d(1, 4, 3, dilation=2), nn.BatchNorm2d(4), nn.ReLU(),
                  nn.Conv2d(4, 4, 3, dilation=4)),
    nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 5),
                  nn.AvgPool2d(2)),
    nn.Sequential(nn.Conv2d(1, 4, 1, stride=2), nn.Conv2d(4, 4, 3, padding="same"), nn.Conv2d(4, 4, 2, 2)),
    nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.MaxPool2d(3, 2, 1, ceil_mode=True), nn.Conv2d(4, 4, 3)),
])
def test_measured_receptive_field_equals_analytic(model):
    check_measured_matches_analytic(model, 64)


def test_measured_equals_analytic_on_random_stacks():
    rng = random.Random(0)
    for _ in range(25):
        layers: list[nn.Module] = []
        for _ in range(rng.randint(1, 4)):
            k, s, d = rng.choice((1, 2, 3, 5)), rng.choice((1, 1, 2, 3)), rng.choice((1, 1, 2))
            kind = rng.choice(("conv", "conv", "max", "avg"))
            if kind != "conv":
                d, k = 1, max(k, 2)
            p = rng.randint(0, k // 2)
            layers.append(nn.Conv2d(1, 1, k, s, p, d) if kind == "conv" else
                          nn.MaxPool2d(k, s, p) if kind == "max" else nn.AvgPool2d(k, s, p))
            layers.append(nn.ReLU())
        model = nn.Sequential(*layers)
        last = receptive_field(model)[-1]
        check_measured_matches_analytic(model, 2 * last.size + 2 * last.jump + 8)


def test_max_pool_without_replacement_routes_gradient_to_one_pixel():
    pool = nn.Sequential(nn.Conv2d(1, 1, 1), nn.MaxPool2d(4))
    x = torch.arange(64.0).reshape(1, 1, 8, 8)
    m = receptive.measured_receptive_field(pool, 8, x=x, replace_max_pool=False)
    assert (m.height, m.width) == (1, 1)
    assert (receptive.measured_receptive_field(pool, 8).height) == 4


def test_measured_receptive_field_leaves_the_model_unchanged():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.MaxPool2d(2))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    receptive.measured_receptive_field(model, 16)
    assert model.training and isinstance(model[2], nn.MaxPool2d)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_rf_row_region_formula():
    row = receptive_field([LayerSpec(3, 2, 1), LayerSpec(3, 2, 1)])[-1]
    assert (row.size, row.jump, row.start) == (7, 4, 0.0)
    assert row.region(0) == (-3, 3) and row.region(2) == (5, 11)
    even = receptive_field([(2, 2, 0)])[-1]  # a 2x2 pool's first output is centred between pixels
    assert even.start == 0.5 and even.region(1) == (2, 3)


@pytest.mark.parametrize("layers, message", [
    (nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten(), nn.Linear(4, 2)), "Flatten"),
    (nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1)), "AdaptiveAvgPool2d"),
    (nn.Sequential(nn.Conv2d(1, 1, (3, 5))), "square"),
    (torchvision.models.resnet18(weights=None).layer1, "BasicBlock"),
    (nn.Sequential(nn.ReLU()), "no Conv2d"),
    ([(3, 1, -1)], "padding"),
    ([(0, 1)], "kernel_size"),
    ([(3, 1, 1, 1, 1)], "pass an nn.Module"),
    (["conv"], "pass an nn.Module"),
])
def test_receptive_field_rejects_bad_layers(layers, message):
    with pytest.raises(ValueError, match=message):
        receptive_field(layers)


def test_receptive_field_rejects_too_small_input():
    with pytest.raises(ValueError, match="kernel spans"):
        receptive_field([(3, 2, 0)] * 4, input_size=8)
    with pytest.raises(ValueError, match="input_size"):
        receptive_field([(3, 1, 1)], input_size=0)


def test_measured_receptive_field_rejects_bad_input():
    with pytest.raises(ValueError, match="spatial"):
        receptive.measured_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten()), 8)
    with pytest.raises(ValueError, match="outside"):
        receptive.measured_receptive_field(nn.Conv2d(1, 1, 3), 8, position=(6, 0))
    with pytest.raises(ValueError, match="in_channels"):
        receptive.measured_receptive_field(nn.MaxPool2d(2), 8)
    with pytest.raises(ValueError, match="input_size"):
        receptive.measured_receptive_field(nn.Conv2d(1, 1, 3), (8, 0))
    with pytest.raises(ValueError, match="x must have shape"):
        receptive.measured_receptive_field(nn.Conv2d(1, 1, 3), 8, x=torch.ones(1, 2, 8, 8))
    with pytest.raises(ValueError, match="dilated"):
        receptive.measured_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 1), nn.MaxPool2d(2, dilation=2)), 8)
