"""Heatmaps that say where a classifier looked: saliency, CAM, Grad-CAM, Grad-CAM++.

Each function takes a batch ``x`` (N, C, H, W) of normalised images and returns one map per
image, a float tensor (N, H, W) in [0, 1] on ``x``'s device; ``target`` is a class index for
every image, a list of one index per image, or None for each image's predicted class.
``raw=True`` returns the map before its last steps (ReLU, scaling, resizing) to look at it
or test it. The model runs in eval mode with its weights frozen; its train/eval modes and
``requires_grad`` flags are put back afterwards, and no hook outlives a call, even one that
raises.

- :func:`saliency`: ``max_c |d score / d x_c|`` (Simonyan et al., 2014).
- :func:`cam`: class activation map for networks ending in global average pooling and one
  linear layer (Zhou et al., 2016).
- :func:`grad_cam`, :func:`grad_cam_pp`: Grad-CAM (Selvaraju et al., 2017) and Grad-CAM++
  (Chattopadhyay et al., 2018), computed as pytorch-grad-cam 1.5.7 computes them.
- :func:`overlay`: a heatmap in colour over its image, for display.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import config
from cnnlib.hooks import ActivationsAndGradients, hook_output

Target = int | Sequence[int] | torch.Tensor | None


@contextmanager
def _frozen_eval(model: nn.Module) -> Iterator[None]:
    """Run ``model`` in eval mode with no parameter requiring grad, then restore both exactly."""
    modes = [(m, m.training) for m in model.modules()]
    trainable = [p for p in model.parameters() if p.requires_grad]
    try:
        model.eval()
        for p in trainable:
            p.requires_grad_(False)  # no weight gradients: backward stops at the hooked layer
        yield
    finally:
        for m, training in modes:
            m.training = training
        for p in trainable:
            p.requires_grad_(True)


def _check_input(model: nn.Module, x: object, name: str) -> torch.Tensor:
    if not isinstance(model, nn.Module):
        raise ValueError(f"{name} needs an nn.Module as model, got {type(model).__name__}.")
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        got = f"shape {tuple(x.shape)}, dtype {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(
            f"{name} needs x as a float batch (N, C, H, W), got {got}; add the batch dimension "
            "of one image with x[None] and normalise it (cnnlib.images.normalize)."
        )
    return x.detach().to(config.device_of(model))


def _check_layer(model: nn.Module, layer: object, arg: str) -> None:
    if not isinstance(layer, nn.Module) or not any(m is layer for m in model.modules()):
        raise ValueError(
            f"{arg} must be a module of the model (one of model.modules()), got "
            f"{type(layer).__name__}; e.g. model.layer4[-1] for a ResNet, model.features[-1] for MobileNetV2."
        )


def _targets(target: Target, logits: torch.Tensor) -> torch.Tensor:
    """One class index per image, checked against the batch size and the number of classes."""
    if logits.ndim != 2:
        raise ValueError(f"The model must return class scores (N, classes), got shape {tuple(logits.shape)}.")
    n, classes = logits.shape
    if target is None:
        return logits.argmax(1)
    if isinstance(target, torch.Tensor):
        target = target.tolist()
    elif isinstance(target, np.ndarray):
        target = target.tolist()
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        target = [int(target)] * n
    if not isinstance(target, Sequence) or isinstance(target, str):
        raise ValueError(f"target must be a class index, a list of one per image or None, got {target!r}.")
    if len(target) != n:
        raise ValueError(
            f"target has {len(target)} class indices but the batch has {n} images; pass one per image, "
            "or a single int for all of them."
        )
    for t in target:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t < classes:
            raise ValueError(
                f"Class index {t!r} is out of range: the model has {classes} classes (0 to {classes - 1})."
            )
    return torch.tensor([int(t) for t in target], device=logits.device)


def _score(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Sum over the batch of each image's target logit: its gradient is each image's own."""
    return logits.gather(1, targets[:, None]).sum()


def _scale(maps: torch.Tensor) -> torch.Tensor:
    """Each map min-max scaled to [0, 1], as pytorch-grad-cam's scale_cam_image (with its 1e-7)."""
    flat = maps.flatten(1)
    low = flat.min(1).values[:, None, None]
    shifted = maps - low
    return shifted / (1e-7 + shifted.flatten(1).max(1).values[:, None, None])


