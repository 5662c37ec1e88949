"""Argument checks shared by every cnnlib module, so each rejects bad input the same way.

Public on purpose: a function a chapter prints whole calls these by name
(``check.int_at_least("epochs", epochs)``), and each reads as what it checks.

Booleans are ints in Python (``True == 1``), so ``epochs=True`` would silently mean one epoch;
every check here refuses them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence, Sized

import numpy as np
import torch


def int_at_least(name: str, value: object, minimum: int = 1) -> int:
    """``value`` if it is an int (not a bool) >= ``minimum``; otherwise a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
    return value


def int_in_range(name: str, value: object, low: int, high: int) -> int:
    """``value`` if it is an int (not a bool) from ``low`` to ``high``; otherwise a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}.")
    return value


def int_pair(name: str, value: object, minimum: int = 1) -> tuple[int, int]:
    """``value`` as a (height, width) pair of ints >= ``minimum``: an int is used for both."""
    pair = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in pair):
        raise ValueError(
            f"{name} must be an int >= {minimum} or a pair (height, width) of such ints, got {value!r}."
        )
    return pair  # type: ignore[return-value]


def flag(name: str, value: object, meaning: str = "") -> bool:
    """``value`` if it is True or False (not 0 or 1: a flag is not a count); otherwise a
    ValueError naming it, followed by ``meaning`` (e.g. " (True: ResNet, False: plain)")."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False{meaning}, got {value!r}.")
    return value


def probability(name: str, value: object) -> float:
    """``value`` if it is a number (not a bool) in [0, 1), e.g. a dropout rate; otherwise a
    ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {value!r}.")
    return value


def is_int(value: object) -> bool:
    """True for an int that is not a bool: the test every int check here makes."""
    return isinstance(value, int) and not isinstance(value, bool)


def int_where(name: str, value: object, ok: Callable[[int], bool], must: str) -> int:
    """``value`` if it is an int (not a bool) for which ``ok(value)`` holds; otherwise the
    ValueError "``name`` must be ``must``, got ``value``", e.g. ``must="an odd int >= 1"``."""
    if not is_int(value) or not ok(value):
        raise ValueError(f"{name} must be {must}, got {value!r}.")
    return value


def number(name: str, value: object, must: str = "a finite number") -> float:
    """``value`` if it is a finite real number (an int or float, not a bool); otherwise a
    ValueError "``name`` must be ``must``"."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be {must}, got {value!r}.")
    return value


def positive(name: str, value: object, unit: str = "") -> float:
    """``value`` if it is a finite number > 0 (not a bool); otherwise a ValueError naming it,
    with ``unit`` after "a positive number" (e.g. " of pixels")."""
    must = f"a positive number{unit}"
    if number(name, value, must) <= 0:
        raise ValueError(f"{name} must be {must}, got {value!r}.")
    return value


def instance(name: str, value: object, kind: type | tuple[type, ...], what: str) -> None:
    """Nothing if ``value`` is an instance of ``kind``; otherwise a TypeError that says
    ``name`` must be ``what`` (e.g. "an nn.Module") and what it got."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}.")


def sequence(name: str, value: object, what: str) -> None:
    """Nothing if ``value`` is a sequence of items: a list, a tuple, or any other object with
    a length and indexing (fastai's ``CategoryMap``, for one), but not a string, a dict, a
    tensor or an array; otherwise a TypeError that says ``name`` must be ``what`` (e.g. "a
    list of images") and what it got."""
    indexable = hasattr(value, "__len__") and hasattr(value, "__getitem__")
    excluded = isinstance(value, (str, bytes, dict, torch.Tensor, np.ndarray))
    if not indexable or excluded:
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}.")


def tensor(name: str, value: object, dims: str) -> None:
    """Nothing if ``value`` is a torch.Tensor with one dimension per name in ``dims`` (e.g.
    "N, C, H, W"); otherwise a ValueError naming it, the shape it needs and what it got."""
    if not isinstance(value, torch.Tensor) or value.ndim != len(dims.split(",")):
        got = f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(f"{name} must be a tensor of shape ({dims}), got {got}.")


def loader(name: str, value: object) -> None:
    """Nothing if ``value`` is a DataLoader or another iterable of (x, y) batches that is not
    empty; otherwise a ValueError naming it."""
    if isinstance(value, (str, bytes, torch.Tensor, np.ndarray)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{name} must be a DataLoader (or another iterable of (x, y) batches), "
                         f"got {type(value).__name__}.")
    if isinstance(value, Sized) and len(value) == 0:
        raise ValueError(f"{name} is empty: it yields no batches. Check the dataset and batch size "
                         "(drop_last=True with fewer samples than one batch gives no batches).")


def image_batch(x: object, shape: tuple[int, int, int], model: str, hint: str | None = None) -> None:
    """Nothing if ``x`` is a batch of images (N, C, H, W) with (C, H, W) equal to ``shape``;
    otherwise a ValueError that says which shape ``model`` reads, then ``hint`` (default: add
    a batch dimension or resize)."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != tuple(shape):
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        c, h, w = shape
        if hint is None:
            hint = f"Add a batch dimension with x[None], or resize the images to {h}x{w}."
        raise ValueError(
            f"{model} reads a batch of {c}-channel {h}x{w} images, shape (N, {c}, {h}, {w}); "
            f"got {got}. {hint}"
        )


def rgb_batch(
    x: object,
    model: str,
    min_size: int,
    hint: str = "Add a batch dimension with x[None], or resize the images (ImageNet weights "
    "expect 224×224).",
) -> None:
    """Nothing if ``x`` is a batch of RGB images (N, 3, H, W) with H, W >= ``min_size`` (for
    networks that pool adaptively and take any size above it); otherwise a ValueError that says
    what ``model`` needs, then ``hint``."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3 or min(x.shape[-2:]) < min_size:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(
            f"{model} needs a batch of RGB images (N, 3, H, W) with H and W >= {min_size}, "
            f"got shape {got}. {hint}"
        )


