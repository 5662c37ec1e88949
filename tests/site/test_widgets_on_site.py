"""The two widgets where readers meet them: in the built chapter pages, offline.

The widget tests (test_explore_*_site.py) check the arithmetic of pages generated here. These
check that the copies stored in the executed chapters work on the built site, inside the
theme's HTML, and compute what PyTorch computes: the convolution explorers of chapters 2-4
for the settings each chapter opens with, and chapter 6's draw-a-digit, whose network is read
back from the page (the weights exported from the trained model) and run with
:func:`cnnlib.explore.digits.run_layers`.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from offline import open_offline

from cnnlib import explore
from cnnlib.explore.digits import mnist_style, normalize, run_layers

EXPLORERS = {  # chapter page: the settings its explorer opens with
    "02_kernels": dict(operation="conv", stride=1, padding=1, padding_mode="zeros"),
    "03_stride_padding": dict(operation="conv", stride=2, padding=1, padding_mode="reflect"),
    "04_pooling": dict(operation="max_pool", stride=2, padding=0),
}
DIGITS = "06_first_cnn"
OUTPUT_TOL = 1e-4
LOGIT_TOL = 1e-4



def reference(state: dict, images: dict[str, np.ndarray]) -> torch.Tensor:
    """What PyTorch computes for an explorer ``state`` (its ``root.explorer.state()``)."""
    x = torch.from_numpy(images[state["image"]])[None, None]
    k, s, p, d = state["kernel_size"], state["stride"], state["padding"], state["dilation"]
    if state["operation"] == "max_pool":
        return F.max_pool2d(x, k, s, p, d)[0, 0]
    if state["operation"] == "avg_pool":
        return F.avg_pool2d(x, k, s, p)[0, 0]
    w = torch.tensor(state["weights"], dtype=torch.float32).reshape(1, 1, k, k)
    if state["padding_mode"] != "zeros":
        x, p = F.pad(x, (p, p, p, p), mode=state["padding_mode"]), 0
    return F.conv2d(x, w, stride=s, padding=p, dilation=d)[0, 0]


@pytest.mark.parametrize("chapter", EXPLORERS)
def test_each_chapters_explorer_opens_with_its_settings_and_computes_what_torch_does(
        built_site, browser, chapter):
    page, blocked, errors = open_offline(browser, f"{built_site}/book/{chapter}.html")
    try:
        page.wait_for_function("document.querySelector('.cnnx') && "
                               "document.querySelector('.cnnx').explorer")
        assert page.locator(".cnnx").count() == 1
        assert page.locator('[data-cnnx="nojs"]').count() == 0
        root = page.locator(".cnnx")
        root.scroll_into_view_if_needed()
        result = root.evaluate("r => ({state: r.explorer.state(), output: r.explorer.output()})")
        state = result["state"]
        for key, value in EXPLORERS[chapter].items():
            assert state[key] == value, (chapter, key, state[key])
        expected = reference(state, explore.convolution_explorer().images)
        shown = torch.tensor(result["output"], dtype=torch.float32)
        assert shown.shape == expected.shape, (chapter, shown.shape, expected.shape)
        assert (shown - expected).abs().max() <= OUTPUT_TOL
        assert root.locator("canvas").first.is_visible()
        assert errors == [], errors
        assert blocked == [], blocked
    finally:
        page.close()


def layers_from_page(config: dict) -> list[dict]:
    """The network stored in the page's ``cd-config``: float32 arrays back in their shapes."""
    weights = np.frombuffer(base64.b64decode(config["weights"]), dtype="<f4")
    layers = []
    for entry in config["layers"]:
        layer = dict(entry)
        out = entry["shape"][0]
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


def test_chapter_6s_draw_a_digit_runs_the_exported_network_on_samples_and_strokes(built_site, browser):
    page, blocked, errors = open_offline(browser, f"{built_site}/book/{DIGITS}.html")
    try:
        page.wait_for_function("document.querySelector('.cnnlib-digits') && "
                               "document.querySelector('.cnnlib-digits').digits")
        assert page.locator(".cnnlib-digits").count() == 1
        assert page.locator(".cd-nojs").count() == 0  # the script ran and took the notice away
        root = page.locator(".cnnlib-digits")
        root.scroll_into_view_if_needed()
        config = root.evaluate("r => JSON.parse(r.querySelector('script.cd-config').textContent)")
        layers = layers_from_page(config)
        # the chapter's normalisation: its training part's statistics, not all 60,000 digits
        assert abs(config["mean"] - 0.1307) < 0.01 and abs(config["std"] - 0.3081) < 0.01

        def check(state: dict, expected: np.ndarray) -> int:
            assert np.abs(np.array(state["image"]).reshape(28, 28) - expected).max() <= 1e-12
            x = torch.tensor(state["input"], dtype=torch.float32).reshape(1, 1, 28, 28)
            assert (x - normalize(expected, config["mean"], config["std"])).abs().max() <= 5e-7
            with torch.no_grad():
                logits = run_layers(layers, x)[0]
            assert (torch.tensor(state["logits"]) - logits).abs().max() <= LOGIT_TOL
            return int(logits.argmax())

        buttons = root.locator("button.cd-sample")
        assert buttons.count() == 10
        right = 0
        for i in range(10):
            buttons.nth(i).focus()
            page.keyboard.press("Enter")
            page.wait_for_function("!document.querySelector('.cnnlib-digits').digits.pending()")
            state = root.evaluate("r => r.digits.state()")
            assert state["source"] == "sample"
            sample = config["samples"][i]
            ink = np.frombuffer(base64.b64decode(sample["pixels"]), dtype=np.uint8)
            right += check(state, ink.reshape(28, 28) / 255) == int(sample["label"])
        assert right >= 9, f"the chapter's network read only {right} of 10 sample digits"

        root.evaluate("r => r.digits.clear()")
        root.locator(".cd-pad").scroll_into_view_if_needed()
        box = root.locator(".cd-pad").bounding_box()
        page.mouse.move(box["x"] + 0.52 * box["width"], box["y"] + 0.15 * box["height"])
        page.mouse.down()
        page.mouse.move(box["x"] + 0.50 * box["width"], box["y"] + 0.85 * box["height"], steps=8)
        page.mouse.up()
        page.wait_for_function("!document.querySelector('.cnnlib-digits').digits.pending()")
        state = root.evaluate("r => r.digits.state()")
        size = state["raw"]["height"], state["raw"]["width"]
        check(state, mnist_style(np.array(state["raw"]["data"], dtype=np.uint8).reshape(size)))
        assert page.locator(".cnnlib-digits .cd-maps canvas").count() > 0
        assert errors == [], errors
        assert blocked == [], blocked
    finally:
        page.close()


@pytest.mark.parametrize("chapter, notice", [("02_kernels", '[data-cnnx="nojs"]'),
                                             (DIGITS, ".cd-nojs")])
def test_with_scripts_off_each_widget_says_in_words_how_to_turn_it_on(built_site, browser, chapter,
                                                                      notice):
    # what a reader sees in an untrusted notebook in Jupyter, which strips the scripts
    page = browser.new_page(java_script_enabled=False)
    try:
        page.goto(f"{built_site}/book/{chapter}.html")
        assert page.locator(notice).count() == 1
        assert "trust the notebook or run this cell again" in " ".join(
            page.locator(notice).inner_text().split())
    finally:
        page.close()
