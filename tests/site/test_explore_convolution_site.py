"""The convolution explorer in headless Chromium, offline, checked against PyTorch.

Two explorers on one page, served from 127.0.0.1 with every other request blocked. Each
configuration is set through the controls, as a reader sets it (select, type, arrow keys);
the output the page computed (read through its test hook, ``root.explorer``) is compared with
``F.conv2d`` (after ``F.pad`` for the padding modes), ``F.max_pool2d`` and ``F.avg_pool2d`` on
the same input, and the output size it displays with ``shapes.conv_out``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from offline import PHONE, open_offline, serve, text_without_scripts

from cnnlib import explore, kernels, shapes
from cnnlib.explore.convolution import rejection

NUMBERS, DIGIT = "numbers 7×7", "MNIST digit 28×28"
CAMERA, CAT = "photo 32×32 (cameraman)", "photo 32×32 (cat)"


@dataclass
class Config:
    image: str
    op: str = "conv"                # conv, max_pool, avg_pool
    kernel: str = "sobel_x"         # a name of cnnlib.kernels, or custom weights (rows) to type
    custom: list | None = None
    k: int = 2                      # pooling window
    stride: int = 1
    padding: int = 0
    mode: str = "zeros"
    dilation: int = 1
    stride_by_keys: bool = False    # reach the stride by arrow-key presses instead of typing


CONFIGS = [
    Config(NUMBERS, kernel="sobel_x", padding=1),
    Config(NUMBERS, kernel="sobel_y", padding=1, mode="reflect"),
    Config(NUMBERS, kernel="laplacian", padding=2, mode="replicate"),
    Config(NUMBERS, kernel="emboss", padding=3, mode="circular"),
    Config(NUMBERS, kernel="outline", stride=2, padding=1, mode="reflect", stride_by_keys=True),
    Config(NUMBERS, kernel="sharpen", dilation=2),
    Config(NUMBERS, kernel="gaussian", padding=2, mode="reflect"),
    Config(NUMBERS, kernel="box_blur", stride=3, padding=1, mode="circular"),
    Config(NUMBERS, kernel="identity", padding=7, mode="circular"),  # padding = size: allowed
    Config(NUMBERS, custom=[[1, 2, 3], [0, 0.5, 0], [-1, -2, -3]], padding=1, mode="replicate",
           dilation=2),
    Config(NUMBERS, op="max_pool", k=2, padding=1, dilation=3),
    Config(NUMBERS, op="avg_pool", k=3, padding=1),
    Config(DIGIT, kernel="sobel_x", stride=2, padding=1),
    Config(DIGIT, kernel="gaussian", padding=2, mode="replicate", dilation=2),
    Config(DIGIT, op="max_pool", k=2, stride=2),
    Config(DIGIT, op="max_pool", k=3, stride=2, padding=1, dilation=2),
    Config(DIGIT, op="avg_pool", k=2, stride=2, padding=1),
    Config(DIGIT, op="avg_pool", k=4, stride=3, padding=2),
    Config(DIGIT, kernel="outline", stride=2, padding=5, mode="circular", dilation=4),
    Config(CAMERA, kernel="emboss", padding=1, mode="reflect", dilation=3),
    Config(CAMERA, op="max_pool", k=3, stride=3, padding=1),
    Config(CAMERA, op="avg_pool", k=3),
    Config(CAMERA, kernel="laplacian", stride=2, padding=8, mode="zeros", dilation=2),
    Config(CAT, custom=[[-0.5, 1.25, 0], [2, -3.75, 0.125], [0, 1, -1]], stride=2, padding=3,
           mode="circular"),
    Config(CAT, kernel="laplacian", stride=4, padding=8, mode="replicate", dilation=2),
    Config(CAT, op="max_pool", k=5, padding=2),
    Config(CAT, kernel="box_blur", stride=1, padding=6, mode="reflect", dilation=8),
]

REJECTED = [
    Config(NUMBERS, op="max_pool", k=3, padding=2),
    Config(NUMBERS, op="avg_pool", k=8),
    Config(NUMBERS, kernel="sharpen", padding=7, mode="reflect"),
    Config(NUMBERS, kernel="sharpen", padding=8, mode="circular"),
    Config(NUMBERS, kernel="sobel_x", dilation=4),
    Config(DIGIT, kernel="gaussian", padding=0, dilation=7),
]


@pytest.fixture(scope="module")
def widget():
    return explore.convolution_explorer()


@pytest.fixture(scope="module")
def site(tmp_path_factory, widget):
    """A page with two explorers, the second starting on max pooling of the digit."""
    second = explore.convolution_explorer(image=DIGIT, operation="max_pool", stride=2, padding=0)
    folder = tmp_path_factory.mktemp("explorer")
    (folder / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>explorer</title>'
        '</head><body style="margin:0 auto;max-width:46rem;padding:0 12px;font-family:sans-serif">'
        f"<h1>Convolution explorer</h1>{widget.html}<p>Between the two.</p>{second.html}</body></html>",
        encoding="utf-8",
    )
    with serve(folder) as url:
        yield url


@pytest.fixture(scope="module")
def desktop(browser, site):
    page, blocked, errors = open_offline(browser, f"{site}/index.html")
    page.wait_for_function("document.querySelectorAll('.cnnx').length === 2 && "
                           "[...document.querySelectorAll('.cnnx')].every(r => r.explorer)")
    yield page, blocked, errors
    page.close()


def set_config(root, cfg: Config) -> None:
    """Set ``cfg`` through the controls of the explorer ``root`` (a locator), as a reader would."""
    ctl = lambda name: root.locator(f'[data-cnnx="{name}"]')  # noqa: E731
    ctl("image").select_option(label=cfg.image)
    ctl("op").select_option(cfg.op)
    if cfg.op == "conv":
        if cfg.custom is None:
            ctl("kernel").select_option(cfg.kernel)
        else:
            ctl("kernel").select_option("custom")
            for a, row in enumerate(cfg.custom):
                for b, w in enumerate(row):
                    root.get_by_label(f"weight row {a + 1}, column {b + 1}", exact=True).fill(str(w))
        ctl("mode").select_option(cfg.mode)
    else:
        ctl("pool_size").fill(str(cfg.k))
    if cfg.stride_by_keys:
        ctl("stride").fill("1")
        for _ in range(cfg.stride - 1):
            ctl("stride").press("ArrowUp")
    else:
        ctl("stride").fill(str(cfg.stride))
    ctl("padding").fill(str(cfg.padding))
    if cfg.op != "avg_pool":
        ctl("dilation").fill(str(cfg.dilation))


def read(root) -> dict:
    shown = root.locator('[data-cnnx="out-size"]').inner_text()
    result = root.evaluate("r => ({state: r.explorer.state(), output: r.explorer.output()})")
    result["shown"] = shown
    result["reason_text"] = root.locator('[data-cnnx="reason"]').inner_text() \
        if root.locator('[data-cnnx="reason"]').is_visible() else ""
    return result


def reference(widget, cfg: Config) -> torch.Tensor:
    x = torch.from_numpy(widget.images[cfg.image])[None, None]
    p, s, d = cfg.padding, cfg.stride, cfg.dilation
    if cfg.op == "max_pool":
        return F.max_pool2d(x, cfg.k, s, p, d)[0, 0]
    if cfg.op == "avg_pool":
        return F.avg_pool2d(x, cfg.k, s, p)[0, 0]
    w = torch.tensor(cfg.custom, dtype=torch.float32) if cfg.custom else kernels.get(cfg.kernel)
    if cfg.mode == "zeros":
        return F.conv2d(x, w[None, None], stride=s, padding=p, dilation=d)[0, 0]
    return F.conv2d(F.pad(x, (p, p, p, p), mode=cfg.mode), w[None, None], stride=s, dilation=d)[0, 0]


def kernel_size(cfg: Config) -> int:
    if cfg.op != "conv":
        return cfg.k
    return len(cfg.custom) if cfg.custom else kernels.get(cfg.kernel).shape[0]


def test_outputs_match_torch_and_sizes_match_conv_out_for_every_configuration(desktop, widget):
    page, _, _ = desktop
    root = page.locator(".cnnx").first
    worst, ops, modes, images = 0.0, set(), set(), set()
    for cfg in CONFIGS:
        set_config(root, cfg)
        got = read(root)
        state = got["state"]
        d = cfg.dilation if cfg.op != "avg_pool" else 1
        assert state["reason"] is None, (cfg, state["reason"])
        assert (state["operation"], state["stride"], state["padding"], state["dilation"]) == \
            (cfg.op, cfg.stride, cfg.padding, d), cfg
        want = reference(widget, cfg)
        n = widget.images[cfg.image].shape[0]
        size = shapes.conv_out(n, kernel_size(cfg), cfg.stride, cfg.padding, d)
        assert state["out_size"] == size and got["shown"] == f"{size}×{size}", (cfg, got["shown"])
        out = np.array(got["output"], dtype=np.float64)
        assert out.shape == tuple(want.shape) == (size, size), cfg
        diff = float(np.abs(out - want.double().numpy()).max())
        assert diff <= 1e-4, (cfg, diff)
        worst = max(worst, diff)
        ops.add(cfg.op)
        images.add(cfg.image)
        modes.add(cfg.mode if cfg.op == "conv" else None)
    assert len(CONFIGS) >= 20 and ops == {"conv", "max_pool", "avg_pool"} and len(images) == 4
    assert {"zeros", "reflect", "replicate", "circular"} <= modes
    print(f"\n{len(CONFIGS)} configurations, max |page - torch| = {worst:.2e}")


def test_rejected_configurations_show_the_reason_torch_refuses_them(desktop, widget):
    page, _, _ = desktop
    root = page.locator(".cnnx").first
    for cfg in REJECTED:
        set_config(root, cfg)
        got = read(root)
        n = widget.images[cfg.image].shape[0]
        d = cfg.dilation if cfg.op != "avg_pool" else 1
        why = rejection(n, kernel_size(cfg), cfg.stride, cfg.padding, d, cfg.mode, cfg.op)
        assert why is not None
        with pytest.raises((RuntimeError, ValueError)):
            reference(widget, cfg)
        assert got["state"]["reason"] == why and got["reason_text"] == f"Rejected: {why}"
        assert got["output"] is None and got["state"]["out_size"] is None and got["shown"] == "rejected"


def test_typed_nonsense_is_rejected_in_words_and_the_next_good_value_recovers(desktop):
    page, _, _ = desktop
    root = page.locator(".cnnx").first
    set_config(root, Config(NUMBERS, kernel="sharpen", padding=1))
    root.locator('[data-cnnx="stride"]').fill("0")
    assert read(root)["state"]["reason"] == "stride must be a whole number from 1 to 8, got 0."
    root.locator('[data-cnnx="stride"]').fill("9")
    assert "got 9" in read(root)["reason_text"]
    root.locator('[data-cnnx="stride"]').fill("1")
    root.get_by_label("weight row 2, column 3", exact=True).fill("")
    got = read(root)
    assert got["state"]["kernel"] == "custom"  # typing a weight makes the kernel one's own
    assert got["state"]["reason"] == "weight row 2, column 3 must be a number."
    root.get_by_label("weight row 2, column 3", exact=True).fill("-1")
    got = read(root)
    assert got["state"]["reason"] is None and got["state"]["weights"] == [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]


def test_pointer_and_keyboard_pick_an_output_pixel_and_show_its_products_and_sum(desktop, widget):
    page, _, _ = desktop
    root = page.locator(".cnnx").first
    set_config(root, Config(NUMBERS, kernel="sobel_x", padding=1, stride=2))  # output 4x4
    canvas = root.locator('[data-cnnx="out-canvas"]')
    box = canvas.bounding_box()
    cell = box["width"] / 4
    canvas.hover(position={"x": 2.5 * cell, "y": 1.5 * cell})  # row 1, column 2
    got = read(root)
    assert got["state"]["selected"] == [1, 2]
    details = root.locator('[data-cnnx="details"]').inner_text()
    assert "Output (1, 2)" in details and "padded rows 2–4, columns 4–6" in details
    value = got["output"][1][2]
    result = root.locator('[data-cnnx="result"]').inner_text()
    assert result.startswith("sum of the 9 products = ")
    assert float(result.rsplit("= ", 1)[1].replace("−", "-")) == pytest.approx(value, abs=5e-5)
    assert root.locator(".cnnx-products > div").count() == 9

    canvas.click(position={"x": 0.5 * cell, "y": 3.5 * cell})  # a tap/click: row 3, column 0
    assert read(root)["state"]["selected"] == [3, 0]
    canvas.focus()
    canvas.press("ArrowUp")
    canvas.press("ArrowRight")
    canvas.press("ArrowRight")
    assert read(root)["state"]["selected"] == [2, 2]
    for _ in range(6):
        canvas.press("ArrowDown")  # stays inside the map
    assert read(root)["state"]["selected"] == [3, 2]

    set_config(root, Config(NUMBERS, op="max_pool", k=2, stride=2, padding=1))
    canvas.hover(position={"x": 1, "y": 1})
    got = read(root)
    assert got["state"]["selected"] == [0, 0]
    assert root.locator('[data-cnnx="result"]').inner_text() == f"max = {got['output'][0][0]:g}"
    assert root.locator(".cnnx-products > div").count() == 4  # three of them -∞ padding
    assert root.locator(".cnnx-products > div", has_text="−∞").count() == 3


def test_the_second_explorer_on_the_page_was_not_touched(desktop, widget):
    page, _, _ = desktop
    first, second = page.locator(".cnnx").nth(0), page.locator(".cnnx").nth(1)
    state = read(second)["state"]
    assert (state["image"], state["operation"], state["stride"], state["kernel_size"]) == \
        (DIGIT, "max_pool", 2, 2)
    want = F.max_pool2d(torch.from_numpy(widget.images[DIGIT])[None, None], 2, 2)[0, 0]
    assert np.abs(np.array(read(second)["output"]) - want.numpy()).max() <= 1e-6
    set_config(second, Config(CAT, kernel="sobel_y", padding=1))
    assert read(second)["state"]["image"] == CAT and read(first)["state"]["image"] != CAT
    assert page.evaluate("new Set([...document.querySelectorAll('[id]')].map(e => e.id)).size") == 2


def test_no_script_errors_and_no_network_requests(desktop):
    page, blocked, errors = desktop
    assert errors == [] and blocked == []
    assert page.locator('[data-cnnx="nojs"]').count() == 0  # both scripts ran and said so
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('.cnnx input, .cnnx select')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length""")
    assert unlabelled == 0
    assert page.locator('.cnnx [data-cnnx="out-canvas"][tabindex="0"]').count() == 2


