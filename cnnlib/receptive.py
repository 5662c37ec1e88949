"""Receptive fields: which input pixels can influence one output pixel.

- :func:`receptive_field`: the analytic receptive field (size, jump, start) after each layer
  of a stack, computed layer by layer.
- :func:`measured_receptive_field`: the receptive field found by back-propagating from one
  output pixel to the input, to check the analytic one.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import check, config
from cnnlib.check import int_at_least, int_pair
from cnnlib.shapes import conv_out, sequential_layers


@dataclass(frozen=True)
class LayerSpec:
    """The spatial geometry of one layer (square kernels): what the receptive field depends on."""

    kernel_size: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    name: str = ""
    ceil_mode: bool = False

    def __post_init__(self) -> None:
        int_at_least("kernel_size", self.kernel_size)
        int_at_least("stride", self.stride)
        int_at_least("padding", self.padding, minimum=0)
        int_at_least("dilation", self.dilation)


@dataclass(frozen=True)
class RFRow:
    """The receptive field after one layer, in input pixels.

    ``size``: how many input pixels (per axis) one output pixel can see. ``jump``: the distance
    in input pixels between two neighbouring output pixels. ``start``: the input coordinate of
    the centre of the first output pixel's field (pixel centres are 0, 1, 2, ...; negative
    means the field hangs over the padding). ``out_size``: the output length, when the input
    size was given.
    """

    name: str
    kernel_size: int
    stride: int
    padding: int
    dilation: int
    size: int
    jump: int
    start: float
    out_size: int | None = None

    def region(self, index: int) -> tuple[int, int]:
        """First and last input pixel (inclusive) seen by output pixel ``index`` along an axis."""
        centre = self.start + index * self.jump
        half = (self.size - 1) / 2
        return round(centre - half), round(centre + half)


# Layers that act on each pixel on its own: they leave the receptive field unchanged.
# (Batch norm does so in eval mode, when it uses its running statistics.)
PASS_THROUGH = (
    nn.Identity, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.GELU, nn.SiLU,
    nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh,
    nn.BatchNorm2d, nn.Dropout, nn.Dropout2d,
)  # fmt: skip


def _square(module: nn.Module, attr: str) -> int:
    value = getattr(module, attr)
    if isinstance(value, tuple):
        if len(set(value)) != 1:
            raise ValueError(
                f"{module} has {attr}={value}: receptive_field handles square kernels and equal "
                "strides, paddings and dilations; describe each axis with LayerSpec instead."
            )
        value = value[0]
    return value


def _spec(layer: nn.Module | LayerSpec | Sequence[int], name: str) -> LayerSpec | None:
    """LayerSpec of one layer, or None for a layer that passes the receptive field through."""
    if isinstance(layer, LayerSpec):
        return layer
    if isinstance(layer, nn.Module) and any(True for _ in layer.children()):
        raise ValueError(
            f"{type(layer).__name__} is a container whose forward order is unknown; pass "
            "an nn.Sequential (or a list) of its layers in the order they run, e.g. "
            "nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool) for a ResNet stem."
        )
    if isinstance(layer, PASS_THROUGH):
        return None
    if isinstance(layer, nn.Conv2d):
        k, d = _square(layer, "kernel_size"), _square(layer, "dilation")
        if layer.padding == "valid":
            p = 0
        elif layer.padding == "same":  # PyTorch puts an odd extra pixel on the right
            p = d * (k - 1) // 2
        else:
            p = _square(layer, "padding")
        return LayerSpec(k, _square(layer, "stride"), p, d, name)
    if isinstance(layer, nn.MaxPool2d):
        return LayerSpec(_square(layer, "kernel_size"), _square(layer, "stride"),
                         _square(layer, "padding"), _square(layer, "dilation"), name, layer.ceil_mode)
    if isinstance(layer, nn.AvgPool2d):
        return LayerSpec(_square(layer, "kernel_size"), _square(layer, "stride"),
                         _square(layer, "padding"), 1, name, layer.ceil_mode)
    if isinstance(layer, nn.Module):
        raise ValueError(
            f"receptive_field cannot handle layer {name!r} ({type(layer).__name__}). It knows "
            "Conv2d, MaxPool2d and AvgPool2d, and per-pixel layers (activations, BatchNorm2d, "
            "Dropout) that pass through. Global/adaptive pooling and Linear layers see the "
            "whole input: end the stack before them; for a residual block pass its main path."
        )
    if isinstance(layer, Sequence) and not isinstance(layer, str) and 1 <= len(layer) <= 4:
        return LayerSpec(*layer, name=name)
    raise ValueError(
        f"Layer {name!r} is {layer!r}: pass an nn.Module, a LayerSpec or a tuple "
        "(kernel_size, stride, padding, dilation)."
    )


def _pool_out(size: int, spec: LayerSpec) -> int:
    """Output length with ceil_mode, as torch's pooling computes it."""
    span = spec.dilation * (spec.kernel_size - 1) + 1
    out = math.ceil((size + 2 * spec.padding - span) / spec.stride) + 1
    if (out - 1) * spec.stride >= size + spec.padding:  # the last window must start inside
        out -= 1
    return out


