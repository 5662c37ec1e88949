"""A small, readable training loop: :func:`fit`, :func:`evaluate` and the :class:`History` they keep.

One epoch is :func:`train_epoch`: the classic five lines (forward, loss, backward, step,
zero_grad) for every batch. :func:`fit` repeats it and adds the bookkeeping a chapter wants to
plot: the loss and learning rate of every batch, and the train loss, validation loss, accuracy
and seconds of every epoch. Progress is one printed line per epoch, so a notebook's stored
output reads the same in Jupyter and on the website. Data loaders live in
:mod:`cnnlib.loaders`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader

from cnnlib import check
from cnnlib.config import device_of

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


def evaluate(model: nn.Module, loader: DataLoader, loss_fn: LossFn = nn.functional.cross_entropy,
             device: torch.device | str | None = None) -> tuple[float, float]:
    """Return ``(mean loss, accuracy)`` of ``model`` over every sample of ``loader``.

    The loss is averaged per sample (not per batch, so a smaller last batch counts for what
    it holds); accuracy is the fraction of samples whose largest logit is at the true label.
    The model is put in eval mode (batch norm uses its running statistics) and left there.
    """
    check.instance("model", model, nn.Module, "an nn.Module")
    check.loader("loader", loader)
    device = torch.device(device) if device is not None else device_of(model)
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


def train_epoch(
    model: nn.Module,
    loader: Iterable,
    opt: torch.optim.Optimizer,
    loss_fn: LossFn = nn.functional.cross_entropy,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    device: torch.device | str | None = None,
    lrs: list[float] | None = None,
) -> list[float]:
    """One pass over ``loader``, one optimizer step per batch.

    Returns the loss of every batch. ``scheduler`` (if any) steps after
    every batch; ``lrs`` (if given) receives each batch's learning rate.
    """
    check.instance("model", model, nn.Module, "an nn.Module")
    check.loader("loader", loader)
    check.instance("opt", opt, torch.optim.Optimizer, "a torch optimizer")
    if device is None:
        device = device_of(model)
    model.train()  # batch norm uses batch statistics, dropout drops
    losses = []
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        loss = loss_fn(model(x), y)  # forward
        loss.backward()  # d loss / d parameter, added into each .grad
        if lrs is not None:
            lrs.append(opt.param_groups[0]["lr"])
        opt.step()  # move every parameter against its gradient
        opt.zero_grad()  # so the next backward() starts from zero
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    if not losses:
        raise ValueError("the training loader yielded no batches.")
    return losses


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

    Each epoch is one :func:`train_epoch`, then :func:`evaluate` on ``valid_loader``.
    ``scheduler.step()`` is called after every batch (the convention of ``OneCycleLR``: give
    it ``total_steps=epochs * len(train_loader)``). ``device`` defaults to where the model's
    parameters are; batches are moved there. With ``progress`` one line is printed per epoch.
    Returns the :class:`History`.
    """
    check.instance("model", model, nn.Module, "an nn.Module")
    check.loader("train_loader", train_loader)
    check.loader("valid_loader", valid_loader)
    check.int_at_least("epochs", epochs)
    check.instance("opt", opt, torch.optim.Optimizer, "a torch optimizer")
    device = torch.device(device) if device is not None else device_of(model)
    model.to(device)
    history = History()
    if progress:
        print(f"{'epoch':>5}  {'train_loss':>10}  {'valid_loss':>10}  {'accuracy':>8}  {'time':>7}")
    for epoch in range(epochs):
        start = time.perf_counter()
        losses = train_epoch(model, train_loader, opt, loss_fn, scheduler, device, history.batch_lr)
        history.batch_loss.extend(losses)
        valid_loss, accuracy = evaluate(model, valid_loader, loss_fn, device)
        history.train_loss.append(sum(losses) / len(losses))
        history.valid_loss.append(valid_loss)
        history.valid_accuracy.append(accuracy)
        history.seconds.append(time.perf_counter() - start)
        if progress:
            print(f"{epoch + 1:>5}  {history.train_loss[-1]:>10.4f}  {valid_loss:>10.4f}  "
                  f"{accuracy:>8.2%}  {history.seconds[-1]:>6.1f}s", flush=True)
    return history
