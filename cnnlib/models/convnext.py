"""ConvNeXt: Liu, Mao, Wu, Feichtenhofer, Darrell & Xie, "A ConvNet for
the 2020s", CVPR 2022.

A ResNet "modernised" step by step towards a vision transformer's design:
a 4×4 stride-4 "patchify" stem, stages of 3, 3, 9, 3 blocks, and a block
that is a depthwise 7×7 convolution, one LayerNorm, and an inverted
bottleneck of two linear layers (4× wider in the middle) with one GELU.

- :class:`LayerNorm2d`: LayerNorm over the channels of an (N, C, H, W)
  tensor, at every pixel.
- :class:`StochasticDepth`: in training, drop a residual branch for a
  random subset of the images in the batch (Huang et al. 2016).
- :class:`ConvNeXtBlock`: the block, with layer scale (a learned
  per-channel factor that starts at 1e-6) and stochastic depth.
- :func:`convnext_tiny` builds torchvision's ConvNeXt-T with the same
  module names, so torchvision's ``state_dict`` loads strictly.
- :func:`roadmap_net`: the roadmap's steps on 32×32 CIFAR images, from
  the course's CIFAR ResNet-20 to a small ConvNeXt, one change at a time.

The classes are printed in the book, so lines stay within 76 columns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.check import int_at_least, int_in_range, one_of, probability
from cnnlib.models.resnet import BasicBlock, ShortcutA


class LayerNorm2d(nn.LayerNorm):
    """``nn.LayerNorm(C)`` applied to (N, C, H, W): each pixel's C values
    are normalised to mean 0 and variance 1, then scaled and shifted."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)  # channels last: (N, H, W, C)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2)


class Permute(nn.Module):
    """Reorder the dimensions: ``x.permute(*dims)``."""

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)


class StochasticDepth(nn.Module):
    """In training, zero the whole input of a random fraction ``p`` of the
    images in the batch and divide the others by 1 - p (so the expected
    value is unchanged); in eval mode, return the input.

    On a residual branch, this makes the block the identity for those
    images: the network is, for each image, a random shallower one. The
    same random draws as ``torchvision.ops.StochasticDepth(p, "row")``.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = probability("p", p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1)  # one draw per image
        noise = torch.empty(size, dtype=x.dtype, device=x.device)
        noise = noise.bernoulli_(keep).div_(keep)
        return x * noise

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ConvNeXtBlock(nn.Module):
    """depthwise 7×7 → LayerNorm → Linear (dim → 4 dim) → GELU → Linear
    (4 dim → dim), times ``layer_scale`` per channel, then stochastic
    depth, plus the input.

    The two linear layers act on each pixel's channels (a 1×1
    convolution), so the block works channels-last in the middle. One
    norm and one activation per block, where a ResNet block has three of
    each. Module names follow torchvision's ``CNBlock``.
    """

    def __init__(self, dim: int, layer_scale: float = 1e-6,
                 stochastic_depth_prob: float = 0.0) -> None:
        super().__init__()
        int_at_least("dim", dim)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim),
            Permute([0, 2, 3, 1]),  # (N, C, H, W) -> (N, H, W, C)
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim),
            nn.GELU(),
            nn.Linear(4 * dim, dim),
            Permute([0, 3, 1, 2]),  # back to (N, C, H, W)
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.layer_scale * self.block(x)
        result = self.stochastic_depth(result)
        return result + x


class ConvNeXt(nn.Module):
    """ConvNeXt for ImageNet: a 4×4 stride-4 stem (224 → 56) with
    LayerNorm; stages of ``depths`` blocks with ``dims`` channels, each
    followed (except the last) by a separate downsampling layer (LayerNorm,
    2×2 stride-2 convolution); global average pooling, LayerNorm, linear.

    Stochastic depth grows linearly from 0 at the first block to
    ``stochastic_depth_prob`` at the last.
    """

    def __init__(self, depths: list[int], dims: list[int],
                 stochastic_depth_prob: float = 0.0,
                 layer_scale: float = 1e-6,
                 num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Sequential(
            nn.Conv2d(3, dims[0], kernel_size=4, stride=4),  # patchify
            LayerNorm2d(dims[0], eps=1e-6),
        )]
        total, block_id = sum(depths), 0
        for i, (depth, dim) in enumerate(zip(depths, dims, strict=True)):
            stage = []
            for _ in range(depth):
                p = stochastic_depth_prob * block_id / (total - 1.0)
                stage.append(ConvNeXtBlock(dim, layer_scale, p))
                block_id += 1
            layers.append(nn.Sequential(*stage))
            if i + 1 < len(dims):  # downsampling between stages
                layers.append(nn.Sequential(
                    LayerNorm2d(dim, eps=1e-6),
                    nn.Conv2d(dim, dims[i + 1], kernel_size=2, stride=2),
                ))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            LayerNorm2d(dims[-1], eps=1e-6),
            nn.Flatten(1),
            nn.Linear(dims[-1], num_classes),
        )
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        return self.classifier(x)


def convnext_tiny(num_classes: int = 1000,
                  stochastic_depth_prob: float = 0.1,
                  layer_scale: float = 1e-6) -> ConvNeXt:
    """ConvNeXt-T: stages of 3, 3, 9, 3 blocks, 96, 192, 384, 768
    channels; 28,589,128 parameters; torchvision's module names."""
    int_at_least("num_classes", num_classes)
    probability("stochastic_depth_prob", stochastic_depth_prob)
    if isinstance(layer_scale, bool) or not isinstance(
            layer_scale, (int, float)) or layer_scale <= 0:
        raise ValueError(f"layer_scale must be a positive number (the "
                         f"paper uses 1e-6), got {layer_scale!r}.")
    return ConvNeXt([3, 3, 9, 3], [96, 192, 384, 768],
                    stochastic_depth_prob, layer_scale, num_classes)


