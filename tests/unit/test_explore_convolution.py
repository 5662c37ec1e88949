"""The convolution explorer's Python side: arguments, embedded data, self-contained HTML.

Its JavaScript arithmetic is checked against PyTorch in headless Chromium
(tests/site/test_explore_convolution.py); here: the rules that reject a configuration agree
with PyTorch, bad arguments raise ValueError, and the HTML carries everything it needs.
"""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib import explore, kernels, shapes
from cnnlib.explore.convolution import PADDING_MODES, ConvolutionExplorer, rejection


def embedded(html: str) -> dict:
    blob = re.search(r'<script type="application/json" class="cnnx-data">(.*?)</script>', html, re.S)
    assert blob is not None
    return json.loads(blob.group(1))


def torch_run(x: torch.Tensor, operation: str, k: int, s: int, p: int, d: int, mode: str) -> torch.Tensor:
    if operation == "max_pool":
        return F.max_pool2d(x, k, s, p, d)
    if operation == "avg_pool":
        return F.avg_pool2d(x, k, s, p)
    w = torch.ones(1, 1, k, k)
    if mode == "zeros":
        return F.conv2d(x, w, stride=s, padding=p, dilation=d)
    return F.conv2d(F.pad(x, (p, p, p, p), mode=mode), w, stride=s, dilation=d)


@pytest.fixture(scope="module")
def widget() -> ConvolutionExplorer:
    return explore.convolution_explorer()


def test_rejection_says_why_exactly_when_torch_raises_and_otherwise_the_size_is_conv_out():
    checked = rejected = 0
    configs = itertools.product([3, 7], [1, 2, 3, 5], [1, 2], [0, 1, 2, 3, 6, 7, 8], [1, 2, 3],
                                ["conv", "max_pool", "avg_pool"], PADDING_MODES)
    for n, k, s, p, d, op, mode in configs:
        if (op == "avg_pool" and d > 1) or (op != "conv" and mode != "zeros"):
            continue  # avg_pool2d has no dilation; pooling has no padding modes
        reason = rejection(n, k, s, p, d, mode, op)
        try:
            y = torch_run(torch.rand(1, 1, n, n), op, k, s, p, d, mode)
        except (RuntimeError, ValueError, NotImplementedError):
            assert reason is not None, (n, k, s, p, d, op, mode)
            rejected += 1
        else:
            assert reason is None, (n, k, s, p, d, op, mode, reason)
            assert y.shape[-1] == shapes.conv_out(n, k, s, p, d)
        checked += 1
    assert checked > 1000 and rejected > 100


@pytest.mark.parametrize(("args", "words"), [
    ((7, 3, 1, 2, 1, "zeros", "max_pool"), "padding 2 is more than half the pooling window 3"),
    ((7, 3, 1, 7, 1, "reflect", "conv"), "reflect padding 7 is not less than the input size 7"),
    ((7, 3, 1, 8, 1, "circular", "conv"), "circular padding 8 is more than the input size 7"),
    ((3, 3, 1, 0, 2, "zeros", "conv"), "the kernel (dilated 5) is larger than the padded input 3"),
    ((3, 5, 1, 0, 1, "replicate", "conv"), "the kernel (5×5) is larger than the padded input 3"),
])
def test_rejection_names_the_numbers_at_fault(args, words):
    assert words in rejection(*args)


def test_default_inputs_are_a_7x7_grid_an_mnist_digit_and_two_32x32_photos(widget):
    sizes = {label: a.shape for label, a in widget.images.items()}
    assert list(sizes.values()) == [(7, 7), (28, 28), (32, 32), (32, 32)]
    assert all(a.dtype == np.float32 for a in widget.images.values())
    photos = list(widget.images.values())[1:]
    assert all(0 <= a.min() and a.max() <= 1 and a.std() > 0.1 for a in photos)


def test_embedded_images_and_kernels_are_the_arrays_the_widget_reports(widget):
    data = embedded(widget.html)
    assert [im["label"] for im in data["images"]] == list(widget.images)
    for im, a in zip(data["images"], widget.images.values(), strict=True):
        assert im["size"] == a.shape[0] and len(im["values"]) == a.size
        decoded = (np.array(im["values"], dtype=np.float64) / im["scale"]).reshape(a.shape)
        assert np.abs(decoded - a).max() < 1e-7
    by_name = {k["name"]: np.array(k["weights"]).reshape(k["size"], k["size"]) for k in data["kernels"]}
    for name in kernels.KERNELS:
        assert np.array_equal(by_name[name], kernels.get(name).numpy())
    assert np.array_equal(by_name["custom"], [[1, 0, -1]] * 3)