def test_phone_width_fits_without_horizontal_scroll_even_with_the_largest_grids(browser, site):
    page, blocked, errors = open_offline(browser, f"{site}/index.html", viewport=PHONE)
    try:
        root = page.locator(".cnnx").first
        wide = "() => document.documentElement.scrollWidth"
        assert page.evaluate(wide) <= PHONE["width"]
        set_config(root, Config(CAMERA, kernel="gaussian", padding=8, mode="reflect"))
        root.locator('[data-cnnx="out-canvas"]').hover(position={"x": 3, "y": 3})
        assert read(root)["state"]["out_size"] == 44
        assert page.evaluate(wide) <= PHONE["width"]
        sizes = root.evaluate("r => [...r.querySelectorAll('canvas')]"
                              ".map(c => c.getBoundingClientRect().right)")
        assert max(sizes) <= PHONE["width"]
        assert re.search(r"Padded input 48×48", root.inner_text())
        assert errors == [] and blocked == []
    finally:
        page.close()


# The explorers stored in the executed chapters, on the built site: the settings each opens with.
CHAPTERS = {
    "02_kernels": dict(operation="conv", stride=1, padding=1, padding_mode="zeros"),
    "03_stride_padding": dict(operation="conv", stride=2, padding=1, padding_mode="reflect"),
    "04_pooling": dict(operation="max_pool", stride=2, padding=0),
}


