"""Move the image one pixel: equivariance of a layer, invariance of a classifier, BlurPool.

A shift T moves an image by whole pixels *circularly* (``torch.roll``: what leaves one edge
comes back at the other), so no pixel is lost and the comparison is exact.

- :func:`equivariance_error`: ‖f(Tx) − T′f(x)‖ / ‖f(x)‖, where T′ is the shift T seen on
  f's output grid. A layer of total stride s samples its output every s input pixels, so a
  shift by δ input pixels is a shift by δ/s output pixels: a whole number only when s
  divides δ. For other shifts no output shift can match; the error reported is then the
  smaller of the two neighbouring whole shifts (the most generous reading).
- :class:`BlurPool`: blur with a normalised binomial filter, then subsample (Zhang 2019,
  "Making convolutional networks shift-invariant again"), as antialiased-cnns defines it.
- :func:`shift_consistency` and :func:`true_class_probability`: what a trained classifier
  keeps when its input moves.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import check


def _offset(name: str, value: object) -> tuple[int, int]:
    """A shift as (down, right) whole pixels: an int n means (n, n)."""
    pair = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in pair):
        raise ValueError(f"{name} must be a whole number of pixels or a pair (down, right) of "
                         f"them, e.g. 1 or (0, 3); got {value!r}.")
    return pair  # type: ignore[return-value]


def _images(x: object) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a float batch of images (N, C, H, W), got {got}; add a "
                         "batch dimension with x[None] and convert with .float().")
    return x


def shift(x: torch.Tensor, offset: int | tuple[int, int]) -> torch.Tensor:
    """``x`` (..., H, W) moved circularly by ``offset`` = (down, right) pixels (an int:
    both); what leaves one edge re-enters at the opposite one."""
    check.tensor_at_least("x", x, 2, "..., H, W")
    dy, dx = _offset("offset", offset)
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))


def equivariance_error(
    f: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    offset: int | tuple[int, int],
    stride: int = 1,
) -> float:
    """‖f(Tx) − T′f(x)‖ / ‖f(x)‖ for the circular shift T by ``offset`` (down, right) pixels.

    ``stride`` is f's total stride s (its input is s times its output, per side). T′ moves
    f's output by offset / s pixels. When s does not divide a component of the offset, no
    whole output shift is T′: the error is the smallest over the neighbouring whole shifts
    (floor and ceil of offset / s, per axis). 0 means f commutes with the shift; for such
    offsets, a stride-s layer's output can at best match a neighbour.
    """
    check.function("f", f)
    _images(x)
    dy, dx = _offset("offset", offset)
    check.int_at_least("stride", stride)
    with torch.no_grad():
        fx, ftx = f(x), f(shift(x, (dy, dx)))
        norm = fx.norm().item()
        if norm == 0:
            raise ValueError("f(x) is all zeros, so a relative error is undefined; use an "
                             "input that f responds to.")
        candidates = {(ry, rx) for ry in {math.floor(dy / stride), math.ceil(dy / stride)}
                      for rx in {math.floor(dx / stride), math.ceil(dx / stride)}}
        return min((ftx - shift(fx, c)).norm().item() for c in candidates) / norm


def binomial_filter(size: int) -> torch.Tensor:
    """The (size, size) blur of antialiased-cnns: the outer product of
    the binomial row (1 2 1 for size 3, 1 3 3 1 for 4, ...) with itself,
    divided by its sum."""
    check.int_in_range("size", size, 1, 7)
    row = torch.tensor([math.comb(size - 1, k) for k in range(size)],
                       dtype=torch.float32)
    outer = row[:, None] * row[None, :]
    return outer / outer.sum()


class BlurPool(nn.Module):
    """Blur, then subsample: Zhang (2019)'s anti-aliased stride.

    As antialiased-cnns' ``BlurPool`` defines it (github.com/adobe/
    antialiased-cnns, antialiased_cnns/blurpool.py): reflect-pad by
    (size - 1) // 2 on the left and top and the rest, size // 2, on the
    right and bottom; then a depthwise convolution (one copy of
    :func:`binomial_filter` per channel) with ``stride``. Size 1 is plain
    subsampling, ``x[..., ::stride, ::stride]``. To anti-alias a layer,
    Zhang replaces conv(stride 2) -> ReLU by conv(stride 1) -> ReLU ->
    BlurPool(stride 2), and MaxPool(stride 2) by MaxPool(stride 1) ->
    BlurPool(stride 2).
    """

    def __init__(self, channels: int, size: int = 4,
                 stride: int = 2) -> None:
        super().__init__()
        self.channels = check.int_at_least("channels", channels)
        self.size = check.int_in_range("size", size, 1, 7)
        self.stride = check.int_at_least("stride", stride)
        before, after = (size - 1) // 2, size // 2
        self.pad = (before, after, before, after)  # left right top bottom
        filt = binomial_filter(size).repeat(channels, 1, 1, 1)
        self.register_buffer("filt", filt)  # (channels, 1, size, size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(
                f"BlurPool({self.channels}) reads (N, {self.channels}, H, "
                f"W), got {tuple(x.shape)}; build it with the channel "
                "count of its input.")
        if self.size == 1:
            return x[..., ::self.stride, ::self.stride]
        padded = F.pad(x, self.pad, mode="reflect")
        return F.conv2d(padded, self.filt.to(x.dtype), stride=self.stride,
                        groups=self.channels)

    def extra_repr(self) -> str:
        return f"{self.channels}, size={self.size}, stride={self.stride}"


def antialias(model: nn.Sequential, size: int = 3) -> nn.Sequential:
    """A copy of a chapter-6 style network (blocks of conv → [batch norm] → [ReLU]) with every
    stride-2 convolution made stride 1 and followed, after its block, by a
    :class:`BlurPool` of stride 2: Zhang's conv → ReLU → BlurPool. The weights are copied.
    Size 3 by default: chapter 6's last block sees 2×2 maps, too small to reflect-pad by the
    2 pixels that size 4 needs."""
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"antialias takes an nn.Sequential of blocks as model (e.g. simple_cnn()), "
                         f"got {type(model).__name__}.")
    out = copy.deepcopy(model)
    changed = 0
    for i, block in enumerate(out):
        if isinstance(block, nn.Sequential) and isinstance(block[0], nn.Conv2d) and block[0].stride == (2, 2):
            block[0].stride = (1, 1)
            out[i] = nn.Sequential(*block, BlurPool(block[0].out_channels, size))
            changed += 1
    if changed == 0:
        raise ValueError("antialias found no block starting with a stride-2 convolution; it "
                         "expects blocks like cnnlib.models.conv's.")
    return out


def check_model_inputs(model: nn.Module, x: torch.Tensor, max_shift: int) -> None:
    """Nothing if ``model`` is a module, ``x`` a float batch (N, C, H, W) and ``max_shift``
    a whole number below half the image size; otherwise a ValueError."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}.")
    _images(x)
    check.int_at_least("max_shift", max_shift)
    if 2 * max_shift >= min(x.shape[-2:]):
        raise ValueError(f"max_shift={max_shift} moves the image by half its size or more "
                         f"({tuple(x.shape[-2:])}); use a smaller shift.")


