"""cnnlib.plot.show_residual_block (chapter 10): the shortcut drawn is the block's own."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from torch import nn  # noqa: E402

from cnnlib import plot  # noqa: E402
from cnnlib.models.resnet import BasicBlock, ShortcutA, conv1x1  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def words(ax) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_text()]


def test_option_a_draws_subsampling_and_zero_channels_for_no_parameters():
    ax = plot.show_residual_block(BasicBlock(16, 32, stride=2, downsample=ShortcutA(16, 32)))
    text = words(ax)
    assert "every 2nd pixel" in text and "+ 16 zero\nchannels" in text
    assert "0 parameters" in text
    assert text[:2] == ["x: 16 channels", "3×3 conv, 16→32\nstride 2"]
    assert "output: 32 channels" in text


def test_option_b_draws_the_projection_and_counts_its_parameters():
    block = BasicBlock(16, 32, stride=2,
                       downsample=nn.Sequential(conv1x1(16, 32, 2), nn.BatchNorm2d(32)))
    text = words(plot.show_residual_block(block, title="B"))
    assert "1×1 conv, 16→32\nstride 2" in text and "batch norm" in text
    assert f"{16 * 32 + 2 * 32:,} parameters" in text


def test_an_identity_shortcut_is_labelled_identity():
    text = words(plot.show_residual_block(BasicBlock(8, 8)))
    assert "identity" in text and "0 parameters" in text
    # the branch, the join, then the last ReLU after it
    assert text.index("+") < text.index("output: 8 channels")


@pytest.mark.parametrize("block, error, fragment", [
    (nn.Conv2d(3, 3, 3), TypeError, "BasicBlock"),
    (BasicBlock(8, 8, residual=False), ValueError, "plain block"),
])
def test_show_residual_block_rejects_what_has_no_shortcut(block, error, fragment):
    with pytest.raises(error, match=fragment):
        plot.show_residual_block(block)