# ------------------------------------------- the roadmap on CIFAR-10


@dataclass(frozen=True)
class Design:
    """One network of the roadmap (each field is one of its changes).

    ``block``: "basic" (ResNet's two 3×3 convolutions) or "convnext"
    (depthwise k×k, then a 1×1 bottleneck ``expansion`` times wider).
    ``depthwise_first``: the depthwise convolution before the 1×1 layers
    (ConvNeXt) or between them (``False``: 1×1 → depthwise → 1×1, a
    ResNeXt-style bottleneck). ``few``: one norm and one activation per
    block instead of one after every layer.
    """

    depths: tuple[int, ...] = (3, 3, 3)
    widths: tuple[int, ...] = (16, 32, 64)
    stem: str = "conv3"  # "conv3": 3×3 stride 1; "patch2": 2×2 stride 2
    block: str = "basic"
    expansion: int = 1
    depthwise_first: bool = False
    kernel_size: int = 3
    activation: str = "relu"  # or "gelu"
    few: bool = False
    norm: str = "batch"  # or "layer"
    separate_down: bool = False  # LN + 2×2 stride-2 conv between stages


def norm_layer(kind: str, channels: int) -> nn.Module:
    """Batch norm, or LayerNorm over the channels of each pixel."""
    one_of("kind", kind, ("batch", "layer"))
    int_at_least("channels", channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return LayerNorm2d(channels, eps=1e-6)


class RoadmapBlock(nn.Module):
    """The roadmap's bottleneck block on (N, C, H, W), channels ``dim``
    in and out, ``expansion * dim`` in the middle.

    ``depthwise_first``: depthwise k×k → 1×1 up → 1×1 down (ConvNeXt);
    otherwise 1×1 up → depthwise k×k → 1×1 down. With ``few``, one norm
    (after the depthwise convolution when it comes first) and one
    activation (after the 1×1 up); otherwise a norm after every layer
    and an activation after all but the last, and after the sum.
    """

    def __init__(self, dim: int, d: Design) -> None:
        super().__init__()
        hidden = d.expansion * dim
        act = nn.GELU if d.activation == "gelu" else nn.ReLU
        k = d.kernel_size
        layers: list[nn.Module] = []
        if d.depthwise_first:
            convs = [nn.Conv2d(dim, dim, k, padding=k // 2, groups=dim),
                     nn.Conv2d(dim, hidden, 1),
                     nn.Conv2d(hidden, dim, 1)]
        else:
            convs = [nn.Conv2d(dim, hidden, 1),
                     nn.Conv2d(hidden, hidden, k, padding=k // 2,
                               groups=hidden),
                     nn.Conv2d(hidden, dim, 1)]
        for i, conv in enumerate(convs):
            layers.append(conv)
            c = conv.out_channels
            if d.few:
                if i == 0 and d.depthwise_first:
                    layers.append(norm_layer(d.norm, c))
                if i == 1:
                    layers.append(act())
            else:
                layers.append(norm_layer(d.norm, c))
                if i < 2:
                    layers.append(act())
        self.block = nn.Sequential(*layers)
        self.post = nn.Identity() if d.few else act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.post(self.block(x) + x)


class RoadmapNet(nn.Module):
    """A CIFAR-10 network built from a :class:`Design`: a stem, one stage
    per entry of ``depths``, global average pooling and a linear layer.

    Each later stage starts by halving the size: BasicBlocks stride their
    first convolution (with a :class:`ShortcutA`); RoadmapBlocks are
    preceded by a stride-2 1×1 convolution and a norm (ResNet's
    projection shortcut, alone), or with ``separate_down`` by ConvNeXt's
    LayerNorm and 2×2 stride-2 convolution.

    ``Design()`` is the course's CIFAR ResNet-20 (269,722 parameters):
    BasicBlocks with the paper's "option A" shortcuts.
    """

    def __init__(self, d: Design, num_classes: int = 10) -> None:
        super().__init__()
        w0 = d.widths[0]
        if d.stem == "conv3":
            stem = [nn.Conv2d(3, w0, 3, padding=1, bias=False),
                    nn.BatchNorm2d(w0), nn.ReLU(inplace=True)]
        else:  # patchify: non-overlapping 2×2 patches, as ViT's 16×16
            stem = [nn.Conv2d(3, w0, 2, stride=2), norm_layer(d.norm, w0)]
        layers: list[nn.Module] = [nn.Sequential(*stem)]
        c_in = w0
        stages = zip(d.depths, d.widths, strict=True)
        for i, (depth, c) in enumerate(stages):
            for j in range(depth):
                first = i > 0 and j == 0
                if d.separate_down and first:
                    layers.append(nn.Sequential(
                        norm_layer(d.norm, c_in),
                        nn.Conv2d(c_in, c, 2, stride=2)))
                    c_in = c
                if d.block == "basic":
                    stride = 2 if first and not d.separate_down else 1
                    down = (ShortcutA(c_in, c, stride)
                            if stride != 1 or c_in != c else None)
                    layers.append(BasicBlock(c_in, c, stride, down))
                else:
                    if c_in != c:  # ResNet-style: a strided 1×1 + norm
                        layers.append(nn.Sequential(
                            nn.Conv2d(c_in, c, 1, stride=2 if first
                                      else 1, bias=False),
                            norm_layer(d.norm, c)))
                    layers.append(RoadmapBlock(c, d))
                c_in = c
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out",
                                        nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


# Each step changes the design of the step before it (Liu et al. 2022,
# Fig. 2, on 32×32 images with three stages instead of four).
ROADMAP_STEPS: list[tuple[str, dict]] = [
    ("ResNet-20", {}),
    ("training recipe", {}),  # AdamW, label smoothing: same network
    ("stage ratio 1:1:3", {"depths": (2, 2, 6)}),
    ("patchify stem", {"stem": "patch2"}),
    ("depthwise conv", {"block": "convnext", "widths": (32, 64, 128)}),
    ("inverted bottleneck", {"expansion": 4}),
    ("depthwise first, 7×7", {"depthwise_first": True, "kernel_size": 7}),
    ("GELU, fewer act/norm", {"activation": "gelu", "few": True}),
    ("LayerNorm", {"norm": "layer"}),
    ("separate downsampling", {"separate_down": True}),
]


def roadmap_designs() -> list[tuple[str, Design]]:
    """The roadmap's networks in order: ``(name, Design)`` pairs, each
    with the changes of all the steps before it."""
    designs, d = [], Design()
    for name, change in ROADMAP_STEPS:
        d = replace(d, **change)
        designs.append((name, d))
    return designs


def roadmap_net(step: int, num_classes: int = 10) -> RoadmapNet:
    """The CIFAR-10 network after roadmap step ``step`` (0: ResNet-20, up
    to ``len(ROADMAP_STEPS) - 1``: a small ConvNeXt)."""
    int_in_range("step", step, 0, len(ROADMAP_STEPS) - 1)
    int_at_least("num_classes", num_classes)
    return RoadmapNet(roadmap_designs()[step][1], num_classes)

