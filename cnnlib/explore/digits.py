"""Draw a digit, watch the CNN think: a trained MNIST network running in the reader's browser.

:func:`draw_digit` exports a trained ``nn.Sequential`` (batch norm folded into the convolution
before it) into a self-contained HTML widget: the reader draws a digit with the mouse, a pen
or a finger, the page preprocesses the drawing the way MNIST was made (:func:`mnist_style`),
runs the network in JavaScript and shows the 28×28 input, the ten class probabilities and
every layer's feature maps as the drawing changes.

The Python here is the single source of truth: :func:`mnist_style` is the preprocessing the
page repeats step for step, and :func:`run_layers` runs the exported (folded) network with
PyTorch. The tests draw strokes in headless Chromium and compare the page's numbers with them.
"""

from __future__ import annotations

import base64
import html
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from cnnlib import check
from cnnlib.check import flag, int_pair
from cnnlib.shapes import conv_out, sequential_layers

MNIST_MEAN = 0.13066047430038452
"""Mean pixel value of the 60,000 MNIST training digits (in [0, 1]): the chapter's normalisation."""

MNIST_STD = 0.30810779333114624
"""Standard deviation of the MNIST training pixels: ``cnnlib.images.channel_stats`` of them."""

FRAME = 28  # MNIST's image size
BOX = 20  # MNIST scaled each digit to fit a BOX x BOX box, then centred it by mass in the FRAME
CENTRE = 14  # the pixel (row and column index) where MNIST's digits have their centre of mass
TIE = 1e-9  # rounds a centre of mass that lies exactly half-way the same way in Python and JS

SUPPORTED = (
    "nn.Sequential (nested ones too), nn.Conv2d (zero padding, groups=1), nn.BatchNorm2d "
    "(with running statistics), nn.ReLU, nn.MaxPool2d, nn.AvgPool2d, nn.Flatten, nn.Linear, "
    "nn.Dropout and nn.Identity"
)


# --------------------------------------------------------------------------- preprocessing


