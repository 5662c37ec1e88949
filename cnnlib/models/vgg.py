"""VGG-11/13/16/19 from one configuration table, laid out as torchvision's (same weights work).

Simonyan & Zisserman, *Very Deep Convolutional Networks for Large-Scale Image Recognition*
(ICLR 2015). Every convolution is 3×3 with padding 1 (the size stays), every pool a 2×2 max pool
of stride 2 (the size halves), and the channels double after each pool up to 512. The four
networks differ only in how many convolutions each of the five stages stacks: that is
:data:`CONFIGS`, Table 1 of the paper (columns A, B, D, E; torchvision leaves out A-LRN and C,
whose 16 layers include 1×1 convolutions). The "depth" counts weight layers: the convolutions
plus the three fully connected layers.

``batch_norm=True`` adds a BatchNorm2d after every convolution (torchvision's ``vgg16_bn``);
the paper predates batch norm. Module names and the weight initialisation follow torchvision,
so ``vgg(16)`` seeded like ``torchvision.models.vgg16()`` starts from the same weights, and
either model's ``state_dict`` loads into the other.

:func:`mini_vgg` is chapter 8's scaled-down VGG for 32×32 images (CIFAR-10), built from
:data:`MINI_CONFIG` by the same :func:`make_features`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cnnlib import check
from cnnlib.check import flag, image_batch, int_at_least, probability, rgb_batch

CONFIGS: dict[int, tuple[int | str, ...]] = {
    # A number is a 3×3 convolution with that many output channels (+ ReLU), "M" a 2×2 max pool.
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),  # A
    13: (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),  # B
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),  # D
    19: (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
         512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),  # E
}  # fmt: skip

MINI_CONFIG: tuple[int | str, ...] = (16, "M", 32, "M", 64, 64, "M", 128, 128, "M")
"""The mini VGG of chapter 8: configuration A (VGG-11) with a quarter of the channels and one
stage fewer, so that four pools take a 32×32 image to 2×2."""

MIN_SIZE = 32
"""The smallest height and width VGG accepts: five 2×2 max pools halve it five times, 32 → 1.
The adaptive average pool then turns any grid (1×1 at 32 pixels, 7×7 at the usual 224) into the
7×7 the first linear layer expects."""


def make_features(config: Sequence[int | str], batch_norm: bool = False,
                  in_channels: int = 3) -> nn.Sequential:
    """The convolutional part of a VGG from a configuration such as
    ``CONFIGS[16]``: each number ``c`` adds a 3×3 ``Conv2d(in, c)`` with
    padding 1 (+ ``BatchNorm2d(c)``) + ReLU, each ``"M"`` a 2×2 max pool
    of stride 2. The layers are numbered as in torchvision, which makes
    its state_dict keys (``features.0.weight``, ...) match."""
    int_at_least("in_channels", in_channels)
    layers: list[nn.Module] = []
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        elif check.is_int(v) and v >= 1:
            layers.append(nn.Conv2d(in_channels, v, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            in_channels = v
        else:
            raise ValueError(
                "A VGG configuration holds channel counts (ints >= 1) and "
                f"'M' for a max pool, got {v!r} in {list(config)}.")
    return nn.Sequential(*layers)


def make_classifier(in_features: int, width: int, num_classes: int,
                    dropout: float = 0.5) -> nn.Sequential:
    """VGG's three fully connected layers: ``in_features`` -> ``width``
    -> ``width`` -> ``num_classes``, each of the first two followed by
    ReLU and dropout. VGG has ``width`` 4096; the layers are numbered as
    in torchvision (``classifier.0``, ``classifier.3``, ``classifier.6``).
    """
    int_at_least("in_features", in_features)
    int_at_least("width", width)
    int_at_least("num_classes", num_classes)
    probability("dropout", dropout)
    return nn.Sequential(
        nn.Linear(in_features, width),
        nn.ReLU(True),
        nn.Dropout(p=dropout),
        nn.Linear(width, width),
        nn.ReLU(True),
        nn.Dropout(p=dropout),
        nn.Linear(width, num_classes),
    )


class VGG(nn.Module):
    """VGG-``depth``: ``features`` (:func:`make_features` of ``CONFIGS[depth]``), ``avgpool``
    (adaptive, to 7×7) and ``classifier`` (:func:`make_classifier`: 3 linear layers, dropout
    after the first two).
    (N, 3, H, W) -> (N, num_classes) logits, for H, W >= :data:`MIN_SIZE`."""

    def __init__(self, depth: int = 16, num_classes: int = 1000, batch_norm: bool = False,
                 dropout: float = 0.5) -> None:
        super().__init__()
        check.int_where("depth", depth, lambda d: d in CONFIGS, f"one of {sorted(CONFIGS)} (the VGG "
                        "configurations of Table 1 of Simonyan & Zisserman)")
        int_at_least("num_classes", num_classes)
        flag("batch_norm", batch_norm)
        probability("dropout", dropout)
        self.features = make_features(CONFIGS[depth], batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))  # a no-op at 224 px; lets other sizes work
        # fc6 alone, 512 * 7 * 7 -> 4096, has 102.8 M parameters: most of every VGG
        self.classifier = make_classifier(512 * 7 * 7, 4096, num_classes, dropout)
        # torchvision's initialisation, in the same order, so the same seed gives the same weights
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rgb_batch(x, "VGG", MIN_SIZE)
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def vgg(depth: int, num_classes: int = 1000, batch_norm: bool = False, dropout: float = 0.5) -> VGG:
    """VGG-11, 13, 16 or 19 (torchvision's ``vgg11`` ... ``vgg19``, ``_bn`` with ``batch_norm``).

    Parameters for 1000 classes: 132,863,336 / 133,047,848 / 138,357,544 / 143,667,240.
    """
    return VGG(depth, num_classes=num_classes, batch_norm=batch_norm, dropout=dropout)


def vgg16(*, num_classes: int = 1000, batch_norm: bool = False, dropout: float = 0.5) -> VGG:
    """VGG-16 (configuration D), 138,357,544 parameters for 1000 classes: ``vgg(16, ...)``."""
    return vgg(16, num_classes=num_classes, batch_norm=batch_norm, dropout=dropout)


# ---------------------------------------------- scaled down to 32×32 (chapter 8)


class MiniVGG(nn.Module):
    """VGG for 32×32 images: ``features`` is :func:`make_features` of
    :data:`MINI_CONFIG` (six 3×3 convolutions, four pools: 32 -> 2), with
    batch norm by default (the paper's VGGs had none: ``batch_norm=False``
    builds that); ``classifier`` is :func:`make_classifier`, 256 wide. No
    adaptive pool, PyTorch's default initialisation. (N, 3, 32, 32) ->
    (N, num_classes) logits; 482,506 parameters for 10 classes."""

    def __init__(self, num_classes: int = 10, batch_norm: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        flag("batch_norm", batch_norm)
        self.features = make_features(MINI_CONFIG, batch_norm)  # -> 2x2
        self.classifier = make_classifier(128 * 2 * 2, 256, num_classes,
                                          dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image_batch(x, (3, 32, 32), "The mini VGG")
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def mini_vgg(num_classes: int = 10, batch_norm: bool = True,
             dropout: float = 0.5) -> MiniVGG:
    """Chapter 8's VGG scaled down to 32×32 images (:class:`MiniVGG`):
    482,506 parameters for 10 classes (481,642 without batch norm)."""
    return MiniVGG(num_classes=num_classes, batch_norm=batch_norm,
                   dropout=dropout)
