"""Chapter 16 (after ResNet): checkers for exercises 16.1, 16.2, 16.3 and 16.5."""

from __future__ import annotations

import functools

import torch
from torch import nn

from cnnlib import shapes
from cnnlib.exercises.core import call, exercise, filled
from cnnlib.models import SqueezeExcitation, convnext_tiny


def _conv_macs(model: nn.Module, c_in: int, size: int) -> int:
    return sum(r.macs for r in shapes.layer_counts(model, (c_in, size, size)))


@exercise("16.1", "The ratio, by hand",
          "a function separable_macs(c_in, c_out, k, size) that returns the multiply-adds "
          "of a depthwise-separable k×k layer (no biases) with a size×size output",
          "equal to the count of the two nn.Conv2d layers themselves, on five layers "
          "the chapter did not use.",
          function="separable_macs")
def _check_16_1(answer: object) -> str | None:
    for c_in, c_out, k, size in [(32, 64, 3, 28), (48, 48, 5, 7), (16, 96, 3, 56),
                                 (3, 8, 7, 10), (128, 32, 3, 14)]:
        got = call(answer, c_in, c_out, k, size)
        if got is None:
            return "your function returned None: did you forget to return the count?"
        depthwise = nn.Conv2d(c_in, c_in, k, padding=k // 2, groups=c_in, bias=False)
        pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)
        want = _conv_macs(nn.Sequential(depthwise, pointwise), c_in, size)
        if got == want:
            continue
        dense = c_in * c_out * k * k * size * size
        layer = f"({c_in} → {c_out}, {k}×{k}, {size}×{size})"
        if got == dense:
            return (f"{got:,} is the dense convolution {layer}: the depthwise part has "
                    "groups=c_in, one k×k filter per channel.")
        if got == c_in * k * k * size * size or got == c_in * c_out * size * size:
            return f"count both parts {layer}: the depthwise k×k and the pointwise 1×1."
        if got == want + (c_in + c_out) * size * size:
            return "leave out the biases: the exercise counts the kernels only."
        if got == c_in * k * k + c_in * c_out:
            return ("that is the parameter count: every weight is used once per output "
                    "pixel, so multiply by size².")
        return f"for {layer} expected {want:,}, got {got!r}."
    return None


def _se_cost(channels: int, squeeze: int, size: int) -> tuple[int, int]:
    rows = shapes.layer_counts(SqueezeExcitation(channels, squeeze), (channels, size, size))
    return sum(r.params for r in rows), sum(r.macs for r in rows)


@exercise("16.2", "What does squeeze-and-excitation cost?",
          "a function se_cost(channels, squeeze, size) that returns (parameters, "
          "multiply-adds) of an SE gate on a size×size map, counted as layer_counts does "
          "(a bias add is one operation)",
          "equal to shapes.layer_counts on models.SqueezeExcitation for four gates the "
          "chapter did not use.",
          function="se_cost")
def _check_16_2(answer: object) -> str | None:
    for channels, squeeze, size in [(96, 24, 28), (240, 60, 14), (64, 16, 56), (32, 8, 7)]:
        got = call(answer, channels, squeeze, size)
        if got is None:
            return "your function returned None: did you forget to return the pair?"
        try:
            params, macs = (int(v) for v in got)
        except (TypeError, ValueError):
            return f"return a pair (parameters, multiply-adds), got {got!r}."
        want_params, want_macs = _se_cost(channels, squeeze, size)
        no_bias = 2 * channels * squeeze
        if params == no_bias:
            return "both 1×1 convolutions have biases: add squeeze + channels parameters."
        if params != want_params:
            return (f"an SE gate on {channels} channels squeezed to {squeeze} has "
                    f"{want_params:,} parameters, you counted {params:,}.")
        if macs == want_macs * size * size:
            return ("the gate's two layers act on one number per channel after the squeeze "
                    "(a 1×1 map), not on every pixel: do not multiply by size².")
        if macs != want_macs:
            return (f"multiply-adds: expected {want_macs:,} (each weight once, plus one per "
                    f"bias), got {macs:,}.")
    return None


