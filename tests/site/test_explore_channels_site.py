"""The multi-channel convolution explorer in headless Chromium, offline, checked against PyTorch.

Each configuration (input, stride, zero padding) is set through the controls, as a reader
sets it; the two output maps the page computed (read through its test hook,
``root.channels``) are compared with ``F.conv2d(x, weight, bias, stride, padding)``, and
every output's three per-channel sums with ``F.conv2d`` of that one channel and its slice of
the weights (``groups=3`` computes all three at once).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from offline import PHONE, open_offline, serve

from cnnlib import explore, shapes

NUMBERS, PHOTO = "numbers 5×5×3", "photo 7×7×3 (astronaut)"
CONFIGS = [(NUMBERS, 1, 0), (NUMBERS, 1, 1), (NUMBERS, 2, 1), (NUMBERS, 2, 2), (NUMBERS, 3, 2),
           (PHOTO, 1, 0), (PHOTO, 1, 1), (PHOTO, 2, 0), (PHOTO, 2, 1), (PHOTO, 3, 2)]


@pytest.fixture(scope="module")
def widget():
    return explore.channels_explorer()


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory, widget):
    second = explore.channels_explorer(stride=2, padding=0, seed=1)
    folder = tmp_path_factory.mktemp("channels")
    (folder / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>channels</title>'
        f"</head><body><h1>Channels</h1>{widget.html}<p>Between.</p>{second.html}</body></html>",
        encoding="utf-8")
    with serve(folder) as url:
        page, blocked, errors = open_offline(browser, f"{url}/index.html")
        page.wait_for_function("[...document.querySelectorAll('.cnnx')].every(r => r.channels)")
        yield page, blocked, errors
        page.close()


def set_config(root, image: str, stride: int, padding: int) -> None:
    root.locator('[data-cnnx="image"]').select_option(label=image)
    root.locator('[data-cnnx="stride"]').fill(str(stride))
    root.locator('[data-cnnx="padding"]').fill(str(padding))


def test_outputs_and_per_channel_sums_match_torch(page, widget):
    pg, blocked, errors = page
    root = pg.locator(".cnnx").first
    w, b = torch.from_numpy(widget.weight), torch.from_numpy(widget.bias)
    worst = 0.0
    for image, stride, padding in CONFIGS:
        set_config(root, image, stride, padding)
        x = torch.from_numpy(widget.images[image])[None]
        want = F.conv2d(x, w, b, stride=stride, padding=padding)[0].double().numpy()
        # per output channel o and input channel c: channel c alone through w[o, c]
        per_channel = torch.stack([F.conv2d(x, w[o][:, None], stride=stride, padding=padding,
                                            groups=3)[0] for o in range(2)]).double().numpy()
        got = root.evaluate("r => ({state: r.channels.state(), output: r.channels.output()})")
        n = widget.images[image].shape[1]
        assert got["state"]["out_size"] == shapes.conv_out(n, 3, stride, padding)
        out = np.array(got["output"], dtype=np.float64)
        assert out.shape == want.shape
        worst = max(worst, float(np.abs(out - want).max()))
        size = want.shape[-1]
        for o in range(2):
            for i in range(size):
                for j in range(size):
                    parts = root.evaluate(f"r => r.channels.parts({o}, {i}, {j})")
                    assert np.allclose(parts[:3], per_channel[o, :, i, j], atol=1e-4)
                    assert parts[3] == widget.bias[o]
                    assert abs(sum(parts) - want[o, i, j]) <= 1e-4
    assert worst <= 1e-4, worst
    assert not errors and not blocked


def test_selecting_an_output_writes_out_its_three_sums(page, widget):
    pg, _, _ = page
    root = pg.locator(".cnnx").first
    set_config(root, NUMBERS, 1, 1)
    grid = root.locator('[data-cnnx="out-1"]')
    grid.focus()
    grid.press("ArrowRight")
    grid.press("ArrowDown")
    state = root.evaluate("r => r.channels.state()")
    assert state["selected"] == [1, 1, 1]
    text = root.locator('[data-cnnx="details"]').inner_text().replace("\u2212", "-")
    parts = root.evaluate("r => r.channels.parts(1, 1, 1)")
    total = sum(parts)
    assert "red" in text and "green" in text and "blue" in text
    assert f"= {total:g}" in text, text
    assert root.locator('[data-cnnx="in-0"] span.win').count() == 9  # the 3x3 window


def test_the_second_explorer_is_independent_and_fits_a_phone(browser, page):
    pg, _, _ = page
    first, second = pg.locator(".cnnx").nth(0), pg.locator(".cnnx").nth(1)
    set_config(first, NUMBERS, 1, 2)
    s = second.evaluate("r => r.channels.state()")
    assert (s["stride"], s["padding"]) == (2, 0)
    url = pg.url
    phone, _, errors = open_offline(browser, url, viewport=PHONE)
    phone.wait_for_function("[...document.querySelectorAll('.cnnx')].every(r => r.channels)")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert not errors
    phone.close()
