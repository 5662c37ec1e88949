"""The multi-channel convolution explorer: an RGB input, two output channels, every sum shown.

:func:`channels_explorer` returns a display object whose ``_repr_html_`` is plain HTML, CSS
and JavaScript (``channels.js`` next to this file, inlined; the styles are
``convolution.css``'s), so it works in Jupyter, in Colab and on the static website, offline.

The page shows the three padded input channels (red, green, blue), the weights of a
``nn.Conv2d(3, 2, 3)`` layer (for each of the two output channels one 3×3 slice per input
channel, and a bias) and the two output maps. Selecting an output value (pointer, tap, or
focus and arrow keys) marks its window in all three channels and writes out the three
per-channel sums, the bias, and their total, which is the value: each output of a
multi-channel convolution is the sum of three single-channel cross-correlations plus a bias.
The reader sets the input, the stride and the zero padding with native controls.

Test hook: the root element (``div.cnnx``) carries ``root.channels`` with

- ``state()``: ``image`` (label), ``size``, ``stride``, ``padding``, ``out_size`` and
  ``selected`` (``[channel, row, col]`` or ``null``);
- ``output()``: the two output maps, ``[channel][row][col]``;
- ``parts(o, i, j)``: ``[red, green, blue, bias]``, the three per-channel sums and the bias
  that make output ``o`` at ``(i, j)``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from importlib import resources

import numpy as np
import torch

from cnnlib import check

CHANNELS = ("red", "green", "blue")
LIMITS = {"stride": (1, 3), "padding": (0, 2)}
"""The range each whole-number control accepts (inclusive)."""
KERNEL = 3
_OUTPUT_LABEL = ("Output channel {o}: hover or tap a value, or focus it and use the arrow keys, "
                 "to see its three per-channel sums")


def _default_images() -> dict[str, np.ndarray]:
    """A 5×5 RGB grid of small integers, and a 7×7 RGB crop of skimage's astronaut."""
    numbers = np.random.default_rng(0).integers(0, 3, size=(3, 5, 5)).astype(np.float32)
    from cnnlib import data

    photo = data.sample_image("astronaut")  # (512, 512, 3) uint8
    crop = photo[120:232:16, 200:312:16]  # every 16th pixel: 7 x 7, the face
    return {"numbers 5×5×3": numbers,
            "photo 7×7×3 (astronaut)": np.round(crop.transpose(2, 0, 1) / 255, 2).astype(np.float32)}


def _as_rgb(label: str, value: object) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    a = np.asarray(value)
    if a.ndim != 3 or a.shape[0] != 3 or a.shape[1] != a.shape[2] or not 3 <= a.shape[1] <= 12:
        raise ValueError(f"Image {label!r} must be a square (3, H, W) RGB array, 3×3 to 12×12 "
                         f"(channels first, as PyTorch stores them), got shape {a.shape}.")
    if not (np.issubdtype(a.dtype, np.number) and np.isfinite(a).all()):
        raise ValueError(f"Image {label!r} must hold finite real numbers.")
    return (a.astype(np.float32) / 255 if a.dtype == np.uint8 else a.astype(np.float32))


@dataclass(frozen=True, repr=False)
class ChannelsExplorer:
    """The explorer as a display object: a notebook shows ``html`` (via ``_repr_html_``).

    ``images`` (label -> (3, H, W) float32), ``weight`` (2, 3, 3, 3) and ``bias`` (2,) are the
    arrays the page computes with, so a test can compute the same outputs with PyTorch.
    """

    html: str
    images: dict[str, np.ndarray] = field(default_factory=dict)
    weight: np.ndarray = field(default_factory=lambda: np.zeros((2, 3, KERNEL, KERNEL), np.float32))
    bias: np.ndarray = field(default_factory=lambda: np.zeros(2, np.float32))

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return (f"ChannelsExplorer(images={list(self.images)}, weight {self.weight.shape}, "
                f"{len(self.html.encode()) // 1024} KB of HTML; show it in a notebook cell)")