@exercise("16.3", "Stochastic depth from scratch",
          "a function stochastic_depth(x, p, training) that zeroes whole images with "
          "probability p, divides the others by 1 - p in training, and returns x in eval",
          "eval mode returns x; in training each image is all 0 or all 1/(1 - p), the "
          "share zeroed is within 4.5 standard errors of p on 20,000 images for p = 0.2 "
          "and 0.5, and the mean stays within 4.5 standard errors of the input's.",
          function="stochastic_depth")
def _check_16_3(answer: object) -> str | None:
    x = torch.rand(6, 3, 4, 4)
    out = call(answer, x.clone(), 0.3, False)
    if not isinstance(out, torch.Tensor) or not torch.equal(out, x):
        return "in eval mode (training=False) return x unchanged."
    n = 20_000
    for p in (0.2, 0.5):
        torch.manual_seed(1603)
        out = call(answer, torch.ones(n, 3, 4, 4), p, True)
        if not isinstance(out, torch.Tensor) or out.shape != (n, 3, 4, 4):
            return "return a tensor of the input's shape."
        flat = out.flatten(1)
        mixed = ~((flat == flat[:, :1]).all(1))
        if mixed.any():
            return ("some images are partly zeroed: draw one number per image (a tensor "
                    "of shape (N, 1, 1, 1)), not one per value; per value is dropout.")
        values = set(torch.unique(flat[:, 0]).tolist())
        zeroed = (flat[:, 0] == 0).float().mean().item()
        se = (p * (1 - p) / n) ** 0.5
        if abs(zeroed - (1 - p)) < 4.5 * se and abs(zeroed - p) >= 4.5 * se:
            return (f"you zeroed {zeroed:.3f} of the images for p = {p}: p is the "
                    "probability of dropping an image, 1 - p of keeping it.")
        if abs(zeroed - p) >= 4.5 * se:
            return f"for p = {p} you zeroed {zeroed:.3f} of the images, not about {p}."
        if values - {0.0} == {1.0}:
            return ("divide the kept images by 1 - p, so the expected value stays the "
                    "same and the test-time network sees the scale it trained with.")
        if any(abs(v - 1 / (1 - p)) > 1e-6 for v in values - {0.0}):
            return f"kept images should be multiplied by 1/(1 - p) = {1 / (1 - p):.4g}."
        mean_se = (p / (1 - p) / n) ** 0.5
        if abs(out.mean().item() - 1) > 4.5 * mean_se:
            return f"the mean moved to {out.mean().item():.4f}: it should stay near 1."
    return None


@functools.cache
def _convnext_shares() -> tuple[float, float, float]:
    rows = shapes.layer_counts(convnext_tiny(), (3, 224, 224))
    total = sum(r.macs for r in rows)
    depthwise = sum(r.macs for r in rows if r.kind == "Conv2d" and ".block.0" in r.name)
    linear = sum(r.macs for r in rows if r.kind == "Linear")
    return depthwise / total, linear / total, (total - depthwise - linear) / total


@exercise("16.5", "Where does ConvNeXt-T spend its work?",
          "the shares (depthwise, linear, other) of ConvNeXt-T's multiply-adds on a "
          "224×224 image, as fractions that sum to 1",
          "within 0.001 of shapes.layer_counts' split of models.convnext_tiny().")
def _check_16_5(answer: object) -> str | None:
    got = filled(answer)
    try:
        got = [float(v) for v in got]
    except (TypeError, ValueError):
        return f"hand in three fractions (depthwise, linear, other), got {answer!r}."
    if len(got) != 3:
        return f"hand in three fractions (depthwise, linear, other), got {len(got)}."
    want = _convnext_shares()
    if all(abs(g - w) <= 1e-3 for g, w in zip(got, want, strict=True)):
        return None
    if all(abs(g / 100 - w) <= 1e-3 for g, w in zip(got, want, strict=True)):
        return "give fractions (0.05), not percentages (5)."
    if abs(sum(got) - 1) > 1e-3:
        return f"the three shares should sum to 1; yours sum to {sum(got):.3f}."
    if abs(got[1] - want[1]) <= 1e-3:
        return ("the linear share is right; the depthwise share counts only the 7×7 "
                "convolutions in the blocks (name '.block.0'), not the stem or the "
                "downsampling layers.")
    return "count with shapes.layer_counts(models.convnext_tiny(), (3, 224, 224))."
