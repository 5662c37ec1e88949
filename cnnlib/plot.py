"""Figures the chapters share: image grids, kernels with their numbers, feature maps.

Every function accepts NumPy arrays or torch tensors, in HWC (NumPy/PIL/OpenCV) or CHW
(PyTorch) layout, and returns the matplotlib ``Figure`` so a notebook can adjust or save it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from cnnlib import check

ArrayLike = np.ndarray | torch.Tensor


def to_numpy_image(image: ArrayLike, name: str = "image") -> np.ndarray:
    """Return ``image`` as a NumPy array ready for ``imshow``: (H, W) or (H, W, C).

    A 3-D tensor or array whose first dimension is 1, 3 or 4 and last is not is taken as CHW
    and moved to HWC; a single channel is squeezed to (H, W). ``name`` is what an error calls it.
    """
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[0] in (1, 3, 4) and image.shape[-1] not in (1, 3, 4):
        image = image.transpose(1, 2, 0)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3):
        raise ValueError(
            f"Expected {name} to be one image of shape (H, W), (H, W, C) or (C, H, W); got shape "
            f"{image.shape}. "
            "Pass a batch as a list, or index it first (images[0])."
        )
    return image


def _grid(n: int, ncols: int | None, size: float) -> tuple[Figure, np.ndarray]:
    ncols = min(n, ncols or n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, axes.flat[:n]


def show_images(
    images: Sequence[ArrayLike] | ArrayLike,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    size: float = 3.0,
    cmap: str = "gray",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Figure:
    """Show images side by side, one per axis, without ticks.

    ``images`` is a list of images or a batch tensor (N, C, H, W). Grayscale images use
    ``cmap``; ``vmin``/``vmax`` fix its range (default: each image's own min and max).
    """
    if isinstance(images, (np.ndarray, torch.Tensor)) and images.ndim == 4:
        images = list(images)
    if isinstance(images, (np.ndarray, torch.Tensor)):
        images = [images]
    check.sequence("images", images, "a list of images or a batch tensor (N, C, H, W)")
    if len(images) == 0:
        raise ValueError("show_images needs at least one image.")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"Got {len(titles)} titles for {len(images)} images; pass one per image.")
    fig, axes = _grid(len(images), ncols, size)
    for i, (ax, image) in enumerate(zip(axes, images, strict=True)):
        ax.imshow(to_numpy_image(image, f"images[{i}]"), cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[i])
    fig.tight_layout()
    return fig


def show_kernel(kernel: ArrayLike, ax: plt.Axes | None = None, title: str | None = None,
                fmt: str = "{:.2g}") -> plt.Axes:
    """Draw a 2-D kernel as a diverging heatmap (zero is white) with each weight written in.

    Weights are written in black, and in white on the darkest cells (``|w|`` above 60% of the
    largest ``|w|``), so every number stays readable. ``fmt=""`` draws the colours only.
    """
    k = to_numpy_image(kernel, "kernel").astype(float)
    if k.ndim != 2:
        raise ValueError(f"show_kernel draws one 2-D kernel; got shape {k.shape}.")
    ax = ax or plt.subplots(figsize=(0.6 * k.shape[1] + 1, 0.6 * k.shape[0] + 1))[1]
    bound = float(np.abs(k).max()) or 1.0
    ax.imshow(k, cmap="RdBu_r", vmin=-bound, vmax=bound)
    if k.size <= 81 and fmt:  # numbers only where they are legible
        for (r, c), v in np.ndenumerate(k):
            ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=9,
                    color="white" if abs(v) > 0.6 * bound else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def show_kernels(kernels: Sequence[ArrayLike] | ArrayLike, titles: Sequence[str] | None = None,
                 ncols: int | None = None, size: float = 2.2, fmt: str = "{:.2g}") -> Figure:
    """Draw several 2-D kernels with :func:`show_kernel`, e.g. a conv layer's (out, 1, k, k) weights."""
    if isinstance(kernels, (np.ndarray, torch.Tensor)):
        if kernels.ndim < 2:
            raise ValueError(f"kernels must be 2-D kernels, e.g. a conv weight (out, in, k, k); "
                             f"got shape {tuple(kernels.shape)}.")
        kernels = [k.reshape(k.shape[-2:]) for k in kernels.reshape(-1, *kernels.shape[-2:])]
    check.sequence("kernels", kernels, "a list of 2-D kernels or a tensor of them, e.g. a conv weight")
    if titles is not None and len(titles) != len(kernels):
        raise ValueError(f"Got {len(titles)} titles for {len(kernels)} kernels; pass one per kernel.")
    fig, axes = _grid(len(kernels), ncols, size)
    for i, (ax, k) in enumerate(zip(axes, kernels, strict=True)):
        show_kernel(k, ax=ax, title=None if titles is None else titles[i], fmt=fmt)
    fig.tight_layout()
    return fig


def show_feature_maps(maps: ArrayLike, ncols: int = 3, size: float = 1.5,
                      title: str | None = None, cmap: str = "viridis") -> Figure:
    """Show the channels of one activation (C, H, W), or of the first image of (1, C, H, W),
    ``ncols`` a row (default 3, the most a phone-width page shows legibly); each is titled
    with its channel index."""
    if isinstance(maps, torch.Tensor):
        maps = maps.detach().cpu().numpy()
    maps = np.asarray(maps)
    if maps.ndim == 4:
        if maps.shape[0] != 1:
            raise ValueError(f"Pass the maps of one image: got a batch of {maps.shape[0]}; index it.")
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"Expected feature maps of shape (C, H, W); got {maps.shape}.")
    fig, axes = _grid(len(maps), ncols, size)
    for i, (ax, m) in enumerate(zip(axes, maps, strict=True)):
        ax.imshow(m, cmap=cmap)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(i), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history, smooth: int = 20, size: float = 3.6) -> Figure:
    """Three panels of a training run (a :class:`cnnlib.train.History` or anything with its fields):
    the loss of every batch (faint) with a ``smooth``-batch moving average and the validation
    loss at each epoch's end; the learning rate of every batch; the validation accuracy per epoch."""
    if not all(hasattr(history, f) for f in ("batch_loss", "batch_lr", "valid_loss", "valid_accuracy")):
        raise TypeError(f"history must be a cnnlib.train.History (what fit returns), "
                        f"got {type(history).__name__}.")
    losses = np.asarray(history.batch_loss, dtype=float)
    if losses.size == 0 or len(history.valid_accuracy) == 0:
        raise ValueError("The history is empty: train for at least one epoch before plotting it.")
    per_epoch = losses.size // len(history.valid_accuracy)
    epoch_ends = per_epoch * np.arange(1, len(history.valid_accuracy) + 1)
    fig, (ax_loss, ax_lr, ax_acc) = plt.subplots(1, 3, figsize=(3 * size, size * 0.8))
    ax_loss.plot(losses, color="C0", alpha=0.3, lw=0.8, label="batch")
    if smooth > 1 and losses.size >= smooth:
        ma = np.convolve(losses, np.ones(smooth) / smooth, mode="valid")
        ax_loss.plot(np.arange(smooth - 1, losses.size), ma, color="C0", label=f"mean of {smooth}")
    ax_loss.plot(epoch_ends, history.valid_loss, "o-", color="C1", label="valid (epoch end)")
    ax_loss.set(xlabel="batch", ylabel="loss", yscale="log", title="loss")
    ax_loss.legend(fontsize=8)
    ax_lr.plot(history.batch_lr, color="C2")
    ax_lr.set(xlabel="batch", ylabel="learning rate", title="learning-rate schedule")
    ax_acc.plot(np.arange(1, len(history.valid_accuracy) + 1), 100 * np.asarray(history.valid_accuracy),
                "o-", color="C3")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="validation accuracy")
    ax_acc.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return fig


