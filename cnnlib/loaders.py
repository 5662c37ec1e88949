"""Data loaders of normalised tensors, and the augmentations the chapters train with.

:func:`tensor_loaders` turns two :class:`cnnlib.data.ImageSet` s (uint8 images) into
DataLoaders of float tensors, normalised per channel with the training set's own statistics
(:func:`cnnlib.images.channel_stats` and :func:`cnnlib.images.normalize`, the one
normalisation path of the course). They also work inside a fastai ``DataLoaders``.
:func:`random_shift` and :func:`random_flip` are batch augmentations, and :class:`Augmented`
applies one to every batch a loader yields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from cnnlib import check
from cnnlib import images as img
from cnnlib.check import flag, int_at_least
from cnnlib.data import ImageSet


def tensor_loaders(
    train: ImageSet,
    valid: ImageSet,
    batch_size: int = 128,
    normalize: bool = True,
    device: torch.device | str | None = None,
    seed: int = 0,
    drop_last: bool = False,
) -> tuple[DataLoader, DataLoader]:
    """DataLoaders of float images and int64 labels from two ImageSets.

    Images become float32 in [0, 1]; with ``normalize`` each channel is then shifted and
    scaled by the *training* set's mean and standard deviation (the validation set is never
    looked at), so the training inputs have mean 0 and std 1 per channel. The whole set lives
    in memory (on ``device`` if given, which saves a copy per batch on a GPU). The training
    loader shuffles (seeded by ``seed``); each batch is one indexing operation, not
    ``batch_size`` separate ones. With ``drop_last`` the training loader skips the last,
    partial batch of every epoch (a different remainder each time, since it shuffles): a
    batch-norm network then never normalises with the statistics of a handful of images,
    nor puts them into its running averages just before it is evaluated. The validation
    loader always yields every sample.
    """
    check.instance("train", train, ImageSet, "an ImageSet (e.g. data.mnist('train'))")
    check.instance("valid", valid, ImageSet, "an ImageSet (e.g. data.mnist('test'))")
    int_at_least("batch_size", batch_size)
    flag("normalize", normalize)
    int_at_least("seed", seed, minimum=0)
    flag("drop_last", drop_last)
    if drop_last and len(train) < batch_size:
        raise ValueError(f"drop_last=True with {len(train)} training images and batch_size="
                         f"{batch_size} leaves no batch: use a smaller batch_size.")
    if len(train) == 0 or len(valid) == 0:
        raise ValueError(f"Both sets need samples: got {len(train)} training and {len(valid)} "
                         "validation images.")
    mean, std = img.channel_stats(train.images) if normalize else (None, None)

    def loader(s: ImageSet, shuffle: bool) -> DataLoader:
        x = s.images.float() / 255
        if normalize:
            x = img.normalize(x, mean.tolist(), std.tolist())
        ds = TensorDataset(x.to(device), s.labels.to(device))
        generator = torch.Generator().manual_seed(seed)
        order = RandomSampler(ds, generator=generator) if shuffle else SequentialSampler(ds)
        # batch_size=None + a BatchSampler: the dataset is indexed with a whole list at once.
        batches = BatchSampler(order, batch_size, drop_last=drop_last and shuffle)
        return DataLoader(ds, sampler=batches, batch_size=None)

    return loader(train, True), loader(valid, False)


def random_shift(x: torch.Tensor, max_shift: int = 2, fill: float | None = None) -> torch.Tensor:
    """Move each image of a batch (N, C, H, W) by its own random whole-pixel offset, up to
    ``max_shift`` pixels up/down and left/right; pixels moved in from outside get ``fill``
    (default: the batch's smallest value, the background of normalised digits). Data
    augmentation: the network sees every training image at many positions. With
    ``max_shift=4, fill=0`` it is CIFAR's classic "pad 4 and crop 32" augmentation."""
    check.tensor("x", x, "N, C, H, W")
    int_at_least("max_shift", max_shift, minimum=0)
    n, c, h, w = x.shape
    m = max_shift
    padded = nn.functional.pad(x, (m, m, m, m), value=x.min().item() if fill is None else fill)
    dy, dx = torch.randint(0, 2 * m + 1, (2, n, 1), device=x.device)  # top-left corner of each crop
    rows = (dy + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]  # one H x W crop per image, in one indexing operation


def random_flip(x: torch.Tensor) -> torch.Tensor:
    """Mirror each image of a batch (N, C, H, W) left-right with probability 1/2, each on its
    own coin. Right for photos (a car facing left is still a car), wrong for digits."""
    check.tensor("x", x, "N, C, H, W")
    flip = torch.rand(x.shape[0], device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


class Augmented:
    """Wrap a loader of (x, y) batches so that every batch it yields is ``(transform(x), y)``,
    e.g. ``Augmented(train_dl, random_shift)``. It has the loader's length, so
    :func:`cnnlib.train.fit` and ``OneCycleLR``'s ``total_steps`` work as with the loader."""

    def __init__(self, loader: DataLoader, transform: Callable[[torch.Tensor], torch.Tensor]) -> None:
        if not callable(transform):
            raise ValueError(f"transform must be a function of a batch, got {type(transform).__name__}.")
        self.loader, self.transform = loader, transform

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for x, y in self.loader:
            yield self.transform(x), y
