"""Models of the course, one readable file per family (read ``__init__`` then ``forward``).

- :mod:`~cnnlib.models.simple`: chapter 6's stride-2 CNN (``simple_cnn``) and its ``conv`` block.
- :mod:`~cnnlib.models.pretrained`: networks with shipped weights (``pretrained_mobilenet_v2``).
"""

# TEMPORARY (while Part II's files are being written): names resolved on first use.
import importlib

from cnnlib.models.pretrained import pretrained_mobilenet_v2
from cnnlib.models.simple import conv, simple_cnn

_LAZY = {
    "lenet5": "lenet", "lenet5_1998": "lenet",
    "alexnet": "alexnet",
    "vgg": "vgg", "vgg16": "vgg",
    "inception_v3": "inception",
    "resnet18": "resnet", "resnet34": "resnet", "resnet50": "resnet", "cifar_resnet": "resnet",
}


__all__ = ["conv", "pretrained_mobilenet_v2", "simple_cnn", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"cnnlib.models.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'cnnlib.models' has no attribute {name!r}")
