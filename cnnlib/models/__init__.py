"""Models of the course, one readable file per family (read ``__init__``, then ``forward``).

- :mod:`~cnnlib.models.simple`: chapter 6's stride-2 CNN (``simple_cnn``) and its ``conv`` block.
- :mod:`~cnnlib.models.lenet`: LeNet-5 as the 1998 paper built it, and the modern variant.
- :mod:`~cnnlib.models.alexnet`, :mod:`~cnnlib.models.vgg`, :mod:`~cnnlib.models.inception`,
  :mod:`~cnnlib.models.resnet`: identical to torchvision's (same weights, same outputs), plus
  the CIFAR ResNets of He et al. (2016) and their plain twins.
- :mod:`~cnnlib.models.mobilenet`, :mod:`~cnnlib.models.convnext`: after ResNet (chapter 16):
  depthwise separable, inverted residual, squeeze-and-excitation and ConvNeXt blocks;
  ``mobilenet_v2`` and ``convnext_tiny`` identical to torchvision's; ``roadmap_net``, the
  ConvNeXt roadmap's steps on CIFAR-10.
- Scaled down to 32×32 CIFAR-10 images: ``mini_alexnet``, ``mini_vgg`` (chapter 8) and
  ``mini_inception`` (chapter 9), each in its family's file; ``lenet5(in_channels=3)``.
- :mod:`~cnnlib.models.pretrained`: networks with shipped weights (``pretrained_mobilenet_v2``).
"""

from cnnlib.models.alexnet import alexnet, mini_alexnet
from cnnlib.models.convnext import (
    ROADMAP_STEPS,
    ConvNeXtBlock,
    LayerNorm2d,
    StochasticDepth,
    convnext_tiny,
    roadmap_designs,
    roadmap_net,
)
from cnnlib.models.inception import inception_v3, mini_inception
from cnnlib.models.lenet import lenet5, lenet5_1998
from cnnlib.models.mobilenet import (
    DepthwiseSeparable,
    InvertedResidual,
    SqueezeExcitation,
    mobilenet_v2,
)
from cnnlib.models.pretrained import pretrained_mobilenet_v2
from cnnlib.models.resnet import cifar_resnet, resnet18, resnet34, resnet50
from cnnlib.models.simple import conv, simple_cnn
from cnnlib.models.vgg import mini_vgg, vgg, vgg16

__all__ = [
    "ROADMAP_STEPS", "ConvNeXtBlock", "DepthwiseSeparable", "InvertedResidual", "LayerNorm2d",
    "SqueezeExcitation", "StochasticDepth", "alexnet", "cifar_resnet", "conv", "convnext_tiny",
    "inception_v3", "lenet5", "lenet5_1998", "mini_alexnet", "mini_inception", "mini_vgg",
    "mobilenet_v2", "pretrained_mobilenet_v2", "resnet18", "resnet34", "resnet50",
    "roadmap_designs", "roadmap_net", "simple_cnn", "vgg", "vgg16",
]  # fmt: skip