def test_html_is_self_contained_no_urls_no_external_scripts_or_styles(widget):
    html = widget.html
    assert not re.search(r"https?://|//cdn|<link\b|<script[^>]*\bsrc=|@import|url\(", html)
    assert html.count("<script>") == 1 and "<style>" in html
    assert widget._repr_html_() == html
    assert 20_000 < len(html.encode()) < 80_000  # JS + CSS + four small images


def test_two_instances_on_one_page_have_distinct_ids():
    a, b = explore.convolution_explorer(), explore.convolution_explorer()
    ids = re.findall(r'\bid="([^"]+)"', a.html + b.html)
    assert len(ids) == 2 and len(set(ids)) == 2
    assert all(f'getElementById("{i}")' in (a.html + b.html) for i in ids)


def test_repr_is_short_and_has_no_memory_address(widget):
    text = repr(widget)
    assert "ConvolutionExplorer" in text and "0x" not in text and len(text) < 200


def test_custom_images_uint8_is_scaled_and_tensors_are_accepted():
    u8 = np.arange(25, dtype=np.uint8).reshape(5, 5) * 10
    w = explore.convolution_explorer({"ramp": u8, "t": torch.ones(4, 4)}, kernel="custom",
                                     custom_kernel=[[0, 1], [1, 0]], padding=0)
    assert np.allclose(w.images["ramp"], u8 / 255) and w.images["t"].shape == (4, 4)
    assert embedded(w.html)["images"][0]["scale"] == 255
    assert np.array_equal(w.kernels["custom"], [[0, 1], [1, 0]])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"images": {}}, "images is empty"),
    ({"images": {"rgb": np.zeros((8, 8, 3))}}, "square 2-D grayscale"),
    ({"images": {"big": np.zeros((65, 65))}}, "64×64"),
    ({"images": {"wide": np.zeros((8, 9))}}, "got shape (8, 9)"),
    ({"images": {"nan": np.full((5, 5), np.nan)}}, "finite real numbers"),
    ({"images": {"": np.zeros((5, 5))}}, "non-empty strings"),
    ({"image": "lena"}, "image must be one of the labels"),
    ({"operation": "min_pool"}, "operation must be one of conv, max_pool, avg_pool"),
    ({"kernel": "prewitt"}, "kernel must be one of identity"),
    ({"padding_mode": "mirror"}, "padding_mode must be one of zeros, reflect"),
    ({"stride": 0}, "stride must be a whole number from 1 to 8, got 0"),
    ({"padding": -1}, "padding must be a whole number from 0 to 8"),
    ({"dilation": 2.0}, "dilation must be a whole number from 1 to 8, got 2.0"),
    ({"pool_size": True}, "pool_size must be a whole number"),
    ({"custom_kernel": [[1, 2, 3]]}, "custom_kernel must be a square 2-D grid"),
    ({"custom_kernel": "abc"}, "custom_kernel must be a square grid of numbers"),
    ({"custom_kernel": [[np.inf]]}, "finite numbers"),
    ({"operation": "max_pool", "pool_size": 3, "padding": 2}, "padding 2 is more than half"),
    ({"padding_mode": "reflect", "padding": 7}, "reflect padding 7 is not less than the input size 7"),
    ({"dilation": 5, "padding": 0}, "the kernel (dilated 11) is larger than the padded input 7"),
])
def test_bad_arguments_raise_value_error_saying_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError) as info:
        explore.convolution_explorer(**kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize(("args", "message"), [
    ((7, 3, 1, 0, 1, "zeros", "maxpool"), "operation must be one of"),
    ((7, 3, 1, 0, 1, "mirror", "conv"), "padding_mode must be one of"),
    ((0, 3), "size must be an int >= 1"),
    ((7, 3, 1, -1), "padding must be an int >= 0"),
])
def test_rejection_refuses_arguments_that_are_not_a_configuration(args, message):
    with pytest.raises(ValueError, match=message):
        rejection(*args)
