"""Feature visualisation: what does a channel want to see?

Two answers, as in Olah et al.'s "Feature Visualization" (Distill, 2017):

- *Dataset examples*: the patches of real photos on which a channel is
  largest, each cropped to the receptive field of the unit that saw it
  (:func:`layer_activations` with chapter 13's hooks, :func:`top_patches`,
  :func:`patch_box`).
- *Activation maximisation*: an image optimised so that the channel's mean
  activation is as large as possible (:func:`visualise`), with the tricks
  that make the result look like something: transformation robustness
  (:func:`random_transform`), a Fourier parameterisation with 1/f scaling
  (:func:`fourier_image`), decorrelated colour (:func:`colour_sqrt`,
  :func:`decorrelate`) and a diversity term (:func:`gram_similarity`).

And the measures the chapter compares them with:
:func:`high_frequency_energy` and :func:`classes_overlap`.

:func:`fourier_image` and :func:`to_rgb` reproduce torch-lucent 0.1.8's
``param.fft_image`` and ``param.color.to_valid_rgb`` given the same
parameters (tests/unit/test_featvis.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import check, config, hooks, images
from cnnlib.receptive import RFRow

PARAMS = ("pixel", "fourier")


# ------------------------------------------------------ dataset examples


def layer_activations(
    model: nn.Module, layers: Sequence[nn.Module], x: torch.Tensor,
    batch_size: int = 50,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run ``x`` (normalised images, N, 3, H, W) through ``model`` in
    batches and return its outputs and, for each module of ``layers``,
    its outputs (N, C, h, w), recorded by forward hooks
    (:func:`cnnlib.hooks.hook_outputs`) and kept on the CPU."""
    check.module("layer_activations", model)
    check.sequence("layers", layers, "a list of modules of model")
    check.float_batch("x", x)
    check.int_at_least("batch_size", batch_size)
    for i, layer in enumerate(layers):
        check.module_in(model, layer, f"layers[{i}]")
    device = config.device_of(model)
    outputs, acts = [], [[] for _ in layers]
    with torch.no_grad(), hooks.hook_outputs(list(layers), cpu=True) as hs:
        for start in range(0, len(x), batch_size):
            outputs.append(model(x[start:start + batch_size].to(device)))
            for stored, a in zip(acts, hs.stored, strict=True):
                stored.append(a)
    return torch.cat(outputs).cpu(), [torch.cat(a) for a in acts]


@dataclass(frozen=True)
class Patch:
    """One unit's activation on one photo: photo ``image``, the unit at
    (``row``, ``col``) of the layer's grid, and its ``activation``."""

    image: int
    row: int
    col: int
    activation: float