def channels_explorer(images: Mapping[str, object] | None = None, *, stride: int = 1,
                      padding: int = 1, seed: int = 0) -> ChannelsExplorer:
    """A multi-channel convolution explorer (3 input channels, 2 output channels with bias).

    ``images`` maps labels to square RGB images in PyTorch's (3, H, W) layout, 3×3 to 12×12
    (uint8 is divided by 255); by default a 5×5×3 grid of small integers and a 7×7 crop of a
    photo. The weights are whole numbers from −1 to 1 and the biases 1 and −1, drawn with
    ``seed`` (as in the CS231n notes' demo), so every sum can be checked by hand. ``stride``
    (1 to 3) and ``padding`` (0 to 2, zeros) set the controls' starting values.

    In a notebook: ``explore.channels_explorer()`` as the last line of a cell.
    """
    raw = dict(_default_images()) if images is None else dict(images)
    if not raw:
        raise ValueError("images is empty: pass at least one image, or None for the defaults.")
    for label in raw:
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"Image labels must be non-empty strings, got {label!r}.")
    imgs = {label: _as_rgb(label, a) for label, a in raw.items()}
    check.int_in_range("stride", stride, *LIMITS["stride"])
    check.int_in_range("padding", padding, *LIMITS["padding"])
    check.int_at_least("seed", seed, minimum=0)
    for label, a in imgs.items():
        if a.shape[1] + 2 * padding < KERNEL:
            raise ValueError(f"Image {label!r} is {a.shape[1]}×{a.shape[1]}: with padding "
                             f"{padding} it is smaller than the 3×3 kernel; use more padding.")

    rng = np.random.default_rng(seed)
    weight = rng.integers(-1, 2, size=(2, 3, KERNEL, KERNEL)).astype(np.float32)
    bias = np.array([1.0, -1.0], dtype=np.float32)

    root_id = f"cnnx-{uuid.uuid4().hex[:12]}"
    payload = {
        "images": [{"label": label, "size": int(a.shape[1]), "values": a.round(6).tolist()}
                   for label, a in imgs.items()],
        "weight": weight.tolist(), "bias": bias.tolist(), "limits": LIMITS,
        "channels": list(CHANNELS),
    }
    blob = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    here = resources.files("cnnlib.explore")
    js = here.joinpath("channels.js").read_text(encoding="utf-8")
    css = here.joinpath("convolution.css").read_text(encoding="utf-8")
    image_options = "".join(f'<option value="{i}">{escape(label)}</option>'
                            for i, label in enumerate(imgs))

    def number(name: str, key: str, value: int) -> str:
        lo, hi = LIMITS[key]
        return (f'<label class="cnnx-field"><span>{name}</span><input type="number" '
                f'data-cnnx="{key}" min="{lo}" max="{hi}" step="1" value="{value}" '
                'inputmode="numeric"></label>')

    outputs = "".join(
        f'<div class="cnnx-panel"><div class="cnnx-title" data-cnnx="out-title-{o}">Output channel '
        f'{o}</div><div class="cnnx-grid" data-cnnx="out-{o}" tabindex="0" role="grid" '
        f'aria-label="{escape(_OUTPUT_LABEL.format(o=o))}"></div></div>' for o in range(2))
    inputs = "".join(
        f'<div class="cnnx-panel"><div class="cnnx-title">Input, {c} (padded)</div>'
        f'<div class="cnnx-grid cnnx-{c}" data-cnnx="in-{i}"></div></div>'
        for i, c in enumerate(CHANNELS))
    html = f"""<div class="cnnx cnnx-channels" id="{root_id}">
<style>{css}
.cnnx-grid {{ display: inline-grid; gap: 1px; font-size: 0.78em; font-variant-numeric: tabular-nums; }}
.cnnx-grid span {{ min-width: 2.1em; padding: 0.1em 0.15em; text-align: right;
  border: 1px solid rgba(128, 128, 128, 0.35); }}
.cnnx-grid span.pad {{ opacity: 0.45; }}
.cnnx-grid span.win {{ outline: 2px solid #ff8c1a; outline-offset: -2px; }}
.cnnx-grid span.sel {{ background: rgba(255, 140, 26, 0.3); }}
.cnnx-red span {{ background: rgba(214, 39, 40, 0.12); }}
.cnnx-green span {{ background: rgba(44, 160, 44, 0.12); }}
.cnnx-blue span {{ background: rgba(31, 119, 180, 0.12); }}
.cnnx-kernels {{ display: flex; flex-wrap: wrap; gap: 0.6rem; }}
</style>
<p class="cnnx-reason" data-cnnx="nojs">The explorer's script has not run: in Jupyter, trust the
notebook or run this cell again (scripts run only in trusted notebooks).</p>
<div class="cnnx-controls">
<label class="cnnx-field"><span>Input</span><select data-cnnx="image">{image_options}</select></label>
{number("Stride s", "stride", stride)}
{number("Padding p (zeros)", "padding", padding)}
</div>
<p class="cnnx-formula" data-cnnx="formula"></p>
<div class="cnnx-panels">{inputs}</div>
<div class="cnnx-title">Weights: nn.Conv2d(3, 2, 3), one 3×3 slice per input channel</div>
<div class="cnnx-kernels" data-cnnx="kernels"></div>
<div class="cnnx-panels">{outputs}</div>
<div class="cnnx-details" data-cnnx="details" aria-live="polite"></div>
<script type="application/json" class="cnnx-data">{blob}</script>
<script>(function () {{
{js}
cnnxChannelsInit(document.getElementById("{root_id}"));
}})();</script>
</div>"""
    return ChannelsExplorer(html=html, images=imgs, weight=weight, bias=bias)
