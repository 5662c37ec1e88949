"""ResNet: He, Zhang, Ren & Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016.

A residual block computes ``relu(F(x) + x)``: its layers only have to learn
the *change* ``F(x)`` to their input, and the identity ``x`` comes for free.
Two block designs:

- :class:`BasicBlock`: two 3×3 convolutions (ResNet-18/34, CIFAR networks).
- :class:`Bottleneck`: 1×1 to narrow, 3×3, 1×1 to widen four times
  (ResNet-50 and deeper).

:func:`resnet18`, :func:`resnet34`, :func:`resnet50` build torchvision's
networks with the same module names, so torchvision's ``state_dict`` loads
strictly and gives the same outputs. :func:`cifar_resnet` builds the
CIFAR-10 networks of the paper's section 4.2 and, with ``residual=False``,
their "plain" twins: the same layers without the shortcuts.

The classes are printed in the book, so lines stay within 76 columns.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import check
from cnnlib.check import flag, int_at_least


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """3×3 convolution, padding 1, no bias (batch norm follows it)."""
    int_at_least("in_planes", in_planes)
    int_at_least("out_planes", out_planes)
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride,
                     padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1×1 convolution, no bias: mixes the channels of each pixel."""
    int_at_least("in_planes", in_planes)
    int_at_least("out_planes", out_planes)
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride,
                     bias=False)


class BasicBlock(nn.Module):
    """conv3x3 → BN → ReLU → conv3x3 → BN, plus the shortcut, then ReLU.

    ``downsample`` maps ``x`` to the output's shape where the block changes
    it (stride 2, more channels); ``None`` means the shortcut is ``x``
    itself. ``residual=False`` drops the shortcut: the "plain" block of the
    paper's comparison, with the same parameters.
    """

    expansion: int = 1  # output channels = planes * expansion

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None,
                 residual: bool = True) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)  # the stride, if any
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x

        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)
        out = self.bn2(out)

        if self.residual:
            if self.downsample is not None:
                identity = self.downsample(x)
            out = out + identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """conv1x1 (narrow to ``planes``) → conv3x3 → conv1x1 (widen to
    ``4 * planes``), each followed by BN, a ReLU after the first two; plus
    the shortcut, then ReLU.

    The 3×3 convolution, the expensive one, works on 4× fewer channels than
    the block's input and output. As in torchvision ("ResNet v1.5") the
    stride is on the 3×3 convolution; the paper put it on the first 1×1.
    """

    expansion: int = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x

        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)
        out = self.bn2(out)
        out = self.relu(out)

        out = self.conv3(out)
        out = self.bn3(out)

        if self.downsample is not None:
            identity = self.downsample(x)
        out = out + identity
        return self.relu(out)


def init_weights(model: nn.Module) -> None:
    """He initialisation for every convolution (as torchvision does), and
    batch norm that starts as the identity (scale 1, shift 0)."""
    check.instance("model", model, nn.Module, "an nn.Module")
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out",
                                    nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class ResNet(nn.Module):
    """The ImageNet ResNet: a 7×7 stride-2 stem and max pooling (224 → 56),
    four stages of blocks with 64, 128, 256, 512 ``planes`` (each stage
    after the first halves the size and doubles the width), global average
    pooling and a linear classifier.

    ``layers`` is the number of blocks per stage: [2, 2, 2, 2] with
    :class:`BasicBlock` is ResNet-18. Where the shape changes, a stage's
    first block gets a projection shortcut (1×1 convolution and BN: the
    paper's "option B"); all other shortcuts are identities.
    """

    def __init__(self, block: type[BasicBlock | Bottleneck],
                 layers: list[int], num_classes: int = 1000) -> None:
        super().__init__()
        self.inplanes = 64  # input channels of the next block
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # any input size works
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        init_weights(self)

    def _make_layer(self, block: type[BasicBlock | Bottleneck],
                    planes: int, blocks: int,
                    stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)

        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)

        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18: BasicBlocks [2, 2, 2, 2]; 11,689,512 parameters."""
    int_at_least("num_classes", num_classes)
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes)


def resnet34(num_classes: int = 1000) -> ResNet:
    """ResNet-34: BasicBlocks [3, 4, 6, 3]; 21,797,672 parameters."""
    int_at_least("num_classes", num_classes)
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes)


def resnet50(num_classes: int = 1000) -> ResNet:
    """ResNet-50: Bottlenecks [3, 4, 6, 3]; 25,557,032 parameters."""
    int_at_least("num_classes", num_classes)
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes)


# ------------------------------------------------- CIFAR-10 (section 4.2)


class ShortcutA(nn.Module):
    """The paper's parameter-free "option A" shortcut for a block that
    halves the size and widens the channels: keep every ``stride``-th pixel,
    then append zero channels.

    (N, C_in, H, W) → (N, C_out, ceil(H / stride), ceil(W / stride)), the
    shape of the block's strided 3×3 convolution with padding 1. The first
    C_in channels carry the input, the other C_out - C_in are zeros.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 stride: int = 2) -> None:
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(
                f"ShortcutA can only add channels: out_channels="
                f"{out_channels} < in_channels={in_channels}.")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, ::self.stride, ::self.stride]
        extra = self.out_channels - self.in_channels
        return F.pad(x, (0, 0, 0, 0, 0, extra))  # zeros after the channels

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, "
                f"stride={self.stride}")


class CifarResNet(nn.Module):
    """The CIFAR-10 network of the paper's section 4.2, for 32×32 images.

    A 3×3 convolution to 16 channels, then three stages of ``n``
    BasicBlocks on 32×32, 16×16 and 8×8 maps with 16, 32 and 64 channels,
    global average pooling and a linear layer: 6n + 2 layers with weights.
    Shortcuts are identities, or :class:`ShortcutA` where a stage starts;
    ``residual=False`` removes them all (the plain network).
    """

    def __init__(self, n: int, residual: bool = True,
                 num_classes: int = 10) -> None:
        super().__init__()
        self.residual = residual
        self.conv1 = conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, 16, n, stride=1)
        self.layer2 = self._make_layer(16, 32, n, stride=2)
        self.layer3 = self._make_layer(32, 64, n, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        init_weights(self)

    def _make_layer(self, inplanes: int, planes: int, blocks: int,
                    stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or inplanes != planes:
            downsample = ShortcutA(inplanes, planes, stride)
        layers = [BasicBlock(inplanes, planes, stride, downsample,
                             self.residual)]
        layers += [BasicBlock(planes, planes, residual=self.residual)
                   for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)

        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)

        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def cifar_resnet(depth: int, residual: bool = True,
                 num_classes: int = 10) -> CifarResNet:
    """The CIFAR ResNet with ``depth`` = 6n + 2 layers (the paper trains
    20, 32, 44, 56 and 110): ResNet-20 has 269,722 parameters, ResNet-56
    853,018. ``residual=False`` gives the plain twin: the same layers and
    parameters, no shortcuts.
    """
    check.int_where("depth", depth, lambda d: d >= 8 and (d - 2) % 6 == 0,
                    "6n + 2 for a whole number n >= 1: 8, 14, 20, ... (the "
                    "paper trains 20, 32, 44, 56 and 110)")
    flag("residual", residual, " (True: ResNet, False: the plain network)")
    int_at_least("num_classes", num_classes)
    return CifarResNet((depth - 2) // 6, residual, num_classes)
