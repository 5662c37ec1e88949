"""The convolution explorer: change the kernel, stride, padding and dilation, watch the output.

:func:`convolution_explorer` returns a display object; a notebook cell that ends with it shows
the explorer (its ``_repr_html_`` is stored as the cell's ``text/html`` output), so it works in
Jupyter, in Colab and on the static website, offline. It is plain HTML, CSS and JavaScript
(``convolution.js`` and ``convolution.css`` next to this file, inlined), with the input images
and kernels embedded as JSON; several explorers on one page do not interfere (each has its own
id and its script only touches its own root element).

What the reader can set, each with a labelled native control: the input image, the operation
(convolution, max pooling, average pooling), the kernel (every named kernel of
:mod:`cnnlib.kernels` or weights typed into the kernel grid), the pooling window size, stride,
padding size and mode (``zeros``, ``reflect``, ``replicate``, ``circular``, as ``F.pad``
defines them) and dilation. The page shows the padded input, the output map, the output-size
formula with the current numbers and, for the output pixel under the pointer (or focused with
the keyboard), its window and the products and sum (or the max, or the mean) that make it.
Configurations PyTorch rejects show why, in the words of :func:`rejection`.

Test hook: the root element (``div.cnnx``) carries ``root.explorer`` with

- ``state()``: the configuration the page read from its controls: ``image`` (label), ``size``,
  ``operation``, ``kernel`` (name), ``weights`` (rows), ``kernel_size``, ``stride``,
  ``padding``, ``padding_mode``, ``dilation``, ``out_size`` (``null`` when rejected),
  ``reason`` (``null`` or the text shown) and ``selected`` (``[row, col]`` or ``null``);
- ``output()``: the output map as rows of numbers (``null`` when rejected);
- ``padded()``: the padded input as rows of numbers (max pooling pads with ``-Infinity``).

Tests set the configuration through the controls, as a reader does, and read the result here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from html import escape
from importlib import resources

import numpy as np
import torch

from cnnlib import kernels as _kernels
from cnnlib.check import int_at_least, int_in_range

OPERATIONS = {"conv": "convolution", "max_pool": "max pooling", "avg_pool": "average pooling"}
"""The operations the explorer offers: value -> label."""
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
"""Padding modes of a convolution, as ``nn.Conv2d(padding_mode=...)`` names them."""
LIMITS = {"stride": (1, 8), "padding": (0, 8), "dilation": (1, 8), "pool_size": (1, 8)}
"""The range each whole-number control accepts (inclusive)."""
MIN_SIZE, MAX_SIZE = 3, 64  # input images are square, 3x3 to 64x64 pixels
MAX_KERNEL = 7

_KERNEL_LABELS = {
    "identity": "identity",
    "box_blur": "box blur",
    "gaussian": "gaussian (σ = 1)",
    "sharpen": "sharpen",
    "sobel_x": "Sobel x",
    "sobel_y": "Sobel y",
    "laplacian": "Laplacian",
    "outline": "outline",
    "emboss": "emboss",
}
_CUSTOM = "custom"
_OUTPUT_LABEL = ("Output map: hover or tap a pixel, or focus it and use the arrow keys, to see how "
                 "it is computed")
_DEFAULT_CUSTOM = [[1.0, 0.0, -1.0], [1.0, 0.0, -1.0], [1.0, 0.0, -1.0]]  # Prewitt x, to edit


# --------------------------------------------------------------------------- rejections


def rejection(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
              padding_mode: str = "zeros", operation: str = "conv") -> str | None:
    """Why PyTorch rejects this configuration, in the words the explorer shows; None if it runs.

    ``operation`` is ``"conv"`` (``F.conv2d``, with ``F.pad(mode=padding_mode)`` for the modes
    other than zeros), ``"max_pool"`` (``F.max_pool2d``) or ``"avg_pool"`` (``F.avg_pool2d``,
    which has no dilation; pass 1). Pooling pads implicitly (``padding_mode`` is ignored) and
    allows at most ``kernel_size // 2``; ``reflect`` needs ``padding < size``; ``circular``
    allows ``padding <= size``; and the (dilated) kernel must fit in the padded input.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}, got {operation!r}.")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {', '.join(PADDING_MODES)}, got {padding_mode!r}.")
    for name, value in [("size", size), ("kernel_size", kernel_size), ("stride", stride),
                        ("dilation", dilation)]:
        int_at_least(name, value)
    int_at_least("padding", padding, 0)
    n, k, p, d = size, kernel_size, padding, dilation
    pool = operation != "conv"
    if pool and p > k // 2:
        return (f"padding {p} is more than half the pooling window {k}: torch's pooling pads "
                f"at most ⌊{k}/2⌋ = {k // 2} on each side.")
    if not pool and padding_mode == "reflect" and p >= n:
        return (f"reflect padding {p} is not less than the input size {n}: reflection mirrors "
                f"the {n - 1} pixels next to each edge (the edge itself is not repeated), so "
                f"use padding ≤ {n - 1} or another mode.")
    if not pool and padding_mode == "circular" and p > n:
        return (f"circular padding {p} is more than the input size {n}: it would wrap around "
                f"the image more than once; use padding ≤ {n}.")
    span = d * (k - 1) + 1
    padded = n + 2 * p
    if span > padded:
        what = "pooling window" if pool else "kernel"
        extent = f"dilated {span}" if d > 1 else f"{k}×{k}"
        return (f"the {what} ({extent}) is larger than the padded input {padded} "
                f"({n} + 2·{p}): use more padding, a smaller {what}"
                + (" or less dilation." if d > 1 else "."))
    return None