def show_confusion_matrix(cm: ArrayLike, classes: Sequence[str], size: float = 5.0,
                          title: str | None = None) -> Figure:
    """Draw a confusion matrix (rows: true class, columns: predicted) with its counts written in.

    The diagonal (correct answers) is greyed so the colour scale shows the mistakes."""
    check.sequence("classes", classes, "a list of class names")
    cm = np.asarray(cm.detach().cpu() if isinstance(cm, torch.Tensor) else cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] != len(classes):
        raise ValueError(f"cm must be a square ({len(classes)}, {len(classes)}) matrix for {len(classes)} "
                         f"classes; got shape {cm.shape}.")
    errors = np.ma.masked_array(cm, mask=np.eye(len(cm), dtype=bool))
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(np.eye(len(cm)), cmap="Greys", vmin=0, vmax=4)
    ax.imshow(errors, cmap="Reds", vmin=0, vmax=max(int(errors.max() or 1), 1))
    dark = 0.6 * max(int(errors.max() or 1), 1)  # write on dark red cells in white
    for (r, c), v in np.ndenumerate(cm):
        ax.text(c, r, str(int(v)), ha="center", va="center", fontsize=8,
                color="white" if r != c and v > dark else "black")
    ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xticklabels=classes,
           yticklabels=classes, xlabel="predicted", ylabel="true")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def show_kernel_effects(kernels: Sequence[ArrayLike | None], images: Sequence[ArrayLike],
                        titles: Sequence[str] | None = None, ncols: int = 3, size: float = 2.4,
                        cmap: str = "gray", vmin: float | None = None, vmax: float | None = None) -> Figure:
    """Each 2-D kernel (drawn by :func:`show_kernel`) beside the image it produced, ``ncols`` pairs a row.

    Weights are written in for kernels up to 5×5 (larger ones show colours only). A ``None``
    kernel leaves its slot empty, for an image no single kernel made (a gradient magnitude,
    say). ``cmap``, ``vmin`` and ``vmax`` apply to grayscale images as in ``imshow``.
    """
    check.sequence("kernels", kernels, "a list of 2-D kernels (or None)")
    check.sequence("images", images, "a list of images")
    if len(kernels) != len(images) or (titles is not None and len(titles) != len(images)):
        raise ValueError(
            f"Got {len(kernels)} kernels, {len(images)} images and "
            f"{'no' if titles is None else len(titles)} titles; pass one kernel (or None) and one "
            "title per image."
        )
    ncols = min(len(images), ncols)
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, 2 * ncols, figsize=(1.5 * size * ncols, size * nrows),
                             gridspec_kw={"width_ratios": [1, 2] * ncols}, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (kernel, image) in enumerate(zip(kernels, images, strict=True)):
        kernel_ax, image_ax = axes[i // ncols, 2 * (i % ncols)], axes[i // ncols, 2 * (i % ncols) + 1]
        if kernel is not None:
            show_kernel(kernel, ax=kernel_ax, fmt="{:.2g}" if max(kernel.shape[-2:]) <= 5 else "")
        image_ax.imshow(to_numpy_image(image, f"images[{i}]"), cmap=cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            image_ax.set_title(titles[i])
    fig.tight_layout()
    return fig


def overlay(image: ArrayLike, heatmap: ArrayLike, alpha: float = 0.5, cmap: str = "jet") -> np.ndarray:
    """``(1 - alpha) * image + alpha * cmap(heatmap)``: a float RGB image (H, W, 3) in [0, 1].

    ``image``: one RGB or grey image in any layout :func:`to_numpy_image` reads (HWC, CHW, HW),
    uint8 or float in [0, 1], a NumPy array or a tensor; not normalised (use
    :func:`cnnlib.images.denormalize` first). ``heatmap``: (H, W) in [0, 1], e.g. one map of
    :func:`cnnlib.cam.grad_cam`; it is resized bilinearly when its size differs from the image's.
    """
    image = to_numpy_image(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.shape[-1] != 3:
        raise ValueError(f"overlay needs an image (H, W, 3) or (H, W), got shape {image.shape}.")
    if image.dtype == np.uint8:
        image = image / 255.0
    image = image.astype(np.float32)
    if image.min() < 0 or image.max() > 1:
        raise ValueError(
            f"overlay needs image values in [0, 1] (or uint8), got [{image.min():.3g}, {image.max():.3g}]; "
            "undo the normalisation with cnnlib.images.denormalize(x).clamp(0, 1)."
        )
    if isinstance(heatmap, torch.Tensor):
        heat = heatmap.detach().cpu().float()
    else:
        try:
            heat = torch.as_tensor(np.asarray(heatmap, dtype=np.float32))
        except (TypeError, ValueError) as err:
            raise ValueError(f"heatmap must be an array (H, W) of numbers, got {type(heatmap).__name__}: "
                             f"{err}.") from None
    if heat.ndim != 2:
        raise ValueError(f"overlay needs one heatmap (H, W), got {tuple(heat.shape)}; pick one: maps[0].")
    if heat.min() < -1e-6 or heat.max() > 1 + 1e-6:
        raise ValueError(
            f"heatmap values must be in [0, 1], got [{float(heat.min()):.3g}, {float(heat.max()):.3g}]; "
            "scale it first: (m - m.min()) / (m.max() - m.min())."
        )
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha is the heatmap's weight and must be in [0, 1], got {alpha!r}.")
    try:
        colormap = plt.get_cmap(cmap)
    except ValueError:
        raise ValueError(f"Unknown colormap {cmap!r}; use a Matplotlib name, e.g. 'jet'.") from None
    if tuple(heat.shape) != image.shape[:2]:
        heat = torch.nn.functional.interpolate(heat[None, None], image.shape[:2], mode="bilinear",
                                               align_corners=False)[0, 0]
    colours = colormap(heat.clamp(0, 1).numpy())[..., :3].astype(np.float32)
    return (1 - alpha) * image + alpha * colours


# --------------------------------------------------------------------------- block diagrams


def layer_label(module: torch.nn.Module) -> str | None:
    """A short name for one layer of a block diagram ("depthwise 3×3, 144", "1×1 conv,
    24→144", "batch norm", "ReLU6"), or None for layers that only move data (Permute,
    Identity, Dropout, Flatten)."""
    from torch import nn

    check.module("layer_label", module, arg="module")

    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        stride = ", stride 2" if module.stride[0] == 2 else ""
        if module.groups > 1 and module.groups == module.in_channels:
            return f"depthwise {kh}×{kw}, {module.in_channels}{stride}"
        return f"{kh}×{kw} conv, {module.in_channels}→{module.out_channels}{stride}"
    if isinstance(module, nn.Linear):
        return f"linear, {module.in_features}→{module.out_features}"
    if isinstance(module, nn.BatchNorm2d):
        return "batch norm"
    if isinstance(module, nn.LayerNorm):
        return "layer norm"
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AvgPool2d)):
        return "global avg pool" if isinstance(module, nn.AdaptiveAvgPool2d) else "avg pool"
    if isinstance(module, (nn.Identity, nn.Dropout, nn.Flatten)) or not any(
            True for _ in module.parameters()) and type(module).__name__ == "Permute":
        return None
    name = type(module).__name__
    return {"StochasticDepth": "stochastic depth"}.get(name, name)


def block_labels(module: torch.nn.Module) -> list[str]:
    """The :func:`layer_label` of each leaf layer of ``module``, in the order they are
    registered (the order the blocks of :mod:`cnnlib.models` run them), with "layer scale"
    before the stochastic depth of a block that has a ``layer_scale`` parameter."""
    check.module("block_labels", module, arg="module")
    labels = []
    for _, m in module.named_modules():
        if any(True for _ in m.children()):
            continue
        label = layer_label(m)
        if label == "stochastic depth" and hasattr(module, "layer_scale"):
            labels.append("× layer scale")
        if label is not None:
            labels.append(label)
    return labels


def _layer_colour(label: str) -> str:
    if label.startswith("depthwise"):
        return "#f4a261"  # orange: a filter per channel
    if label.startswith(("1×1", "linear")):
        return "#8ecae6"  # blue: channel mixing
    if "conv" in label:
        return "#90be6d"  # green: a dense k×k convolution
    if "norm" in label:
        return "#d9d9d9"
    return "#fff3b0"  # activations and the rest


def show_block(module: torch.nn.Module, ax: plt.Axes | None = None, title: str | None = None,
               join: str | None = "+", after: Sequence[str] = ()) -> plt.Axes:
    """Draw ``module`` as a column of boxes, one per layer (:func:`block_labels`), input at
    the top, coloured by kind: depthwise convolutions orange, 1×1 convolutions and linear
    layers blue, dense k×k convolutions green, norms grey, activations yellow.

    ``join`` is how the input meets the branch at the bottom: "+" (a residual shortcut,
    drawn on the right), "×" (a gate multiplying the input, as squeeze-and-excitation), or
    None (no shortcut). ``after``: labels of layers applied after the join (a ResNet block's
    last ReLU, which reuses the module of its first).
    """
    if join not in ("+", "×", None):
        raise ValueError(f"join must be '+', '×' or None, got {join!r}.")
    check.module("show_block", module, arg="module")
    labels = block_labels(module)
    if not labels:
        raise ValueError(f"{type(module).__name__} has no layers to draw.")
    rows = ["input", *labels, *([join] if join else []), *after, "output"]
    if ax is None:
        _, ax = plt.subplots(figsize=(3.0, 0.5 * len(rows) + 0.6))
    top = len(rows) - 1
    for i, label in enumerate(rows):
        y = top - i
        if i:
            ax.annotate("", xy=(0.5, y + 0.3), xytext=(0.5, y + 0.7),
                        arrowprops={"arrowstyle": "->", "lw": 1})
        if label in ("input", "output"):
            ax.text(0.5, y, label, ha="center", va="center", fontsize=9)
        elif label in ("+", "×") and i == len(labels) + 1:
            ax.text(0.5, y, label, ha="center", va="center", fontsize=12,
                    bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": "0.3"})
            ax.plot([0.62, 0.95, 0.95], [top, top, y], color="0.4", lw=1)
            ax.annotate("", xy=(0.56, y), xytext=(0.95, y),
                        arrowprops={"arrowstyle": "->", "lw": 1, "color": "0.4"})
        else:
            ax.text(0.5, y, label, ha="center", va="center", fontsize=9,
                    bbox={"boxstyle": "round,pad=0.3", "fc": _layer_colour(label), "ec": "0.3"})
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, top + 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def show_blocks(blocks: Sequence[tuple], ncols: int = 3, width: float = 2.7) -> Figure:
    """:func:`show_block` for each ``(title, module, join)`` or ``(title, module, join,
    after)``, at most ``ncols`` (<= 3) a row, all drawn to the same vertical scale."""
    check.sequence("blocks", blocks, "a list of (title, module, join) tuples")
    if not blocks or any(isinstance(b, str) or not isinstance(b, Sequence) or len(b) not in (3, 4)
                         for b in blocks):
        raise ValueError("blocks must be (title, module, join) or (title, module, join, after) "
                         "tuples, at least one.")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or not 1 <= ncols <= 3:
        raise ValueError(f"ncols must be 1, 2 or 3 (the page is read on phones), got {ncols!r}.")
    ncols = min(ncols, len(blocks))
    nrows = -(-len(blocks) // ncols)
    def n_rows(b: tuple) -> int:
        return len(block_labels(b[1])) + 2 + (b[2] is not None) + len(b[3] if len(b) == 4 else ())

    tallest = max(n_rows(b) for b in blocks)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, (0.42 * tallest + 0.5) * nrows),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, b in zip(axes.flat, blocks, strict=False):
        show_block(b[1], ax=ax, title=b[0], join=b[2], after=b[3] if len(b) == 4 else ())
        ax.set_ylim(n_rows(b) - tallest - 0.6, ax.get_ylim()[1])
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- architecture figures

STACK_COLOURS = {
    "input": "#eeeeee",   # the image
    "conv": "#90be6d",    # convolutions (green, as in show_block)
    "pool": "#d9ead3",    # pooling and subsampling
    "norm": "#d9d9d9",    # normalisation
    "fc": "#8ecae6",      # fully connected layers (blue)
    "output": "#fff3b0",  # the scores
}
"""The colour of each kind of box that :func:`show_layer_stacks` draws."""


def _stack_rows(name: str, rows: object) -> list[tuple[str, str]]:
    check.sequence(name, rows, "a list of (label, kind) pairs")
    pairs = []
    for row in rows:
        if (isinstance(row, str) or not isinstance(row, Sequence) or len(row) != 2
                or not isinstance(row[0], str) or row[1] not in STACK_COLOURS):
            raise ValueError(f"{name} must hold (label, kind) pairs with kind one of "
                             f"{sorted(STACK_COLOURS)}, got {row!r}.")
        pairs.append((row[0], row[1]))
    if not pairs:
        raise ValueError(f"{name} is empty: give at least one (label, kind) pair.")
    return pairs


def show_layer_stacks(stacks: Sequence[tuple], ncols: int = 2, width: float = 3.2,
                      fontsize: float = 8) -> Figure:
    """Draw networks as columns of boxes, input at the top, one box per layer or stage.

    ``stacks`` holds ``(title, rows)`` pairs, ``rows`` a list of ``(label, kind)`` with
    ``kind`` a key of :data:`STACK_COLOURS` ("input", "conv", "pool", "norm", "fc",
    "output"), which sets the box's colour. At most ``ncols`` (<= 3) stacks a row, all to
    the same vertical scale, so that a deeper network is drawn taller. Returns the figure.
    """
    check.sequence("stacks", stacks, "a list of (title, rows) pairs")
    if not stacks or any(isinstance(s, str) or not isinstance(s, Sequence) or len(s) != 2
                         or not isinstance(s[0], str) for s in stacks):
        raise ValueError("stacks must be (title, rows) pairs, at least one, with a str title.")
    columns = [(title, _stack_rows(f"the rows of {title!r}", rows)) for title, rows in stacks]
    if isinstance(ncols, bool) or not isinstance(ncols, int) or not 1 <= ncols <= 3:
        raise ValueError(f"ncols must be 1, 2 or 3 (the page is read on phones), got {ncols!r}.")
    check.positive("width", width)
    check.positive("fontsize", fontsize)
    ncols = min(ncols, len(columns))
    nrows = -(-len(columns) // ncols)
    tallest = max(len(rows) for _, rows in columns)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, (0.42 * tallest + 0.6) * nrows),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (title, rows) in zip(axes.flat, columns, strict=False):
        for i, (label, kind) in enumerate(rows):
            y = -i
            if i:
                ax.annotate("", xy=(0.5, y + 0.3), xytext=(0.5, y + 0.7),
                            arrowprops={"arrowstyle": "->", "lw": 0.8, "color": "0.3"})
            ax.text(0.5, y, label, ha="center", va="center", fontsize=fontsize,
                    bbox={"boxstyle": "round,pad=0.3", "fc": STACK_COLOURS[kind], "ec": "0.3"})
        ax.set_xlim(0, 1)
        ax.set_ylim(-tallest + 0.4, 0.6)
        ax.set_title(title, fontsize=fontsize + 2)
    fig.tight_layout()
    return fig


def _branch_box(ax: plt.Axes, x: float, y: float, w: float, text: str, fontsize: float) -> None:
    from matplotlib.patches import FancyBboxPatch

    colour = ("#cfe2f3" if text.startswith("1×1") else "#d9ead3" if text.startswith("pool")
              else "#eeeeee" if text.startswith(("input", "concat")) else "#fce5cd")
    ax.add_patch(FancyBboxPatch((x - w / 2, y - 0.3), w, 0.6, boxstyle="round,pad=0.02",
                                fc=colour, ec="0.3"))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def show_branches(branches: Sequence[Sequence[str]], bottom: str, top: str,
                  ax: plt.Axes | None = None, title: str | None = None,
                  fontsize: float = 8) -> plt.Axes:
    """Draw a multi-branch module (an Inception module, a grid reduction) as boxes: one column
    per branch, its layers from the shared input box ``bottom`` up to the ``top`` box where the
    branches are concatenated. ``branches`` holds one list of box labels per branch, bottom
    first; labels starting with "1×1" are drawn blue, "pool" green, the rest orange."""
    check.sequence("branches", branches, "a list of branches, each a list of labels")
    if not branches or any(isinstance(b, str) or not isinstance(b, Sequence) or not b
                           or not all(isinstance(t, str) for t in b) for b in branches):
        raise ValueError("branches must be non-empty lists of str labels, at least one.")
    for name, value in (("bottom", bottom), ("top", top)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str (a box label), got {type(value).__name__}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 0.7 * (max(len(b) for b in branches) + 2)))
    depth = max(len(b) for b in branches)
    n = len(branches)
    middle = (n - 1) / 2

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        ax.annotate("", (x1, y1 - 0.3), (x0, y0 + 0.3), arrowprops={"arrowstyle": "->", "color": "0.4"})

    _branch_box(ax, middle, 0, n - 0.1, bottom, fontsize)
    for i, labels in enumerate(branches):
        y = 0
        for j, label in enumerate(labels, start=1):
            arrow(i if j > 1 else middle + (i - middle) * 0.8, y, i, j)
            _branch_box(ax, i, j, 0.92, label, fontsize)
            y = j
        arrow(i, y, middle + (i - middle) * 0.8, depth + 1)
    _branch_box(ax, middle, depth + 1, n - 0.1, top, fontsize)
    ax.set(xlim=(-0.55, n - 0.45), ylim=(-0.5, depth + 1.5))
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    ax.axis("off")
    return ax


def show_modules(modules: Sequence[tuple], width: float = 6.4, fontsize: float = 8) -> Figure:
    """:func:`show_branches` for each ``(title, branches, bottom, top)``, one module a row,
    each row as tall as its deepest branch. Returns the figure."""
    check.sequence("modules", modules, "a list of (title, branches, bottom, top) tuples")
    if not modules or any(isinstance(m, str) or not isinstance(m, Sequence) or len(m) != 4
                          for m in modules):
        raise ValueError("modules must be (title, branches, bottom, top) tuples, at least one.")
    check.positive("width", width)
    heights = []
    for m in modules:
        check.sequence("branches", m[1], "a list of branches, each a list of labels")
        heights.append(max((len(b) for b in m[1]), default=1) + 2)
    fig, axes = plt.subplots(len(modules), 1, figsize=(width, 0.62 * sum(heights) + 0.4),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (title, branches, bottom, top) in zip(axes[:, 0], modules, strict=True):
        show_branches(branches, bottom, top, ax=ax, title=title, fontsize=fontsize)
    fig.tight_layout()
    return fig


def show_residual_block(block: torch.nn.Module, ax: plt.Axes | None = None,
                        title: str | None = None, fontsize: float = 10) -> plt.Axes:
    """Draw a ResNet :class:`~cnnlib.models.resnet.BasicBlock` with its shortcut beside it.

    The block's layers run down the left column (the branch F(x)), its shortcut down the
    right: "identity" when ``block.downsample`` is None, the paper's option A ("every 2nd
    pixel", "+ k zero channels") for a :class:`~cnnlib.models.resnet.ShortcutA`, or the
    shortcut's own layers (option B: a strided 1×1 convolution and batch norm). Both meet
    at the "+", followed by the block's last ReLU. The shortcut's parameter count is written
    under it, so option A's 0 and option B's cost can be compared at a glance.
    """
    from cnnlib.models.resnet import BasicBlock, ShortcutA

    check.instance("block", block, BasicBlock, "a cnnlib.models.resnet.BasicBlock")
    if not block.residual:
        raise ValueError("block has residual=False (a plain block): it has no shortcut to draw; "
                         "pass a BasicBlock built with residual=True.")
    main = [layer_label(m) for m in (block.conv1, block.bn1, block.relu, block.conv2, block.bn2)]
    main = [label.replace(", stride", "\nstride") for label in main]
    short = block.downsample
    if short is None:
        side = ["identity"]
    elif isinstance(short, ShortcutA):
        side = [f"every {short.stride}nd pixel" if short.stride == 2
                else f"every {short.stride}th pixel",
                f"+ {short.out_channels - short.in_channels} zero\nchannels"]
    else:
        side = [label.replace(", stride", "\nstride") for label in block_labels(short)]
    n_params = sum(p.numel() for p in short.parameters()) if short is not None else 0
    c_in = block.conv1.in_channels
    c_out = block.bn2.num_features
    rows = [f"x: {c_in} channels", *main, "+", "ReLU", f"output: {c_out} channels"]
    if ax is None:
        _, ax = plt.subplots(figsize=(3.4, 0.55 * len(rows) + 0.6))
    top = len(rows) - 1
    x_main, x_side = 0.33, 0.8
    plus_y = top - (len(main) + 1)
    for i, label in enumerate(rows):
        y = top - i
        if i:
            ax.annotate("", xy=(x_main, y + 0.3), xytext=(x_main, y + 0.7),
                        arrowprops={"arrowstyle": "->", "lw": 1})
        if i == 0 or i == len(rows) - 1:
            ax.text(x_main, y, label, ha="center", va="center", fontsize=fontsize)
        elif label == "+":
            ax.text(x_main, y, "+", ha="center", va="center", fontsize=fontsize + 3,
                    bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": "0.3"})
        else:
            ax.text(x_main, y, label, ha="center", va="center", fontsize=fontsize,
                    bbox={"boxstyle": "round,pad=0.3", "fc": _layer_colour(label), "ec": "0.3"})
    # the shortcut: out of the input, down the right, into the "+"
    side_top, side_bottom = top - 1.5, plus_y + 1.5
    ys = np.linspace(side_top, side_bottom, len(side)) if len(side) > 1 else [(side_top + side_bottom) / 2]
    colour = "C3"
    ax.plot([x_main + 0.22, x_side, x_side], [top, top, ys[0] + 0.45], color=colour, lw=1.2)
    for k, (y, label) in enumerate(zip(ys, side, strict=True)):
        ax.text(x_side, y, label, ha="center", va="center", fontsize=fontsize - 1, color="0.1",
                bbox={"boxstyle": "round,pad=0.3", "fc": "white" if label == "identity"
                      else _layer_colour(label), "ec": colour})
        if k:
            ax.annotate("", xy=(x_side, y + 0.45), xytext=(x_side, ys[k - 1] - 0.45),
                        arrowprops={"arrowstyle": "->", "lw": 1, "color": colour})
    ax.plot([x_side, x_side], [ys[-1] - 0.45, plus_y], color=colour, lw=1.2)
    ax.annotate("", xy=(x_main + 0.07, plus_y), xytext=(x_side, plus_y),
                arrowprops={"arrowstyle": "->", "lw": 1.2, "color": colour})
    ax.text(x_side, plus_y - 0.55, f"{n_params:,} parameters", ha="center", va="top",
            fontsize=fontsize - 1, color=colour)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, top + 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=fontsize + 1)
    return ax
