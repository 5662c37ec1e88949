"""Attributions in pixel space: Integrated Gradients, occlusion, guided backpropagation.

Each function takes a batch ``x`` (N, C, H, W) and returns one attribution per input value,
shaped like ``x`` and signed (positive: the value raises the target score), on the model's
device. ``target`` is as in :mod:`cnnlib.cam`: a class index for every image, one per
image, or None for each image's predicted class; the score is the target's logit. The model
runs in eval mode and its modes are put back; no parameter's ``.grad`` is filled.

- :func:`integrated_gradients` (Sundararajan et al., 2017): the path integral of the
  gradient from a baseline to ``x``, by the trapezoid rule. The attributions of one image
  sum to f(x) − f(baseline) up to the quadrature error (completeness). Captum's
  ``IntegratedGradients(method="riemann_trapezoid")`` uses the same points with weights
  that sum to 1 − 1/steps, so its attributions are ours times (steps − 1) / steps.
- :func:`occlusion` (Zeiler & Fergus, 2014): how much the score drops when a window is set
  to a baseline value, averaged over the windows covering each pixel, as Captum's
  ``Occlusion``.
- :func:`guided_backprop` (Springenberg et al., 2015): the gradient with negative
  gradients stopped at every ReLU (``nn.ReLU`` and ``nn.ReLU6``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from cnnlib import check, config
from cnnlib.cam import Target, class_indices, eval_mode, target_score


def _baseline(name: str, baseline: torch.Tensor | float | None, x: torch.Tensor) -> torch.Tensor:
    if baseline is None:
        return torch.zeros_like(x)
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        return torch.full_like(x, float(baseline))
    if not isinstance(baseline, torch.Tensor):
        raise ValueError(f"{name} must be None (zeros), a number or a tensor shaped like x, "
                         f"got {type(baseline).__name__}.")
    try:
        return baseline.to(x.device, x.dtype).expand_as(x)
    except RuntimeError:
        raise ValueError(f"{name} must broadcast to x's shape {tuple(x.shape)}, got shape "
                         f"{tuple(baseline.shape)}.") from None


def integrated_gradients(model: nn.Module, x: torch.Tensor, target: Target = None,
                         baseline: torch.Tensor | float | None = None,
                         steps: int = 50) -> torch.Tensor:
    """Integrated Gradients of the target logit, shaped like ``x``.

    ``(x − b) · Σ_i w_i ∂f/∂x (b + α_i (x − b))`` with ``steps`` points ``α_i`` evenly from
    0 to 1 and trapezoid weights ``w = (½, 1, …, 1, ½) / (steps − 1)``, which sum to 1
    (Captum's ``riemann_trapezoid`` divides by ``steps`` instead). ``baseline`` b: None
    (zeros; black after normalisation is not zero: pass what "no signal" means for your
    inputs), a number, or a tensor that broadcasts to x. The target class is fixed at x's
    (None: x's predicted class).
    """
    check.module("integrated_gradients", model)
    x = check.float_batch("x", x).to(config.device_of(model))
    check.int_at_least("steps", steps, minimum=2)
    b = _baseline("baseline", baseline, x)
    alphas = torch.linspace(0, 1, steps).tolist()
    weights = [1.0 / (steps - 1)] * steps
    weights[0] = weights[-1] = 0.5 / (steps - 1)
    total = torch.zeros_like(x)
    with eval_mode(model), torch.enable_grad():
        with torch.no_grad():
            targets = class_indices(target, model(x))
        for alpha, weight in zip(alphas, weights, strict=True):
            point = (b + alpha * (x - b)).detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(target_score(model(point), targets), point)
            total += weight * grad
    return (x - b) * total


def occlusion(model: nn.Module, x: torch.Tensor, target: Target = None, window: int = 8,
              stride: int = 4, baseline: float = 0.0, batch_size: int = 64) -> torch.Tensor:
    """Occlusion attributions, shaped like ``x``: for every ``window`` × ``window`` square
    (all channels at once) at steps of ``stride``, the drop of the target logit when the
    square is set to ``baseline``, given to each pixel of the square; each pixel gets the
    mean over the squares that cover it. As Captum's ``Occlusion`` with
    ``sliding_window_shapes=(C, window, window)``, ``strides=(C, stride, stride)``: the
    squares start at 0, stride, 2·stride, … up to ⌈(H − window) / stride⌉ · stride, the last
    ones cut at the border. ``batch_size`` occluded copies run per forward pass.
    """
    check.module("occlusion", model)
    x = check.float_batch("x", x).to(config.device_of(model))
    check.int_at_least("window", window)
    check.int_at_least("stride", stride)
    check.number("baseline", baseline)
    check.int_at_least("batch_size", batch_size)
    n, _, h, w = x.shape
    if window > min(h, w):
        raise ValueError(f"window ({window}) must fit in the image ({h}x{w}).")
    tops = [k * stride for k in range(math.ceil((h - window) / stride) + 1)]
    lefts = [k * stride for k in range(math.ceil((w - window) / stride) + 1)]
    squares = [(t, left) for t in tops for left in lefts]
    drops = torch.zeros(n, 1, h, w, device=x.device)
    counts = torch.zeros(1, 1, h, w, device=x.device)
    with eval_mode(model), torch.no_grad():
        logits = model(x)
        targets = class_indices(target, logits)
        full = logits.gather(1, targets[:, None])[:, 0]
        for start in range(0, len(squares), max(1, batch_size // n)):
            chunk = squares[start:start + max(1, batch_size // n)]
            copies = x.repeat(len(chunk), 1, 1, 1)
            for j, (t, left) in enumerate(chunk):
                copies[j * n:(j + 1) * n, :, t:t + window, left:left + window] = baseline
            scores = model(copies).gather(1, targets.repeat(len(chunk))[:, None])[:, 0]
            for j, (t, left) in enumerate(chunk):
                diff = (full - scores[j * n:(j + 1) * n])[:, None, None, None]
                drops[:, :, t:t + window, left:left + window] += diff
                counts[:, :, t:t + window, left:left + window] += 1
    return (drops / counts).expand_as(x).clone()


def guided_backprop(model: nn.Module, x: torch.Tensor, target: Target = None) -> torch.Tensor:
    """Guided backpropagation (Springenberg et al., 2015), shaped like ``x``: the gradient of
    the target logit with every ReLU's (``nn.ReLU``, ``nn.ReLU6``) backward pass also
    zeroing negative incoming gradients. pytorch-grad-cam's ``GuidedBackpropReLUModel``
    gives the same for ``nn.ReLU`` (it does not touch ``nn.ReLU6``). No hook outlives the call.
    """
    check.module("guided_backprop", model)
    x = check.float_batch("x", x).to(config.device_of(model))

    def clamp_gradient(module, inputs, output):
        output.register_hook(lambda g: g.clamp(min=0))

    relus = [m for m in model.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]
    handles = [m.register_forward_hook(clamp_gradient) for m in relus]
    try:
        with eval_mode(model), torch.enable_grad():
            point = x.detach().clone().requires_grad_(True)
            logits = model(point)
            score = target_score(logits, class_indices(target, logits))
            (grad,) = torch.autograd.grad(score, point)
    finally:
        for handle in handles:
            handle.remove()
    return grad