# --------------------------------------------------------------------------- inputs


def _area_mean(a: np.ndarray, f: int) -> np.ndarray:
    h, w = a.shape
    return a[: h // f * f, : w // f * f].reshape(h // f, f, w // f, f).mean(axis=(1, 3))


@cache
def _default_images() -> dict[str, np.ndarray]:
    from cnnlib import data

    numbers = np.array([
        [1, 1, 1, 1, 5, 5, 5],
        [1, 1, 1, 1, 5, 5, 5],
        [1, 1, 9, 1, 5, 5, 5],
        [1, 1, 1, 1, 5, 5, 5],
        [1, 1, 1, 1, 5, 5, 5],
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ], dtype=np.float32)
    digit = data.mnist("test").images[0, 0].numpy()  # a 7
    camera = _area_mean(data.sample_image("camera").astype(np.float64), 8)[4:36, 12:44]
    cat = _area_mean(data.sample_image("chelsea").astype(np.float64).mean(axis=2), 8)[2:34, 10:42]
    as_unit = [np.round(a).astype(np.float32) / 255 for a in (digit, camera, cat)]
    return {
        "numbers 7×7": numbers,
        "MNIST digit 28×28": as_unit[0],
        "photo 32×32 (cameraman)": as_unit[1],
        "photo 32×32 (cat)": as_unit[2],
    }


def _as_image(name: str, value: object) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    a = np.asarray(value)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or not MIN_SIZE <= a.shape[0] <= MAX_SIZE:
        raise ValueError(
            f"Image {name!r} must be a square 2-D grayscale array between {MIN_SIZE}×{MIN_SIZE} "
            f"and {MAX_SIZE}×{MAX_SIZE}, got shape {a.shape}; crop or resize it, and for an RGB "
            "image take the channel mean (img.mean(axis=-1))."
        )
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255
    if not (np.issubdtype(a.dtype, np.number) and np.isfinite(a).all()) or np.iscomplexobj(a):
        raise ValueError(f"Image {name!r} must hold finite real numbers, got dtype {a.dtype}.")
    return a.astype(np.float32)


def _encode_image(a: np.ndarray) -> dict:
    """Pixels as compact JSON: integers over a scale when that is exact, else floats."""
    for scale in (1, 255):
        q = np.round(a.astype(np.float64) * scale)
        if np.array_equal((q / scale).astype(np.float32), a):
            return {"size": a.shape[0], "scale": scale, "values": q.astype(np.int64).ravel().tolist()}
    return {"size": a.shape[0], "scale": 1, "values": [float(v) for v in a.ravel()]}


def _as_kernel(value: object) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        k = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"custom_kernel must be a square grid of numbers, got {value!r}.") from exc
    if k.ndim != 2 or k.shape[0] != k.shape[1] or not 1 <= k.shape[0] <= MAX_KERNEL:
        raise ValueError(
            f"custom_kernel must be a square 2-D grid, 1×1 to {MAX_KERNEL}×{MAX_KERNEL}, got shape "
            f"{k.shape}; e.g. [[1, 0, -1], [1, 0, -1], [1, 0, -1]]."
        )
    if not np.isfinite(k).all():
        raise ValueError("custom_kernel must hold finite numbers (no NaN or infinity).")
    return k.astype(np.float32)