def _ink(image: object) -> np.ndarray:
    """``image`` as a float64 (H, W) array of ink in [0, 1]; ValueError for anything else."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    if not isinstance(image, np.ndarray):
        raise ValueError(
            f"mnist_style expects a 2-D NumPy array or torch.Tensor (H, W) of ink, got "
            f"{type(image).__name__}; convert it with np.asarray(image)."
        )
    if image.ndim != 2:
        raise ValueError(
            f"mnist_style expects one grayscale image (H, W), got shape {image.shape}; "
            "squeeze the channel dimension (image[0] or image.squeeze()) first."
        )
    if image.dtype == np.uint8:
        return image.astype(np.float64) / 255
    if image.dtype == np.bool_:
        return image.astype(np.float64)
    if not np.issubdtype(image.dtype, np.floating):
        raise ValueError(
            f"mnist_style expects uint8 ink (0-255) or float ink in [0, 1], got dtype {image.dtype}; "
            "convert it with image.astype(np.uint8) or image / 255."
        )
    ink = image.astype(np.float64)
    if not np.isfinite(ink).all() or ink.min(initial=0) < 0 or ink.max(initial=0) > 1:
        raise ValueError(
            "mnist_style expects float ink in [0, 1] (0: paper, 1: full ink), got values from "
            f"{ink.min()} to {ink.max()}; rescale it (e.g. image / 255), and use "
            "1 - image for dark ink on white paper."
        )
    return ink


def _overlaps(n_in: int, n_out: int) -> list[tuple[int, list[float]]]:
    """Area weights that resample ``n_in`` pixels to ``n_out`` (one axis).

    Source pixel ``x`` covers ``[x*n_out/n_in, (x+1)*n_out/n_in)`` in
    output pixels; output pixel ``i`` adds the source pixels weighted by
    how much of ``[i, i+1)`` each covers (a box filter: anti-aliased).
    For each output pixel: its first source pixel and the weights of
    that one and the next ones.
    """
    rows = []
    for i in range(n_out):
        first = (i * n_in) // n_out
        last = ((i + 1) * n_in + n_out - 1) // n_out - 1
        weights = []
        for x in range(first, last + 1):
            start, end = x * n_out / n_in, (x + 1) * n_out / n_in
            weights.append(min(i + 1, end) - max(i, start))
        rows.append((first, weights))
    return rows


def mnist_style(image: object) -> np.ndarray:
    """Preprocess a drawing as MNIST's digits were made: (28, 28) in [0, 1].

    ``image`` is one grayscale drawing (H, W) of any size, as ink (uint8
    0-255 or float in [0, 1]; 0 is blank paper). As LeCun et al. describe
    MNIST:

    1. crop to the bounding box of the ink (the pixels above 0);
    2. scale it so that its longer side is 20 pixels, keeping the aspect
       ratio (the shorter side rounded to whole pixels), by area averaging:
       each new pixel is the mean ink of the area it covers (anti-aliased);
    3. paste it into a 28×28 frame, moved by whole pixels so that its
       centre of mass lands as near as it can to pixel (14, 14), where
       MNIST's digits have theirs (real MNIST digits come out unchanged).

    The draw-a-digit page does the same float64 operations in the same
    order in JavaScript, so the two agree to the last bit. Returns float64.
    """
    ink = _ink(image)
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    if rows.size == 0:
        raise ValueError("mnist_style: the image has no ink (every pixel "
                         "is 0); draw a digit first.")
    cols = np.flatnonzero(ink.max(axis=0) > 0)
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    longer = max(h, w)
    # round(BOX * side / longer) with halves up, in integers (as in JS)
    nh = max(1, (2 * BOX * h + longer) // (2 * longer))
    nw = max(1, (2 * BOX * w + longer) // (2 * longer))

    # Resample the rows, then the columns, adding the weighted source
    # lines in order (the page adds them in the same order).
    tall = np.zeros((nh, w))
    for i, (first, weights) in enumerate(_overlaps(h, nh)):
        acc = np.zeros(w)
        for k, wt in enumerate(weights):
            acc = acc + wt * crop[first + k]
        tall[i] = acc
    small = np.zeros((nh, nw))
    for j, (first, weights) in enumerate(_overlaps(w, nw)):
        acc = np.zeros(nh)
        for k, wt in enumerate(weights):
            acc = acc + wt * tall[:, first + k]
        small[:, j] = acc

    # Centre of mass in pixel indices, summed in the page's order.
    mass = cy = cx = 0.0
    grid = small.tolist()
    for i in range(nh):
        row_sum = 0.0
        for j in range(nw):
            row_sum += grid[i][j]
        mass += row_sum
        cy += i * row_sum
    for j in range(nw):
        col_sum = 0.0
        for i in range(nh):
            col_sum += grid[i][j]
        cx += j * col_sum
    cy, cx = cy / mass, cx / mass
    top = math.floor(CENTRE - cy + 0.5 + TIE)
    left = math.floor(CENTRE - cx + 0.5 + TIE)

    out = np.zeros((FRAME, FRAME))
    r0, r1 = max(0, top), min(FRAME, top + nh)
    c0, c1 = max(0, left), min(FRAME, left + nw)
    out[r0:r1, c0:c1] = small[r0 - top:r1 - top, c0 - left:c1 - left]
    return out


def normalize(image28: np.ndarray, mean: float = MNIST_MEAN,
              std: float = MNIST_STD) -> torch.Tensor:
    """A 28×28 image in [0, 1] as the network reads it: a float32 tensor
    (1, 1, 28, 28) of ``(image - mean) / std``, computed in float64 and
    rounded once, as the page does."""
    check.instance("image28", image28, (np.ndarray, torch.Tensor, list), "a 28x28 NumPy array or tensor")
    image28 = np.asarray(image28, dtype=np.float64)
    if image28.shape != (FRAME, FRAME):
        raise ValueError(f"normalize expects image28 as a 28x28 image, got shape "
                         f"{image28.shape}; use mnist_style first.")
    x = ((image28 - mean) / std).astype(np.float32)
    return torch.from_numpy(x).reshape(1, 1, FRAME, FRAME)


# --------------------------------------------------------------------------- exporting a network


def _unsupported(name: str, layer: nn.Module, why: str) -> ValueError:
    return ValueError(f"draw_digit cannot export {name} ({layer!r}): {why}. It supports {SUPPORTED}.")


def _padding(name: str, conv: nn.Conv2d) -> tuple[int, int]:
    if conv.padding_mode != "zeros":
        raise _unsupported(name, conv, f"padding_mode={conv.padding_mode!r} (only 'zeros')")
    if conv.padding == "valid":
        return (0, 0)
    if conv.padding == "same":
        spans = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size, strict=True)]
        if any(s % 2 for s in spans):
            raise _unsupported(name, conv, "padding='same' with an even kernel (uneven padding)")
        return (spans[0] // 2, spans[1] // 2)
    return int_pair("padding", conv.padding, 0)


Shape = tuple[int, ...]
Exported = tuple[dict[str, Any], Shape]


def _export_conv(name: str, conv: nn.Conv2d, shape: Shape) -> Exported:
    """A convolution; its weight and bias stay float64 so that a batch norm can be folded in."""
    if conv.groups != 1:
        raise _unsupported(name, conv, f"groups={conv.groups} (only groups=1)")
    if conv.in_channels != shape[0]:
        raise _unsupported(name, conv, f"its input has {shape[0]} channels, not {conv.in_channels}")
    pad = _padding(name, conv)
    stride, dil = int_pair("stride", conv.stride), int_pair("dilation", conv.dilation)
    weight = conv.weight.detach().cpu().double()
    bias = (conv.bias.detach().cpu().double() if conv.bias is not None
            else torch.zeros(conv.out_channels, dtype=torch.float64))
    h, w = (conv_out(shape[d + 1], conv.kernel_size[d], stride[d], pad[d], dil[d]) for d in (0, 1))
    return ({"kind": "conv", "name": name, "folded": [], "weight": weight, "bias": bias,
             "stride": stride, "padding": pad, "dilation": dil}, (conv.out_channels, h, w))


def _fold_batch_norm(conv: dict[str, Any], name: str, bn: nn.BatchNorm2d) -> None:
    """Fold ``bn`` into the exported convolution ``conv`` before it (in float64)."""
    scale, shift = _bn_affine(name, bn, conv["weight"].shape[0])
    conv["weight"] = conv["weight"] * scale.reshape(-1, 1, 1, 1)
    conv["bias"] = conv["bias"] * scale + shift
    conv["folded"].append(name)


def _export_batch_norm(name: str, bn: nn.BatchNorm2d, shape: Shape) -> Exported:
    scale, shift = _bn_affine(name, bn, shape[0])
    return {"kind": "affine", "name": name, "scale": scale, "shift": shift}, shape


def _export_relu(name: str, relu: nn.ReLU, shape: Shape) -> Exported:
    return {"kind": "relu", "name": name}, shape


def _export_pool(name: str, pool: nn.MaxPool2d | nn.AvgPool2d, shape: Shape) -> Exported:
    kernel, pad = int_pair("kernel_size", pool.kernel_size), int_pair("padding", pool.padding, 0)
    stride = int_pair("stride", pool.stride if pool.stride not in (None, ()) else pool.kernel_size)
    if pool.ceil_mode:
        raise _unsupported(name, pool, "ceil_mode=True")
    entry: dict[str, Any] = {"name": name, "kernel": kernel, "stride": stride, "padding": pad}
    if isinstance(pool, nn.MaxPool2d):
        if int_pair("dilation", pool.dilation) != (1, 1) or pool.return_indices:
            raise _unsupported(name, pool, "dilation or return_indices")
        entry["kind"] = "maxpool"
    else:
        if pool.divisor_override is not None:
            raise _unsupported(name, pool, "divisor_override")
        entry.update(kind="avgpool", count_include_pad=bool(pool.count_include_pad))
    if any(p > k // 2 for p, k in zip(pad, kernel, strict=True)):
        raise _unsupported(name, pool, "padding larger than half the kernel")
    h, w = (conv_out(shape[d + 1], kernel[d], stride[d], pad[d]) for d in (0, 1))
    return entry, (shape[0], h, w)


def _export_flatten(name: str, flatten: nn.Flatten, shape: Shape) -> Exported:
    if flatten.start_dim != 1 or flatten.end_dim != -1:
        raise _unsupported(name, flatten, "start_dim/end_dim other than 1/-1")
    return {"kind": "flatten", "name": name}, (int(np.prod(shape)),)


def _export_linear(name: str, linear: nn.Linear, shape: Shape) -> Exported:
    if len(shape) == 3:
        raise _unsupported(name, linear, f"its input has shape {shape}; put nn.Flatten() before it")
    if linear.in_features != shape[0]:
        raise _unsupported(name, linear, f"its input has {shape[0]} features, not {linear.in_features}")
    bias = linear.bias if linear.bias is not None else torch.zeros(linear.out_features)
    return ({"kind": "linear", "name": name, "weight": linear.weight.detach().cpu(),
             "bias": bias.detach().cpu()}, (linear.out_features,))


EXPORTERS: dict[type[nn.Module], Callable[[str, Any, Shape], Exported]] = {
    nn.Conv2d: _export_conv,
    nn.BatchNorm2d: _export_batch_norm,
    nn.ReLU: _export_relu,
    nn.MaxPool2d: _export_pool,
    nn.AvgPool2d: _export_pool,
    nn.Flatten: _export_flatten,
    nn.Linear: _export_linear,
}
"""How :func:`export_layers` exports each layer type: ``(name, layer, input shape)`` ->
``(layer as plain data, output shape)``, raising ValueError for settings the page lacks."""

DROPPED = (nn.Dropout, nn.Dropout2d, nn.Identity)
"""Layers that do nothing in eval mode: :func:`export_layers` leaves them out."""

SPATIAL = (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d)
"""Layers that need an input (C, H, W), so they cannot come after nn.Flatten."""


def _index(path: tuple[str, ...]) -> str:
    """How to reach the layer at ``path`` from ``model``: ``model[0][2]``, ``model.conv1``."""
    return "model" + "".join(f"[{k}]" if k.isdigit() else f".{k}" for k in path)


def export_layers(model: nn.Module,
                  in_shape: tuple[int, int, int] = (1, FRAME, FRAME)) -> list[dict[str, Any]]:
    """The network the page runs: ``model``'s layers in order, batch norm folded, as plain data.

    ``model`` is an ``nn.Sequential`` (nested ones allowed) of the layers in :data:`SUPPORTED`.
    A ``BatchNorm2d`` right after a ``Conv2d`` is folded into it with its running statistics
    (what the model computes in eval mode): the kernels of output channel ``c`` are scaled by
    ``gamma_c / sqrt(var_c + eps)`` and its bias becomes ``(bias_c - mean_c) * gamma_c /
    sqrt(var_c + eps) + beta_c``, computed in float64, stored in float32. Any other
    ``BatchNorm2d`` becomes a per-channel scale and shift. Dropout and Identity are dropped
    (eval mode). The model is not modified. Each layer type is exported by its entry in
    :data:`EXPORTERS`.

    Each layer is a dict with ``kind`` (conv, affine, relu, maxpool, avgpool, flatten, linear),
    ``name`` (how to index it in ``model``, e.g. ``model[0][2]``), the output ``shape`` for an
    input of ``in_shape``, ``show`` (whether the page draws its output as feature maps: after
    each ReLU or pooling that is not followed by another ReLU or pooling), and its float32
    arrays and settings. Raises ValueError for anything else, naming the layer.
    """
    if not isinstance(model, nn.Sequential):
        raise ValueError(
            f"draw_digit needs the network as an nn.Sequential, got {type(model).__name__} as model; it "
            f"supports {SUPPORTED}."
        )
    layers: list[dict[str, Any]] = []
    shape: Shape = tuple(in_shape)
    previous = None
    for path, layer in sequential_layers(model):
        name, follows_conv, previous = _index(path), isinstance(previous, nn.Conv2d), layer
        if isinstance(layer, DROPPED):
            continue
        if isinstance(layer, SPATIAL) and len(shape) != 3:
            raise _unsupported(name, layer, f"it comes after nn.Flatten (its input has shape {shape})")
        if isinstance(layer, nn.BatchNorm2d) and follows_conv:
            _fold_batch_norm(layers[-1], name, layer)
            continue
        exporter = next((f for kind, f in EXPORTERS.items() if isinstance(layer, kind)), None)
        if exporter is None:
            raise _unsupported(name, layer, f"{type(layer).__name__} is not a supported layer")
        entry, shape = exporter(name, layer, shape)
        layers.append({**entry, "shape": shape})
    if len(shape) != 1:
        raise ValueError(
            f"draw_digit needs a network that ends with one score per class, shape (n,), but this one "
            f"ends with shape {shape}; add nn.Flatten() at the end. It supports {SUPPORTED}."
        )
    spatial_kinds = ("relu", "maxpool", "avgpool")
    for k, layer in enumerate(layers):
        for key, value in layer.items():  # float64 (folded) and parameters -> float32 arrays
            if isinstance(value, torch.Tensor):
                layer[key] = value.float().numpy()
        nxt = layers[k + 1]["kind"] if k + 1 < len(layers) else None
        layer["show"] = (layer["kind"] in spatial_kinds and len(layer["shape"]) == 3
                         and layer["shape"][1] * layer["shape"][2] > 1 and nxt not in spatial_kinds)
    return layers


def _bn_affine(name: str, bn: nn.BatchNorm2d, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch norm in eval mode as ``x * scale + shift`` per channel (float64)."""
    if bn.running_mean is None or bn.running_var is None:
        raise _unsupported(name, bn, "it has no running statistics (track_running_stats=False)")
    if bn.num_features != channels:
        raise _unsupported(name, bn, f"its input has {channels} channels, not {bn.num_features}")
    gamma = bn.weight.detach().cpu().double() if bn.affine else torch.ones(channels, dtype=torch.float64)
    beta = bn.bias.detach().cpu().double() if bn.affine else torch.zeros(channels, dtype=torch.float64)
    scale = gamma / torch.sqrt(bn.running_var.detach().cpu().double() + bn.eps)
    return scale, beta - bn.running_mean.detach().cpu().double() * scale


