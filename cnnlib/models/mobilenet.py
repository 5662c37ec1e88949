"""MobileNets and squeeze-and-excitation: the blocks that made CNNs cheap.

- :class:`DepthwiseSeparable`: MobileNet's block (Howard et al. 2017). A
  depthwise k×k convolution filters each channel on its own, then a 1×1
  convolution mixes the channels: about 1/c_out + 1/k² of the
  multiply-adds of one dense k×k convolution.
- :class:`InvertedResidual`: MobileNetV2's block (Sandler et al. 2018). A
  1×1 convolution *widens* the channels t times, a depthwise 3×3 filters
  them, a 1×1 convolution narrows them again with no activation after it
  (the "linear bottleneck"); the shortcut joins the narrow ends.
- :class:`SqueezeExcitation`: SENet's channel gate (Hu et al. 2018):
  average each channel over the image, pass the averages through a small
  two-layer network, and scale each channel by the sigmoid of its output.

:func:`mobilenet_v2` builds torchvision's network with the same module
names, so torchvision's ``state_dict`` (and the course's shipped ImageNet
weights) load strictly and give the same outputs.

The classes are printed in the book, so lines stay within 76 columns.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlib.check import int_at_least, module, one_of, probability


class ConvBNAct(nn.Sequential):
    """Convolution (no bias) → batch norm → activation, as torchvision's
    ``Conv2dNormActivation``: modules ``0``, ``1``, ``2``. Padding
    ``(k - 1) // 2`` keeps the size (divided by the stride)."""

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int = 3, stride: int = 1, groups: int = 1,
                 activation: type[nn.Module] = nn.ReLU6) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride,
                      padding=(kernel_size - 1) // 2, groups=groups,
                      bias=False),
            nn.BatchNorm2d(out_channels),
            activation(inplace=True),
        )
        self.out_channels = out_channels


class DepthwiseSeparable(nn.Module):
    """MobileNet (v1)'s block: a depthwise k×k convolution (``groups`` =
    channels: one k×k filter per channel), BN, ReLU; then a pointwise 1×1
    convolution that mixes the channels, BN, ReLU.

    It replaces one dense k×k convolution from ``in_channels`` to
    ``out_channels``. The stride, if any, is on the depthwise convolution.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int = 3, stride: int = 1) -> None:
        super().__init__()
        int_at_least("in_channels", in_channels)
        int_at_least("out_channels", out_channels)
        int_at_least("kernel_size", kernel_size)
        one_of("stride", stride, (1, 2))
        self.depthwise = ConvBNAct(in_channels, in_channels, kernel_size,
                                   stride, groups=in_channels,
                                   activation=nn.ReLU)
        self.pointwise = ConvBNAct(in_channels, out_channels, 1,
                                   activation=nn.ReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.depthwise(x)  # space: each channel on its own
        return self.pointwise(x)  # channels: each pixel on its own


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1×1 expand (``expand_ratio`` t times wider,
    skipped when t = 1) → depthwise 3×3 → 1×1 project, each with BN;
    ReLU6 after the first two, none after the projection.

    The ResNet bottleneck is narrow in the middle; this one is wide in the
    middle and narrow at its ends, where the shortcut joins them (only
    when the shape is unchanged: stride 1 and ``inp == oup``). Module
    names follow torchvision's (``conv.0``, ``conv.1``, ...).
    """

    def __init__(self, inp: int, oup: int, stride: int,
                 expand_ratio: int) -> None:
        super().__init__()
        int_at_least("inp", inp)
        int_at_least("oup", oup)
        one_of("stride", stride, (1, 2))
        int_at_least("expand_ratio", expand_ratio)
        self.stride = stride
        hidden_dim = inp * expand_ratio
        self.use_res_connect = stride == 1 and inp == oup

        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNAct(inp, hidden_dim, kernel_size=1))
        layers += [
            ConvBNAct(hidden_dim, hidden_dim, stride=stride,
                      groups=hidden_dim),  # depthwise
            nn.Conv2d(hidden_dim, oup, 1, bias=False),  # linear projection
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class SqueezeExcitation(nn.Module):
    """Squeeze (global average per channel) and excite (1×1 convolution
    to ``squeeze_channels``, ReLU, 1×1 back, sigmoid): a gate in (0, 1)
    per channel and image that multiplies the input's channels.

    The same module names as ``torchvision.ops.SqueezeExcitation``
    (``fc1``, ``fc2``); Hu et al. squeeze by a ratio r = 16.
    """

    def __init__(self, input_channels: int,
                 squeeze_channels: int) -> None:
        super().__init__()
        int_at_least("input_channels", input_channels)
        int_at_least("squeeze_channels", squeeze_channels)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.activation = nn.ReLU()
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.avgpool(x)  # (N, C, 1, 1): squeeze
        scale = self.fc1(scale)
        scale = self.activation(scale)
        scale = self.fc2(scale)
        scale = self.scale_activation(scale)  # excite: one gate per channel
        return scale * x


class MobileNetV2(nn.Module):
    """MobileNetV2 for 224×224 ImageNet images: a 3×3 stride-2 convolution
    to 32 channels, 17 inverted residual blocks (the table ``setting``:
    expansion t, channels c, repeats n, first stride s), a 1×1 convolution
    to 1280 channels, global average pooling, dropout and a linear layer.
    """

    # t, c, n, s: table 2 of Sandler et al. (2018)
    setting = [
        [1, 16, 1, 1],
        [6, 24, 2, 2],
        [6, 32, 3, 2],
        [6, 64, 4, 2],
        [6, 96, 3, 1],
        [6, 160, 3, 2],
        [6, 320, 1, 1],
    ]

    def __init__(self, num_classes: int = 1000,
                 dropout: float = 0.2) -> None:
        super().__init__()
        input_channel, self.last_channel = 32, 1280
        features: list[nn.Module] = [ConvBNAct(3, input_channel, stride=2)]
        for t, c, n, s in self.setting:
            for i in range(n):
                stride = s if i == 0 else 1  # only the first block strides
                features.append(
                    InvertedResidual(input_channel, c, stride, t))
                input_channel = c
        features.append(ConvBNAct(input_channel, self.last_channel, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(self.last_channel, num_classes),
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def init_weights(model: nn.Module) -> None:
    """torchvision's MobileNetV2 initialisation: He (fan-out) for every
    convolution, batch norm as the identity, small normal linear weights,
    zero biases."""
    module("init_weights", model)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


def mobilenet_v2(num_classes: int = 1000,
                 dropout: float = 0.2) -> MobileNetV2:
    """MobileNetV2 (width 1.0): 3,504,872 parameters, torchvision's module
    names, so its ``state_dict`` loads strictly."""
    int_at_least("num_classes", num_classes)
    probability("dropout", dropout)
    return MobileNetV2(num_classes, dropout)