def _scale_resize(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Scale, resize bilinearly to ``size`` (cv2.resize's INTER_LINEAR), scale again, as pytorch-grad-cam."""
    maps = F.interpolate(_scale(maps)[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]
    return _scale(maps)


def _activations_and_gradients(model: nn.Module, layer: nn.Module, x: torch.Tensor,
                               target: Target) -> tuple[torch.Tensor, torch.Tensor]:
    """The layer's output A (N, K, h, w) and d(target score)/dA, model frozen and in eval mode."""
    _check_layer(model, layer, "target_layer")
    with _frozen_eval(model), ActivationsAndGradients(model, layer) as ag, torch.enable_grad():
        logits = ag(x)
        targets = _targets(target, logits)
        acts = ag.activations[0]
        if acts is None:
            raise ValueError("target_layer did not run in the forward pass; pick a layer the model uses.")
        if acts.ndim != 4:
            raise ValueError(
                f"target_layer's output has shape {tuple(acts.shape)}; Grad-CAM needs a spatial output "
                "(N, C, h, w): pick a convolutional layer, e.g. the last block before global pooling."
            )
        _score(logits, targets).backward()
        grads = ag.gradients[0]
    if grads is None:
        raise ValueError("No gradient reached target_layer: the class scores do not depend on its output.")
    return acts, grads


def grad_cam(model: nn.Module, target_layer: nn.Module, x: torch.Tensor,
             target: Target = None, raw: bool = False) -> torch.Tensor:
    """Grad-CAM of ``target`` at ``target_layer``: (N, H, W) in [0, 1], as
    pytorch-grad-cam's GradCAM.

    With A the layer's output (N, K, h, w) and y the target class score,
    each channel weighs ``alpha_k = mean over (i, j) of dy/dA_k(i, j)``;
    the map is ``ReLU(sum_k alpha_k A_k)``, min-max scaled per image,
    resized bilinearly to x's H, W and scaled again. ``raw=True``: the
    weighted sum ``sum_k alpha_k A_k`` (N, h, w), before ReLU, scaling and
    resizing.
    """
    x = _check_input(model, x, "grad_cam")
    acts, grads = _activations_and_gradients(model, target_layer, x,
                                             target)
    weights = grads.mean((2, 3))
    maps = torch.einsum("nk,nkhw->nhw", weights, acts)
    if raw:
        return maps
    return _scale_resize(maps.clamp(min=0), tuple(x.shape[-2:]))


def grad_cam_pp(model: nn.Module, target_layer: nn.Module,
                x: torch.Tensor, target: Target = None,
                raw: bool = False) -> torch.Tensor:
    """Grad-CAM++ of ``target`` at ``target_layer``: (N, H, W) in [0, 1],
    as GradCAMPlusPlus computes it.

    Like :func:`grad_cam` with other channel weights (eq. 19 of
    Chattopadhyay et al., with exp(score) as the score so that higher
    derivatives are powers of the gradient g):
    ``a_ij = g^2 / (2 g^2 + sum_ij(A) g^3)`` (0 where g = 0) and
    ``alpha_k = sum_ij a_ij ReLU(g_ij)``.
    """
    x = _check_input(model, x, "grad_cam_pp")
    acts, grads = _activations_and_gradients(model, target_layer, x,
                                             target)
    g2 = grads**2
    a = g2 / (2 * g2 + acts.sum((2, 3), keepdim=True) * g2 * grads + 1e-6)
    a = torch.where(grads != 0, a, torch.zeros_like(a))
    weights = (grads.clamp(min=0) * a).sum((2, 3))
    maps = torch.einsum("nk,nkhw->nhw", weights, acts)
    if raw:
        return maps
    return _scale_resize(maps.clamp(min=0), tuple(x.shape[-2:]))


def cam(model: nn.Module, x: torch.Tensor, target: Target = None, *,
        features: nn.Module, classifier: nn.Linear,
        raw: bool = False) -> torch.Tensor:
    """Class activation map (Zhou et al., 2016) of a network ending in
    global average pooling + Linear.

    ``features`` is the module whose output A (N, K, h, w) is pooled,
    ``classifier`` the linear layer (K -> classes) after the pooling:
    ``model.features`` and ``model.classifier[-1]`` for torchvision's
    MobileNetV2, ``model.layer4`` and ``model.fc`` for a ResNet. The map of
    class c is ``sum_k W[c, k] A_k``: its spatial mean plus the bias is
    exactly the logit of c, so it splits the score over the image. As in
    the paper it is min-max scaled (no ReLU) and resized bilinearly to x's
    H, W; ``raw=True`` returns the unscaled map (N, h, w).
    Raises ValueError when the logits are not that mean plus the bias.
    """
    x = _check_input(model, x, "cam")
    _check_layer(model, features, "features")
    _check_layer(model, classifier, "classifier")
    if not isinstance(classifier, nn.Linear):
        raise ValueError("classifier must be the model's final nn.Linear, "
                         f"got {type(classifier).__name__}.")
    with _frozen_eval(model), torch.no_grad():
        with hook_output(features) as hook:
            logits = model(x)
    acts = hook.stored
    k = classifier.in_features
    if (not isinstance(acts, torch.Tensor) or acts.ndim != 4
            or acts.shape[1] != k):
        if isinstance(acts, torch.Tensor):
            shape = tuple(acts.shape)
        else:
            shape = type(acts).__name__
        raise ValueError(
            f"features gave {shape} but the classifier takes {k} "
            "features; CAM needs the (N, K, h, w) output that global "
            "average pooling turns into the classifier's input."
        )
    targets = _targets(target, logits)
    weight = classifier.weight[targets].detach()
    maps = torch.einsum("nk,nkhw->nhw", weight, acts)
    bias = 0.0
    if classifier.bias is not None:
        bias = classifier.bias[targets].detach()
    expected = logits.gather(1, targets[:, None])[:, 0]
    tolerance = 1e-3 * float(expected.abs().max())
    if not torch.allclose(maps.mean((1, 2)) + bias, expected, rtol=1e-3,
                          atol=tolerance):
        raise ValueError(
            "The logits are not the spatial mean of the CAM plus the bias: "
            "the model does not end in global average pooling of features "
            "followed by classifier. Use grad_cam for other heads."
        )
    return maps if raw else _scale_resize(maps, tuple(x.shape[-2:]))


def saliency(model: nn.Module, x: torch.Tensor, target: Target = None,
             raw: bool = False) -> torch.Tensor:
    """Vanilla gradient saliency (Simonyan et al., 2014):
    ``max over channels of |d score / d x|``, (N, H, W).

    Each map is divided by its maximum, so it lies in [0, 1]; ``raw=True``
    keeps the gradient magnitudes.
    """
    x = _check_input(model, x, "saliency").clone().requires_grad_(True)
    with _frozen_eval(model), torch.enable_grad():
        logits = model(x)
        targets = _targets(target, logits)
        (grad,) = torch.autograd.grad(_score(logits, targets), x)
    maps = grad.abs().amax(1)
    if raw:
        return maps
    peak = maps.flatten(1).max(1).values[:, None, None]
    return maps / (1e-12 + peak)


def overlay(image: np.ndarray | torch.Tensor, heatmap: np.ndarray | torch.Tensor, alpha: float = 0.5,
            cmap: str = "jet") -> np.ndarray:
    """``(1 - alpha) * image + alpha * cmap(heatmap)``: a float RGB image (H, W, 3) in [0, 1].

    ``image``: HWC (or HW grayscale), uint8 or float in [0, 1], a NumPy array or a tensor
    (a CHW tensor is accepted); not normalised (use :func:`cnnlib.images.denormalize` first).
    ``heatmap``: (H, W) in [0, 1], e.g. one map of :func:`grad_cam`; it is resized bilinearly
    when its size differs from the image's.
    """
    import matplotlib

    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
            image = image.permute(1, 2, 0)
        image = image.numpy()
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"overlay needs an image (H, W, 3) or (H, W), got shape {image.shape}.")
    if image.dtype == np.uint8:
        image = image / 255.0
    image = image.astype(np.float32)
    if image.min() < 0 or image.max() > 1:
        raise ValueError(
            f"overlay needs image values in [0, 1] (or uint8), got [{image.min():.3g}, {image.max():.3g}]; "
            "undo the normalisation with cnnlib.images.denormalize(x).clamp(0, 1)."
        )
    heat = heatmap.detach().cpu().float() if isinstance(heatmap, torch.Tensor) else torch.as_tensor(
        np.asarray(heatmap, dtype=np.float32))
    if heat.ndim != 2:
        raise ValueError(f"overlay needs one heatmap (H, W), got {tuple(heat.shape)}; pick one: maps[0].")
    if heat.min() < -1e-6 or heat.max() > 1 + 1e-6:
        raise ValueError(
            f"heatmap values must be in [0, 1], got [{float(heat.min()):.3g}, {float(heat.max()):.3g}]; "
            "scale it first: (m - m.min()) / (m.max() - m.min())."
        )
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha is the heatmap's weight and must be in [0, 1], got {alpha!r}.")
    try:
        colormap = matplotlib.colormaps[cmap]
    except KeyError:
        raise ValueError(f"Unknown colormap {cmap!r}; use a Matplotlib name, e.g. 'jet'.") from None
    if tuple(heat.shape) != image.shape[:2]:
        heat = F.interpolate(heat[None, None], image.shape[:2], mode="bilinear", align_corners=False)[0, 0]
    colours = colormap(heat.clamp(0, 1).numpy())[..., :3].astype(np.float32)
    return (1 - alpha) * image + alpha * colours
