"""Heatmaps that say where a classifier looked: saliency, CAM, Grad-CAM, Grad-CAM++.

Each function takes a batch ``x`` (N, C, H, W) of normalised images and returns one map per
image, a float tensor (N, H, W) in [0, 1] on the model's device; ``target`` is a class index
for every image, a list of one index per image, or None for each image's predicted class.
``raw=True`` returns the map before its last steps (ReLU, scaling, resizing) to look at it
or test it. The model runs in eval mode (:func:`eval_mode`), its train/eval modes are put
back afterwards, and gradients are taken with ``torch.autograd.grad``, so no parameter's
``.grad`` is filled and no ``requires_grad`` flag is touched. No hook outlives a call, even
one that raises.

- :func:`saliency`: ``max_c |d score / d x_c|`` (Simonyan et al., 2014).
- :func:`cam`: class activation map for networks ending in global average pooling and one
  linear layer (Zhou et al., 2016).
- :func:`grad_cam`, :func:`grad_cam_pp`: Grad-CAM (Selvaraju et al., 2017) and Grad-CAM++
  (Chattopadhyay et al., 2018), computed as pytorch-grad-cam 1.5.7 computes them, from
  :func:`activations_and_gradients`.
- The steps they share, public so that a printed function reads whole: :func:`eval_mode`,
  :func:`class_indices`, :func:`target_score`, :func:`min_max_scale`,
  :func:`scale_and_resize`. To draw a map over its photo: :func:`cnnlib.plot.overlay`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import check, config
from cnnlib.hooks import ActivationsAndGradients, hook_output

Target = int | Sequence[int] | torch.Tensor | None


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run ``model`` in eval mode inside the ``with`` block, then put
    every submodule's train/eval mode back as it was (also if the block
    raises)."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        yield model.eval()
    finally:
        for m, training in modes:
            m.training = training


def class_indices(target: Target, logits: torch.Tensor) -> torch.Tensor:
    """One class index per image: ``target`` (an int for every image, one per image, or None for
    each image's top class), checked against the batch size and the number of classes."""
    check.tensor("logits", logits, "N, classes")
    n, classes = logits.shape
    if target is None:
        return logits.argmax(1)
    if isinstance(target, (torch.Tensor, np.ndarray)):
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
                f"target: class index {t!r} is out of range: the model has {classes} classes "
                f"(0 to {classes - 1})."
            )
    return torch.tensor([int(t) for t in target], device=logits.device)


def target_score(logits: torch.Tensor,
                 targets: torch.Tensor) -> torch.Tensor:
    """Sum over the batch of each image's target logit: a scalar whose
    gradient with respect to image n (or its activations) is that of image
    n's own score, since the images do not interact in eval mode."""
    return logits.gather(1, targets[:, None]).sum()


def min_max_scale(maps: torch.Tensor) -> torch.Tensor:
    """Each map of (N, h, w) shifted and scaled to [0, 1], as
    pytorch-grad-cam's ``scale_cam_image`` (with its 1e-7 against division
    by zero)."""
    low = maps.flatten(1).min(1).values[:, None, None]
    shifted = maps - low
    high = shifted.flatten(1).max(1).values[:, None, None]
    return shifted / (1e-7 + high)


def scale_and_resize(maps: torch.Tensor,
                     size: Sequence[int]) -> torch.Tensor:
    """Maps (N, h, w) min-max scaled, resized bilinearly to ``size`` (H, W)
    and scaled again: pytorch-grad-cam's last steps (its cv2.resize with
    INTER_LINEAR is ``interpolate(..., align_corners=False)``)."""
    maps = F.interpolate(min_max_scale(maps)[:, None], size=tuple(size),
                         mode="bilinear", align_corners=False)
    return min_max_scale(maps[:, 0])