def receptive_field(layers: nn.Module | Iterable, input_size: int | None = None) -> list[RFRow]:
    """The receptive field after each spatial layer of a stack, computed layer by layer.

    ``layers`` is an ``nn.Sequential`` (nested ones are flattened), or a list of modules,
    :class:`LayerSpec` or ``(kernel_size, stride, padding, dilation)`` tuples. Starting from one
    input pixel (size 1, jump 1, start 0), each layer with kernel ``k``, stride ``s``, padding
    ``p`` and dilation ``d`` (effective kernel ``k' = d(k-1)+1``) gives::

        size  = size_in + (k' - 1) * jump_in
        jump  = jump_in * s
        start = start_in + ((k' - 1)/2 - p) * jump_in

    Per-pixel layers (activations, BatchNorm2d, Dropout) are skipped. With ``input_size``
    each row also holds the output length (:func:`conv_out`).
    """
    if input_size is not None:
        int_at_least("input_size", input_size)
    rows: list[RFRow] = []
    size, jump, start, n = 1, 1, 0.0, input_size
    for path, layer in sequential_layers(layers):
        name = ".".join(path)
        spec = _spec(layer, name)
        if spec is None:
            continue
        span = spec.dilation * (spec.kernel_size - 1) + 1
        size, start = size + (span - 1) * jump, start + ((span - 1) / 2 - spec.padding) * jump
        jump *= spec.stride
        if n is not None:
            if spec.ceil_mode:
                conv_out(n, spec.kernel_size, spec.stride, spec.padding, spec.dilation)  # checks fit
                n = _pool_out(n, spec)
            else:
                n = conv_out(n, spec.kernel_size, spec.stride, spec.padding, spec.dilation)
        rows.append(RFRow(spec.name or name, spec.kernel_size, spec.stride, spec.padding,
                          spec.dilation, size, jump, start, n))
    if not rows:
        raise ValueError("The stack has no Conv2d or pooling layer, so there is no receptive field.")
    return rows


@dataclass(frozen=True)
class MeasuredRF:
    """Result of :func:`measured_receptive_field`.

    ``height``/``width``: the extent of the nonzero-gradient region; ``box``: its bounding box
    ``(top, left, bottom, right)``, inclusive input pixel indices; ``position``: the output pixel
    back-propagated from; ``gradient``: ``|d out / d x|`` summed over channels, (H, W);
    ``clipped``: True when the region touches the image border, so the true field may be larger.
    """

    height: int
    width: int
    box: tuple[int, int, int, int]
    position: tuple[int, int]
    gradient: torch.Tensor
    clipped: bool


