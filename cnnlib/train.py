"""A small, readable training loop: :func:`fit`, :func:`evaluate` and the :class:`History` they keep.

The loop is the classic five lines (forward, loss, backward, step, zero_grad) plus the
bookkeeping a chapter wants to plot: the loss and learning rate of every batch, and the
train loss, validation loss, accuracy and seconds of every epoch. Progress is one printed line
per epoch, so a notebook's stored output reads the same in Jupyter and on the website.

:func:`tensor_loaders` turns :class:`cnnlib.data.ImageSet` s (uint8 images) into DataLoaders
of normalised float tensors, which also work inside a fastai ``DataLoaders``; :func:`subset`
picks classes or a random sample of an ImageSet; :func:`random_shift` and :class:`Augmented`
add data augmentation (random shifts) to a training loader.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sized
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from cnnlib.data import ImageSet

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class History:
    """What :func:`fit` records. Per epoch: ``train_loss`` (mean over the epoch's batches),
    ``valid_loss``, ``valid_accuracy`` (a fraction in [0, 1]) and ``seconds``. Per batch:
    ``batch_loss`` and ``batch_lr`` (the learning rate the batch was trained with)."""

    train_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    valid_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)
    batch_lr: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """How many epochs have been recorded."""
        return len(self.valid_accuracy)

    @property
    def total_seconds(self) -> float:
        """Training time of all epochs together (validation included)."""
        return sum(self.seconds)


def _check_loader(loader: object, name: str) -> None:
    if not isinstance(loader, DataLoader) and not hasattr(loader, "__iter__"):
        raise ValueError(f"{name} must be a DataLoader (or another iterable of (x, y) batches), "
                         f"got {type(loader).__name__}.")
    if isinstance(loader, Sized) and len(loader) == 0:
        raise ValueError(f"{name} is empty: it yields no batches. Check the dataset and batch size "
                         "(drop_last=True with fewer samples than one batch gives no batches).")


def _device_of(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def evaluate(model: nn.Module, loader: DataLoader, loss_fn: LossFn = nn.functional.cross_entropy,
             device: torch.device | str | None = None) -> tuple[float, float]:
    """Return ``(mean loss, accuracy)`` of ``model`` over every sample of ``loader``.

    The loss is averaged per sample (not per batch, so a smaller last batch counts for what
    it holds); accuracy is the fraction of samples whose largest logit is at the true label.
    The model is put in eval mode (batch norm uses its running statistics) and left there.
    """
    _check_loader(loader, "loader")
    device = torch.device(device) if device is not None else _device_of(model)
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            total_loss += loss_fn(logits, y).item() * len(y)
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
    if count == 0:
        raise ValueError("loader yielded no samples; nothing to evaluate.")
    return total_loss / count, correct / count


def fit(
    model: nn.Module,
    train_loader: DataLoader,
    valid_loader: DataLoader,
    epochs: int,
    opt: torch.optim.Optimizer,
    loss_fn: LossFn = nn.functional.cross_entropy,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; validate after each.

    ``scheduler.step()`` is called after every batch (the convention of ``OneCycleLR``: give
    it ``total_steps=epochs * len(train_loader)``). ``device`` defaults to where the model's
    parameters are; batches are moved there. With ``progress`` one line is printed per epoch.
    Returns the :class:`History`.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}.")
    _check_loader(train_loader, "train_loader")
    _check_loader(valid_loader, "valid_loader")
    device = torch.device(device) if device is not None else _device_of(model)
    model.to(device)
    history = History()
    if progress:
        print(f"{'epoch':>5}  {'train_loss':>10}  {'valid_loss':>10}  {'accuracy':>8}  {'time':>7}")
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        epoch_losses = []
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            loss = loss_fn(model(x), y)
            loss.backward()
            history.batch_lr.append(opt.param_groups[0]["lr"])
            opt.step()
            opt.zero_grad()
            if scheduler is not None:
                scheduler.step()
            epoch_losses.append(loss.item())
        if not epoch_losses:
            raise ValueError("train_loader yielded no batches.")
        history.batch_loss.extend(epoch_losses)
        valid_loss, accuracy = evaluate(model, valid_loader, loss_fn, device)
        history.train_loss.append(sum(epoch_losses) / len(epoch_losses))
        history.valid_loss.append(valid_loss)
        history.valid_accuracy.append(accuracy)
        history.seconds.append(time.perf_counter() - start)
        if progress:
            print(f"{epoch + 1:>5}  {history.train_loss[-1]:>10.4f}  {valid_loss:>10.4f}  "
                  f"{accuracy:>8.2%}  {history.seconds[-1]:>6.1f}s", flush=True)
    return history


def to_float(images: torch.Tensor, mean: float | None = None, std: float | None = None) -> torch.Tensor:
    """uint8 images -> float32 in [0, 1], then ``(x - mean) / std`` when both are given."""
    if images.dtype != torch.uint8:
        raise ValueError(f"to_float expects uint8 images (0-255), got dtype {images.dtype}.")
    if (mean is None) != (std is None):
        raise ValueError("Give both mean and std to normalise, or neither.")
    x = images.float() / 255
    return x if mean is None else (x - mean) / std


def tensor_loaders(
    train: ImageSet,
    valid: ImageSet,
    batch_size: int = 128,
    normalize: bool = True,
    device: torch.device | str | None = None,
    seed: int = 0,
) -> tuple[DataLoader, DataLoader]:
    """DataLoaders of float images and int64 labels from two ImageSets.

    Images become float32 in [0, 1]; with ``normalize`` they are then shifted and scaled by
    the training set's mean and standard deviation (one number each, over all pixels), so
    the inputs have mean 0 and std 1. The whole set lives in memory (on ``device`` if given,
    which saves a copy per batch on a GPU). The training loader shuffles (seeded by ``seed``);
    each batch is one indexing operation, not ``batch_size`` separate ones.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    if len(train) == 0 or len(valid) == 0:
        raise ValueError(f"Both sets need samples: got {len(train)} training and {len(valid)} "
                         "validation images.")
    mean = std = None
    if normalize:
        x = train.images.float() / 255
        mean, std = x.mean().item(), x.std().item()

    def loader(s: ImageSet, shuffle: bool) -> DataLoader:
        ds = TensorDataset(to_float(s.images, mean, std).to(device), s.labels.to(device))
        generator = torch.Generator().manual_seed(seed)
        order = RandomSampler(ds, generator=generator) if shuffle else SequentialSampler(ds)
        # batch_size=None + a BatchSampler: the dataset is indexed with a whole list at once.
        return DataLoader(ds, sampler=BatchSampler(order, batch_size, drop_last=False), batch_size=None)

    return loader(train, True), loader(valid, False)


def random_shift(x: torch.Tensor, max_shift: int = 2, fill: float | None = None) -> torch.Tensor:
    """Move each image of a batch (N, C, H, W) by its own random whole-pixel offset, up to
    ``max_shift`` pixels up/down and left/right; pixels moved in from outside get ``fill``
    (default: the batch's smallest value, the background of normalised digits). Data
    augmentation: the network sees every training image at many positions."""
    if x.ndim != 4:
        raise ValueError(f"random_shift expects a batch of shape (N, C, H, W), got {tuple(x.shape)}.")
    if not isinstance(max_shift, int) or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative int, got {max_shift!r}.")
    n, c, h, w = x.shape
    m = max_shift
    padded = nn.functional.pad(x, (m, m, m, m), value=x.min().item() if fill is None else fill)
    dy, dx = torch.randint(0, 2 * m + 1, (2, n, 1), device=x.device)  # top-left corner of each crop
    rows = (dy + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]  # one H x W crop per image, in one indexing operation


class Augmented:
    """Wrap a loader of (x, y) batches so that every batch it yields is ``(transform(x), y)``,
    e.g. ``Augmented(train_dl, random_shift)``. It has the loader's length, so :func:`fit`
    and ``OneCycleLR``'s ``total_steps`` work as with the loader itself."""

    def __init__(self, loader: DataLoader, transform: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.loader, self.transform = loader, transform

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for x, y in self.loader:
            yield self.transform(x), y


def subset(s: ImageSet, labels: list[int] | None = None, n: int | None = None, seed: int = 0) -> ImageSet:
    """Keep only the samples whose label is in ``labels`` (relabelled 0, 1, ... in that order),
    then, if ``n`` is given, a random ``n`` of them (seeded). E.g. MNIST 3s vs 7s:
    ``subset(data.mnist("train"), labels=[3, 7])`` has labels 0 (a 3) and 1 (a 7)."""
    images, targets, classes = s.images, s.labels, s.classes
    if labels is not None:
        unknown = [c for c in labels if not 0 <= c < len(s.classes)]
        if not labels or unknown:
            raise ValueError(f"labels must be a non-empty list of class indices in 0..{len(s.classes) - 1}, "
                             f"got {labels}.")
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels must not repeat a class, got {labels}.")
        keep = torch.isin(targets, torch.tensor(labels))
        new_label = torch.full((len(s.classes),), -1, dtype=torch.int64)
        new_label[torch.tensor(labels)] = torch.arange(len(labels))  # old label -> position in labels
        images, targets = images[keep], new_label[targets[keep]]
        classes = tuple(s.classes[c] for c in labels)
    if n is not None:
        if not 1 <= n <= len(targets):
            raise ValueError(f"n must be between 1 and {len(targets)} (the samples left), got {n}.")
        idx = torch.randperm(len(targets), generator=torch.Generator().manual_seed(seed))[:n]
        images, targets = images[idx], targets[idx]
    return ImageSet(images=images, labels=targets, classes=classes)
