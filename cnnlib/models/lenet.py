"""LeNet-5: the network of LeCun et al. (1998) as the paper built it, and the modern variant.

Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 86(11), 1998, section II-B. Both networks read a 32×32 one-channel
image (an MNIST digit padded by 2 pixels) and return (N, 10) scores, larger = more likely.

- :func:`lenet5_1998`: C1 (6 maps, 5×5) → S2 (trainable subsampling) → C3 (16 maps, the
  paper's connection table) → S4 → C5 (120) → F6 (84) → 10 Euclidean RBF units with fixed
  ±1 codes, every layer up to F6 followed by the squashing function 1.7159·tanh(2a/3).
  60,000 trainable parameters.
- :func:`lenet5`: the same skeleton as most courses write it today: ReLU, 2×2 max pooling, a
  full C3 and a linear output layer. 61,706 parameters; ``in_channels=3`` reads RGB images
  (CIFAR-10) with 62,006.
- :func:`discriminative_loss`: the paper's loss for the RBF outputs (its equation 9).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import check
from cnnlib.check import image_batch, int_at_least

INPUT_SHAPE = (1, 32, 32)
"""What both networks read: one channel, 32×32 pixels (the modern one can take more channels)."""

C3_INPUTS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),    # 3 neighbouring maps
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),  # 4
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),                            # 4, not neighbours
    (0, 1, 2, 3, 4, 5),                                                  # all 6
)  # fmt: skip
"""Table I of the paper: the S2 maps (0-5) that each of C3's 16 maps reads (S2 maps wrap around)."""

# The fixed codes of the output units: a 7-wide, 12-high stylised bitmap of each digit
# ('#' = +1, '.' = -1), read row by row into 84 numbers, the size of F6. The paper drew such
# bitmaps for the whole ASCII set and shows them as its Fig. 3 ("Initial parameters of the
# output RBFs for recognizing the full ASCII set"); these digits are our own drawings in that
# style, not a pixel-for-pixel copy of the figure.
_BITMAPS = """
..###.. ...#... .#####. .#####. ....##. ####### ..####. ####### ..###.. ..###..
.#...#. ..##... #.....# #.....# ...#.#. #...... .#..... ......# .#...#. .#...#.
#.....# .#.#... ......# ......# ..#..#. #...... #...... ......# #.....# #.....#
#.....# ...#... ......# ......# .#...#. #...... #...... .....#. #.....# #.....#
#.....# ...#... .....#. .....#. #....#. #####.. #.###.. .....#. .#...#. #.....#
#.....# ...#... ....#.. ..###.. #....#. .....#. ##...#. ....#.. ..###.. .#...##
#.....# ...#... ...#... .....#. ####### ......# #.....# ....#.. .#...#. ..###.#
#.....# ...#... ..#.... ......# .....#. ......# #.....# ...#... #.....# ......#
#.....# ...#... .#..... ......# .....#. ......# #.....# ...#... #.....# ......#
#.....# ...#... #...... ......# .....#. ......# #.....# ..#.... #.....# ......#
.#...#. ...#... #...... #.....# .....#. #....#. .#...#. ..#.... .#...#. .....#.
..###.. .#####. ####### .#####. .....#. .####.. ..###.. ..#.... ..###.. .####..
"""


def rbf_codes() -> torch.Tensor:
    """The fixed output codes, (10, 84) of ±1: digit ``d``'s 12×7 bitmap, row by row."""
    rows = [line.split() for line in _BITMAPS.strip().splitlines()]  # 12 rows x 10 digits
    codes = [[1.0 if ch == "#" else -1.0 for row in rows for ch in row[d]] for d in range(10)]
    return torch.tensor(codes)


def c3_table() -> torch.Tensor:
    """Table I as a (16, 6) boolean matrix: ``table[j, i]`` is True when C3 map j reads S2 map i."""
    table = torch.zeros(len(C3_INPUTS), 6, dtype=torch.bool)
    for j, inputs in enumerate(C3_INPUTS):
        table[j, list(inputs)] = True
    return table


