"""Inception v3 (Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", 2016).

The same network as ``torchvision.models.inception_v3``: the same layers, the same parameter
names (so torchvision's state_dict, and its ImageNet weights, load with ``strict=True``) and
the same outputs. Every convolution is a :class:`BasicConv2d` (convolution, batch norm, ReLU).
After a plain stem, the modules work on three grids, 35×35, 17×17 and 8×8 for a 299×299 image:

- :class:`InceptionA` (35×35): 1×1, 5×5 and two stacked 3×3 branches plus a pooled branch.
- :class:`InceptionB`: grid reduction 35 → 17, stride-2 convolutions beside a stride-2 max pool.
- :class:`InceptionC` (17×17): 7×7 convolutions factorised into 1×7 and 7×1.
- :class:`InceptionD`: grid reduction 17 → 8.
- :class:`InceptionE` (8×8): 3×3 convolutions split into parallel 1×3 and 3×1 outputs.
- :class:`InceptionAux`: the auxiliary classifier on the 17×17 grid, used in training only.

Class names follow torchvision's, so the two files can be read side by side. torchvision's
``transform_input`` is left out (our behaviour is its default, ``transform_input=False``); see
:func:`inception_v3`.

:func:`mini_inception` is chapter 9's Inception for 32×32 images (CIFAR-10), built from
:class:`BasicConv2d` and three small modules in the same style: :class:`MiniA`,
:class:`MiniReduction` and :class:`MiniC`. (These are printed in the book: lines of at most
76 characters.)
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import check
from cnnlib.check import flag, int_at_least, probability

# Smallest input height/width. At 75 the grid that is 17×17 at 299 is 3×3; at 74 it is 2×2,
# and Mixed_7a's 3×3 window no longer fits. In training the auxiliary classifier pools 5×5 (stride 3) and then
# applies a 5×5 convolution, which needs the full 17×17 grid: only inputs of 299 or more give it.
MIN_SIZE = 75
MIN_SIZE_TRAIN_AUX = 299


class InceptionOutputs(NamedTuple):
    """What the model returns in training mode with ``aux_logits=True`` (as torchvision's)."""

    logits: torch.Tensor
    aux_logits: torch.Tensor


class BasicConv2d(nn.Module):
    """Convolution (no bias: batch norm shifts anyway), batch norm with
    eps 0.001, ReLU."""

    def __init__(self, in_channels: int, out_channels: int,
                 **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False,
                              **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class InceptionA(nn.Module):
    """35×35 module: 64 + 64 + 96 + ``pool_features`` output channels, same height and width.

    The 5×5 branch and the double-3×3 branch (a factorised 5×5) start with 1×1 bottlenecks.
    """

    def __init__(self, in_channels: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)

        self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)

        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)

        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([branch1x1, branch5x5, branch3x3dbl, branch_pool], 1)


class InceptionB(nn.Module):
    """Grid reduction 35 → 17: stride-2 convolutions (384 and 96 channels) beside a stride-2
    max pool (the ``in_channels`` input channels), concatenated: 480 + ``in_channels``.

    Pooling and convolving in parallel halves the grid without first squeezing the channels
    (a representational bottleneck) and without running the expensive module at full size."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(in_channels, 384, kernel_size=3, stride=2)

        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3(x)
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([branch3x3, branch3x3dbl, branch_pool], 1)


class InceptionC(nn.Module):
    """17×17 module: 4 × 192 = 768 output channels. Each 7×7 convolution is factorised into a
    1×7 and a 7×1 one (14 weights per channel pair instead of 49); ``channels_7x7`` is the width
    inside those branches."""

    def __init__(self, in_channels: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)

        self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))

        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))

        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = self.branch7x7dbl_1(x)
        branch7x7dbl = self.branch7x7dbl_3(self.branch7x7dbl_2(branch7x7dbl))
        branch7x7dbl = self.branch7x7dbl_5(self.branch7x7dbl_4(branch7x7dbl))
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([branch1x1, branch7x7, branch7x7dbl, branch_pool], 1)


class InceptionD(nn.Module):
    """Grid reduction 17 → 8: stride-2 convolutions (320 and 192 channels) beside a stride-2
    max pool, concatenated: 512 + ``in_channels`` output channels."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)

        self.branch7x7x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
        branch7x7x3 = self.branch7x7x3_2(self.branch7x7x3_1(x))
        branch7x7x3 = self.branch7x7x3_4(self.branch7x7x3_3(branch7x7x3))
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([branch3x3, branch7x7x3, branch_pool], 1)


