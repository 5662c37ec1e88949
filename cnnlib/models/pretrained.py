"""Pretrained networks whose weights ship with the course (``data/``), loaded offline."""

from __future__ import annotations

import torch

from cnnlib.models.mobilenet import MobileNetV2, mobilenet_v2


def pretrained_mobilenet_v2() -> MobileNetV2:
    """MobileNetV2 (:func:`cnnlib.models.mobilenet_v2`, identical to torchvision's) with the
    shipped ImageNet weights loaded strictly, in eval mode, float32.

    The weights are torchvision's, quantized to int8 for mobile and dequantized back, with
    batch norm folded into the convolutions (every BatchNorm2d is the identity in eval mode),
    stored as fp16: see data/README.md. Inputs: RGB, normalised with
    :func:`cnnlib.images.normalize`; outputs: (N, 1000) ImageNet logits.
    """
    from cnnlib import data

    file = data.fetch("mobilenet_v2/mobilenet_v2_imagenet_fp16.pth")
    state = torch.load(file, weights_only=True)
    model = mobilenet_v2()
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()},
                          strict=True)
    return model.eval()