# --------------------------------------------------------------------------- the widget


@dataclass(frozen=True, repr=False)
class ConvolutionExplorer:
    """The explorer as a display object: a notebook shows ``html`` (via ``_repr_html_``).

    ``images`` and ``kernels`` are the float32 arrays the page computes with (label -> array),
    so a test can compute the same outputs with PyTorch.
    """

    html: str
    images: dict[str, np.ndarray] = field(default_factory=dict)
    kernels: dict[str, np.ndarray] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return (f"ConvolutionExplorer(images={list(self.images)}, "
                f"{len(self.html.encode()) // 1024} KB of HTML; show it in a notebook cell)")


def _options(pairs: list[tuple[str, str]], selected: str) -> str:
    return "".join(
        f'<option value="{escape(v)}"{" selected" if v == selected else ""}>{escape(label)}</option>'
        for v, label in pairs
    )


def _number(name: str, key: str, value: int, extra: str = "") -> str:
    lo, hi = LIMITS[key]
    return (f'<label class="cnnx-field"{extra}><span>{name}</span><input type="number" '
            f'data-cnnx="{key}" min="{lo}" max="{hi}" step="1" value="{value}" inputmode="numeric">'
            "</label>")


def convolution_explorer(
    images: Mapping[str, object] | None = None,
    *,
    image: str | None = None,
    operation: str = "conv",
    kernel: str = "sobel_x",
    custom_kernel: object | None = None,
    stride: int = 1,
    padding: int = 1,
    padding_mode: str = "zeros",
    dilation: int = 1,
    pool_size: int = 2,
) -> ConvolutionExplorer:
    """An interactive convolution and pooling explorer that runs in the reader's browser.

    ``images`` maps labels to square grayscale images (NumPy arrays or tensors, 3×3 to 64×64;
    uint8 is divided by 255, floats are used as they are); by default a 7×7 grid of small
    numbers, an MNIST test digit and 32×32 crops of two photos (skimage's camera and chelsea,
    downsampled 8×). The other arguments set the controls' starting values: ``image`` (a label
    of ``images``, default the first), ``operation`` (``"conv"``, ``"max_pool"``,
    ``"avg_pool"``), ``kernel`` (a name in :data:`cnnlib.kernels.KERNELS` or ``"custom"``),
    ``custom_kernel`` (the starting weights of the editable kernel, default a 3×3 Prewitt x),
    ``stride``, ``padding``, ``padding_mode``, ``dilation`` and ``pool_size`` (the pooling
    window). The starting configuration must be one PyTorch accepts.

    In a notebook: ``explore.convolution_explorer()`` as the last line of a cell.
    """
    raw = dict(_default_images()) if images is None else dict(images)
    if not raw:
        raise ValueError("images is empty: pass at least one image, or None for the defaults.")
    for label in raw:
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"Image labels must be non-empty strings, got {label!r}.")
    imgs = {label: _as_image(label, a) for label, a in raw.items()}
    if image is None:
        image = next(iter(imgs))
    if image not in imgs:
        raise ValueError(f"image must be one of the labels {list(imgs)}, got {image!r}.")
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}, got {operation!r}.")
    if kernel != _CUSTOM and kernel not in _kernels.KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(_kernels.KERNELS)} or 'custom', got {kernel!r}.")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {', '.join(PADDING_MODES)}, got {padding_mode!r}.")
    for name, value in [("stride", stride), ("padding", padding), ("dilation", dilation),
                        ("pool_size", pool_size)]:
        int_in_range(name, value, *LIMITS[name])
    custom = _as_kernel(_DEFAULT_CUSTOM if custom_kernel is None else custom_kernel)

    named = {name: _kernels.get(name).numpy() for name in _kernels.KERNELS}
    kernel_arrays = {**named, _CUSTOM: custom}
    size = imgs[image].shape[0]
    if operation == "conv":
        k, d = kernel_arrays[kernel].shape[0], dilation
    else:
        k, d = pool_size, dilation if operation == "max_pool" else 1
    reason = rejection(size, k, stride, padding, d, padding_mode, operation)
    if reason is not None:
        raise ValueError(f"The starting configuration is one PyTorch rejects: {reason}")

    root_id = f"cnnx-{uuid.uuid4().hex[:12]}"
    payload = {
        "images": [{"label": label, **_encode_image(a)} for label, a in imgs.items()],
        "kernels": [{"name": name, "size": int(a.shape[0]), "weights": [float(v) for v in a.ravel()]}
                    for name, a in kernel_arrays.items()],
        "limits": LIMITS,
    }
    blob = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    here = resources.files("cnnlib.explore")
    js = here.joinpath("convolution.js").read_text(encoding="utf-8")
    css = here.joinpath("convolution.css").read_text(encoding="utf-8")

    image_options = _options([(str(i), label) for i, label in enumerate(imgs)],
                             str(list(imgs).index(image)))
    kernel_options = _options(
        [(name, f"{_KERNEL_LABELS.get(name, name)} {a.shape[0]}×{a.shape[0]}") for name, a in named.items()]
        + [(_CUSTOM, "custom (type the weights)")], kernel)
    op_options = _options(list(OPERATIONS.items()), operation)
    mode_options = _options([(m, m) for m in PADDING_MODES], padding_mode)
    html = f"""<div class="cnnx" id="{root_id}">
<style>{css}</style>
<p class="cnnx-reason" data-cnnx="nojs">The explorer's script has not run: in Jupyter, trust the
notebook or run this cell again (scripts run only in trusted notebooks).</p>
<div class="cnnx-controls">
<label class="cnnx-field"><span>Input</span>
<select data-cnnx="image">{image_options}</select></label>
<label class="cnnx-field"><span>Operation</span>
<select data-cnnx="op">{op_options}</select></label>
<label class="cnnx-field" data-cnnx-show="conv"><span>Kernel</span>
<select data-cnnx="kernel">{kernel_options}</select></label>
{_number("Window size k", "pool_size", pool_size, ' data-cnnx-show="pool"')}
{_number("Stride s", "stride", stride)}
{_number("Padding p", "padding", padding)}
<label class="cnnx-field"><span>Padding mode</span>
<select data-cnnx="mode">{mode_options}</select></label>
{_number("Dilation d", "dilation", dilation)}
</div>
<fieldset class="cnnx-weights" data-cnnx-show="conv">
<legend>Kernel weights (type to make your own)</legend>
<div class="cnnx-wgrid" data-cnnx="weights"></div></fieldset>
<p class="cnnx-formula" data-cnnx="formula"></p>
<p class="cnnx-reason" data-cnnx="reason" role="alert" hidden></p>
<p class="cnnx-note" data-cnnx="note"></p>
<div class="cnnx-panels">
<div class="cnnx-panel"><div class="cnnx-title" data-cnnx="in-title">Padded input</div>
<canvas data-cnnx="in-canvas" role="img" aria-label="The padded input"></canvas></div>
<div class="cnnx-panel"><div class="cnnx-title" data-cnnx="out-title">Output</div>
<canvas data-cnnx="out-canvas" tabindex="0" aria-label="{_OUTPUT_LABEL}"></canvas>
<div class="cnnx-legend" data-cnnx="legend"></div></div>
</div>
<div class="cnnx-details" data-cnnx="details" aria-live="polite"></div>
<script type="application/json" class="cnnx-data">{blob}</script>
<script>(function () {{
{js}
cnnxInit(document.getElementById("{root_id}"));
}})();</script>
</div>"""
    return ConvolutionExplorer(html=html, images=imgs, kernels=kernel_arrays)
