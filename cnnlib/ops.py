"""Convolution and pooling from scratch, with the semantics of ``torch.nn.functional``.

Every op follows the same three steps:

1. pad the input (zeros for convolution and average pooling, ``-inf`` for max pooling);
2. cut it into sliding windows with :func:`windows` (``Tensor.unfold``), a strided *view* of
   shape (N, C, H_out, W_out, kH, kW): no pixel is copied and no convolution routine is called;
3. reduce every window: a weighted sum with the kernel for :func:`conv2d` ("im2col": the
   windows laid out as the columns of one matrix, then one matrix multiply), the maximum or
   the mean for the pooling ops.

Only differentiable tensor operations are used, so autograd supplies the gradients. The
results, shapes and gradients equal ``F.conv2d``, ``F.max_pool2d`` and ``F.avg_pool2d``
(tests/unit/test_ops.py checks this on many random configurations).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlib import check
from cnnlib.check import int_at_least, int_pair
from cnnlib.shapes import conv_out

IntOrPair = int | tuple[int, int]
Pads = tuple[int, int, int, int]  # (top, bottom, left, right)


def as_batch(x: torch.Tensor, op: str) -> tuple[torch.Tensor, bool]:
    """(x as (N, C, H, W), whether it was one unbatched (C, H, W) image)."""
    if not isinstance(x, torch.Tensor) or x.dim() not in (3, 4):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(
            f"{op} expects x of shape (N, C, H, W), or (C, H, W) for one image; got {shape}. "
            "Add the missing dimensions, e.g. x[None, None] for one grayscale (H, W) image."
        )
    return (x.unsqueeze(0), True) if x.dim() == 3 else (x, False)


def check_fits(x: torch.Tensor, kernel_size: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], dilation: tuple[int, int]) -> None:
    """Raise ValueError (from conv_out) if the window does not fit the padded input."""
    check.tensor("x", x, "N, C, H, W")
    kernel_size, stride = int_pair("kernel_size", kernel_size), int_pair("stride", stride)
    padding, dilation = int_pair("padding", padding, minimum=0), int_pair("dilation", dilation)
    for axis in range(2):
        conv_out(x.shape[2 + axis], kernel_size[axis], stride[axis], padding[axis], dilation[axis])


def windows(x: torch.Tensor, kernel_size: tuple[int, int],
            stride: tuple[int, int],
            dilation: tuple[int, int]) -> torch.Tensor:
    """All sliding windows of a padded (N, C, H, W) input.

    Returns a view (N, C, H_out, W_out, kH, kW): no pixel is copied.
    ``unfold(dim, span, step)`` slides a window of ``span`` pixels with
    step ``stride`` along one axis; a dilated kernel spans
    ``dilation*(k-1) + 1`` pixels and keeps every ``dilation``-th one.
    """
    check.tensor("x", x, "N, C, H, W")
    kh, kw = check.int_pair("kernel_size", kernel_size)
    sh, sw = check.int_pair("stride", stride)
    dh, dw = check.int_pair("dilation", dilation)
    rows = x.unfold(2, dh * (kh - 1) + 1, sh)
    both = rows.unfold(3, dw * (kw - 1) + 1, sw)
    return both[..., ::dh, ::dw]


def _conv_padding(padding: IntOrPair | str, kernel_size: tuple[int, int], stride: tuple[int, int],
                  dilation: tuple[int, int]) -> Pads:
    """Padding on each side (top, bottom, left, right) for an int, a pair, 'valid' or 'same'."""
    if not isinstance(padding, str):
        ph, pw = int_pair("padding", padding, 0)
        return (ph, ph, pw, pw)
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(
                f"padding='same' needs stride=1 (got stride={stride}): with a larger stride the "
                "output cannot have the input's size. Pass the padding as an int instead."
            )
        # As torch: the total padding is dilation*(k-1); an odd total puts the extra pixel last.
        (th, tw) = (d * (k - 1) for d, k in zip(dilation, kernel_size, strict=True))
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    raise ValueError(f"padding must be 'valid', 'same', an int or a pair of ints, got {padding!r}.")


def conv2d_args(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                stride: IntOrPair, padding: IntOrPair | str, dilation: IntOrPair,
                groups: int) -> tuple[torch.Tensor, bool, tuple[int, int], tuple[int, int], Pads]:
    """The argument checks of :func:`conv2d`, kept out of it so that it reads as the algorithm.

    Raises a ValueError that says what to change for a bad argument; returns them normalised:
    (x as (N, C, H, W), whether x was unbatched, stride, dilation, padding per side)."""
    x4, unbatched = as_batch(x, "conv2d")
    if not isinstance(weight, torch.Tensor) or weight.dim() != 4:
        shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
        raise ValueError(
            f"weight must have shape (C_out, C_in // groups, kH, kW), got {shape}; "
            "reshape one 2-D kernel k with k[None, None]."
        )
    int_at_least("groups", groups)
    out_channels, in_per_group, kh, kw = weight.shape
    in_channels = x4.shape[1]
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"groups={groups} must divide both the input channels ({in_channels}) and the output "
            f"channels ({out_channels}, weight.shape[0]); choose groups among their common divisors."
        )
    if in_channels != in_per_group * groups:
        raise ValueError(
            f"x has {in_channels} channels but weight {tuple(weight.shape)} with groups={groups} "
            f"expects {in_per_group * groups} (weight.shape[1] * groups); give weight the shape "
            f"({out_channels}, {in_channels // groups}, {kh}, {kw}) or x {in_per_group * groups} channels."
        )
    if bias is not None:
        check.instance("bias", bias, torch.Tensor, f"None or a tensor of shape ({out_channels},)")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(
            f"bias must have shape ({out_channels},), one value per output channel; got {tuple(bias.shape)}."
        )
    stride = int_pair("stride", stride, 1)
    dilation = int_pair("dilation", dilation, 1)
    pads = _conv_padding(padding, (kh, kw), stride, dilation)
    if padding != "same":  # 'same' always fits; the others pad both sides alike
        check_fits(x4, (kh, kw), stride, (pads[0], pads[2]), dilation)
    return x4, unbatched, stride, dilation, pads


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair | str = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """2-D convolution (cross-correlation), like ``F.conv2d``.

    Args:
        x: input (N, C_in, H, W), or (C_in, H, W) for one image.
        weight: kernels (C_out, C_in // groups, kH, kW).
        bias: optional (C_out,), added to each output channel.
        stride, dilation: int or (height, width) pair, >= 1.
        padding: zeros on each side: int, (height, width) pair,
            ``"valid"`` (none) or ``"same"`` (output as large as the
            input; needs stride 1).
        groups: split the channels into ``groups`` independent
            convolutions; ``groups=C_in`` is a depthwise convolution.

    Returns:
        (N, C_out, H_out, W_out), with
        ``H_out = conv_out(H, kH, stride, padding, dilation)``.
    """
    x, unbatched, stride, dilation, pads = conv2d_args(
        x, weight, bias, stride, padding, dilation, groups)
    top, bottom, left, right = pads
    n, g = x.shape[0], groups
    c_out, c_in, kh, kw = weight.shape  # c_in: input channels per group
    padded = F.pad(x, (left, right, top, bottom))
    win = windows(padded, (kh, kw), stride, dilation)
    h_out, w_out = win.shape[2:4]
    # im2col: one column per output pixel holding its window, one row per
    # (channel, ky, kx); reshape copies the view into one contiguous matrix.
    cols = win.unflatten(1, (g, c_in)).permute(0, 1, 2, 5, 6, 3, 4)
    cols = cols.reshape(n, g, c_in * kh * kw, h_out * w_out)
    kernels = weight.reshape(g, c_out // g, c_in * kh * kw)
    out = kernels @ cols  # each output pixel: its window times each kernel
    out = out.reshape(n, c_out, h_out, w_out)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out[0] if unbatched else out


def pool_args(kernel_size: IntOrPair, stride: IntOrPair | None,
               padding: IntOrPair) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Pooling's kernel size, stride (default: the kernel size) and padding as checked pairs."""
    kernel = int_pair("kernel_size", kernel_size, 1)
    steps = kernel if stride is None else int_pair("stride", stride, 1)
    pads = int_pair("padding", padding, 0)
    if pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2:
        raise ValueError(
            f"padding={padding!r} is more than half of kernel_size={kernel_size!r}, so some windows "
            f"would hold only padding; use padding <= kernel_size // 2 = {(kernel[0] // 2, kernel[1] // 2)} "
            "(torch has the same rule)."
        )
    return kernel, steps, pads


def pool_windows(
    x: torch.Tensor,
    kernel_size: IntOrPair,
    stride: IntOrPair | None,
    padding: IntOrPair,
    op: str,
    fill: float,
) -> tuple[torch.Tensor, bool]:
    """Pad ``x`` with ``fill`` and cut it into pooling windows.

    Returns the windows (N, C, H_out, W_out, kH, kW) and whether ``x``
    was one unbatched (C, H, W) image; ``op`` names the caller in errors.
    """
    x4, unbatched = as_batch(x, op)
    check.instance("fill", fill, (int, float), "a number to pad with")
    kernel, steps, (ph, pw) = pool_args(kernel_size, stride, padding)
    check_fits(x4, kernel, steps, (ph, pw), (1, 1))
    padded = F.pad(x4, (pw, pw, ph, ph), value=fill)
    return windows(padded, kernel, steps, (1, 1)), unbatched


def max_pool2d(x: torch.Tensor, kernel_size: IntOrPair,
               stride: IntOrPair | None = None,
               padding: IntOrPair = 0) -> torch.Tensor:
    """Maximum of each window, like ``F.max_pool2d``.

    ``stride`` defaults to ``kernel_size``. The padding is ``-inf``, so it
    never wins. As in torch, the gradient of each output flows to one
    input: the first maximum of its window in row-major order.
    """
    win, unbatched = pool_windows(x, kernel_size, stride, padding,
                                  "max_pool2d", float("-inf"))
    win = win.flatten(-2)  # (N, C, H_out, W_out, kH*kW)
    first_max = win.argmax(-1, keepdim=True)
    out = win.gather(-1, first_max).squeeze(-1)
    return out[0] if unbatched else out


def avg_pool2d(x: torch.Tensor, kernel_size: IntOrPair,
               stride: IntOrPair | None = None,
               padding: IntOrPair = 0) -> torch.Tensor:
    """Mean of each window, like ``F.avg_pool2d``.

    ``stride`` defaults to ``kernel_size``. The zero padding counts in the
    mean (torch's default ``count_include_pad=True``): every window is
    divided by kH*kW.
    """
    win, unbatched = pool_windows(x, kernel_size, stride, padding,
                                  "avg_pool2d", 0.0)
    out = win.mean(dim=(-2, -1))
    return out[0] if unbatched else out
