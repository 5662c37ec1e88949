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
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlib._checks import int_at_least


def _check_probability(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {value!r}.")


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
        _check_probability("dropout", dropout)
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
        if x.ndim != 4 or x.shape[1] != 3 or min(x.shape[-2:]) < MIN_SIZE:
            raise ValueError(
                "AlexNet needs a batch of RGB images (N, 3, H, W) with "
                f"H and W >= {MIN_SIZE}, got shape {tuple(x.shape)}. Add a "
                "batch dimension with x[None], or resize the images "
                "(ImageNet weights expect 224×224)."
            )
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def alexnet(num_classes: int = 1000, dropout: float = 0.5) -> AlexNet:
    """torchvision's ``alexnet(weights=None)``, built here: 61,100,840 parameters for 1000 classes."""
    return AlexNet(num_classes=num_classes, dropout=dropout)
