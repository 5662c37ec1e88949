"""Tests of cnnlib.shapes against PyTorch: output sizes, parameter and multiply-add counts."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
import torchinfo
from torch import nn

from cnnlib import shapes
from cnnlib.shapes import conv_out

# --------------------------------------------------------------------------- conv_out


def test_conv_out_matches_torch_conv2d_over_a_grid():
    checked = 0
    for size, k, s, p, d in itertools.product(range(1, 13), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (1, 2)):
        span = d * (k - 1) + 1
        if span > size + 2 * p:
            with pytest.raises(ValueError, match="kernel spans"):
                conv_out(size, k, s, p, d)
            continue
        y = F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
        assert conv_out(size, k, s, p, d) == y.shape[-1], (size, k, s, p, d)
        checked += 1
    assert checked > 500


@pytest.mark.parametrize("args", [
    (0, 3), (5, 0), (5, 3, 0), (5, 3, 1, -1), (5, 3, 1, 0, 0), (5.0, 3), (True, 3),
])
def test_conv_out_rejects_bad_sizes(args):
    with pytest.raises(ValueError, match="must be an int"):
        conv_out(*args)


# --------------------------------------------------------------------------- counting


def test_conv_params_matches_numel_of_nn_conv2d():
    for cin, cout, k, g, bias in itertools.product((1, 4, 6, 12), (2, 6, 12), (1, 3, (3, 5)), (1, 2, 3, 6),
                                                   (True, False)):
        if cin % g or cout % g:
            with pytest.raises(ValueError, match="groups"):
                shapes.conv_params(cin, cout, k, g, bias)
            continue
        conv = nn.Conv2d(cin, cout, k, groups=g, bias=bias)
        assert shapes.conv_params(cin, cout, k, g, bias) == sum(p.numel() for p in conv.parameters())


def test_conv_macs_is_params_times_output_pixels():
    assert shapes.conv_macs(3, 64, 7, 112, bias=False) == 64 * 3 * 49 * 112 * 112
    assert shapes.conv_macs(3, 64, 7, (112, 100)) == (64 * 3 * 49 + 64) * 112 * 100
    assert shapes.conv_macs(32, 32, 3, 10, groups=32, bias=False) == 32 * 9 * 100  # depthwise


def test_bad_counting_input_raises():
    with pytest.raises(ValueError, match="kernel_size"):
        shapes.conv_params(3, 8, (3, 3, 3))
    with pytest.raises(ValueError, match="in_ch"):
        shapes.conv_params(0, 8, 3)
    with pytest.raises(ValueError, match="out_size"):
        shapes.conv_macs(3, 8, 3, 0)
    with pytest.raises(ValueError, match="input_shape"):
        shapes.layer_counts(nn.Conv2d(1, 1, 3), (28, 28))


def small_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), nn.Conv2d(16, 32, 1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 3 * 3, 10),
    )  # fmt: skip


def test_layer_counts_agree_with_torchinfo():
    model = small_cnn()
    rows = shapes.layer_counts(model, (1, 28, 28))
    info = torchinfo.summary(model, input_size=(1, 1, 28, 28), verbose=0)
    assert sum(r.params for r in rows) == info.total_params == sum(p.numel() for p in model.parameters())
    assert sum(r.macs for r in rows) == info.total_mult_adds
    assert [r.kind for r in rows][:2] == ["Conv2d", "ReLU"]
    assert rows[-1].out_shape == (1, 10)
    assert model.training  # the mode is restored
    assert not any(m._forward_hooks for m in model.modules())  # no hook left behind


def test_layer_counts_leaves_no_hook_and_restores_the_mode_even_when_the_forward_pass_raises():
    from cnnlib.hooks import count_hooks

    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(10, 2)).train()
    with pytest.raises(RuntimeError):  # 4*26*26 features do not fit Linear(10, 2)
        shapes.layer_counts(model, (1, 28, 28))
    assert count_hooks(model) == 0 and model.training
    rows = shapes.layer_counts(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()), (1, 8, 8))
    assert [(r.name, r.out_shape, r.params, r.macs) for r in rows] == [
        ("0", (1, 4, 6, 6), 40, 40 * 36), ("1", (1, 4, 6, 6), 0, 0)]


# --------------------------------------------------------------------------- sequential_layers


def test_sequential_layers_opens_nested_sequentials_in_forward_order_with_their_paths():
    from collections import OrderedDict

    relu, conv, pool, inner = nn.ReLU(), nn.Conv2d(1, 1, 3), nn.MaxPool2d(2), nn.Conv2d(1, 1, 1)
    named = nn.Sequential(OrderedDict(conv1=inner))
    model = nn.Sequential(conv, nn.Sequential(relu, nn.Sequential(pool)), named)
    assert shapes.sequential_layers(model) == [
        (("0",), conv), (("1", "0"), relu), (("1", "1", "0"), pool), (("2", "conv1"), inner)]


def test_sequential_layers_takes_a_list_keeps_non_modules_and_other_containers_whole():
    block = nn.ModuleDict({"a": nn.ReLU()})
    assert shapes.sequential_layers([(3, 1), block]) == [(("0",), (3, 1)), (("1",), block)]
    assert shapes.sequential_layers(block) == [((), block)]


def test_layer_counts_activations_are_the_output_values_of_one_image():
    rows = shapes.layer_counts(small_cnn(), (1, 28, 28))
    assert rows[0].activations == 8 * 14 * 14  # Conv2d(1, 8, 3, stride=2, padding=1)
    assert all(r.activations == math.prod(r.out_shape[1:]) for r in rows)


def test_vgg16_activations_match_cs231n_table():
    """CS231n's VGG-16 memory table, layer by layer (Karpathy's course notes): the outputs of
    the 13 convolutions, 5 pools and 3 linear layers at 224 x 224, plus the input."""
    from cnnlib import models

    with torch.device("meta"):
        rows = shapes.layer_counts(models.vgg16(), (3, 224, 224))
    stored = [r.activations for r in rows if r.kind in ("Conv2d", "MaxPool2d", "Linear")]
    expected = ([224 * 224 * 64] * 2 + [112 * 112 * 64] + [112 * 112 * 128] * 2 + [56 * 56 * 128]
                + [56 * 56 * 256] * 3 + [28 * 28 * 256] + [28 * 28 * 512] * 3 + [14 * 14 * 512]
                + [14 * 14 * 512] * 3 + [7 * 7 * 512] + [4096, 4096, 1000])
    assert stored == expected
    assert 3 * 224 * 224 + sum(expected) == 15_237_608  # about 15.2M values
    convs = [r for r in rows if r.kind == "Conv2d"]
    linears = [r for r in rows if r.kind == "Linear"]
    # memory in the early layers, parameters in the fully connected ones
    assert sum(r.activations for r in convs[:2]) > 0.4 * sum(expected)
    assert sum(r.params for r in linears) > 0.85 * sum(r.params for r in rows)
