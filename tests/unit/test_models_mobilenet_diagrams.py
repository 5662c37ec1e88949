"""cnnlib.plot's block diagrams (chapter 16): the labels come from the blocks' own layers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from torch import nn  # noqa: E402

from cnnlib import models, plot  # noqa: E402
from cnnlib.models.resnet import BasicBlock  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_block_labels_read_the_inverted_residual_layer_by_layer():
    assert plot.block_labels(models.InvertedResidual(24, 32, 2, 6)) == [
        "1×1 conv, 24→144", "batch norm", "ReLU6", "depthwise 3×3, 144, stride 2", "batch norm",
        "ReLU6", "1×1 conv, 144→32", "batch norm"]


def test_block_labels_put_layer_scale_before_stochastic_depth_in_a_convnext_block():
    assert plot.block_labels(models.ConvNeXtBlock(96)) == [
        "depthwise 7×7, 96", "layer norm", "linear, 96→384", "GELU", "linear, 384→96",
        "× layer scale", "stochastic depth"]


def test_show_blocks_draws_one_panel_per_block_and_a_join_for_each_shortcut():
    fig = plot.show_blocks([("basic", BasicBlock(8, 8), "+", ["ReLU"]),
                            ("separable", models.DepthwiseSeparable(8, 16), None),
                            ("SE", models.SqueezeExcitation(8, 2), "×"),
                            ("ConvNeXt", models.ConvNeXtBlock(8), "+")])
    drawn = [ax for ax in fig.axes if ax.texts]
    assert [ax.get_title() for ax in drawn] == ["basic", "separable", "SE", "ConvNeXt"]
    assert fig.axes[0].get_subplotspec().get_gridspec().ncols == 3
    joins = [[t.get_text() for t in ax.texts if t.get_text() in ("+", "×")] for ax in drawn]
    assert joins == [["+"], [], ["×"], ["+"]]
    words = [t.get_text() for t in drawn[0].texts if t.get_text()]
    assert words[-3:] == ["+", "ReLU", "output"]  # the last ReLU comes after the join


@pytest.mark.parametrize("call, fragment", [
    (lambda: plot.show_blocks([]), "at least one"),
    (lambda: plot.show_blocks([("a", nn.ReLU(), None)], ncols=4), "ncols must be 1, 2 or 3"),
    (lambda: plot.show_block(nn.ReLU(), join="-"), "join must be"),
    (lambda: plot.show_block(nn.Identity()), "has no layers to draw"),
])
def test_diagrams_reject_what_they_cannot_draw(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()
