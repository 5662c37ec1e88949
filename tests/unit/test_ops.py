"""cnnlib.ops against torch.nn.functional: values, shapes and gradients, and the errors."""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F

from cnnlib import ops


def _maybe_int(pair: tuple[int, int], rng: random.Random) -> int | tuple[int, int]:
    """Pass a square setting as an int half of the time, to test both spellings."""
    return pair[0] if pair[0] == pair[1] and rng.random() < 0.5 else pair


def random_conv_case(seed: int) -> tuple[dict, dict]:
    """A random valid F.conv2d configuration: (tensor shapes, keyword arguments)."""
    rng = random.Random(seed)
    groups = rng.choice([1, 1, 1, 2, 3])
    c_in, c_out = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
    kernel = (rng.randint(1, 5), rng.randint(1, 5))
    stride = (rng.randint(1, 3), rng.randint(1, 3))
    dilation = (rng.choice([1, 1, 2, 3]), rng.choice([1, 1, 2, 3]))
    padding = (rng.randint(0, 3), rng.randint(0, 3))
    # Smallest input the dilated kernel fits in, up to 8 pixels more.
    size = [max(1, d * (k - 1) + 1 - 2 * p) + rng.randint(0, 8)
            for k, d, p in zip(kernel, dilation, padding, strict=True)]
    shapes = {"x": (rng.randint(1, 3), c_in, *size), "weight": (c_out, c_in // groups, *kernel),
              "bias": (c_out,) if rng.random() < 0.7 else None}
    kwargs = {"stride": _maybe_int(stride, rng), "padding": _maybe_int(padding, rng),
              "dilation": _maybe_int(dilation, rng), "groups": groups}
    return shapes, kwargs


def random_pool_case(seed: int) -> tuple[tuple[int, ...], dict]:
    rng = random.Random(seed)
    kernel = (rng.randint(1, 4), rng.randint(1, 4))
    padding = (rng.randint(0, kernel[0] // 2), rng.randint(0, kernel[1] // 2))
    stride = None if rng.random() < 0.3 else _maybe_int((rng.randint(1, 3), rng.randint(1, 3)), rng)
    size = [k - 2 * p + rng.randint(0, 9) for k, p in zip(kernel, padding, strict=True)]
    shape = (rng.randint(1, 3), rng.randint(1, 3), *[max(1, s) for s in size])
    return shape, {"kernel_size": _maybe_int(kernel, rng), "stride": stride,
                   "padding": _maybe_int(padding, rng)}


def assert_same_values_and_grads(ours, theirs, inputs: list[torch.Tensor], **tolerance) -> None:
    """Forward both, compare outputs, then backpropagate one random upstream gradient through both."""
    out, expected = ours(), theirs()
    assert out.shape == expected.shape
    torch.testing.assert_close(out, expected, **tolerance)
    upstream = torch.randn_like(expected)
    grads = torch.autograd.grad(out, inputs, upstream)
    expected_grads = torch.autograd.grad(expected, inputs, upstream)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected_grad, **tolerance)


def _tensors(shapes: dict, dtype=torch.float64) -> dict:
    return {name: None if shape is None else torch.randn(shape, dtype=dtype, requires_grad=True)
            for name, shape in shapes.items()}


# --------------------------------------------------------------------------- conv2d


@pytest.mark.parametrize("seed", range(60))
def test_conv2d_matches_torch_on_random_configurations(seed):
    shapes, kwargs = random_conv_case(seed)
    torch.manual_seed(seed)
    t = _tensors(shapes)
    inputs = [v for v in t.values() if v is not None]
    assert_same_values_and_grads(lambda: ops.conv2d(t["x"], t["weight"], t["bias"], **kwargs),
                                 lambda: F.conv2d(t["x"], t["weight"], t["bias"], **kwargs), inputs)


def test_conv2d_matches_torch_in_float32_on_a_realistic_layer():
    torch.manual_seed(0)
    t = _tensors({"x": (4, 16, 32, 32), "weight": (32, 16, 3, 3), "bias": (32,)}, dtype=torch.float32)
    assert_same_values_and_grads(lambda: ops.conv2d(t["x"], t["weight"], t["bias"], stride=2, padding=1),
                                 lambda: F.conv2d(t["x"], t["weight"], t["bias"], stride=2, padding=1),
                                 list(t.values()), rtol=1e-4, atol=1e-3)  # float32 sums of ~1000 terms


def test_conv2d_depthwise_matches_torch():
    torch.manual_seed(0)
    t = _tensors({"x": (2, 3, 9, 10), "weight": (6, 1, 3, 3), "bias": (6,)})
    assert_same_values_and_grads(lambda: ops.conv2d(t["x"], t["weight"], t["bias"], padding=1, groups=3),
                                 lambda: F.conv2d(t["x"], t["weight"], t["bias"], padding=1, groups=3),
                                 list(t.values()))


def test_conv2d_accepts_an_unbatched_image_like_torch():
    torch.manual_seed(0)
    t = _tensors({"x": (3, 7, 8), "weight": (2, 3, 3, 3), "bias": (2,)})
    out = ops.conv2d(t["x"], t["weight"], t["bias"], padding=1)
    assert out.shape == (2, 7, 8)
    assert_same_values_and_grads(lambda: ops.conv2d(t["x"], t["weight"], t["bias"], padding=1),
                                 lambda: F.conv2d(t["x"], t["weight"], t["bias"], padding=1),
                                 list(t.values()))


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch: even kernels need a padded copy
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("kernel,dilation", [((3, 3), 1), ((4, 2), 1), ((2, 5), (2, 3)), ((1, 1), 1)])
def test_conv2d_string_padding_matches_torch(padding, kernel, dilation):
    torch.manual_seed(0)
    t = _tensors({"x": (2, 2, 11, 14), "weight": (3, 2, *kernel), "bias": (3,)})
    assert_same_values_and_grads(
        lambda: ops.conv2d(t["x"], t["weight"], t["bias"], padding=padding, dilation=dilation),
        lambda: F.conv2d(t["x"], t["weight"], t["bias"], padding=padding, dilation=dilation),
        list(t.values()))


def test_conv2d_same_padding_keeps_a_one_pixel_image():
    out = ops.conv2d(torch.randn(1, 1, 1, 1), torch.randn(1, 1, 2, 2), padding="same")
    assert out.shape == (1, 1, 1, 1)


def test_conv2d_calls_no_convolution_or_unfold_function(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("ops.conv2d must not call a library convolution or F.unfold")

    for name in ("conv2d", "conv1d", "conv3d", "unfold", "conv_transpose2d"):
        monkeypatch.setattr(F, name, forbidden)
    for name in ("conv2d", "convolution", "_convolution"):
        monkeypatch.setattr(torch, name, forbidden)
    out = ops.conv2d(torch.randn(1, 2, 6, 6), torch.randn(3, 2, 3, 3), torch.randn(3), padding=1)
    assert out.shape == (1, 3, 6, 6)


# --------------------------------------------------------------------------- pooling


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pooling_matches_torch_on_random_configurations(name, seed):
    shape, kwargs = random_pool_case(seed)
    torch.manual_seed(seed)
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    assert_same_values_and_grads(lambda: getattr(ops, name)(x, **kwargs),
                                 lambda: getattr(F, name)(x, **kwargs), [x])


def test_max_pool2d_sends_the_gradient_of_a_tie_to_the_same_pixel_as_torch():
    torch.manual_seed(0)
    x = torch.randint(0, 3, (2, 3, 9, 8)).double().requires_grad_()  # many equal maxima
    for kwargs in ({"kernel_size": 3, "stride": 2, "padding": 1}, {"kernel_size": (2, 3)}):
        assert_same_values_and_grads(lambda kw=kwargs: ops.max_pool2d(x, **kw),
                                     lambda kw=kwargs: F.max_pool2d(x, **kw), [x])


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pooling_accepts_an_unbatched_image_like_torch(name):
    x = torch.randn(3, 8, 7)
    torch.testing.assert_close(getattr(ops, name)(x, 2, padding=1), getattr(F, name)(x, 2, padding=1))


def test_max_pool2d_padding_never_wins_on_negative_inputs():
    x = -1 - torch.rand(1, 1, 4, 4)  # all below zero: a zero padding would win
    assert (ops.max_pool2d(x, 3, stride=1, padding=1) < 0).all()


# --------------------------------------------------------------------------- bad input

X, W = torch.randn(1, 3, 8, 8), torch.randn(4, 3, 3, 3)
BAD_INPUTS = {
    "conv x of rank 2": (ops.conv2d, (torch.randn(8, 8), W), {},
                         r"x of shape \(N, C, H, W\).*x\[None, None\]"),
    "conv x of rank 5": (ops.conv2d, (torch.randn(1, 1, 3, 8, 8), W), {}, r"got \(1, 1, 3, 8, 8\)"),
    "conv weight of rank 2": (ops.conv2d, (X, torch.randn(3, 3)), {},
                              r"weight must have shape.*k\[None, None\]"),
    "channel mismatch": (ops.conv2d, (X, torch.randn(4, 2, 3, 3)), {},
                         r"x has 3 channels.*expects 2.*shape \(4, 3, 3, 3\)"),
    "grouped channel mismatch": (ops.conv2d, (torch.randn(1, 6, 8, 8), torch.randn(6, 3, 3, 3)),
                                 {"groups": 3}, r"x has 6 channels.*expects 9.*\(6, 2, 3, 3\)"),
    "kernel larger than padded input": (ops.conv2d, (torch.randn(1, 3, 4, 4), torch.randn(4, 3, 7, 7)),
                                        {"padding": 1}, r"spans 7 pixels.*padded input is only 6"),
    "dilated kernel larger than input": (ops.conv2d, (X, W), {"dilation": 4},
                                         r"spans 9 pixels.*only 8.*smaller kernel or dilation"),
    "groups not dividing in channels": (ops.conv2d, (X, torch.randn(4, 1, 3, 3)), {"groups": 2},
                                        r"groups=2 must divide.*input channels \(3\)"),
    "groups not dividing out channels": (ops.conv2d, (torch.randn(1, 4, 8, 8), torch.randn(3, 2, 3, 3)),
                                         {"groups": 2}, r"groups=2 must divide.*output channels \(3"),
    "groups zero": (ops.conv2d, (X, W), {"groups": 0}, r"groups must be an int >= 1, got 0"),
    "stride zero": (ops.conv2d, (X, W), {"stride": 0}, r"stride must be an int >= 1.*got 0"),
    "stride negative in a pair": (ops.conv2d, (X, W), {"stride": (1, -2)}, r"stride must be.*\(1, -2\)"),
    "dilation zero": (ops.conv2d, (X, W), {"dilation": 0}, r"dilation must be an int >= 1.*got 0"),
    "padding negative": (ops.conv2d, (X, W), {"padding": -1}, r"padding must be an int >= 0.*got -1"),
    "padding unknown string": (ops.conv2d, (X, W), {"padding": "full"}, r"'valid', 'same'.*got 'full'"),
    "same padding with stride": (ops.conv2d, (X, W), {"padding": "same", "stride": 2},
                                 r"padding='same' needs stride=1"),
    "bias of wrong shape": (ops.conv2d, (X, W, torch.randn(3)), {},
                            r"bias must have shape \(4,\).*got \(3,\)"),
    "bias of wrong rank": (ops.conv2d, (X, W, torch.randn(1, 4)), {}, r"bias must have shape \(4,\)"),
    "max pool x of rank 2": (ops.max_pool2d, (torch.randn(8, 8), 2), {}, r"max_pool2d expects x of shape"),
    "avg pool x of rank 5": (ops.avg_pool2d, (torch.randn(1, 1, 1, 8, 8), 2), {}, r"avg_pool2d expects x"),
    "max pool padding over half": (ops.max_pool2d, (X, 3), {"padding": 2}, r"padding <= kernel_size // 2"),
    "avg pool padding over half": (ops.avg_pool2d, (X, (4, 2)), {"padding": (1, 2)},
                                   r"padding=\(1, 2\) is more than half.*\(2, 1\)"),
    "pool window larger than input": (ops.max_pool2d, (torch.randn(1, 1, 3, 3), 4), {},
                                      r"spans 4 pixels.*padded input is only 3"),
    "pool stride zero": (ops.avg_pool2d, (X, 2), {"stride": 0}, r"stride must be an int >= 1"),
    "pool kernel zero": (ops.max_pool2d, (X, 0), {}, r"kernel_size must be an int >= 1"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_raises_value_error_that_says_what_to_change(case):
    fn, args, kwargs, message = BAD_INPUTS[case]
    with pytest.raises(ValueError, match=message):
        fn(*args, **kwargs)


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_torch_rejects_the_same_bad_input(case):
    """Our checks reject nothing torch accepts (torch raises its own RuntimeError or ValueError)."""
    fn, args, kwargs, _ = BAD_INPUTS[case]
    with pytest.raises((RuntimeError, ValueError, TypeError)):
        getattr(F, fn.__name__)(*args, **kwargs)
