"""The first CNN of the course (chapter 6): five stride-2 convolutions, no pooling, no linear layer.

A variant of fastbook's ``simple_cnn`` (chapter 13 of *Deep Learning for Coders*). Both halve
the image with stride-2 convolutions (the first 5×5, the others 3×3), 28 → 14 → 7 → 4 → 2 → 1,
and both end in a block of 10 channels, batch norm included, whose 1×1 outputs are the class
scores. What differs: fastbook's channels are 8, 16, 32, 64, ours 16, 32, 64, 128; fastbook's
block is convolution → ReLU → batch norm and keeps the convolution's bias, ours is
convolution → batch norm → ReLU (the order of ResNet) without the bias that batch norm cancels.
"""

from __future__ import annotations

from torch import nn

from cnnlib.check import int_at_least


def conv(ni: int, nf: int, ks: int = 3, act: bool = True,
         bn: bool = True) -> nn.Sequential:
    """A stride-2 convolution from ``ni`` to ``nf`` channels, then batch
    norm and ReLU.

    Padding ``ks // 2`` makes the output exactly half the input, rounded
    up. With batch norm the convolution has no bias: batch norm's own
    shift would cancel it.
    """
    layers: list[nn.Module] = [
        nn.Conv2d(ni, nf, ks, stride=2, padding=ks // 2, bias=not bn)
    ]
    if bn:
        layers.append(nn.BatchNorm2d(nf))
    if act:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def simple_cnn(n_out: int = 10, bn: bool = True,
               in_channels: int = 1) -> nn.Sequential:
    """Chapter 6's CNN: (N, in_channels, 28, 28) -> (N, n_out) scores.

    As in fastbook's, the last block has batch norm but no ReLU: the
    scores are standardised over the batch, then scaled by a learned
    gamma. Chapter 6 measures what that does.
    """
    int_at_least("n_out", n_out)
    int_at_least("in_channels", in_channels)
    return nn.Sequential(
        conv(in_channels, 16, ks=5, bn=bn),  # 28x28 -> 14x14
        conv(16, 32, bn=bn),                 # 14 -> 7
        conv(32, 64, bn=bn),                 # 7 -> 4
        conv(64, 128, bn=bn),                # 4 -> 2
        conv(128, n_out, act=False, bn=bn),  # 2 -> 1: one score per class
        nn.Flatten(),
    )
