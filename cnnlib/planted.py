"""Planted evidence: a benchmark where we know where the class evidence is.

An MNIST digit, shrunk to ``digit_size`` pixels, is pasted at a random place on a cluttered
canvas: small fragments of *other* digits' strokes (outside the pasted square) over a faint noise
texture. The label is the pasted digit and its square is the box a heatmap should point at.

With ``shortcut`` a number from 0 to 1, every canvas also carries a small bright square,
the *mark*, on the top rows; with probability ``shortcut`` it sits at its class's place (class c at column
``2 + 3 c``), otherwise at a random class's place. Trained with ``shortcut=1.0`` a network
can read the label off the mark's position and ignore the digit; a test set with
``shortcut=0.0`` (every mark at a random class's place) tells whether it did.

Everything is drawn from one NumPy generator seeded by ``seed``: the same arguments give the
same canvases, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib import check, data

MARK = 3
"""Side of the shortcut mark in pixels; class c's mark covers rows 1-3, columns 2 + 3c ..."""
TOP_MARGIN = 6
"""Digits and clutter start below this row, so the marks' rows hold nothing else."""


@dataclass(frozen=True)
class Canvases:
    """Planted-evidence canvases.

    ``images``: float (N, 1, S, S) in [0, 1]; ``labels``: int64 (N,); ``boxes``: int64
    (N, 4) as (top, left, bottom, right), bottom and right exclusive, the pasted digit's
    square; ``marks``: the shortcut mark's box likewise, or None without marks.
    """

    images: torch.Tensor
    labels: torch.Tensor
    boxes: torch.Tensor
    marks: torch.Tensor | None

    def __len__(self) -> int:
        return len(self.labels)


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def canvases(split: str = "train", n: int = 1000, size: int = 36, digit_size: int = 16,
             clutter: int = 3, shortcut: float | None = None, seed: int = 0) -> Canvases:
    """``n`` canvases of ``size`` × ``size`` pixels, each with one MNIST digit of ``split``
    ("train" or "test") pasted at a random place, ``clutter`` stroke fragments of other digits
    around it, and (``shortcut`` not None) the class mark described in the module docstring.

    The digit is resized from 28 to ``digit_size`` pixels (area averaging); a fragment is a
    random ``digit_size // 3`` square crop of another digit, pasted where it does not overlap the digit's box.
    """
    check.one_of("split", split, ("train", "test"))
    check.int_at_least("n", n)
    check.int_at_least("size", size, minimum=24)
    check.int_in_range("digit_size", digit_size, 8, size - TOP_MARGIN)
    check.int_at_least("clutter", clutter, minimum=0)
    if shortcut is not None and (isinstance(shortcut, bool) or not isinstance(shortcut, (int, float))
                                 or not 0 <= shortcut <= 1):
        raise ValueError(f"shortcut must be None (no mark) or a probability from 0 to 1, got "
                         f"{shortcut!r}.")
    check.int_at_least("seed", seed, minimum=0)
    if shortcut is not None and size < 2 + 3 * 10 + 1:
        raise ValueError(f"size must be at least 33 for the ten class marks, got {size}.")
    rng = np.random.default_rng(seed)
    mnist = data.mnist(split)
    picked = rng.choice(len(mnist), size=n, replace=False if n <= len(mnist) else True)
    digits = F.interpolate(mnist.images[picked].float() / 255, size=(digit_size, digit_size),
                           mode="area").numpy()[:, 0]
    half = digit_size // 3
    images = np.zeros((n, size, size), dtype=np.float32)
    boxes = np.zeros((n, 4), dtype=np.int64)
    marks = np.zeros((n, 4), dtype=np.int64)
    labels = mnist.labels[picked].numpy().astype(np.int64)
    for k in range(n):
        canvas = 0.1 * rng.random((size, size), dtype=np.float32)
        top = int(rng.integers(TOP_MARGIN, size - digit_size + 1))
        left = int(rng.integers(0, size - digit_size + 1))
        box = (top, left, top + digit_size, left + digit_size)
        placed = 0
        while placed < clutter:
            other = digits[int(rng.integers(0, n))]
            r, c = (int(v) for v in rng.integers(0, digit_size - half + 1, size=2))
            piece = other[r:r + half, c:c + half]
            pt = int(rng.integers(TOP_MARGIN, size - half + 1))
            pl = int(rng.integers(0, size - half + 1))
            if _overlaps((pt, pl, pt + half, pl + half), box):
                continue
            window = canvas[pt:pt + half, pl:pl + half]
            np.maximum(window, piece, out=window)
            placed += 1
        window = canvas[top:top + digit_size, left:left + digit_size]
        np.maximum(window, digits[k], out=window)
        if shortcut is not None:
            place = labels[k] if rng.random() < shortcut else int(rng.integers(0, 10))
            mark = (1, 2 + 3 * place, 1 + MARK, 2 + 3 * place + MARK)
            canvas[mark[0]:mark[2], mark[1]:mark[3]] = 1.0
            marks[k] = mark
        images[k] = canvas
        boxes[k] = box
    return Canvases(images=torch.from_numpy(images)[:, None], labels=torch.from_numpy(labels),
                    boxes=torch.from_numpy(boxes),
                    marks=None if shortcut is None else torch.from_numpy(marks))


def box_masks(boxes: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Boolean masks (N, H, W), True inside each box (top, left, bottom, right) of ``boxes``."""
    check.tensor("boxes", boxes, "N, 4")
    h, w = check.int_pair("size", size)
    rows = torch.arange(h, device=boxes.device)[None, :, None]
    cols = torch.arange(w, device=boxes.device)[None, None, :]
    b = boxes[:, :, None, None]
    return (rows >= b[:, 0]) & (rows < b[:, 2]) & (cols >= b[:, 1]) & (cols < b[:, 3])
