"""Scores for heatmaps: do they point at the evidence, and does the model need what they show?

Against a known box (:mod:`cnnlib.planted`):

- :func:`pointing_game`: is the map's maximum inside the box (Zhang et al., 2016, without
  their 15-pixel tolerance)?
- :func:`mass_in_box`: which fraction of the map's (non-negative) mass lies inside it?

Against the model (no ground truth needed):

- :func:`deletion_insertion` (Petsiuk et al., 2018): the class probability as the pixels are
  removed (set to a fill value), most important first, and as they are revealed on a
  blurred copy; :func:`curve_area` is the area under such a curve.
- :func:`road` (Rong et al., 2022): remove a fraction of the pixels, most relevant first
  ("MoRF") or least relevant first ("LeRF"), and fill them by *noisy linear imputation*
  (:func:`noisy_linear_impute`) instead of a constant, so that what the network sees is
  not a pattern of holes it has never met. As pytorch-grad-cam's
  ``metrics.road`` computes it.

Maps are (N, H, W) tensors, one per image, at the image's resolution.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torchvision.transforms.functional as TF
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import spsolve
from torch import nn

from cnnlib import check, config
from cnnlib.cam import Target, class_indices, eval_mode
from cnnlib.planted import box_masks

NEIGHBOURS = ((1, 1, 1 / 12), (0, 1, 1 / 6), (-1, 1, 1 / 12), (1, -1, 1 / 12),
              (0, -1, 1 / 6), (-1, -1, 1 / 12), (1, 0, 1 / 6), (-1, 0, 1 / 6))
"""ROAD's imputation weights (row offset, column offset, weight) of the 8 neighbours."""


def _maps_and_boxes(maps: object, boxes: object) -> tuple[torch.Tensor, torch.Tensor]:
    check.tensor("maps", maps, "N, H, W")
    check.tensor("boxes", boxes, "N, 4")
    if len(maps) != len(boxes):
        raise ValueError(f"maps and boxes pair up one per image, got {len(maps)} maps and "
                         f"{len(boxes)} boxes.")
    return maps.detach().float(), boxes.to(maps.device)


