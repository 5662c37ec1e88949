"""Shapes: the output size of a convolution or pooling layer."""

from __future__ import annotations


def _positive_int(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
    return value


def conv_out(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
             dilation: int = 1) -> int:
    """Output length along one axis of a convolution or pooling window.

    ``floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1``, as in
    ``torch.nn.Conv2d``: the dilated kernel spans ``dilation*(kernel_size-1) + 1`` pixels and
    must fit inside the padded input at least once.
    """
    _positive_int("size", size)
    _positive_int("kernel_size", kernel_size)
    _positive_int("stride", stride)
    _positive_int("padding", padding, minimum=0)
    _positive_int("dilation", dilation)
    span = dilation * (kernel_size - 1) + 1
    padded = size + 2 * padding
    if span > padded:
        raise ValueError(
            f"The kernel spans {span} pixels (kernel_size={kernel_size}, dilation={dilation}) but "
            f"the padded input is only {padded} (size={size}, padding={padding}); use a smaller "
            "kernel or dilation, or more padding."
        )
    return (padded - span) // stride + 1