def level(name: str, value: object) -> float:
    """``value`` if it is a number (not a bool) strictly between 0 and 1, e.g. a confidence
    level of 0.95; otherwise a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1 (e.g. 0.95 for a 95% "
                         f"interval), got {value!r}.")
    return float(value)


def sample(name: str, values: object, minimum: int = 1) -> np.ndarray:
    """``values`` (a list, NumPy array or tensor) as a 1-D float64 array of at least
    ``minimum`` finite numbers; otherwise a ValueError that says what was wrong."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        raise ValueError(f"{name} must be a 1-D sequence of numbers (a list, array or tensor), "
                         f"got {type(values).__name__}.")
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must hold numbers only; converting it failed: {err}.") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per sample), got shape {array.shape}; "
                         "flatten it, or pass one row at a time.")
    if len(array) < minimum:
        raise ValueError(f"{name} needs at least {minimum} values, got {len(array)}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values; drop them before computing "
                         "statistics.")
    return array


def outcomes(name: str, values: object) -> np.ndarray:
    """``values`` (bools, or 0/1) as a 1-D bool array, e.g. which test images a model got
    right; otherwise a ValueError."""
    array = sample(name, values)
    if not np.isin(array, (0.0, 1.0)).all():
        raise ValueError(f"{name} must hold True/False (or 1/0) per sample, e.g. "
                         "predictions == labels; got other values.")
    return array.astype(bool)


def same_length(names: str, a: Sequence | np.ndarray, b: Sequence | np.ndarray) -> None:
    """Nothing if ``a`` and ``b`` pair up one to one; otherwise a ValueError naming them."""
    if len(a) != len(b):
        raise ValueError(f"{names} are paired (one value each per sample) and must have the "
                         f"same length, got {len(a)} and {len(b)}.")


def module(name: str, value: object, arg: str = "model") -> None:
    """Nothing if ``value`` is an ``nn.Module``; otherwise a ValueError: "``name`` needs an
    nn.Module as ``arg``, got ..." (``name``: the function that needs it; ``arg``: the
    argument that should be one)."""
    if not isinstance(value, torch.nn.Module):
        raise ValueError(f"{name} needs an nn.Module as {arg}, got {type(value).__name__}.")


def module_in(model: object, layer: object, name: str) -> None:
    """Nothing if ``layer`` is one of ``model.modules()`` (the very object, not a copy);
    otherwise a ValueError that says which module to pass, e.g. for Grad-CAM."""
    is_module = isinstance(layer, torch.nn.Module)
    if not is_module or not isinstance(model, torch.nn.Module) or not any(
            m is layer for m in model.modules()):
        got = f"a {type(layer).__name__} that is not in it" if is_module else type(layer).__name__
        raise ValueError(
            f"{name} must be a module of the model (the layer to read, one of model.modules()), got {got}; "
            "e.g. model.layer4[-1] for a ResNet, model.features[-1] for MobileNetV2."
        )


def function(name: str, value: object) -> None:
    """Nothing if ``value`` can be called; otherwise a ValueError naming ``name``."""
    if not callable(value):
        raise ValueError(f"{name} needs a function to call, got {type(value).__name__}.")


def float_batch(name: str, x: object) -> torch.Tensor:
    """``x`` if it is a float tensor (N, C, H, W) of images; otherwise a ValueError that says
    how to make one from a single image."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        got = f"shape {tuple(x.shape)}, dtype {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(
            f"{name} must be a float batch (N, C, H, W), got {got}; add the batch dimension "
            "of one image with x[None] and normalise it (cnnlib.images.normalize)."
        )
    return x


def one_of(name: str, value: object, choices: Sequence[object]) -> object:
    """``value`` if it is one of ``choices`` (a bool never counts as 1 or 0); otherwise a
    ValueError naming it and listing the choices."""
    try:
        found = not isinstance(value, bool) and value in choices
    except (TypeError, ValueError, RuntimeError):  # an array or tensor compares element-wise
        found = False
    if not found:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}.")
    return value


def tensor_at_least(name: str, value: object, ndim: int, dims: str) -> torch.Tensor:
    """``value`` if it is a torch.Tensor with at least ``ndim`` dimensions, e.g. ``dims=
    "..., H, W"``; otherwise a ValueError naming it, the shape it needs and what it got."""
    if not isinstance(value, torch.Tensor) or value.ndim < ndim:
        got = f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(f"{name} must be a tensor of shape ({dims}), got {got}.")
    return value
