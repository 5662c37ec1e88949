"""The draw-a-digit widget in headless Chromium, offline, checked against Python and PyTorch.

Strokes are drawn with Playwright's mouse as a reader would. The page's preprocessing must
equal :func:`cnnlib.explore.digits.mnist_style` on the page's own drawing, and its logits and
feature maps must equal PyTorch's on the page's input: the Python side is the truth.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import torch
from offline import DESKTOP, PHONE, open_offline, serve, text_without_scripts
from torch import nn
from torch.nn import functional as F

from cnnlib import data
from cnnlib.explore import digits
from cnnlib.explore.digits import MNIST_MEAN, MNIST_STD, draw_digit, mnist_style, normalize
from cnnlib.models import simple_cnn

# float64 preprocessing in the same order of operations in both languages: equal to the bit,
# allowed 1e-12 in case a browser's Math differs in the last place
IMAGE_TOL = 1e-12
# the input is that image normalised in float64 and rounded once to float32: 1 float32 step at
# most (|input| < 3.3, so a step is below 5e-7)
INPUT_TOL = 5e-7
# the page computes in float64 with the folded float32 weights, PyTorch in float32 on the model
LOGIT_TOL = 1e-4


def page_html(widget) -> str:
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>draw a digit</title></head><body style='margin: 12px; font-family: sans-serif'>"
            f"<h1>Draw a digit</h1>{widget._repr_html_()}</body></html>")


@pytest.fixture(scope="module")
def trained() -> nn.Sequential:
    """simple_cnn trained for two short epochs on 4,000 MNIST digits (about 95% accurate)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a loaded 2-core machine one thread is many times faster
    try:
        torch.manual_seed(0)
        train = data.subset(data.mnist("train"), n=4000)
        x, y = normalize_batch(train.images), train.labels
        model = simple_cnn()
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
        for _ in range(2):
            for batch in torch.randperm(len(y)).split(100):
                loss = F.cross_entropy(model(x[batch]), y[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()


def normalize_batch(images: torch.Tensor) -> torch.Tensor:
    return (images.double() / 255 - MNIST_MEAN).div(MNIST_STD).float()


@pytest.fixture(scope="module")
def site(tmp_path_factory, trained) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("digits")
    (folder / "index.html").write_text(page_html(draw_digit(trained)), encoding="utf-8")
    (folder / "lenet.html").write_text(page_html(draw_digit(pooled_net(), samples=False)), encoding="utf-8")
    with serve(folder) as url:
        yield url


def pooled_net() -> nn.Sequential:
    """The other layers the page runs: a dilated and a padded conv, max and average pooling,
    batch norm not after a conv, bias-free conv, Linear; seeded weights and statistics."""
    torch.manual_seed(1)
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),        # 14x14
        nn.BatchNorm2d(6),
        nn.Sequential(nn.Conv2d(6, 8, 3, dilation=2, bias=False), nn.BatchNorm2d(8), nn.ReLU()),  # 10
        nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),    # 5
        nn.Conv2d(8, 12, 3, padding="same"), nn.ReLU(), nn.AvgPool2d(2, padding=1),  # 3
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(12 * 3 * 3, 32), nn.ReLU(), nn.Linear(32, 10),
    )
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return net.eval()


# Strokes in fractions of the drawing area: each a list of (x, y) points drawn in one go.
STROKES = {
    "a 1": [[(0.52, 0.15), (0.50, 0.85)]],
    "a 7": [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)], [(0.35, 0.52), (0.65, 0.52)]],
    "a 0": [[(0.5 + 0.22 * math.sin(t / 12 * 2 * math.pi), 0.5 - 0.32 * math.cos(t / 12 * 2 * math.pi))
             for t in range(13)]],
    "a 4, small and off-centre": [[(0.15, 0.1), (0.1, 0.3), (0.3, 0.3)], [(0.25, 0.12), (0.25, 0.45)]],
}


def draw(page, strokes) -> None:
    box = page.locator(".cd-pad").bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=6)
        page.mouse.up()


def settled_state(page) -> dict:
    page.wait_for_function("!document.querySelector('.cnnlib-digits').digits.pending()")
    return page.evaluate("document.querySelector('.cnnlib-digits').digits.state()")


def check_against_python(net: Callable[[torch.Tensor], torch.Tensor], state: dict,
                         expected: np.ndarray | None = None, mean: float = MNIST_MEAN,
                         std: float = MNIST_STD) -> dict[str, float]:
    """Compare one update of the page with Python and PyTorch; return the max abs diffs.

    ``net`` (a model in eval mode, or the exported layers run by ``run_layers``) turns the
    page's input into logits; ``expected`` is the 28×28 image the page should show (default:
    ``mnist_style`` of its drawing), normalised with ``mean`` and ``std``.
    """
    if expected is None:
        size = state["raw"]["height"], state["raw"]["width"]
        expected = mnist_style(np.array(state["raw"]["data"], dtype=np.uint8).reshape(size))
    image = np.array(state["image"]).reshape(28, 28)
    x = torch.tensor(state["input"], dtype=torch.float32).reshape(1, 1, 28, 28)
    with torch.no_grad():
        logits = net(x)[0]
    diffs = {
        "image": float(np.abs(image - expected).max()),
        "input": float((x - normalize(expected, mean, std)).abs().max()),
        "logits": float((torch.tensor(state["logits"]) - logits).abs().max()),
    }
    assert diffs["image"] <= IMAGE_TOL, diffs
    assert diffs["input"] <= INPUT_TOL, diffs
    assert diffs["logits"] <= LOGIT_TOL, diffs
    return diffs