def check_input(x: torch.Tensor, channels: int = 1) -> None:
    """Nothing if ``x`` is a batch (N, channels, 32, 32); otherwise a ValueError with a hint."""
    image_batch(
        x, (channels, 32, 32), "LeNet-5",
        hint="Pad 28x28 MNIST digits by 2 pixels on each side with the background value, "
             "e.g. F.pad(x, (2, 2, 2, 2), value=x.min()); for RGB images, build "
             "lenet5(in_channels=3).",
    )


# The classes below are printed whole in chapter 7: lines of at most 76 characters.


class ScaledTanh(nn.Module):
    """The paper's squashing function f(a) = 1.7159 tanh(2a/3).

    The constants make f(1) = 1 and f(-1) = -1, near where f bends most,
    so targets of ±1 lie on its slope, not on its flat asymptotes ±1.7159.
    """

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(a * (2 / 3))


class Subsampling(nn.Module):
    """The paper's trainable subsampling (S2, S4): the mean of each 2×2
    block, times a learned coefficient, plus a learned bias, both one per
    map. The paper adds the four inputs; averaging only rescales the
    coefficient by 4. The squashing function comes after, separately.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        int_at_least("channels", channels)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coef, bias = self.weight[:, None, None], self.bias[:, None, None]
        return F.avg_pool2d(x, 2) * coef + bias


class TableConv2d(nn.Module):
    """A convolution whose output map j reads only the input maps that
    row j of the boolean (out, in) ``table`` marks.

    ``weight`` holds one k×k kernel per True entry, in the table's
    row-major order, and ``bias`` one number per output map: exactly the
    parameters the paper counts. :meth:`dense_weight` places the kernels
    in a full (out, in, k, k) kernel, zeros where the table is False, so
    the forward pass is one ordinary convolution (stride 1, no padding).
    """

    def __init__(self, table: torch.Tensor, kernel_size: int) -> None:
        super().__init__()
        k = int_at_least("kernel_size", kernel_size)
        if (table.dtype != torch.bool or table.ndim != 2
                or not bool(table.any(dim=1).all())):
            raise ValueError(
                "table must be a 2-D boolean (out, in) tensor with a True "
                "in every row: each output map needs an input map.")
        self.register_buffer("table", table.clone())
        self.kernel_size = k
        n_in = table.sum(dim=1)  # input maps of each output map
        n_kernels = int(n_in.sum())
        self.weight = nn.Parameter(torch.rand(n_kernels, k, k) * 2 - 1)
        self.bias = nn.Parameter(torch.rand(len(table)) * 2 - 1)
        with torch.no_grad():  # nn.Conv2d's default: ±1/sqrt(fan-in)
            bound = (n_in * k * k) ** -0.5
            self.weight *= bound.repeat_interleave(n_in)[:, None, None]
            self.bias *= bound

    def dense_weight(self) -> torch.Tensor:
        """The (out, in, k, k) kernel, zeros where the table is False."""
        k = self.kernel_size
        dense = self.weight.new_zeros(*self.table.shape, k, k)
        dense[self.table] = self.weight  # walks the table row by row
        return dense

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.dense_weight(), self.bias)


class EuclideanRBF(nn.Module):
    """Output units that score how close x is to each class's code.

    The paper's unit i outputs the squared distance between F6's output x
    and the fixed code w_i, y_i = sum_j (x_j - w_ij)^2: a penalty, small
    means likely. We return -y, so that, as with logits, larger means more
    likely. The codes are a buffer, not a parameter: they stay fixed.
    """

    def __init__(self, codes: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("codes", codes.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, 1, 84) - (10, 84) -> (N, 10, 84) -> (N, 10)
        return -(x[:, None, :] - self.codes).pow(2).sum(dim=-1)


class LeNet5_1998(nn.Module):
    """LeNet-5 as LeCun et al. (1998) describe it: 60,000 parameters.

    Every layer up to F6 is followed by the squashing function. Weights
    start uniform in ±1/sqrt(fan-in), PyTorch's default (the paper used
    ±2.4/fan-in, which trained more slowly with AdamW); subsampling
    coefficients start at 1, their biases at 0.
    """

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)             # -> 6 @ 28x28
        self.s2 = Subsampling(6)                 # -> 6 @ 14x14
        self.c3 = TableConv2d(c3_table(), 5)     # -> 16 @ 10x10
        self.s4 = Subsampling(16)                # -> 16 @ 5x5
        self.c5 = nn.Conv2d(16, 120, 5)          # -> 120 @ 1x1
        self.f6 = nn.Linear(120, 84)             # -> 84
        self.output = EuclideanRBF(rbf_codes())  # -> 10 scores
        self.squash = ScaledTanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x)  # (N, 1, 32, 32)
        x = self.squash(self.c1(x))
        x = self.squash(self.s2(x))
        x = self.squash(self.c3(x))
        x = self.squash(self.s4(x))
        x = self.squash(self.c5(x)).flatten(1)
        x = self.squash(self.f6(x))
        return self.output(x)  # (N, 10): minus the squared distances


class LeNet5(nn.Module):
    """The modern LeNet-5: ReLU, 2×2 max pooling, a full C3 and a linear
    output layer; the paper's layer sizes; 61,706 parameters (62,006 for
    RGB images, ``in_channels=3``)."""

    def __init__(self, in_channels: int = 1) -> None:
        super().__init__()
        self.in_channels = int_at_least("in_channels", in_channels)
        self.c1 = nn.Conv2d(in_channels, 6, 5)  # -> 6 @ 28x28
        self.s2 = nn.MaxPool2d(2)               # -> 6 @ 14x14
        self.c3 = nn.Conv2d(6, 16, 5)           # -> 16 @ 10x10
        self.s4 = nn.MaxPool2d(2)               # -> 16 @ 5x5
        self.c5 = nn.Conv2d(16, 120, 5)         # -> 120 @ 1x1
        self.f6 = nn.Linear(120, 84)            # -> 84
        self.output = nn.Linear(84, 10)         # -> 10 logits
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)  # (N, in_channels, 32, 32)
        x = self.s2(self.relu(self.c1(x)))
        x = self.s4(self.relu(self.c3(x)))
        x = self.relu(self.c5(x)).flatten(1)
        x = self.relu(self.f6(x))
        return self.output(x)


def discriminative_loss(scores: torch.Tensor, target: torch.Tensor,
                        j: float = 10.0) -> torch.Tensor:
    """The paper's discriminative criterion (its equation 9), averaged.

    With penalties y = -scores (:class:`EuclideanRBF`) and D the correct
    class, a sample costs y_D + log(exp(-j) + sum_i exp(-y_i)): y_D is
    pulled down (F6 towards the right code), the other penalties up
    until they exceed about j. This is the cross-entropy of 11 logits,
    the 10 scores and a constant -j for a "rubbish" class; as j grows it
    becomes the plain cross-entropy of the scores.
    """
    check.positive("j", j, " (the paper's constant)")
    check.tensor("scores", scores, "N, classes")
    check.tensor("target", target, "N")
    if target.shape != scores.shape[:1]:
        raise ValueError(
            f"Expected scores (N, classes) and target (N,), got "
            f"{tuple(scores.shape)} and {tuple(target.shape)}.")
    y = -scores
    y_correct = y.gather(1, target[:, None])[:, 0]
    rubbish = y.new_full((len(y), 1), float(j))
    log_sum = torch.logsumexp(-torch.cat([y, rubbish], dim=1), dim=1)
    return (y_correct + log_sum).mean()


def lenet5_1998() -> LeNet5_1998:
    """LeNet-5 as the 1998 paper built it (:class:`LeNet5_1998`): 60,000 trainable parameters,
    (N, 1, 32, 32) → (N, 10) scores (minus the squared distances to the class codes)."""
    return LeNet5_1998()


def lenet5(in_channels: int = 1) -> LeNet5:
    """The modern LeNet-5 (:class:`LeNet5`): 61,706 parameters, (N, 1, 32, 32) → (N, 10) logits.
    ``in_channels=3`` reads RGB images, (N, 3, 32, 32), such as CIFAR-10's: 62,006 parameters."""
    return LeNet5(in_channels)