def _set_positive_weights(model: nn.Module) -> None:
    """Make every Conv2d/Linear an average (weights 1/fan_in, bias 0), every BatchNorm the identity."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.fill_(1.0 / m.weight[0].numel())
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.reset_parameters()  # weight 1, bias 0, running mean 0, running var 1


class _AvgLikeMax(nn.Module):
    """An average pool with a max pool's window: the same geometry, but the gradient reaches
    every pixel of the window instead of only the arg-max."""

    def __init__(self, pool: nn.MaxPool2d) -> None:
        super().__init__()
        if pool.dilation not in (1, (1, 1)):
            raise ValueError(
                f"{pool} is dilated; average pooling has no dilation, so it cannot stand in for "
                "it. Pass replace_max_pool=False (the gradient then only reaches each arg-max)."
            )
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.pool
        return F.avg_pool2d(x, p.kernel_size, p.stride, p.padding, p.ceil_mode)


def _replace_max_pools(model: nn.Module) -> nn.Module:
    if isinstance(model, nn.MaxPool2d):
        return _AvgLikeMax(model)
    for name, child in model.named_children():
        setattr(model, name, _replace_max_pools(child))
    return model


def measured_receptive_field(
    model: nn.Module,
    input_size: int | tuple[int, int],
    in_channels: int | None = None,
    position: tuple[int, int] | None = None,
    constant_weights: bool = True,
    replace_max_pool: bool = True,
    x: torch.Tensor | None = None,
) -> MeasuredRF:
    """Measure the receptive field of one output pixel by back-propagating from it.

    The gradient of output pixel ``position`` (default: the centre) summed over channels, with
    respect to the input, is nonzero exactly on the input pixels that influence it. A copy of
    ``model`` is used, in eval mode; the model itself is not changed.

    Caveat: a gradient can be zero inside the true field when paths cancel or are switched off.
    With ``constant_weights`` (default) every convolution becomes an average (positive weights,
    zero bias) and batch norm the identity, so on the all-ones input (default ``x``) every ReLU
    is open and nothing cancels; with ``replace_max_pool`` (default) each max pool becomes an
    average pool over the same window, since a max pool sends its gradient only to the largest
    pixel. The field can have holes (stride larger than the kernel, dilation); ``height``,
    ``width`` and ``box`` describe its bounding box. Layers that normalise over space
    (GroupNorm, LayerNorm, batch norm in training mode) or attention make every output depend
    on every input, and the measurement then reports the whole image.
    """
    check.instance("model", model, nn.Module, "an nn.Module")
    h, w = int_pair("input_size", input_size)
    if in_channels is None:
        first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
        if first is None:
            raise ValueError("The model has no Conv2d to read in_channels from; pass in_channels.")
        in_channels = first.in_channels
    int_at_least("in_channels", in_channels)

    probe = copy.deepcopy(model).eval()
    if constant_weights:
        _set_positive_weights(probe)
    if replace_max_pool:
        probe = _replace_max_pools(probe)
    if x is None:
        x = torch.ones(1, in_channels, h, w, device=config.device_of(probe))
    elif x.shape != (1, in_channels, h, w):
        raise ValueError(f"x must have shape {(1, in_channels, h, w)}, got {tuple(x.shape)}.")
    x = x.detach().clone().requires_grad_(True)

    out = probe(x)
    if out.ndim != 4:
        raise ValueError(
            f"The model's output has shape {tuple(out.shape)}; a receptive field needs a spatial "
            "output (N, C, H, W). Cut the model before global pooling, flatten or linear layers."
        )
    out_h, out_w = out.shape[-2:]
    i, j = position if position is not None else (out_h // 2, out_w // 2)
    if not (0 <= i < out_h and 0 <= j < out_w):
        raise ValueError(f"position {(i, j)} is outside the {out_h}x{out_w} output.")
    out[0, :, i, j].sum().backward()

    grad = x.grad[0].abs().sum(0).detach().cpu()
    rows = torch.nonzero(grad.sum(1) > 0).flatten()
    cols = torch.nonzero(grad.sum(0) > 0).flatten()
    if len(rows) == 0:
        raise ValueError(
            "The gradient is zero everywhere: no input pixel reaches that output. Use "
            "constant_weights=True and the default all-ones input so nothing cancels."
        )
    top, bottom, left, right = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    clipped = top == 0 or left == 0 or bottom == h - 1 or right == w - 1
    return MeasuredRF(bottom - top + 1, right - left + 1, (top, left, bottom, right), (int(i), int(j)),
                      grad, clipped)
