"""Device choice, seeding, and the quick/full switch that sizes every chapter.

Full mode is what the website shows and a GPU runs; quick mode keeps each lesson intact on a
laptop CPU with fewer epochs and smaller subsets. The environment variable ``CNNLIB_MODE``
(``quick`` or ``full``) overrides the automatic choice (full when CUDA is available).
"""

from __future__ import annotations

import os
import random
from typing import TypeVar

import numpy as np
import torch

from cnnlib import check
from cnnlib.check import int_at_least

MODES = ("quick", "full")
T = TypeVar("T")


def mode() -> str:
    """Return ``"quick"`` or ``"full"``: ``CNNLIB_MODE`` if set, else full on a CUDA GPU."""
    env = os.environ.get("CNNLIB_MODE", "").strip().lower()
    if env:
        if env not in MODES:
            raise ValueError(
                f"CNNLIB_MODE={env!r} is not a mode; set it to 'quick' or 'full', or unset it "
                "to choose automatically (full on a CUDA GPU, quick otherwise)."
            )
        return env
    return "full" if torch.cuda.is_available() else "quick"


def pick(quick: T, full: T) -> T:
    """Return ``quick`` or ``full`` for the current mode, e.g. ``epochs = pick(quick=1, full=5)``."""
    return full if mode() == "full" else quick


def device() -> torch.device:
    """The best available device: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_of(model: torch.nn.Module) -> torch.device:
    """Where ``model``'s parameters live (the CPU for a model with none), so inputs can follow."""
    check.instance("model", model, torch.nn.Module, "an nn.Module")
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def seed_everything(seed: int = 42) -> None:
    """Seed Python, NumPy and torch (all devices) so a notebook prints the same numbers twice."""
    int_at_least("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def describe() -> str:
    """One line for a notebook's first output: mode, device and torch version."""
    return f"cnnlib mode: {mode()} | device: {device().type} | torch {torch.__version__.split('+')[0]}"