def activations_and_gradients(model: nn.Module, layer: nn.Module,
                              x: torch.Tensor, target: Target = None
                              ) -> tuple[torch.Tensor, torch.Tensor]:
    """The output A (N, K, h, w) of ``layer`` on ``x``, in eval mode, and
    the gradient of the target class score with respect to it.

    Raises ValueError when the layer does not run, runs more than once in
    one forward pass (its calls' activations and gradients would be two
    different tensors), has no spatial output, or gets no gradient.
    """
    check.module_in(model, layer, "target_layer")
    with eval_mode(model), torch.enable_grad(), \
            ActivationsAndGradients(model, layer) as ag:
        logits = ag(x)
        ag.backward(target_score(logits, class_indices(target, logits)))
    acts, grads = ag.activations[0], ag.gradients[0]
    if acts is None:
        raise ValueError("target_layer did not run in the forward pass; "
                         "pick a layer the model uses.")
    if acts.ndim != 4:
        raise ValueError(
            f"target_layer's output has shape {tuple(acts.shape)}; "
            "Grad-CAM needs a spatial output (N, C, h, w): pick a "
            "convolutional layer, e.g. the last block before global "
            "pooling.")
    if grads is None:
        raise ValueError("No gradient reached target_layer: the class "
                         "scores do not depend on its output.")
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
    check.module("grad_cam", model)
    x = check.float_batch("x", x).to(config.device_of(model))
    acts, grads = activations_and_gradients(model, target_layer, x,
                                            target)
    weights = grads.mean((2, 3))
    maps = torch.einsum("nk,nkhw->nhw", weights, acts)
    if raw:
        return maps
    return scale_and_resize(maps.clamp(min=0), x.shape[-2:])


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
    check.module("grad_cam_pp", model)
    x = check.float_batch("x", x).to(config.device_of(model))
    acts, grads = activations_and_gradients(model, target_layer, x,
                                            target)
    g2 = grads**2
    a = g2 / (2 * g2 + acts.sum((2, 3), keepdim=True) * g2 * grads + 1e-6)
    a = torch.where(grads != 0, a, torch.zeros_like(a))
    weights = (grads.clamp(min=0) * a).sum((2, 3))
    maps = torch.einsum("nk,nkhw->nhw", weights, acts)
    if raw:
        return maps
    return scale_and_resize(maps.clamp(min=0), x.shape[-2:])


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
    check.module("cam", model)
    x = check.float_batch("x", x).to(config.device_of(model))
    check.module_in(model, features, "features")
    check.module_in(model, classifier, "classifier")
    if not isinstance(classifier, nn.Linear):
        raise ValueError("classifier must be the model's final nn.Linear, "
                         f"got {type(classifier).__name__}.")
    with eval_mode(model), torch.no_grad(), hook_output(features) as hook:
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
    targets = class_indices(target, logits)
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
    return maps if raw else scale_and_resize(maps, x.shape[-2:])


def saliency(model: nn.Module, x: torch.Tensor, target: Target = None,
             raw: bool = False) -> torch.Tensor:
    """Vanilla gradient saliency (Simonyan et al., 2014):
    ``max over channels of |d score / d x|``, (N, H, W).

    Each map is divided by its maximum, so it lies in [0, 1]; ``raw=True``
    keeps the gradient magnitudes.
    """
    check.module("saliency", model)
    x = check.float_batch("x", x).to(config.device_of(model))
    x = x.detach().requires_grad_(True)
    with eval_mode(model), torch.enable_grad():
        logits = model(x)
        score = target_score(logits, class_indices(target, logits))
        (grad,) = torch.autograd.grad(score, x)
    maps = grad.abs().amax(1)
    if raw:
        return maps
    peak = maps.flatten(1).max(1).values[:, None, None]
    return maps / (1e-12 + peak)


def score_cam(model: nn.Module, target_layer: nn.Module, x: torch.Tensor,
              target: Target = None, batch_size: int = 256,
              raw: bool = False) -> torch.Tensor:
    """Score-CAM (Wang et al., 2020) of ``target`` at ``target_layer``:
    (N, H, W) in [0, 1], as pytorch-grad-cam's ScoreCAM.

    No gradients: each channel A_k of the layer is upsampled to x's size
    (bilinear, corners aligned), min-max scaled to [0, 1] and used as a
    mask on x; the target logit of each masked copy, softmaxed over the
    channels, is that channel's weight. One forward pass per channel and
    image (``batch_size`` copies at a time), so pick a layer with few
    channels. The map is ``ReLU(sum_k w_k A_k)``, scaled and resized as
    :func:`grad_cam`'s.
    """
    check.module("score_cam", model)
    x = check.float_batch("x", x).to(config.device_of(model))
    check.module_in(model, target_layer, "target_layer")
    check.int_at_least("batch_size", batch_size)
    with eval_mode(model), torch.no_grad(), \
            hook_output(target_layer) as hook:
        targets = class_indices(target, model(x))
        acts = hook.stored
        up = F.interpolate(acts, size=x.shape[-2:], mode="bilinear",
                           align_corners=True)
        low = up.flatten(2).min(2).values[:, :, None, None]
        high = up.flatten(2).max(2).values[:, :, None, None]
        masks = (up - low) / (high - low + 1e-8)
        scores = []
        for n in range(len(x)):
            copies = x[n] * masks[n][:, None]  # (K, C, H, W)
            logits = torch.cat([model(copies[i:i + batch_size])
                                for i in range(0, len(copies), batch_size)])
            scores.append(logits[:, targets[n]])
        weights = torch.stack(scores).softmax(1)
    maps = torch.einsum("nk,nkhw->nhw", weights, acts)
    if raw:
        return maps
    return scale_and_resize(maps.clamp(min=0), x.shape[-2:])