def run_layers(layers: list[dict[str, Any]], x: torch.Tensor,
               maps: bool = False) -> torch.Tensor | tuple[torch.Tensor, list[tuple[str, torch.Tensor]]]:
    """Run :func:`export_layers`' network on ``x`` (N, C, H, W) with PyTorch, in float32.

    What the page computes, as a reference: the folded network equals the model in eval mode.
    With ``maps=True`` also return the (name, output) of each layer the page shows.
    """
    if not isinstance(layers, list) or not all(isinstance(e, dict) and "kind" in e for e in layers):
        raise TypeError(f"layers must be the list export_layers returns, got {type(layers).__name__}.")
    check.tensor("x", x, "N, C, H, W")
    shown = []
    for layer in layers:
        kind = layer["kind"]
        if kind == "conv":
            x = F.conv2d(x, torch.from_numpy(layer["weight"]), torch.from_numpy(layer["bias"]),
                         layer["stride"], layer["padding"], layer["dilation"])
        elif kind == "affine":
            scale, shift = (torch.from_numpy(layer[k]).reshape(-1, 1, 1) for k in ("scale", "shift"))
            x = x * scale + shift
        elif kind == "relu":
            x = F.relu(x)
        elif kind == "maxpool":
            x = F.max_pool2d(x, layer["kernel"], layer["stride"], layer["padding"])
        elif kind == "avgpool":
            x = F.avg_pool2d(x, layer["kernel"], layer["stride"], layer["padding"],
                             count_include_pad=layer["count_include_pad"])
        elif kind == "flatten":
            x = x.flatten(1)
        elif kind == "linear":
            x = F.linear(x, torch.from_numpy(layer["weight"]), torch.from_numpy(layer["bias"]))
        else:
            raise ValueError(f"run_layers: unknown layer kind {kind!r}; pass the output of export_layers.")
        if layer.get("show"):
            shown.append((layer["name"], x))
    return (x, shown) if maps else x