def offsets(max_shift: int) -> list[tuple[int, int]]:
    """Every (down, right) shift with both components from −max_shift to max_shift, except
    (0, 0): (2·max_shift + 1)² − 1 of them."""
    check.int_at_least("max_shift", max_shift)
    r = range(-max_shift, max_shift + 1)
    return [(dy, dx) for dy in r for dx in r if (dy, dx) != (0, 0)]


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Class probabilities (N, classes) of ``model`` for ``x``, on the CPU, in batches."""
    check.module("predict", model)
    _images(x)
    check.int_at_least("batch_size", batch_size)
    device = next((p.device for p in model.parameters()), x.device)
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch_size].to(device)).float().softmax(1).cpu()
                          for i in range(0, len(x), batch_size)])


def shift_consistency(model: nn.Module, x: torch.Tensor,
                      max_shift: int = 2,
                      batch_size: int = 500) -> torch.Tensor:
    """Per image, True if ``model``'s predicted class for ``x`` stays the
    same under every circular shift of ``offsets(max_shift)`` (up to
    ``max_shift`` pixels down/up and right/left). Its mean is the fraction
    of images no such shift changes. ``model`` is put in eval mode."""
    check_model_inputs(model, x, max_shift)
    model.eval()
    base = predict(model, x, batch_size).argmax(1)
    same = torch.ones(len(x), dtype=torch.bool)
    for off in offsets(max_shift):
        moved = predict(model, shift(x, off), batch_size).argmax(1)
        same &= moved == base
    return same


def true_class_probability(model: nn.Module, x: torch.Tensor, labels: torch.Tensor,
                           max_shift: int = 4, batch_size: int = 500) -> torch.Tensor:
    """(2·max_shift + 1, N): the probability ``model`` gives each image's true class when
    the image moves right by −max_shift … max_shift pixels (circularly); row ``max_shift``
    is the unshifted image. ``model`` is put in eval mode."""
    check_model_inputs(model, x, max_shift)
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(x),):
        raise ValueError(f"labels must be a tensor of one class index per image, shape "
                         f"({len(x)},); got {getattr(labels, 'shape', type(labels).__name__)}.")
    model.eval()
    idx = torch.arange(len(x))
    rows = [predict(model, shift(x, (0, d)), batch_size)[idx, labels.cpu()]
            for d in range(-max_shift, max_shift + 1)]
    return torch.stack(rows)
