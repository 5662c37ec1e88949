"""Shapes and sizes: output sizes, parameter and multiply-add counts.

- :func:`conv_out`: the output length of a convolution or pooling window along one axis.
- :func:`conv_params`, :func:`conv_macs`, :func:`layer_counts`: how many weights a layer has
  and how many multiply-adds it does.
- :func:`sequential_layers`: the layers of a (nested) ``nn.Sequential`` stack in the order
  they run, each with its path; :mod:`cnnlib.receptive` and the draw-a-digit export walk
  stacks with it.

Receptive fields live in :mod:`cnnlib.receptive`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnlib import check, config
from cnnlib.check import int_at_least, int_pair
from cnnlib.hooks import Hooks


def conv_out(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
             dilation: int = 1) -> int:
    """Output length along one axis of a convolution or pooling window.

    ``floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1``, as in
    ``torch.nn.Conv2d``: the dilated kernel spans ``dilation*(kernel_size-1) + 1`` pixels and
    must fit inside the padded input at least once.
    """
    int_at_least("size", size)
    int_at_least("kernel_size", kernel_size)
    int_at_least("stride", stride)
    int_at_least("padding", padding, minimum=0)
    int_at_least("dilation", dilation)
    span = dilation * (kernel_size - 1) + 1
    padded = size + 2 * padding
    if span > padded:
        raise ValueError(
            f"The kernel spans {span} pixels (kernel_size={kernel_size}, dilation={dilation}) but "
            f"the padded input is only {padded} (size={size}, padding={padding}); use a smaller "
            "kernel or dilation, or more padding."
        )
    return (padded - span) // stride + 1


def sequential_layers(layers: nn.Module | Iterable) -> list[tuple[tuple[str, ...], object]]:
    """The layers of a stack in the order they run, each with its path of child names.

    ``layers`` is an ``nn.Sequential`` (nested ones are opened too), a list or tuple of layers,
    or one module. Any other module, a container included, counts as one layer, and so does
    anything in a list that is not a module. The path of ``model[1][0]`` is ``("1", "0")``
    (the names of ``named_children``); one module on its own has the path ``()``.
    """
    not_layers = (str, bytes, torch.Tensor, np.ndarray)
    if isinstance(layers, not_layers) or not isinstance(layers, (nn.Module, Iterable)):
        raise TypeError(f"layers must be an nn.Sequential, a list of layers or one module, "
                        f"got {type(layers).__name__}.")
    if isinstance(layers, nn.Sequential):
        items: list[tuple[str, object]] = list(layers.named_children())
    elif isinstance(layers, nn.Module):
        return [((), layers)]
    else:
        items = [(str(i), layer) for i, layer in enumerate(layers)]
    out: list[tuple[tuple[str, ...], object]] = []
    for name, layer in items:
        inner = sequential_layers(layer) if isinstance(layer, nn.Module) else [((), layer)]
        out += [((name, *path), leaf) for path, leaf in inner]
    return out


# --------------------------------------------------------------------------- counting


def _kernel_area(kernel_size: int | tuple[int, int]) -> int:
    kh, kw = int_pair("kernel_size", kernel_size)
    return kh * kw


def conv_params(in_ch: int, out_ch: int, kernel_size: int | tuple[int, int], groups: int = 1,
                bias: bool = True) -> int:
    """Number of parameters of ``nn.Conv2d(in_ch, out_ch, kernel_size, groups=groups, bias=bias)``.

    Each of the ``out_ch`` kernels is ``(in_ch/groups) x kh x kw``, plus one bias per output
    channel: ``out_ch * (in_ch/groups) * kh * kw + out_ch``.
    """
    int_at_least("in_ch", in_ch)
    int_at_least("out_ch", out_ch)
    int_at_least("groups", groups)
    if in_ch % groups or out_ch % groups:
        raise ValueError(
            f"groups={groups} must divide both in_ch={in_ch} and out_ch={out_ch}; "
            "pick a common divisor (groups=in_ch=out_ch is a depthwise convolution)."
        )
    return out_ch * (in_ch // groups) * _kernel_area(kernel_size) + (out_ch if bias else 0)


def conv_macs(in_ch: int, out_ch: int, kernel_size: int | tuple[int, int],
              out_size: int | tuple[int, int], groups: int = 1, bias: bool = True) -> int:
    """Multiply-adds of one ``nn.Conv2d`` forward pass on one image with output ``out_size``.

    Every weight is used once per output pixel, so this is ``conv_params(...) * H_out * W_out``.
    With ``bias=True`` the bias add counts as one more operation per output value, as
    torchinfo counts it; ``bias=False`` gives the strict multiply-adds of the kernels.
    """
    h, w = int_pair("out_size", out_size)
    return conv_params(in_ch, out_ch, kernel_size, groups, bias) * h * w


@dataclass(frozen=True)
class LayerCount:
    """One row of :func:`layer_counts`: a leaf layer, its output shape, parameters and MACs.

    ``activations`` is the number of values in the layer's output for one image: what its
    forward pass writes, and what training keeps in memory for the backward pass unless the
    next layer overwrites it in place (an ``nn.ReLU(inplace=True)``). Times 4 it is bytes in
    float32; times the batch size, the batch's.
    """

    name: str
    kind: str
    out_shape: tuple[int, ...]
    params: int
    macs: int
    activations: int


def layer_counts(model: nn.Module, input_shape: Sequence[int]) -> list[LayerCount]:
    """Run one dummy image of ``input_shape`` (C, H, W) through ``model`` and count each layer.

    Forward hooks (:class:`cnnlib.hooks.Hooks`) on the leaf modules record output shapes in
    the order the layers run, and are removed when the pass ends, also if it raises.
    Parameters are each layer's own; ``activations`` counts the values of each output (one
    image); multiply-adds are counted for ``Conv2d``
    (:func:`conv_macs`) and ``Linear`` (``in * out + out`` per output row), the layers that
    do almost all the work; pooling and activation functions count 0. The model is run in eval mode
    and left in the mode it was in.
    """
    check.instance("model", model, nn.Module, "an nn.Module")
    if (not isinstance(input_shape, Sequence) or isinstance(input_shape, str) or len(input_shape) != 3
            or not all(check.is_int(s) and s >= 1 for s in input_shape)):
        raise ValueError(f"input_shape must be (C, H, W) of positive ints, got {input_shape!r}.")
    leaves = [(n, m) for n, m in model.named_modules() if not any(True for _ in m.children())]
    names = {id(m): n for n, m in leaves}
    rows: list[LayerCount] = []

    def record(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        params = sum(p.numel() for p in module.parameters(recurse=False))
        macs = 0
        if isinstance(module, nn.Conv2d):
            macs = conv_macs(module.in_channels, module.out_channels, module.kernel_size,
                             tuple(output.shape[-2:]), module.groups, module.bias is not None)
        elif isinstance(module, nn.Linear):
            macs = params * (output.numel() // output.shape[-1])
        rows.append(LayerCount(names[id(module)], type(module).__name__, tuple(output.shape), params,
                               macs, output[0].numel()))

    was_training = model.training
    x = torch.zeros(1, *input_shape, device=config.device_of(model))
    try:
        model.eval()
        with Hooks([m for _, m in leaves], record), torch.no_grad():  # released on any exit
            model(x)
    finally:
        model.train(was_training)
    return rows