def pointing_game(maps: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Bool (N,): whether each map's maximum lies in its box (top, left, bottom, right). A map
    whose maximum is shared by several pixels scores the first of them in row-major order,
    so a constant map points at the top-left corner."""
    maps, boxes = _maps_and_boxes(maps, boxes)
    n, h, w = maps.shape
    peak = maps.flatten(1).argmax(1)
    inside = box_masks(boxes, (h, w)).flatten(1)
    return inside[torch.arange(n, device=maps.device), peak]


def mass_in_box(maps: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Float (N,): the fraction of each map's mass inside its box. Maps must be non-negative
    (take ``abs()`` or ``clamp(min=0)`` of signed attributions first); an all-zero map has
    its mass spread evenly, so it scores the box's share of the image."""
    maps, boxes = _maps_and_boxes(maps, boxes)
    if (maps < 0).any():
        raise ValueError("maps must be non-negative: pass abs() or clamp(min=0) of a signed "
                         "attribution.")
    n, h, w = maps.shape
    maps = torch.where(maps.flatten(1).sum(1)[:, None, None] > 0, maps, torch.ones_like(maps))
    inside = box_masks(boxes, (h, w))
    return (maps * inside).flatten(1).sum(1) / maps.flatten(1).sum(1)


def _model_images_and_maps(fn: str, model: object, x: object, maps: object) -> torch.Tensor:
    """Check a metric's model, images and one map per image at its size; ``x`` on the model's
    device."""
    check.module(fn, model)
    x = check.float_batch("x", x).to(config.device_of(model))
    check.tensor("maps", maps, "N, H, W")
    if tuple(maps.shape) != (x.shape[0], *x.shape[-2:]):
        raise ValueError(f"maps must be (N, H, W) = {(x.shape[0], *x.shape[-2:])}, one per "
                         f"image at its size, got {tuple(maps.shape)}.")
    return x


def _ranks(maps: torch.Tensor) -> torch.Tensor:
    """Each pixel's place in its map's order, most important first (ties: row-major)."""
    flat = maps.flatten(1)
    order = flat.argsort(dim=1, descending=True, stable=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(flat.shape[1], device=maps.device).expand_as(order))
    return ranks.view_as(maps)


def deletion_insertion(model: nn.Module, x: torch.Tensor, maps: torch.Tensor,
                       target: Target = None, steps: int = 20, fill: float = 0.0,
                       blur_kernel: int = 31, blur_sigma: float = 8.0
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fractions, deletion, insertion)``: the target's softmax probability at
    ``steps + 1`` fractions 0, 1/steps, …, 1 of the pixels, taken in the order of ``maps``
    (most important first). Deletion sets them to ``fill`` (all channels; 0 is the mean
    colour after normalisation); insertion copies them from ``x`` into a Gaussian-blurred
    copy (``blur_kernel``, ``blur_sigma``). Curves are (N, steps + 1) NumPy arrays; a good
    map has a small deletion area and a large insertion area (:func:`curve_area`).
    """
    x = _model_images_and_maps("deletion_insertion", model, x, maps)
    check.int_at_least("steps", steps)
    check.number("fill", fill)
    check.int_where("blur_kernel", blur_kernel, lambda k: k % 2 == 1, "an odd int >= 1")
    check.positive("blur_sigma", blur_sigma)
    ranks = _ranks(maps.to(x.device))[:, None]
    pixels = ranks[0].numel()
    blurred = TF.gaussian_blur(x, blur_kernel, blur_sigma)
    fractions = np.linspace(0, 1, steps + 1)
    deletion, insertion = [], []
    with eval_mode(model), torch.no_grad():
        targets = class_indices(target, model(x))[:, None]
        for f in fractions:
            top = (ranks < round(f * pixels)).to(x.dtype)
            batch = torch.cat([x * (1 - top) + fill * top, blurred * (1 - top) + x * top])
            p = model(batch).softmax(1)
            deletion.append(p[:len(x)].gather(1, targets)[:, 0].cpu().numpy())
            insertion.append(p[len(x):].gather(1, targets)[:, 0].cpu().numpy())
    return fractions, np.stack(deletion, 1), np.stack(insertion, 1)


def curve_area(fractions: np.ndarray, curves: np.ndarray) -> np.ndarray:
    """Area under each curve (rows of ``curves``) over ``fractions``, by the trapezoid rule."""
    f = check.sample("fractions", fractions, minimum=2)
    try:
        c = np.asarray(curves, dtype=np.float64)
    except (TypeError, ValueError):
        c = np.zeros(0)
    if c.ndim != 2 or c.shape[1] != len(f):
        raise ValueError(f"curves must be numbers (N, {len(f)}): one row per image, one value per "
                         f"point of fractions; got "
                         f"{type(curves).__name__} of shape {c.shape}.")
    return np.trapezoid(c, f, axis=1)


def noisy_linear_impute(x: torch.Tensor, keep: torch.Tensor, noise: float = 0.01,
                        generator: torch.Generator | None = None) -> torch.Tensor:
    """ROAD's imputation of a batch (N, C, H, W): every pixel where ``keep`` (N, H, W) is
    False gets the weighted mean of its 8 neighbours (weights 1/6 side, 1/12 corner,
    renormalised at the border), solved as one sparse linear system for all removed pixels
    at once, plus Gaussian noise of std ``noise`` (drawn from ``generator``). Kept pixels are
    unchanged. With ``noise=0`` it equals pytorch-grad-cam's ``NoisyLinearImputer``.
    """
    x = check.float_batch("x", x)
    check.tensor("keep", keep, "N, H, W")
    if tuple(keep.shape) != (x.shape[0], *x.shape[-2:]):
        raise ValueError(f"keep must be (N, H, W) = {(x.shape[0], *x.shape[-2:])}, got "
                         f"{tuple(keep.shape)}.")
    check.number("noise", noise)
    n, c, h, w = x.shape
    keep_flat = keep.detach().cpu().numpy().astype(bool).reshape(-1)
    values = x.detach().cpu().double().numpy().transpose(0, 2, 3, 1).reshape(-1, c)
    missing = np.flatnonzero(~keep_flat)
    out = values.copy()
    if len(missing):
        index = np.full(len(keep_flat), -1)
        index[missing] = np.arange(len(missing))
        img, rest = np.divmod(missing, h * w)
        row, col = np.divmod(rest, w)
        rows, cols, vals = [], [], []
        rhs = np.zeros((len(missing), c))
        total = np.zeros(len(missing))
        for dr, dc, weight in NEIGHBOURS:
            r, q = row + dr, col + dc
            ok = (r >= 0) & (r < h) & (q >= 0) & (q < w)
            total += weight * ok
            other = img * h * w + np.clip(r, 0, h - 1) * w + np.clip(q, 0, w - 1)
            known = ok & keep_flat[other]
            rhs[known] -= weight * values[other[known]]
            unknown = ok & ~keep_flat[other]
            rows.append(np.flatnonzero(unknown))
            cols.append(index[other[unknown]])
            vals.append(np.full(int(unknown.sum()), weight))
        rows.append(np.arange(len(missing)))
        cols.append(np.arange(len(missing)))
        vals.append(-total)
        a = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(len(missing), len(missing))).tocsc()
        solved = spsolve(a, rhs).reshape(len(missing), c)
        out[missing] = solved
    result = torch.from_numpy(out.reshape(n, h, w, c).transpose(0, 3, 1, 2).copy()).to(x.dtype)
    if noise and len(missing):
        eps = torch.randn(result.shape, generator=generator, dtype=x.dtype)
        result = torch.where(torch.from_numpy(~keep_flat.reshape(n, 1, h, w)),
                             result + noise * eps, result)
    return result.to(x.device)


def road(model: nn.Module, x: torch.Tensor, maps: torch.Tensor, target: Target = None,
         removed: Sequence[float] = (0.1, 0.3, 0.5, 0.7, 0.9), most_relevant_first: bool = True,
         noise: float = 0.01, seed: int = 0) -> np.ndarray:
    """ROAD: the target's softmax probability (N, len(removed)) after a fraction ``removed``
    of each image's pixels is imputed by :func:`noisy_linear_impute`: the most relevant
    first (MoRF, a good map makes the probability fall) or the least relevant first (LeRF,
    it should stay). As pytorch-grad-cam's ``ROADMostRelevantFirst(percentile=100 (1 − r))``
    and ``ROADLeastRelevantFirst`` when no two map values tie: they keep the pixels with
    ``map < percentile(map, 100 (1 − r))`` (LeRF: the same with ``1 − map``), which removes
    every pixel of a tie at the threshold (all of them, for a map that is 0 on most of the
    image); here the same number of pixels is kept as without ties, ties ordered row-major.
    """
    x = _model_images_and_maps("road", model, x, maps)
    check.sequence("removed", removed, "a list of fractions, e.g. [0.1, 0.5, 0.9]")
    for r in removed:
        check.level("removed", r)
    check.flag("most_relevant_first", most_relevant_first)
    check.number("noise", noise)
    check.int_at_least("seed", seed, minimum=0)
    generator = torch.Generator().manual_seed(seed)
    heat = maps.detach().float().cpu()
    ranks = _ranks(heat if most_relevant_first else 1 - heat)
    pixels = ranks[0].numel()
    scores = []
    with eval_mode(model), torch.no_grad():
        targets = class_indices(target, model(x))[:, None]
        for r in removed:
            # as many kept pixels as "map < percentile(map, 100 (1 - r))" keeps
            # when no two values tie; ties are ordered row-major
            order = np.arange(pixels)
            kept = int((order < np.percentile(order, 100 * (1 - r))).sum())
            keep = ranks >= pixels - kept
            filled = noisy_linear_impute(x, keep, noise, generator)
            p = model(filled).softmax(1).gather(1, targets)[:, 0]
            scores.append(p.cpu().numpy())
    return np.stack(scores, 1)
