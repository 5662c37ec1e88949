"""Images as tensors: per-channel statistics and the normalisation pretrained networks expect.

A network trained on ImageNet saw every input as ``(x - mean) / std`` per channel, with ``x`` a
float RGB image in [0, 1] and the dataset's statistics :data:`IMAGENET_MEAN` and
:data:`IMAGENET_STD`; it must be fed the same. :func:`normalize` does that (the same numbers as
``torchvision.transforms.Normalize``), :func:`denormalize` undoes it for display, and
:func:`channel_stats` measures a dataset's own mean and std.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cnnlib import check

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
"""Per-channel (R, G, B) mean of the ImageNet training images, for floats in [0, 1]."""

IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
"""Per-channel (R, G, B) standard deviation of the ImageNet training images, for floats in [0, 1]."""


def check_images(x: torch.Tensor, name: str, floating: bool = True, arg: str = "x") -> None:
    """Nothing if ``x`` is an image (C, H, W) or batch (N, C, H, W) tensor (float unless
    ``floating=False``); otherwise a ValueError, naming argument ``arg`` of ``name``, that says
    how to convert it."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(
            f"{name} expects {arg} as a torch.Tensor of shape (C, H, W) or (N, C, H, W), got "
            f"{type(x).__name__}; "
            "convert a NumPy HWC image with torchvision.transforms.functional.to_tensor(image)."
        )
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{name} expects {arg} of shape (C, H, W) or (N, C, H, W), got shape {tuple(x.shape)}; "
            "for an (H, W) grayscale image use x[None] to add the channel dimension."
        )
    if floating and not x.is_floating_point():
        raise ValueError(
            f"{name} expects a float tensor with values in [0, 1], got dtype {x.dtype}; "
            "convert a uint8 image with x.float() / 255 first."
        )


def channel_params(x: torch.Tensor, mean: Sequence[float], std: Sequence[float],
                    name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and std as (C, 1, 1) tensors on x's device and dtype, checked against x's channels."""
    check_images(x, name, floating=False)
    check.sample("mean", mean)
    check.sample("std", std)
    channels = x.shape[-3]
    if len(mean) != channels or len(std) != channels:
        raise ValueError(
            f"{name}: the image has {channels} channels (dimension -3 of shape {tuple(x.shape)}) but "
            f"got {len(mean)} means and {len(std)} stds; pass one per channel, and check the "
            "image is channels-first (permute an HWC image with x.permute(2, 0, 1))."
        )
    m = torch.as_tensor(mean, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
    s = torch.as_tensor(std, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
    if not bool((s > 0).all()):
        raise ValueError(f"{name}: every std must be positive, got {list(std)}.")
    return m, s


def normalize(x: torch.Tensor,
              mean: Sequence[float] = IMAGENET_MEAN,
              std: Sequence[float] = IMAGENET_STD) -> torch.Tensor:
    """Return ``(x - mean) / std`` per channel of a float image.

    ``x`` is one image (C, H, W) or a batch (N, C, H, W). The defaults are
    ImageNet's statistics, which every torchvision pretrained model
    expects. Equal to ``torchvision.transforms.Normalize(mean, std)(x)``;
    ``x`` is not modified.
    """
    check_images(x, "normalize")
    m, s = channel_params(x, mean, std, "normalize")
    return (x - m) / s


def denormalize(x: torch.Tensor, mean: Sequence[float] = IMAGENET_MEAN,
                std: Sequence[float] = IMAGENET_STD) -> torch.Tensor:
    """Undo :func:`normalize`: return ``x * std + mean`` per channel, e.g. to show an input.

    The result is in [0, 1] only if ``x`` came from an image in [0, 1]; clamp it before display
    if it was changed in between (``denormalize(x).clamp(0, 1)``).
    """
    check_images(x, "denormalize")
    m, s = channel_params(x, mean, std, "denormalize")
    return x * s + m


def channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of an image (C, H, W) or a dataset (N, C, H, W).

    The statistics are taken over every pixel of every image (dimensions N, H and W), in
    float64, with the population std (``correction=0``). uint8 images are first scaled to
    [0, 1], so the result can be passed straight to :func:`normalize`. Returns two float32
    tensors of shape (C,).
    """
    check_images(images, "channel_stats", floating=False, arg="images")
    if images.dtype == torch.uint8:
        scale = 1 / 255
    elif images.is_floating_point():
        scale = 1.0
    else:
        raise ValueError(
            f"channel_stats expects uint8 (0-255) or float (0-1) images, got dtype {images.dtype}."
        )
    if images.numel() == 0:
        raise ValueError(f"channel_stats needs at least one pixel, got shape {tuple(images.shape)}.")
    x = images if images.ndim == 4 else images[None]
    means, stds = [], []
    for c in range(x.shape[1]):  # one channel at a time keeps the float64 copy small
        channel = x[:, c].double() * scale
        means.append(channel.mean())
        stds.append(channel.std(correction=0))
    return torch.stack(means).float(), torch.stack(stds).float()