def top_patches(acts: torch.Tensor, channel: int, k: int = 9,
                one_per_image: bool = True) -> list[Patch]:
    """The ``k`` patches (photo, position) on which ``channel`` of
    ``acts`` (N, C, h, w) is largest, largest first. With
    ``one_per_image`` (default) each photo gives at most one patch, its
    best, so the neighbouring units of one photo do not fill the list."""
    check.tensor("acts", acts, "N, C, h, w")
    check.int_in_range("channel", channel, 0, acts.shape[1] - 1)
    check.int_at_least("k", k)
    check.flag("one_per_image", one_per_image)
    a = acts[:, channel]
    n, h, w = a.shape
    if one_per_image:
        best, where = a.flatten(1).max(1)
        order = best.argsort(descending=True)[:k]
        found = [(int(i), int(where[i])) for i in order]
    else:
        order = a.flatten().argsort(descending=True)[:k]
        found = [(int(j) // (h * w), int(j) % (h * w)) for j in order]
    return [Patch(i, p // w, p % w, float(a[i, p // w, p % w]))
            for i, p in found]


def patch_box(rf: RFRow, row: int, col: int,
              size: int | tuple[int, int]) -> tuple[int, int, int, int]:
    """The input pixels (top, left, bottom, right; inclusive) seen by
    the unit at (``row``, ``col``) of a layer whose receptive field is
    ``rf`` (a row of :func:`cnnlib.receptive.receptive_field`), clipped
    to an image of ``size`` (height, width)."""
    check.instance("rf", rf, RFRow, "a row of receptive.receptive_field")
    check.int_at_least("row", row, 0)
    check.int_at_least("col", col, 0)
    h, w = check.int_pair("size", size)
    top, bottom = rf.region(row)
    left, right = rf.region(col)
    return max(top, 0), max(left, 0), min(bottom, h - 1), min(right, w - 1)


# ------------------------------------------------------ parameterisations


def rfft2d_freqs(h: int, w: int) -> np.ndarray:
    """The frequency (cycles per pixel) of each coefficient of a real 2-D
    FFT of an h x w image, shape (h, w // 2 + 1) (one column more for an
    odd w, as in Lucid)."""
    check.int_at_least("h", h)
    check.int_at_least("w", w)
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[: w // 2 + 1 + w % 2]
    return np.sqrt(fx * fx + fy * fy)


def fourier_image(spectrum: torch.Tensor, h: int, w: int,
                  decay_power: float = 1.0) -> torch.Tensor:
    """An image (N, C, h, w) from its parameters in Fourier space:
    ``spectrum`` (N, C, h, w // 2 + 1 (+1 for odd w), 2) holds the real
    and imaginary parts of each coefficient. Each is multiplied by
    ``1 / max(f, 1 / max(h, w)) ** decay_power`` (f: its frequency), so a
    step of the same size in every parameter changes low frequencies
    more than high ones, as in natural images, whose amplitude falls
    like 1/f. Inverse real FFT (orthonormal), divided by 4 (Lucid's
    constant)."""
    check.tensor("spectrum", spectrum, "N, C, h, w // 2 + 1, 2")
    check.int_at_least("h", h)
    check.int_at_least("w", w)
    check.number("decay_power", decay_power)
    freqs = rfft2d_freqs(h, w)
    if tuple(spectrum.shape[2:]) != (*freqs.shape, 2):
        raise ValueError(
            f"spectrum must have shape (N, C, {freqs.shape[0]}, "
            f"{freqs.shape[1]}, 2) for an image of h={h}, w={w}, got "
            f"{tuple(spectrum.shape)}.")
    scale = 1.0 / np.maximum(freqs, 1.0 / max(w, h)) ** decay_power
    scale = torch.tensor(scale, dtype=spectrum.dtype,
                         device=spectrum.device)[..., None]
    coeffs = torch.view_as_complex((scale * spectrum).contiguous())
    image = torch.fft.irfftn(coeffs, s=(h, w), norm="ortho")
    return image / 4.0


def colour_sqrt(x: torch.Tensor) -> torch.Tensor:
    """A square root M of the colour covariance C of the pixels of ``x``
    (N, 3, H, W; values in [0, 1]): M @ M.T == C, with M = U sqrt(S) from
    the eigendecomposition C = U S U.T, largest eigenvalue first (each
    eigenvector's sign chosen so its entries sum to >= 0). Multiplying
    three independent, unit-variance numbers by M gives colours with
    covariance C: the correlated colours of photos."""
    check.float_batch("x", x)
    if x.shape[1] != 3:
        raise ValueError(
            f"x must have 3 colour channels, got {x.shape[1]}.")
    pixels = x.permute(1, 0, 2, 3).reshape(3, -1).double()
    cov = torch.cov(pixels)
    s, u = torch.linalg.eigh(cov)  # ascending
    s, u = s.flip(0).clamp(min=0), u.flip(1)
    u = u * torch.where(u.sum(0) < 0, -1.0, 1.0)
    return (u * s.sqrt()).float()


def decorrelate(x: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
    """Mix the channels of ``x`` (N, 3, H, W) with ``colour`` (3, 3),
    divided by the largest norm of its columns (as Lucid does): each
    pixel's three values v become ``M_n @ v``."""
    check.tensor("x", x, "N, 3, H, W")
    check.tensor("colour", colour, "3, 3")
    m = colour / colour.norm(dim=0).max()
    return torch.einsum("ij,njhw->nihw", m.to(x), x)


def to_rgb(x: torch.Tensor, colour: torch.Tensor | None = None
           ) -> torch.Tensor:
    """An image in (0, 1): ``sigmoid(x)``, after :func:`decorrelate`
    when ``colour`` (a 3 x 3 colour square root) is given."""
    check.tensor("x", x, "N, 3, H, W")
    if colour is not None:
        x = decorrelate(x, colour)
    return torch.sigmoid(x)


def random_transform(x: torch.Tensor, generator: torch.Generator,
                     shift: float = 8.0, scale: float = 0.1,
                     angle: float = 10.0) -> torch.Tensor:
    """Each image of ``x`` (N, C, H, W) moved by up to ``shift`` pixels
    in each direction, scaled by a factor in [1 - scale, 1 + scale] and
    rotated by up to ``angle`` degrees, each drawn uniformly from
    ``generator`` (one draw per image), with bilinear interpolation and
    the border reflected."""
    check.tensor("x", x, "N, C, H, W")
    check.instance("generator", generator, torch.Generator,
                   "a torch.Generator")
    for name, v in [("shift", shift), ("scale", scale), ("angle", angle)]:
        check.number(name, v)
    n, _, h, w = x.shape

    def uniform(half: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator) * 2 - 1) * half

    t = math.pi / 180 * uniform(angle)
    s = 1 + uniform(scale)
    dx, dy = 2 * uniform(shift) / w, 2 * uniform(shift) / h
    theta = torch.stack([
        torch.stack([torch.cos(t) / s, -torch.sin(t) / s, dx], 1),
        torch.stack([torch.sin(t) / s, torch.cos(t) / s, dy], 1)], 1)
    grid = F.affine_grid(theta.to(x), list(x.shape),
                         align_corners=False)
    return F.grid_sample(x, grid, padding_mode="reflection",
                         align_corners=False)


def gram_similarity(acts: torch.Tensor) -> torch.Tensor:
    """Mean cosine similarity between the Gram matrices (channels x
    channels, summed over positions) of every pair of images in
    ``acts`` (N, C, h, w), N >= 2: 1 when all have the same channel
    co-activations. Lucid's diversity term is minus this."""
    check.tensor("acts", acts, "N, C, h, w")
    check.int_at_least("number of images in acts", len(acts), 2)
    flat = acts.flatten(2)
    grams = F.normalize((flat @ flat.transpose(1, 2)).flatten(1), dim=1)
    sim = grams @ grams.T
    n = len(acts)
    return (sim.sum() - sim.diagonal().sum()) / (n * (n - 1))


# ------------------------------------------------------ optimisation


@dataclass
class Visualisation:
    """Result of :func:`visualise`: ``images`` (N, 3, H, W) in (0, 1);
    ``activation`` (N,), each image's channel mean on the image itself
    (not transformed); ``history`` (steps, N), the objective at each step
    (on the transformed image when transforms are on)."""

    images: torch.Tensor
    activation: torch.Tensor
    history: torch.Tensor


def channel_objective(out: torch.Tensor, channels: Sequence[int]
                      ) -> torch.Tensor:
    """The mean over positions of channel ``channels[i]`` of ``out[i]``
    for each i, from a layer's output ``out`` (N, C, h, w)."""
    check.tensor("out", out, "N, C, h, w")
    check.sequence("channels", channels, "a list of channel indices")
    if len(channels) != len(out):
        raise ValueError(f"channels must name one channel per image, got "
                         f"{len(channels)} for {len(out)} images.")
    for i, c in enumerate(channels):
        check.int_in_range(f"channels[{i}]", c, 0, out.shape[1] - 1)
    idx = torch.as_tensor(list(channels), device=out.device)
    return out[torch.arange(len(out), device=out.device), idx].mean((1, 2))


def channel_means(model: nn.Module, x: torch.Tensor,
                  channels: Sequence[int]) -> torch.Tensor:
    """:func:`channel_objective` of ``model(normalize(x))`` for images
    ``x`` (N, 3, H, W) in [0, 1]: the objective :func:`visualise`
    maximises, measured on images."""
    check.module("channel_means", model)
    check.tensor("x", x, "N, 3, H, W")
    return channel_objective(model(images.normalize(x)), channels)


def visualise(model: nn.Module, channels: Sequence[int], size: int = 128,
              steps: int = 128, lr: float = 0.05, param: str = "fourier",
              colour: torch.Tensor | None = None, transform: bool = True,
              diversity: float = 0.0, decay_power: float = 1.0,
              seed: int = 0) -> Visualisation:
    """Optimise one image per entry of ``channels`` so that that channel
    of ``model``'s output (N, C, h, w) has the largest mean (Adam,
    ``steps`` steps of ``lr``). The image is ``to_rgb(p, colour)`` of
    parameters p: the pixels themselves (``param="pixel"``) or a spectrum
    (``"fourier"``, :func:`fourier_image` with ``decay_power``);
    ``colour`` (a 3 x 3 square root from :func:`colour_sqrt`)
    decorrelates the colours;
    ``transform`` applies :func:`random_transform` at every step;
    ``diversity`` > 0 subtracts that multiple of :func:`gram_similarity`
    of the batch (use it with one channel repeated). Seeded by ``seed``:
    the same call gives the same images."""
    check.module("visualise", model)
    check.sequence("channels", channels, "a list of channel indices")
    check.int_at_least("len(channels)", len(channels))
    check.int_at_least("size", size, 8)
    check.int_at_least("steps", steps)
    check.positive("lr", lr)
    check.one_of("param", param, PARAMS)
    check.flag("transform", transform)
    check.number("diversity", diversity)
    check.number("decay_power", decay_power)
    check.int_at_least("seed", seed, 0)
    if colour is not None:
        check.tensor("colour", colour, "3, 3")
    n, device = len(channels), config.device_of(model)
    gen = torch.Generator().manual_seed(seed)
    if param == "pixel":
        shape = (n, 3, size, size)
    else:
        shape = (n, 3, *rfft2d_freqs(size, size).shape, 2)
    p = (0.01 * torch.randn(shape, generator=gen)).to(device)
    p.requires_grad_(True)

    def image() -> torch.Tensor:
        if param == "pixel":
            return to_rgb(p, colour)
        x = fourier_image(p, size, size, decay_power)
        return to_rgb(x, colour)

    opt = torch.optim.Adam([p], lr=lr)
    history = []
    for _ in range(steps):
        x = image()
        if transform:
            x = random_transform(x, gen)
        out = model(images.normalize(x))
        acts = channel_objective(out, channels)
        loss = -acts.sum()
        if diversity:
            loss = loss + diversity * n * gram_similarity(out)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(acts.detach().cpu())
    with torch.no_grad():
        final = image()
        act = channel_means(model, final, channels)
    return Visualisation(final.cpu(), act.cpu(), torch.stack(history))


# ------------------------------------------------------ measures


def high_frequency_energy(x: torch.Tensor, cutoff: float = 0.25
                          ) -> torch.Tensor:
    """The share of each image's spectral power above ``cutoff`` cycles
    per pixel (0.5 is the highest an image can hold): for each image of
    ``x`` (N, C, H, W), each channel minus its mean and times a 2-D Hann
    window (so the jump between opposite borders, which the FFT treats
    as neighbours, adds no false edges), the power |FFT|^2 at radial
    frequencies above ``cutoff`` divided by the total, over channels."""
    check.tensor("x", x, "N, C, H, W")
    check.number("cutoff", cutoff)
    if not 0 < cutoff < 0.5:
        raise ValueError(f"cutoff must be between 0 and 0.5 cycles per "
                         f"pixel, got {cutoff!r}.")
    h, w = x.shape[-2:]
    window = torch.outer(torch.hann_window(h, periodic=False),
                         torch.hann_window(w, periodic=False)).to(x)
    x = (x - x.mean((2, 3), keepdim=True)) * window
    power = torch.fft.fft2(x.double()).abs().square().sum(1)
    fy = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]
    fx = torch.fft.fftfreq(w, dtype=torch.float64)[None, :]
    high = (fx.square() + fy.square()).sqrt().to(x.device) > cutoff
    total = power.flatten(1).sum(1).clamp(min=1e-30)
    return ((power * high).flatten(1).sum(1) / total).float()


def classes_overlap(probs_a: torch.Tensor, probs_b: torch.Tensor,
                    k: int = 5) -> torch.Tensor:
    """For each row i, whether the ``k`` most probable classes of
    ``probs_a[i]`` and of ``probs_b[i]`` (both N, classes) share at
    least one class: a bool tensor (N,)."""
    check.tensor("probs_a", probs_a, "N, classes")
    check.tensor("probs_b", probs_b, "N, classes")
    if probs_a.shape != probs_b.shape:
        raise ValueError(f"probs_a and probs_b must have the same shape, "
                         f"got {tuple(probs_a.shape)} and "
                         f"{tuple(probs_b.shape)}.")
    check.int_in_range("k", k, 1, probs_a.shape[1])
    a = probs_a.topk(k, dim=1).indices
    b = probs_b.topk(k, dim=1).indices
    return (a[:, :, None] == b[:, None, :]).flatten(1).any(1)