class InceptionE(nn.Module):
    """8×8 module: 320 + 768 + 768 + 192 = 2048 output channels. The 3×3 branches end in a 1×3
    and a 3×1 convolution side by side (not one after the other) whose outputs are concatenated:
    on the coarsest grid the paper widens the representation instead of deepening it."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)

        self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))

        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))

        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = torch.cat([self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)], 1)
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat(
            [self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl)], 1
        )
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([branch1x1, branch3x3, branch3x3dbl, branch_pool], 1)


# The branches of each module, bottom (input side) first: attribute names of its BasicConv2d
# layers, or a label for a pooling step that has no layer of its own.
_BRANCHES = {
    InceptionA: [["branch1x1"], ["branch5x5_1", "branch5x5_2"],
                 ["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"],
                 ["pool: avg 3×3", "branch_pool"]],
    InceptionB: [["branch3x3"], ["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"],
                 ["pool: max 3×3, /2"]],
    InceptionC: [["branch1x1"], ["branch7x7_1", "branch7x7_2", "branch7x7_3"],
                 [f"branch7x7dbl_{i}" for i in range(1, 6)], ["pool: avg 3×3", "branch_pool"]],
    InceptionD: [["branch3x3_1", "branch3x3_2"], [f"branch7x7x3_{i}" for i in range(1, 5)],
                 ["pool: max 3×3, /2"]],
}


def branch_labels(module: nn.Module) -> list[list[str]]:
    """The branches of an :class:`InceptionA`, ``B``, ``C`` or ``D`` module as box labels for
    :func:`cnnlib.plot.show_branches`, input side first: "5×5, 64" for a convolution with its
    kernel and output channels ("/2" when its stride is 2), and the pooling steps. Read from
    the module's layers, so the labels always match the weights."""
    check.module("branch_labels", module, arg="module")
    branches = _BRANCHES.get(type(module))
    if branches is None:
        raise ValueError(f"branch_labels draws InceptionA, B, C or D modules, got "
                         f"{type(module).__name__}.")

    def label(name: str) -> str:
        if name.startswith("pool"):
            return name
        conv = getattr(module, name).conv
        kh, kw = conv.kernel_size
        stride = ", /2" if conv.stride[0] == 2 else ""
        return f"{kh}×{kw}, {conv.out_channels}{stride}"

    return [[label(name) for name in branch] for branch in branches]


