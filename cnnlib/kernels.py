"""Classic image-processing kernels as float32 tensors of shape (k, k).

They are written for *cross-correlation*, what ``F.conv2d``, :func:`cnnlib.ops.conv2d` and
``cv2.filter2D`` compute: the weight at row ``i``, column ``j`` multiplies the pixel at that
offset in the window, so :func:`sobel_x` responds positively where the image gets brighter
to the right. Reshape a kernel to (1, 1, k, k) to use it as a convolution weight::

    edges = F.conv2d(gray[None, None], kernels.sobel_x()[None, None], padding=1)

Every kernel has a name in :data:`KERNELS`; :func:`get` builds one by name.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib import check


def _odd_size(size: int) -> int:
    return check.int_where("size", size, lambda s: s >= 1 and s % 2 == 1,
                           "an odd int >= 1 so the kernel has a centre pixel")


def _tensor(rows: list[list[float]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)


def identity(size: int = 3) -> torch.Tensor:
    """1 at the centre, 0 elsewhere: the output equals the input."""
    k = torch.zeros(_odd_size(size), size)
    k[size // 2, size // 2] = 1.0
    return k


def box_blur(size: int = 3) -> torch.Tensor:
    """The mean of a size×size window: every weight is 1/size²."""
    return torch.full((_odd_size(size), size), 1.0 / size**2)


def gaussian(size: int = 5, sigma: float = 1.0) -> torch.Tensor:
    """A Gaussian blur, normalised to sum to 1.

    The outer product of the 1-D kernel ``exp(-x²/(2σ²))`` with itself (x = -size//2 .. size//2),
    so it is separable; the same as ``cv2.getGaussianKernel(size, sigma)`` times its transpose.
    """
    _odd_size(size)
    check.positive("sigma", sigma, " of pixels")
    x = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g).float()


def sharpen() -> torch.Tensor:
    """Identity minus the 4-neighbour Laplacian: boosts a pixel against its neighbours."""
    return _tensor([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])


def sobel_x() -> torch.Tensor:
    """Horizontal derivative (right minus left), smoothed vertically with weights 1, 2, 1."""
    return _tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def sobel_y() -> torch.Tensor:
    """Vertical derivative (bottom minus top), smoothed horizontally: sobel_x transposed."""
    return sobel_x().T.contiguous()


def laplacian(neighbours: int = 4) -> torch.Tensor:
    """Discrete Laplacian: the neighbours' sum minus ``neighbours`` times the centre (4 or 8)."""
    if neighbours == 4:
        return _tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    if neighbours == 8:
        return _tensor([[1, 1, 1], [1, -8, 1], [1, 1, 1]])
    raise ValueError(f"neighbours must be 4 (edge neighbours) or 8 (with the diagonals), got {neighbours!r}.")


def outline() -> torch.Tensor:
    """Centre against all 8 neighbours (minus the 8-neighbour Laplacian): bright edges on black."""
    return _tensor([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])


def emboss() -> torch.Tensor:
    """A diagonal derivative plus the image: edges look raised, lit from the top left."""
    return _tensor([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])


KERNELS: dict[str, Callable[..., torch.Tensor]] = {
    "identity": identity,
    "box_blur": box_blur,
    "gaussian": gaussian,
    "sharpen": sharpen,
    "sobel_x": sobel_x,
    "sobel_y": sobel_y,
    "laplacian": laplacian,
    "outline": outline,
    "emboss": emboss,
}
"""Every named kernel's builder; call it (or :func:`get`) for a fresh tensor."""


def get(name: str, **params) -> torch.Tensor:
    """The kernel called ``name``, e.g. ``get("gaussian", size=7, sigma=2.0)``."""
    check.instance("name", name, str, "the name of a kernel, e.g. 'sobel_x'")
    if name not in KERNELS:
        raise ValueError(f"Unknown kernel {name!r}; choose one of: {', '.join(KERNELS)} (as name).")
    return KERNELS[name](**params)