def test_drawn_digits_are_preprocessed_as_mnist_style_and_scored_as_pytorch(site, browser, trained):
    page, blocked, errors = open_offline(browser, f"{site}/index.html", viewport=DESKTOP)
    root = "document.querySelector('.cnnlib-digits')"
    inputs, worst = [], {}
    for name, strokes in STROKES.items():
        page.click(".cd-clear")
        assert page.evaluate(f"{root}.digits.state().source") == "empty"
        draw(page, strokes)
        state = settled_state(page)
        assert state["source"] == "drawing", name
        # what the page shows comes from the finished drawing, not from a throttled moment
        assert state["raw"] == page.evaluate(f"{root}.digits.raw()"), name
        ink = np.array(state["raw"]["data"])
        assert (ink > 0).sum() > 500, f"{name}: the strokes left almost no ink"
        diffs = check_against_python(trained, state)
        worst = {k: max(v, worst.get(k, 0.0)) for k, v in diffs.items()}
        inputs.append(np.array(state["input"]))
        probs = torch.tensor(state["logits"]).softmax(0)
        shown = page.evaluate(f"[...{root}.querySelectorAll('.cd-pct')].map(e => e.textContent)")
        assert shown == [f"{100 * p:.1f}%" for p in probs.tolist()], name
        best = page.locator(".cd-row.cd-best .cd-label").inner_text()
        assert best == str(int(probs.argmax())), name
    print(f"\nmax abs differences over {len(STROKES)} drawings: {worst}")
    assert all(np.abs(a - b).max() > 0.5 for i, a in enumerate(inputs) for b in inputs[:i]), \
        "different strokes gave the same input"
    assert not errors, errors
    assert not blocked, blocked
    page.close()


def test_feature_maps_on_the_page_are_the_models(site, browser, trained):
    page, blocked, errors = open_offline(browser, f"{site}/index.html")
    draw(page, STROKES["a 7"])
    settled_state(page)
    maps = page.evaluate("document.querySelector('.cnnlib-digits').digits.maps()")
    x = torch.tensor(page.evaluate("document.querySelector('.cnnlib-digits').digits.input()"))
    _, reference = digits.run_layers(digits.export_layers(trained), x.reshape(1, 1, 28, 28), maps=True)
    # every block's ReLU, read from the model itself (not from the export)
    outputs = []
    hooks = [trained[i][2].register_forward_hook(lambda m, a, out: outputs.append(out)) for i in range(4)]
    with torch.no_grad():
        trained(x.reshape(1, 1, 28, 28))
    for h in hooks:
        h.remove()
    names = [f"model[{i}][2]" for i in range(4)]
    assert [m["name"] for m in maps] == [name for name, _ in reference] == names
    for m, out in zip(maps, outputs, strict=True):
        assert m["shape"] == list(out.shape[1:])
        assert (torch.tensor(m["data"]).reshape(out.shape) - out).abs().max() <= LOGIT_TOL, m["name"]
    captions = page.locator(".cd-layer figcaption").all_inner_texts()
    assert captions[0] == "model[0][2] (after ReLU): 16 feature maps, 14×14"
    assert not errors and not blocked, (errors, blocked)
    page.close()


def test_sample_digit_buttons_work_from_the_keyboard_and_match_pytorch(site, browser, trained):
    page, blocked, errors = open_offline(browser, f"{site}/index.html")
    test = data.mnist("test")
    root = "document.querySelector('.cnnlib-digits')"
    for label in (7, 3):
        button = page.get_by_role("button", name=f"Load a real MNIST test digit: {label}")
        button.focus()
        page.keyboard.press("Enter")
        state = settled_state(page)
        assert state["source"] == "sample"
        digit = test.images[int(torch.nonzero(test.labels == label)[0])]  # the first test digit
        expected = normalize(digit[0].numpy() / 255)
        x = torch.tensor(state["input"]).reshape(1, 1, 28, 28)
        assert (x - expected).abs().max() == 0
        with torch.no_grad():
            logits = trained(normalize_batch(digit[None]))[0]
        assert (torch.tensor(state["logits"]) - logits).abs().max() <= LOGIT_TOL
        prediction = str(int(logits.argmax()))
        assert page.evaluate(f"{root}.getAttribute('data-prediction')") == prediction
        assert page.locator(".cd-status").inner_text().startswith(f"The network says {prediction} (")
        # the trained network gets these two right: the widget shows a sensible answer
        assert prediction == str(label)
    page.get_by_role("button", name="Clear").focus()
    page.keyboard.press("Space")
    assert page.evaluate(f"{root}.digits.state().source") == "empty"
    assert page.locator(".cd-status").inner_text() == "Draw a digit, or load one."
    assert not errors and not blocked, (errors, blocked)
    page.close()