def config_of(state: dict) -> Config:
    """The :class:`Config` of an explorer's ``state()``, its kernel as typed-in weights."""
    k, conv = state["kernel_size"], state["operation"] == "conv"
    return Config(state["image"], op=state["operation"], k=k, stride=state["stride"],
                  padding=state["padding"], mode=state["padding_mode"], dilation=state["dilation"],
                  custom=np.reshape(state["weights"], (k, k)).tolist() if conv else None)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapters_explorer_on_the_built_site_opens_with_its_settings_and_matches_torch(
        built_site, browser, widget, chapter):
    page, blocked, errors = open_offline(browser, f"{built_site}/book/{chapter}.html")
    try:
        page.wait_for_function("document.querySelector('.cnnx') && "
                               "document.querySelector('.cnnx').explorer")
        assert page.locator(".cnnx").count() == 1
        assert page.locator('[data-cnnx="nojs"]').count() == 0
        got = read(page.locator(".cnnx"))
        for key, value in CHAPTERS[chapter].items():
            assert got["state"][key] == value, (chapter, key, got["state"][key])
        want = reference(widget, config_of(got["state"]))
        out = np.array(got["output"], dtype=np.float64)
        assert out.shape == tuple(want.shape), chapter
        assert np.abs(out - want.double().numpy()).max() <= 1e-4, chapter
        assert errors == [] and blocked == []
    finally:
        page.close()


def test_with_scripts_off_the_chapters_explorer_says_how_to_turn_it_on(built_site, browser):
    notice = text_without_scripts(browser, f"{built_site}/book/02_kernels.html",
                                  '[data-cnnx="nojs"]')
    assert "trust the notebook or run this cell again" in notice
