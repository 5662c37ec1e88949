"""cnnlib.shifts. BlurPool is checked against a hand-built convolution and a hand computation
of antialiased-cnns' definition (github.com/adobe/antialiased-cnns, antialiased_cnns/blurpool.py,
commit 1b21b50): its code is CC BY-NC-SA 4.0, so it is described here, not copied."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import shifts
from cnnlib.models import simple_cnn


def circular_conv(stride=1, padding_mode="circular"):
    torch.manual_seed(0)
    return nn.Conv2d(3, 8, 3, stride=stride, padding=1, padding_mode=padding_mode).double()


def test_shift_is_a_circular_roll():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert torch.equal(shifts.shift(x, (1, 0))[0, 0, 0], x[0, 0, 3])
    assert torch.equal(shifts.shift(shifts.shift(x, (1, 2)), (-1, -2)), x)


@pytest.mark.parametrize("offset", [1, (0, 3), (-2, 5)])
def test_circular_padding_stride_1_conv_is_equivariant(offset):
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    assert shifts.equivariance_error(circular_conv(), x, offset) < 1e-6


def test_zero_padding_breaks_equivariance_only_a_little_at_the_borders():
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    err = shifts.equivariance_error(circular_conv(padding_mode="zeros"), x, (0, 1))
    assert 1e-4 < err < 0.3


def test_stride_2_is_equivariant_to_even_shifts_and_not_to_odd_ones():
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    conv = circular_conv(stride=2)
    assert shifts.equivariance_error(conv, x, (0, 2), stride=2) < 1e-6
    assert shifts.equivariance_error(conv, x, (0, 1), stride=2) > 0.1
    assert shifts.equivariance_error(conv, x, (1, 1), stride=2) > 0.1


def test_the_generous_reading_takes_the_best_neighbouring_output_shift():
    x = torch.randn(1, 1, 8, 8, dtype=torch.float64)
    subsample = lambda t: t[..., ::2, ::2]  # noqa: E731
    by_hand = min((subsample(shifts.shift(x, (0, 1))) - shifts.shift(subsample(x), (0, r))).norm()
                  for r in (0, 1)) / subsample(x).norm()
    assert shifts.equivariance_error(subsample, x, (0, 1), stride=2) == pytest.approx(by_hand.item())


@pytest.mark.parametrize("size, row", [(1, [1]), (2, [1, 1]), (3, [1, 2, 1]), (4, [1, 3, 3, 1]),
                                       (5, [1, 4, 6, 4, 1]), (7, [1, 6, 15, 20, 15, 6, 1])])
def test_binomial_filter_is_the_normalised_outer_product(size, row):
    a = torch.tensor(row, dtype=torch.float32)
    assert torch.allclose(shifts.binomial_filter(size), torch.outer(a, a) / torch.outer(a, a).sum())


@pytest.mark.parametrize("size", [2, 3, 4, 5])
def test_blurpool_equals_reflect_pad_then_depthwise_conv(size):
    torch.manual_seed(size)
    x = torch.randn(2, 5, 11, 12)
    hand = nn.Conv2d(5, 5, size, stride=2, groups=5, bias=False)
    with torch.no_grad():
        hand.weight.copy_(shifts.binomial_filter(size).expand(5, 1, size, size))
    left, right = (size - 1) // 2, size // 2
    expected = hand(nn.ReflectionPad2d((left, right, left, right))(x))
    assert torch.allclose(shifts.BlurPool(5, size)(x), expected, atol=1e-6)


def test_blurpool_by_hand_on_a_single_row_of_pixels():
    # size 3: [1, 2, 1]/4 per axis; a constant column makes the vertical blur a no-op
    x = torch.tensor([0.0, 4.0, 8.0, 0.0, 4.0]).expand(1, 1, 3, 5).contiguous()
    # reflect padding: [4 | 0 4 8 0 4 | 0]; outputs at 0, 2, 4
    expected = torch.tensor([(4 + 0 + 4) / 4, (4 + 16 + 0) / 4, (0 + 8 + 0) / 4])
    assert torch.allclose(shifts.BlurPool(1, 3)(x)[0, 0, 0], expected)


def test_blurpool_size_1_is_plain_subsampling():
    x = torch.randn(1, 2, 6, 6)
    assert torch.equal(shifts.BlurPool(2, 1)(x), x[..., ::2, ::2])


def test_blur_before_subsampling_lowers_the_equivariance_error():
    torch.manual_seed(0)
    x = torch.randn(4, 1, 32, 32, dtype=torch.float64)
    plain = lambda t: t[..., ::2, ::2]  # noqa: E731
    blur = shifts.BlurPool(1, 4).double()
    blurred = shifts.equivariance_error(blur, x, (0, 1), 2)
    assert blurred < 0.6 * shifts.equivariance_error(plain, x, (0, 1), 2)


def test_antialias_keeps_the_weights_and_replaces_each_stride():
    net = simple_cnn()
    blurred = shifts.antialias(net)
    assert sum(isinstance(m, shifts.BlurPool) for m in blurred.modules()) == 5
    assert all(m.stride == (1, 1) for m in blurred.modules() if isinstance(m, nn.Conv2d))
    assert torch.equal(blurred[0][0].weight, net[0][0].weight)
    assert net[0][0].stride == (2, 2)  # the original is untouched
    assert blurred.eval()(torch.randn(3, 1, 28, 28)).shape == (3, 10)


def test_a_pooled_circular_fcn_is_perfectly_shift_consistent():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular"), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    x = torch.randn(20, 1, 12, 12)
    assert shifts.shift_consistency(net, x, max_shift=2).all()
    probs = shifts.true_class_probability(net, x, torch.zeros(20, dtype=torch.long), max_shift=3)
    assert probs.shape == (7, 20) and torch.allclose(probs, probs[3].expand(7, 20), atol=1e-6)


def test_shift_consistency_sees_a_position_dependent_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 5))
    x = torch.randn(50, 1, 8, 8)
    assert shifts.shift_consistency(net, x, max_shift=1).float().mean() < 0.5
    assert len(shifts.offsets(2)) == 24


def test_true_class_probability_reads_the_true_class_of_each_image():
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    x = torch.randn(4, 1, 4, 4)
    labels = torch.tensor([0, 1, 2, 1])
    probs = shifts.true_class_probability(net, x, labels, max_shift=1)
    expected = F.softmax(net(x), 1)[torch.arange(4), labels]
    assert torch.allclose(probs[1], expected.detach())


@pytest.mark.parametrize("call, message", [
    (lambda: shifts.shift(torch.zeros(1, 1, 4, 4), 1.5), "whole number"),
    (lambda: shifts.equivariance_error(nn.Identity(), torch.zeros(4, 4), 1), "batch of images"),
    (lambda: shifts.equivariance_error(nn.Identity(), torch.zeros(1, 1, 4, 4), 1), "all zeros"),
    (lambda: shifts.equivariance_error(nn.Identity(), torch.ones(1, 1, 4, 4), 1, stride=0), "stride"),
    (lambda: shifts.BlurPool(3, size=9), "size"),
    (lambda: shifts.BlurPool(3)(torch.zeros(1, 2, 8, 8)), "BlurPool\\(3\\) reads"),
    (lambda: shifts.antialias(nn.Linear(2, 2)), "nn.Sequential"),
    (lambda: shifts.antialias(nn.Sequential(nn.ReLU())), "no block"),
    (lambda: shifts.shift_consistency(nn.Identity(), torch.zeros(1, 1, 8, 8), 4), "half its size"),
    (lambda: shifts.shift_consistency("net", torch.zeros(1, 1, 8, 8)), "nn.Module"),
    (lambda: shifts.true_class_probability(nn.Flatten(), torch.zeros(2, 1, 8, 8), [0, 1], 1), "labels"),
    (lambda: shifts.offsets(0), "max_shift"),
])
def test_bad_input_raises_a_value_error_that_says_what_to_do(call, message):
    with pytest.raises(ValueError, match=message):
        call()
