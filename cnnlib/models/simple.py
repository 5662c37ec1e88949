"""The first CNN of the course (chapter 6): five stride-2 convolutions, no pooling, no linear layer.

A variant of fastbook's ``simple_cnn`` (chapter 13 of *Deep Learning for Coders*): each block
is a 3×3 (first: 5×5) convolution with stride 2, which halves the image, then batch norm and
ReLU. On a 28×28 digit the sizes go 28 → 14 → 7 → 4 → 2 → 1, and the last block's 10 channels
are the 10 class scores.
"""

from __future__ import annotations

from torch import nn

from cnnlib._checks import int_at_least


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
    """Chapter 6's CNN: (N, in_channels, 28, 28) -> (N, n_out) scores."""
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
