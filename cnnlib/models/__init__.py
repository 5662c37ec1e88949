"""Models of the course, one readable file per family (read ``__init__``, then ``forward``).

- :mod:`~cnnlib.models.simple`: chapter 6's stride-2 CNN (``simple_cnn``) and its ``conv`` block.
- :mod:`~cnnlib.models.lenet`: LeNet-5 as the 1998 paper built it, and the modern variant.
- :mod:`~cnnlib.models.alexnet`, :mod:`~cnnlib.models.vgg`, :mod:`~cnnlib.models.inception`,
  :mod:`~cnnlib.models.resnet`: identical to torchvision's (same weights, same outputs), plus
  the CIFAR ResNets of He et al. (2016) and their plain twins.
- :mod:`~cnnlib.models.pretrained`: networks with shipped weights (``pretrained_mobilenet_v2``).
"""

from cnnlib.models.alexnet import alexnet
from cnnlib.models.inception import inception_v3
from cnnlib.models.lenet import lenet5, lenet5_1998
from cnnlib.models.pretrained import pretrained_mobilenet_v2
from cnnlib.models.resnet import cifar_resnet, resnet18, resnet34, resnet50
from cnnlib.models.simple import conv, simple_cnn
from cnnlib.models.vgg import vgg, vgg16

__all__ = [
    "alexnet", "cifar_resnet", "conv", "inception_v3", "lenet5", "lenet5_1998",
    "pretrained_mobilenet_v2", "resnet18", "resnet34", "resnet50", "simple_cnn", "vgg", "vgg16",
]  # fmt: skip