class InceptionAux(nn.Module):
    """Auxiliary classifier on the 17×17 grid: 5×5 average pool (stride 3)
    to 5×5, a 1×1 convolution to 128 channels, a 5×5 convolution to 768
    (1×1 left), a linear layer."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.conv0 = BasicConv2d(in_channels, 128, kernel_size=1)
        self.conv1 = BasicConv2d(128, 768, kernel_size=5)
        self.fc = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x 768 x 17 x 17 -> N x 768 x 5 x 5
        x = F.avg_pool2d(x, kernel_size=5, stride=3)
        x = self.conv1(self.conv0(x))  # -> N x 768 x 1 x 1
        x = F.adaptive_avg_pool2d(x, (1, 1))
        return self.fc(torch.flatten(x, 1))


class InceptionV3(nn.Module):
    """Inception v3 for 3×299×299 images (at least 75×75): see :func:`inception_v3`."""

    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, dropout: float = 0.5) -> None:
        super().__init__()
        # Stem: plain convolutions and max pools, 299 -> 149 -> 147 -> 73 -> 71 -> 35.
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        # 35×35 grid
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        # 17×17 grid
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.AuxLogits = InceptionAux(768, num_classes) if aux_logits else None
        self.Mixed_7a = InceptionD(768)
        # 8×8 grid
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(2048, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        # torchvision's init_weights=True (from the TensorFlow original): truncated normals,
        # narrower for the auxiliary head's last two layers so its output starts small.
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.1, a=-2, b=2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if self.AuxLogits is not None:
            nn.init.trunc_normal_(self.AuxLogits.conv1.conv.weight, mean=0.0, std=0.01, a=-2, b=2)
            nn.init.trunc_normal_(self.AuxLogits.fc.weight, mean=0.0, std=0.001, a=-2, b=2)

    def check_input(self, x: torch.Tensor) -> None:
        """Nothing if ``x`` is an RGB batch large enough for this mode; else a ValueError."""
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"Inception v3 needs a batch of RGB images (N, 3, H, W), got {shape}.")
        training_aux = self.training and self.AuxLogits is not None
        minimum = MIN_SIZE_TRAIN_AUX if training_aux else MIN_SIZE
        if min(x.shape[-2:]) < minimum:
            why = ("in training mode the auxiliary classifier needs the full 17x17 grid; call "
                   ".eval(), or build the model with aux_logits=False, to go down to 75x75"
                   if training_aux else "smaller images shrink to nothing before the last module")
            raise ValueError(f"Inception v3 needs images of at least {minimum}x{minimum} "
                             f"(299x299 is its design size), got {tuple(x.shape[-2:])}: {why}.")

    def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionOutputs:
        self.check_input(x)
        # Shapes for a 299 x 299 input:
        x = self.Conv2d_1a_3x3(x)   # N x 32 x 149 x 149
        x = self.Conv2d_2a_3x3(x)   # N x 32 x 147 x 147
        x = self.Conv2d_2b_3x3(x)   # N x 64 x 147 x 147
        x = self.maxpool1(x)        # N x 64 x 73 x 73
        x = self.Conv2d_3b_1x1(x)   # N x 80 x 73 x 73
        x = self.Conv2d_4a_3x3(x)   # N x 192 x 71 x 71
        x = self.maxpool2(x)        # N x 192 x 35 x 35
        x = self.Mixed_5b(x)        # N x 256 x 35 x 35
        x = self.Mixed_5c(x)        # N x 288 x 35 x 35
        x = self.Mixed_5d(x)        # N x 288 x 35 x 35
        x = self.Mixed_6a(x)        # N x 768 x 17 x 17
        x = self.Mixed_6b(x)
        x = self.Mixed_6c(x)
        x = self.Mixed_6d(x)
        x = self.Mixed_6e(x)        # N x 768 x 17 x 17
        aux = None
        if self.AuxLogits is not None and self.training:
            aux = self.AuxLogits(x)
        x = self.Mixed_7a(x)        # N x 1280 x 8 x 8
        x = self.Mixed_7b(x)        # N x 2048 x 8 x 8
        x = self.Mixed_7c(x)        # N x 2048 x 8 x 8
        x = self.avgpool(x)         # N x 2048 x 1 x 1
        x = self.dropout(x)
        x = self.fc(torch.flatten(x, 1))  # N x num_classes
        return InceptionOutputs(x, aux) if aux is not None else x


def inception_v3(num_classes: int = 1000, aux_logits: bool = True) -> InceptionV3:
    """Inception v3, identical to ``torchvision.models.inception_v3(weights=None, init_weights=True)``.

    27,161,264 parameters with the auxiliary classifier, 23,834,568 without. Input: (N, 3, H, W)
    float images, 299×299 by design; in eval mode anything from 75×75 works. Output:

    - eval mode, or ``aux_logits=False``: the (N, num_classes) logits;
    - training mode with ``aux_logits=True``: ``InceptionOutputs(logits, aux_logits)``, a named
      tuple of two (N, num_classes) tensors, as torchvision returns. Train on
      ``loss(logits) + weight * loss(aux_logits)``. This needs inputs of at least 299×299.

    The parameter names are torchvision's, so ``model.load_state_dict(tv.state_dict())`` works
    with ``strict=True`` for a torchvision model ``tv`` built with the same arguments.

    ``transform_input``: torchvision's ``Inception3`` defaults to ``transform_input=False``, the
    behaviour here. ``torchvision.models.inception_v3(weights=...)`` switches it on: the Google
    weights expect each channel scaled to [-1, 1], so the model first maps an input normalised
    with the ImageNet mean and std back to that range, ``x * std / 0.5 + (mean - 0.5) / 0.5``
    per channel. To use those weights here, normalise the images with mean 0.5 and std 0.5.
    """
    int_at_least("num_classes", num_classes)
    flag("aux_logits", aux_logits)
    return InceptionV3(num_classes=num_classes, aux_logits=aux_logits)


# ---------------------------------------------- scaled down to 32×32 (chapter 9)


class MiniA(nn.Module):
    """Like :class:`InceptionA`: four branches of ``channels`` each (1×1;
    1×1 then 3×3; 1×1 then two 3×3, a factorised 5×5; a 3×3 average pool
    then 1×1), concatenated: 4 * ``channels`` out, same height and width.
    """

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        c = channels
        self.branch1x1 = BasicConv2d(in_channels, c, kernel_size=1)

        self.branch3x3_1 = BasicConv2d(in_channels, c, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(c, c, kernel_size=3, padding=1)

        self.branch3x3dbl_1 = BasicConv2d(in_channels, c, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(c, c, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(c, c, kernel_size=3, padding=1)

        self.branch_pool = BasicConv2d(in_channels, c, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)
        branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = self.branch3x3dbl_3(branch3x3dbl)
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)
        outputs = [branch1x1, branch3x3, branch3x3dbl, branch_pool]
        return torch.cat(outputs, 1)


class MiniReduction(nn.Module):
    """Like :class:`InceptionB`: a stride-2 3×3 convolution beside a 1×1,
    3×3, stride-2 3×3 branch and a stride-2 max pool, concatenated:
    2 * ``channels`` + ``in_channels`` out. With padding 1 every branch
    halves the size exactly (rounding up): 16 -> 8 -> 4."""

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        c = channels
        self.branch3x3 = BasicConv2d(in_channels, c, kernel_size=3,
                                     stride=2, padding=1)

        self.branch3x3dbl_1 = BasicConv2d(in_channels, c // 2,
                                          kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(c // 2, c, kernel_size=3,
                                          padding=1)
        self.branch3x3dbl_3 = BasicConv2d(c, c, kernel_size=3, stride=2,
                                          padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3(x)
        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = self.branch3x3dbl_3(branch3x3dbl)
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
        return torch.cat([branch3x3, branch3x3dbl, branch_pool], 1)


class MiniC(nn.Module):
    """Like :class:`InceptionC`, for a 4×4 grid: the factorised branch is
    a 1×3 then a 3×1 convolution. Three branches of ``channels`` each
    (1×1; 1×1, 1×3, 3×1; average pool then 1×1): 3 * ``channels`` out."""

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        c = channels
        self.branch1x1 = BasicConv2d(in_channels, c, kernel_size=1)

        self.branch3_1 = BasicConv2d(in_channels, c, kernel_size=1)
        self.branch3_2 = BasicConv2d(c, c, kernel_size=(1, 3),
                                     padding=(0, 1))
        self.branch3_3 = BasicConv2d(c, c, kernel_size=(3, 1),
                                     padding=(1, 0))

        self.branch_pool = BasicConv2d(in_channels, c, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)
        branch3 = self.branch3_3(self.branch3_2(self.branch3_1(x)))
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)
        return torch.cat([branch1x1, branch3, branch_pool], 1)


class MiniInception(nn.Module):
    """Inception for 32×32 images: a 3×3 stem and a max pool (32 -> 16),
    then MiniA, a reduction (-> 8), MiniA, a reduction (-> 4) and MiniC,
    global average pooling, dropout and one linear layer. ``width`` sets
    every module's channels. (N, 3, H, W) -> (N, num_classes) logits;
    297,962 parameters for width 16 and 10 classes."""

    def __init__(self, width: int = 16, num_classes: int = 10,
                 dropout: float = 0.2) -> None:
        super().__init__()
        w = int_at_least("width", width)
        int_at_least("num_classes", num_classes)
        probability("dropout", dropout)
        self.stem = BasicConv2d(3, 2 * w, kernel_size=3, padding=1)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)  # 32 -> 16
        self.mixed_a1 = MiniA(2 * w, w)                 # 4w channels
        self.reduction1 = MiniReduction(4 * w, 2 * w)   # 8w, 16 -> 8
        self.mixed_a2 = MiniA(8 * w, 2 * w)             # 8w
        self.reduction2 = MiniReduction(8 * w, 4 * w)   # 16w, 8 -> 4
        self.mixed_c = MiniC(16 * w, 4 * w)             # 12w
        self.avgpool = nn.AdaptiveAvgPool2d(1)          # 12w, 1x1
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(12 * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(
                "The mini-Inception needs a batch of RGB images "
                f"(N, 3, H, W), got shape {tuple(x.shape)}.")
        x = self.stem(x)          # N x 2w x 32 x 32
        x = self.maxpool(x)       # N x 2w x 16 x 16
        x = self.mixed_a1(x)      # N x 4w x 16 x 16
        x = self.reduction1(x)    # N x 8w x 8 x 8
        x = self.mixed_a2(x)      # N x 8w x 8 x 8
        x = self.reduction2(x)    # N x 16w x 4 x 4
        x = self.mixed_c(x)       # N x 12w x 4 x 4
        x = self.avgpool(x)       # N x 12w x 1 x 1
        x = self.dropout(torch.flatten(x, 1))
        return self.fc(x)         # N x num_classes


def mini_inception(width: int = 16, num_classes: int = 10,
                   dropout: float = 0.2) -> MiniInception:
    """Chapter 9's Inception for 32×32 images (:class:`MiniInception`):
    297,962 parameters for width 16 and 10 classes."""
    return MiniInception(width=width, num_classes=num_classes,
                         dropout=dropout)
