"""cnnlib.explore.digits, the Python half of the draw-a-digit widget: the preprocessing, the
export of a network (batch norm folded) and the self-contained HTML. The page itself is checked
against these in tests/site/test_explore_digits_site.py."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
import torch
from torch import nn

from cnnlib import data, images
from cnnlib.explore import draw_digit
from cnnlib.explore.digits import MNIST_MEAN, MNIST_STD, export_layers, mnist_style, normalize, run_layers
from cnnlib.models import simple_cnn


def with_statistics(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every batch norm non-trivial running statistics and affine parameters; eval mode."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 2 + 0.2)
                if m.affine:
                    m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                    m.bias.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
    return model.eval()


def last_block_without_bn() -> nn.Sequential:
    """simple_cnn whose last block keeps its conv bias and has no batch norm."""
    model = simple_cnn()
    model[4] = nn.Sequential(nn.Conv2d(128, 10, 3, stride=2, padding=1))
    return model


def pooled_net() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.BatchNorm2d(6),  # not after a conv: a per-channel scale and shift
        nn.Sequential(nn.Conv2d(6, 8, 3, dilation=2, bias=False), nn.BatchNorm2d(8, affine=False), nn.ReLU()),
        nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        nn.Conv2d(8, 12, 3, padding="same"), nn.ReLU(), nn.AvgPool2d(2, padding=1),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(12 * 3 * 3, 32), nn.ReLU(), nn.Identity(), nn.Linear(32, 10),
    )


@pytest.mark.parametrize(
    "make", [simple_cnn, last_block_without_bn, lambda: simple_cnn(bn=False), pooled_net],
    ids=["simple_cnn", "last block without bn", "no bn", "pooling and linear"],
)
def test_exported_network_with_folded_batch_norm_equals_the_model_in_eval_mode(make):
    torch.manual_seed(0)
    model = with_statistics(make())
    layers = export_layers(model)
    x = torch.randn(8, 1, 28, 28)
    with torch.no_grad():
        diff = (run_layers(layers, x) - model(x)).abs().max().item()
    assert diff <= 1e-5
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert sum(layer["kind"] == "conv" for layer in layers) == len(convs)
    assert not any(layer["kind"] == "affine" for layer in layers if make is simple_cnn)  # all folded


def test_simple_cnn_folds_every_batch_norm_and_shows_each_blocks_relu():
    layers = export_layers(with_statistics(simple_cnn()))
    convs = [layer for layer in layers if layer["kind"] == "conv"]
    assert [c["folded"] for c in convs] == [[f"model[{i}][1]"] for i in range(5)]
    shown = [(layer["name"], layer["shape"]) for layer in layers if layer["show"]]
    assert shown == [("model[0][2]", (16, 14, 14)), ("model[1][2]", (32, 7, 7)),
                     ("model[2][2]", (64, 4, 4)), ("model[3][2]", (128, 2, 2))]
    assert layers[-1]["shape"] == (10,)
    assert all(c["weight"].dtype == np.float32 and c["bias"].dtype == np.float32 for c in convs)


def test_export_leaves_the_model_unchanged():
    model = with_statistics(simple_cnn()).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export_layers(model)
    draw_digit(model, samples=False)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.Tanh(), nn.Flatten()),
         r"model\[1\] \(Tanh\(\)\).*not a supported layer.*nn\.ReLU"),
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.Sequential(nn.LeakyReLU()), nn.Flatten()),
         r"model\[1\]\[0\].*LeakyReLU"),
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 4, 3, groups=2), nn.Flatten()),
         r"model\[1\].*groups=2"),
        (nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, padding_mode="reflect"), nn.Flatten()),
         r"padding_mode='reflect'"),
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4, track_running_stats=False), nn.Flatten()),
         r"running statistics"),
        (nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten()), r"model\[0\].*1 channels, not 3"),
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(5), nn.Flatten()),
         r"model\[1\].*4 channels, not 5"),
        (nn.Sequential(nn.Linear(784, 10)), r"model\[0\].*put nn\.Flatten\(\) before it"),
        (nn.Sequential(nn.Flatten(), nn.Linear(700, 10)), r"784 features, not 700"),
        (nn.Sequential(nn.Flatten(), nn.Conv2d(1, 4, 3)), r"after nn\.Flatten"),
        (nn.Sequential(nn.Conv2d(1, 4, 3)), r"ends with shape \(4, 26, 26\).*add nn\.Flatten\(\)"),
        (nn.Sequential(nn.MaxPool2d(3, ceil_mode=True), nn.Flatten()), r"ceil_mode"),
        (nn.Sequential(nn.Conv2d(1, 4, 30), nn.Flatten()), r"kernel spans 30 pixels"),
        (nn.Conv2d(1, 10, 28), r"needs the network as an nn\.Sequential, got Conv2d"),
    ],
)
def test_unsupported_networks_raise_value_error_naming_the_layer_and_what_is_supported(model, match):
    with pytest.raises(ValueError, match=match):
        export_layers(model)


def test_draw_digit_rejects_bad_arguments():
    model = simple_cnn()
    with pytest.raises(ValueError, match="2 outputs, not 10 digits: pass classes"):
        draw_digit(simple_cnn(n_out=2), samples=False)
    with pytest.raises(ValueError, match="classes must be 10 strings"):
        draw_digit(model, classes=["a", "b"], samples=False)
    with pytest.raises(ValueError, match="std must be positive"):
        draw_digit(model, std=0.0, samples=False)
    with pytest.raises(ValueError, match="samples must be True or False"):
        draw_digit(model, samples=1)
    assert "three" in draw_digit(simple_cnn(n_out=2), classes=["three", "seven"], samples=False).html


def widget_config(html: str) -> dict:
    found = re.search(r'<script type="application/json" class="cd-config">(.*?)</script>', html, re.S)
    assert found, "no configuration in the widget"
    return json.loads(found.group(1))


def test_widget_html_is_self_contained_small_and_carries_the_exported_weights():
    model = with_statistics(simple_cnn())
    widget = draw_digit(model)
    html = widget._repr_html_()
    assert not re.search(r"https?://", html), "the widget must not reach for the network"
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=", html)
    assert "touch-action: none" in html and "<script>" in html
    # where scripts are off (an untrusted notebook in Jupyter) the widget says so in words
    assert re.search(r'class="cd-status cd-nojs">The widget.s script has not run', html)
    size = len(html.encode())
    assert size < 700_000, f"{size} bytes of HTML for simple_cnn"
    cfg = widget_config(html)
    weights = np.frombuffer(base64.b64decode(cfg["weights"]), dtype="<f4")
    layers = export_layers(model)
    keys = ("weight", "bias", "scale", "shift")
    exported = np.concatenate([layer[k].ravel() for layer in layers for k in keys if k in layer])
    assert np.array_equal(weights, exported)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    # each conv's weights and a bias per output channel (batch norm's shift folded into it)
    assert widget.weights == exported.size == sum(c.weight.numel() + c.out_channels for c in convs)
    # the samples are the first MNIST test digit of each class, as uint8
    test = data.mnist("test")
    assert [s["label"] for s in cfg["samples"]] == [str(c) for c in range(10)]
    for c, s in enumerate(cfg["samples"]):
        first = test.images[int(torch.nonzero(test.labels == c)[0]), 0].numpy()
        assert np.array_equal(np.frombuffer(base64.b64decode(s["pixels"]), np.uint8).reshape(28, 28), first)


def test_each_widget_has_its_own_ids():
    a, b = (draw_digit(simple_cnn(), samples=False).html for _ in range(2))
    ids_a, ids_b = set(re.findall(r'id="([^"]+)"', a)), set(re.findall(r'id="([^"]+)"', b))
    assert ids_a and not ids_a & ids_b


# --------------------------------------------------------------------------- preprocessing


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(image.max(1) > 0), np.flatnonzero(image.max(0) > 0)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


@pytest.mark.parametrize(
    ("top", "left", "height", "width"),
    [(10, 100, 150, 20), (0, 0, 40, 200), (200, 230, 70, 45), (100, 100, 7, 5), (3, 7, 1, 1)],
)
def test_mnist_style_fits_the_ink_into_20x20_keeping_its_shape_and_centres_it_by_mass(
        top, left, height, width):
    canvas = np.zeros((280, 280), dtype=np.uint8)
    canvas[top : top + height, left : left + width] = 255
    canvas[top : top + max(1, height // 3), left : left + width] = 128  # lighter at the top: mass sits low
    out = mnist_style(canvas)
    assert out.shape == (28, 28) and out.min() >= 0 and out.max() <= 1
    h, w = ink_box(out)
    longer = max(height, width)
    assert max(h, w) == 20
    assert (h, w) == (max(1, round(20 * height / longer + 1e-9)), max(1, round(20 * width / longer + 1e-9)))
    cy, cx = centre_of_mass(out)
    # shifted by whole pixels: half a pixel off at most (ties go down and right)
    assert abs(cy - 14) <= 0.5 + 1e-9 and abs(cx - 14) <= 0.5 + 1e-9
    # area averaging keeps the ink: the total scales with the area
    assert out.sum() == pytest.approx(canvas.sum() / 255 * h * w / (height * width), rel=1e-12)


def test_mnist_style_ignores_where_and_how_large_the_digit_is_drawn():
    rng = np.random.default_rng(0)
    blob = (rng.random((40, 30)) > 0.5).astype(float) * rng.random((40, 30))
    blob[0, 0] = blob[-1, -1] = 1.0  # the bounding box is the whole blob
    a, b = np.zeros((200, 200)), np.zeros((300, 250))
    a[5:45, 150:180] = blob
    b[200:280, 10:70] = np.kron(blob, np.ones((2, 2)))  # twice as large, elsewhere
    assert np.abs(mnist_style(a) - mnist_style(b)).max() <= 1e-12


def test_mnist_style_reproduces_real_mnist_digits_exactly():
    # MNIST's digits were made this way: the preprocessing leaves each one as it is
    digits = data.mnist("test").images[:300, 0].numpy()
    for d in digits:
        assert np.array_equal(mnist_style(d), d / 255)
    as_tensor = mnist_style(torch.from_numpy(digits[0]).float() / 255)  # float32 ink works too
    assert np.abs(as_tensor - digits[0] / 255).max() <= 1e-7


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((28, 28)), "no ink"),
        (np.ones((1, 28, 28)), r"one grayscale image \(H, W\), got shape \(1, 28, 28\)"),
        (np.full((28, 28), 2.0), r"float ink in \[0, 1\]"),
        (np.full((28, 28), np.nan), r"float ink in \[0, 1\]"),
        (np.ones((28, 28), dtype=np.int32), "dtype int32"),
        ([[0, 1], [1, 0]], "got list"),
    ],
)
def test_mnist_style_rejects_bad_images(image, match):
    with pytest.raises(ValueError, match=match):
        mnist_style(image)


def test_mnist_mean_and_std_are_the_training_sets_as_the_chapter_normalises():
    pixels = data.mnist("train").images
    counts = np.bincount(pixels.numpy().ravel(), minlength=256).astype(np.float64)  # exact, and light
    values = np.arange(256) / 255
    mean = (counts * values).sum() / counts.sum()
    std = np.sqrt((counts * (values - mean) ** 2).sum() / counts.sum())
    assert MNIST_MEAN == pytest.approx(mean, abs=1e-7) and MNIST_STD == pytest.approx(std, abs=1e-7)
    x = torch.rand(28, 28)
    chapter = images.normalize(x[None], [MNIST_MEAN], [MNIST_STD])
    assert (normalize(x.double().numpy()) - chapter).abs().max() <= 1e-6
    with pytest.raises(ValueError, match="28x28 image"):
        normalize(np.zeros((20, 20)))
