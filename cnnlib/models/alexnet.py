"""AlexNet as torchvision defines it: the same layers, names and weights layout.

Krizhevsky, Sutskever & Hinton, *ImageNet Classification with Deep Convolutional Neural
Networks* (NeurIPS 2012), won ILSVRC-2012. torchvision's version (and so this one) is the
single-GPU variant of Krizhevsky's *One weird trick for parallelizing convolutional neural
networks* (2014): five convolutions with 64, 192, 384, 256, 256 channels instead of the
paper's 96, 256, 384, 384, 256 split over two GPUs, and no local response normalisation.
Everything else is the 2012 recipe: an 11×11 stride-4 first layer, ReLU, overlapping 3×3
stride-2 max pools, and three fully connected layers with dropout.

Because the module and parameter names match torchvision's (``features``, ``avgpool``,
``classifier``), ``AlexNet().load_state_dict(torchvision.models.alexnet().state_dict())``
works and the two give the same outputs.

:func:`alexnet_2012` is the network of the 2012 paper itself (:class:`AlexNet2012`): 96, 256,
384, 384, 256 channels, conv2, conv4 and conv5 grouped in two as on the two GPUs, local
response normalisation after conv1 and conv2, and dropout on the *outputs* of fc6 and fc7
(after their ReLU), where torchvision puts it on their inputs. No pretrained weights exist for
it; chapter 8 counts it.

:func:`mini_alexnet` is chapter 8's scaled-down AlexNet for 32×32 images (CIFAR-10).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlib.check import image_batch, int_at_least, probability, rgb_batch

MIN_SIZE = 63
"""The smallest height and width AlexNet accepts: 63 → 15 (conv 11×11, stride 4) → 7 → 3 → 1
(the three 3×3 stride-2 max pools). From there the adaptive average pool turns any grid, 1×1 at
63 pixels or 6×6 at the usual 224, into the 6×6 the first linear layer expects."""


class AlexNet(nn.Module):
    """AlexNet: ``features`` (5 convolutions, 3 max pools), ``avgpool``
    (adaptive, to 6×6) and ``classifier`` (3 linear layers, dropout
    before the first two). (N, 3, H, W) -> (N, num_classes) logits, for
    H, W >= :data:`MIN_SIZE`. (Lines kept short: chapter 8 prints it.)"""

    def __init__(self, num_classes: int = 1000,
                 dropout: float = 0.5) -> None:
        super().__init__()
        int_at_least("num_classes", num_classes)
        probability("dropout", dropout)
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),  # 224 -> 55
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 27, overlapping
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 13
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 6
        )
        # a no-op at 224 px; lets any size >= MIN_SIZE work
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),  # 37.7 M of the 61.1 M
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rgb_batch(x, "AlexNet", MIN_SIZE)
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def alexnet(num_classes: int = 1000, dropout: float = 0.5) -> AlexNet:
    """torchvision's ``alexnet(weights=None)``, built here: 61,100,840 parameters for 1000 classes."""
    return AlexNet(num_classes=num_classes, dropout=dropout)


# ---------------------------------------------------- the 2012 paper's network


class AlexNet2012(nn.Module):
    """AlexNet as Krizhevsky et al. (2012) describe it, for 227×227 images
    (the paper's "224" does not give its 55×55 maps). conv2, conv4 and
    conv5 see only their GPU's half (groups=2); LRN (k=2, n=5, alpha=1e-4,
    beta=0.75; PyTorch divides alpha by n) follows the ReLUs of conv1 and
    conv2; dropout zeroes the outputs of fc6 and fc7. (N, 3, 227, 227) ->
    (N, num_classes); 60,965,224 parameters for 1000 classes."""

    def __init__(self, num_classes: int = 1000,
                 dropout: float = 0.5) -> None:
        super().__init__()
        int_at_least("num_classes", num_classes)
        probability("dropout", dropout)
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4),  # 227 -> 55
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 27
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 13
            nn.Conv2d(256, 384, kernel_size=3, padding=1),  # both GPUs
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 6
        )
        self.classifier = nn.Sequential(
            nn.Linear(256 * 6 * 6, 4096),  # fc6
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),  # on fc6's outputs
            nn.Linear(4096, 4096),  # fc7
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),  # on fc7's outputs
            nn.Linear(4096, num_classes),  # fc8
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image_batch(x, (3, 227, 227), "The 2012 AlexNet")
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def alexnet_2012(num_classes: int = 1000,
                 dropout: float = 0.5) -> AlexNet2012:
    """The 2012 paper's AlexNet (:class:`AlexNet2012`): 60,965,224
    parameters for 1000 classes, 227×227 input."""
    return AlexNet2012(num_classes=num_classes, dropout=dropout)


# ---------------------------------------------- scaled down to 32×32 (chapter 8)


class MiniAlexNet(nn.Module):
    """AlexNet for 32×32 images: a 5×5 stride-1 first convolution (a
    stride of 4 would leave 8×8), a quarter of the channels (16, 48, 96,
    64, 64), the three overlapping max pools (32 -> 15 -> 7 -> 3), no
    adaptive pool, fully connected layers 512 wide. (N, 3, 32, 32) ->
    (N, num_classes) logits; 717,530 parameters for 10 classes."""

    def __init__(self, num_classes: int = 10,
                 dropout: float = 0.5) -> None:
        super().__init__()
        int_at_least("num_classes", num_classes)
        probability("dropout", dropout)
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # 32 -> 15
            nn.Conv2d(16, 48, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 7
            nn.Conv2d(48, 96, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(96, 64, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 3
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(64 * 3 * 3, 512),
            nn.ReLU(),
            nn.Dropout(p=dropout),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image_batch(x, (3, 32, 32), "The mini AlexNet")
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def mini_alexnet(num_classes: int = 10,
                 dropout: float = 0.5) -> MiniAlexNet:
    """Chapter 8's AlexNet scaled down to 32×32 (:class:`MiniAlexNet`):
    717,530 parameters for 10 classes."""
    return MiniAlexNet(num_classes=num_classes, dropout=dropout)