def test_other_layers_pooling_linear_and_plain_batch_norm_match_pytorch(site, browser):
    page, blocked, errors = open_offline(browser, f"{site}/lenet.html")
    assert page.locator(".cd-sample").count() == 0
    draw(page, STROKES["a 0"])
    state = settled_state(page)
    net = pooled_net()
    check_against_python(net, state)
    maps = page.evaluate("document.querySelector('.cnnlib-digits').digits.maps()")
    x = torch.tensor(state["input"]).reshape(1, 1, 28, 28)
    _, reference = digits.run_layers(digits.export_layers(net), x, maps=True)
    assert [m["name"] for m in maps] == ["model[2]", "model[5]", "model[8]"]
    for m, (_, ref) in zip(maps, reference, strict=True):
        assert (torch.tensor(m["data"]).reshape(ref.shape) - ref).abs().max() <= LOGIT_TOL, m["name"]
    assert not errors and not blocked, (errors, blocked)
    page.close()


def test_fits_a_phone_column_and_draws_with_touch_action_none(site, browser, trained):
    page, blocked, errors = open_offline(browser, f"{site}/index.html", viewport=PHONE)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1] == PHONE["width"], f"horizontal scroll on a phone: {widths}"
    right = page.evaluate(
        "Math.max(...[...document.querySelectorAll('.cnnlib-digits *')]"
        ".map(e => e.getBoundingClientRect().right))"
    )
    assert right <= PHONE["width"], f"something sticks out of the widget: right edge at {right}px"
    assert page.evaluate("getComputedStyle(document.querySelector('.cd-pad')).touchAction") == "none"
    draw(page, STROKES["a 1"])
    check_against_python(trained, settled_state(page))
    assert not errors and not blocked, (errors, blocked)
    page.close()



def layers_from_page(config: dict) -> list[dict]:
    """The network stored in a page's ``cd-config``: float32 arrays back in their shapes."""
    weights = np.frombuffer(base64.b64decode(config["weights"]), dtype="<f4")
    layers = []
    for entry in config["layers"]:
        layer, out = dict(entry), entry["shape"][0]
        for key in ("weight", "bias", "scale", "shift"):
            if key in entry:
                offset, size = entry[key]
                array = weights[offset:offset + size].copy()
                if key == "weight" and entry["kind"] == "conv":
                    kh, kw = entry["kernel"]
                    array = array.reshape(out, size // (out * kh * kw), kh, kw)
                elif key == "weight":
                    array = array.reshape(out, size // out)
                layer[key] = array
        for key in ("stride", "padding", "dilation", "kernel"):
            if isinstance(layer.get(key), list):
                layer[key] = tuple(layer[key])
        layers.append(layer)
    return layers


def test_chapter_6s_widget_on_the_built_site_runs_its_trained_network(built_site, browser):
    """The copy stored in the executed chapter: its network is read back from the page."""
    page, blocked, errors = open_offline(browser, f"{built_site}/book/06_first_cnn.html")
    try:
        root = "document.querySelector('.cnnlib-digits')"
        page.wait_for_function(f"{root} && {root}.digits")
        assert page.locator(".cnnlib-digits").count() == 1
        assert page.locator(".cd-nojs").count() == 0  # the script ran and took the notice away
        config = page.evaluate(f"JSON.parse({root}.querySelector('script.cd-config').textContent)")
        layers = layers_from_page(config)
        net = lambda x: digits.run_layers(layers, x)  # noqa: E731
        # the chapter's normalisation: its training part's statistics, near all 60,000 digits'
        mean, std = config["mean"], config["std"]
        assert abs(mean - MNIST_MEAN) < 0.01 and abs(std - MNIST_STD) < 0.01
        right = 0
        for i, sample in enumerate(config["samples"]):
            page.locator("button.cd-sample").nth(i).focus()
            page.keyboard.press("Enter")
            state = settled_state(page)
            assert state["source"] == "sample"
            ink = np.frombuffer(base64.b64decode(sample["pixels"]), dtype=np.uint8)
            check_against_python(net, state, ink.reshape(28, 28) / 255, mean, std)
            right += page.evaluate(f"{root}.getAttribute('data-prediction')") == sample["label"]
        assert len(config["samples"]) == 10
        assert right >= 9, f"the chapter's network read only {right} of 10 sample digits"
        page.click(".cd-clear")
        page.locator(".cd-pad").scroll_into_view_if_needed()
        draw(page, STROKES["a 1"])
        check_against_python(net, settled_state(page), mean=mean, std=std)
        assert page.locator(".cd-maps canvas").count() > 0
        assert not errors and not blocked, (errors, blocked)
    finally:
        page.close()


def test_with_scripts_off_the_chapters_widget_says_how_to_turn_it_on(built_site, browser):
    notice = text_without_scripts(browser, f"{built_site}/book/06_first_cnn.html", ".cd-nojs")
    assert "trust the notebook or run this cell again" in notice