# --------------------------------------------------------------------------- the widget


def _asset(name: str) -> str:
    return resources.files("cnnlib.explore").joinpath(name).read_text(encoding="utf-8")


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _sample_digits() -> tuple[np.ndarray, list[int]]:
    """The first MNIST test digit of each class 0-9: uint8 (10, 28, 28) and their labels."""
    from cnnlib import data

    test = data.mnist("test")
    index = [int(torch.nonzero(test.labels == c)[0]) for c in range(10)]
    return test.images[index, 0].numpy(), [int(test.labels[i]) for i in index]


@dataclass
class DigitWidget:
    """The draw-a-digit widget: display it in a notebook (``_repr_html_``) or save ``html``."""

    html: str
    layers: int
    weights: int
    samples: int

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return (f"DigitWidget({self.layers} layers, {self.weights} float32 weights, "
                f"{self.samples} sample digits, {len(self.html) // 1024} KB of HTML)")


def draw_digit(model: nn.Module, classes: list[str] | None = None, mean: float = MNIST_MEAN,
               std: float = MNIST_STD, samples: bool = True) -> DigitWidget:
    """A widget in which the reader draws a digit and ``model`` classifies it, in the browser.

    ``model`` is a trained ``nn.Sequential`` that reads (N, 1, 28, 28) MNIST digits normalised
    with ``mean`` and ``std`` (default: the MNIST training set's, as the chapter's loaders) and
    returns (N, n) scores; it is exported by :func:`export_layers` (batch norm folded, eval-mode
    statistics; the model itself is not changed). ``classes`` names the n outputs (default:
    "0"-"9"). With ``samples`` the page offers the first MNIST test digit of each class as
    buttons, so the widget works from the keyboard too.

    The page preprocesses a drawing with :func:`mnist_style` (crop, scale into 20×20, centre by
    mass in 28×28), normalises it, runs the network in float64 JavaScript on float32 weights
    and shows the input, the probabilities and the feature maps after every ReLU or pooling.
    Plain HTML, CSS and JavaScript, no downloads: it works on the static site, in Jupyter and
    Colab, offline.

    For tests the root element (``.cnnlib-digits``) carries ``root.digits``: ``raw()`` (the
    drawing: width, height and the ink 0-255 of each pixel), ``image()`` (the 28×28 input in
    [0, 1]), ``input()`` (normalised, float32, what the network reads), ``logits()``,
    ``probabilities()``, ``maps()``, ``state()`` (all of these from one update), ``clear()``,
    ``sample(i)``, ``update()`` (recompute now) and ``pending()``.
    """
    layers = export_layers(model)
    n_out = layers[-1]["shape"][0]
    if classes is None:
        if n_out != 10:
            raise ValueError(f"The model has {n_out} outputs, not 10 digits: pass classes=[...] with "
                             f"{n_out} names.")
        classes = [str(c) for c in range(10)]
    if len(classes) != n_out or not all(isinstance(c, str) for c in classes):
        raise ValueError(f"classes must be {n_out} strings, one per output of the model, got {classes!r}.")
    check.number("mean", mean, "a number")
    if check.number("std", std, "a number") <= 0:
        raise ValueError(f"std must be positive, got {std!r}.")
    flag("samples", samples, " (True: offer real MNIST test digits as buttons)")

    buffers, offset, spec = [], 0, []
    for layer in layers:
        entry = {k: (list(v) if isinstance(v, tuple) else v) for k, v in layer.items()
                 if not isinstance(v, np.ndarray)}
        for key in ("weight", "bias", "scale", "shift"):
            if key in layer:
                array = layer[key].astype("<f4").ravel()
                entry[key] = [offset, array.size]
                buffers.append(array)
                offset += array.size
        if layer["kind"] == "conv":
            entry["kernel"] = list(layer["weight"].shape[2:])
        spec.append(entry)
    weights = np.concatenate(buffers) if buffers else np.zeros(0, "<f4")
    config: dict[str, Any] = {
        "layers": spec, "weights": _b64(weights), "classes": classes, "mean": float(mean),
        "std": float(std), "frame": FRAME, "box": BOX, "centre": CENTRE, "tie": TIE, "samples": [],
    }
    if samples:
        digits, labels = _sample_digits()
        config["samples"] = [{"label": classes[y] if n_out == 10 else str(y), "pixels": _b64(d)}
                             for d, y in zip(digits, labels, strict=True)]

    uid = f"cnnlib-digits-{uuid.uuid4().hex[:12]}"
    labels = [html.escape(s["label"]) for s in config["samples"]]
    buttons = "".join(
        f'<button type="button" class="cd-sample" data-index="{k}" '
        f'aria-label="Load a real MNIST test digit: {label}">{label}</button>'
        for k, label in enumerate(labels)
    )
    sample_row = (
        f'<div class="cd-samples" role="group" aria-labelledby="{uid}-samples">'
        f'<span id="{uid}-samples" class="cd-note">Or load a real MNIST test digit:</span>'
        f'<span class="cd-buttons">{buttons}</span></div>' if buttons else ""
    )
    config_json = json.dumps(config).replace("</", "<\\/")  # cannot end the <script> early
    markup = f"""<div class="cnnlib-digits" id="{uid}">
<style>{_asset("digits.css")}</style>
<p class="cd-status cd-nojs">The widget's script has not run: in Jupyter, trust the notebook or
run this cell again (scripts run only in trusted notebooks).</p>
<div class="cd-top">
<div class="cd-draw">
<canvas class="cd-pad" width="280" height="280" role="img"
 aria-label="Drawing area: draw one digit with the mouse, a pen or a finger"></canvas>
<div class="cd-controls"><button type="button" class="cd-clear">Clear</button>
<span class="cd-note">Draw one digit, large, in the box.</span></div>
{sample_row}
</div>
<div class="cd-result">
<div class="cd-seen"><canvas class="cd-input" width="28" height="28" role="img"
 aria-label="The 28 by 28 input the network sees"></canvas>
<p class="cd-note">What the network sees: your drawing scaled into 20×20 and centred by its
mass in 28×28, as MNIST was made.</p></div>
<p class="cd-status" aria-live="polite">Draw a digit, or load one.</p>
<div class="cd-probs" role="list" aria-label="Class probabilities"></div>
</div>
</div>
<p class="cd-note cd-maps-note">Feature maps, layer by layer: one colour scale per layer,
dark purple for its weakest activation, yellow for its strongest.</p>
<div class="cd-maps"></div>
<script type="application/json" class="cd-config">{config_json}</script>
<script>(function () {{
{_asset("digits.js")}
cnnlibDigits(document.getElementById("{uid}"));
}})();</script>
</div>"""
    return DigitWidget(html=markup, layers=len(layers), weights=int(weights.size),
                       samples=len(config["samples"]))
