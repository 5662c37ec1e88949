"""cnnlib.plot: layouts, layout conversions and the errors for input it cannot draw."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib import plot  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_to_numpy_image_moves_chw_to_hwc_and_squeezes_one_channel():
    chw = torch.arange(2 * 3 * 5, dtype=torch.float32).reshape(3, 2, 5)
    assert np.array_equal(plot.to_numpy_image(chw), chw.permute(1, 2, 0).numpy())
    assert plot.to_numpy_image(torch.zeros(1, 4, 6)).shape == (4, 6)
    hwc = np.zeros((4, 6, 3), dtype=np.uint8)
    assert plot.to_numpy_image(hwc).shape == (4, 6, 3)


def test_to_numpy_image_rejects_a_batch():
    with pytest.raises(ValueError, match="index it first"):
        plot.to_numpy_image(torch.zeros(2, 3, 8, 8))


def test_show_images_draws_one_axis_per_image_of_a_batch():
    fig = plot.show_images(torch.rand(5, 3, 8, 8), titles=list("abcde"), ncols=3)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 5 and [ax.get_title() for ax in drawn] == list("abcde")
    assert drawn[0].images[0].get_array().shape == (8, 8, 3)


def test_show_images_needs_one_title_per_image():
    with pytest.raises(ValueError, match="one per image"):
        plot.show_images([np.zeros((4, 4))] * 2, titles=["only one"])


def test_show_kernel_writes_each_weight_and_centres_the_colour_scale_on_zero():
    ax = plot.show_kernel(torch.tensor([[-1.0, 0.0, 2.0]]), fmt="{:.1f}")
    assert [t.get_text() for t in ax.texts] == ["-1.0", "0.0", "2.0"]
    assert ax.images[0].get_clim() == (-2.0, 2.0)
    with pytest.raises(ValueError, match="one 2-D kernel"):
        plot.show_kernel(torch.zeros(2, 3, 3))


def test_show_kernel_writes_white_on_the_dark_cells_and_black_elsewhere():
    ax = plot.show_kernel(torch.tensor([[-2.0, -1.0, 0.0, 1.0, 2.0]]), fmt="{:.0f}")
    colours = [t.get_color() for t in ax.texts]
    assert colours == ["white", "black", "black", "black", "white"]


def test_show_kernel_with_an_empty_format_writes_no_numbers():
    assert len(plot.show_kernel(torch.ones(3, 3), fmt="").texts) == 0


def test_show_feature_maps_puts_at_most_three_maps_in_a_row_by_default():
    fig = plot.show_feature_maps(torch.rand(7, 5, 5))
    rows = {round(ax.get_position().y0, 3) for ax in fig.axes if ax.images}
    columns = {round(ax.get_position().x0, 3) for ax in fig.axes if ax.images}
    assert (len(rows), len(columns)) == (3, 3)


def test_show_kernels_splits_a_conv_weight_into_its_kernels():
    fig = plot.show_kernels(torch.randn(6, 1, 3, 3), fmt="{:.1f}")
    assert sum(1 for ax in fig.axes if ax.images) == 6


def test_show_feature_maps_takes_one_image_only():
    fig = plot.show_feature_maps(torch.rand(1, 4, 5, 5), ncols=2)
    assert sum(1 for ax in fig.axes if ax.images) == 4
    with pytest.raises(ValueError, match="maps of one image"):
        plot.show_feature_maps(torch.rand(2, 4, 5, 5))


def test_show_confusion_matrix_writes_counts_and_checks_the_shape():
    fig = plot.show_confusion_matrix(np.array([[5, 1], [0, 7]]), classes=["3", "7"])
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["0", "1", "5", "7"]
    with pytest.raises(ValueError, match="square"):
        plot.show_confusion_matrix(np.zeros((2, 3)), classes=["a", "b"])


def test_show_kernel_effects_pairs_kernels_with_images():
    fig = plot.show_kernel_effects([torch.ones(3, 3) / 9, None], [np.zeros((8, 8)), np.ones((8, 8))],
                                   titles=["blur", "magnitude"], ncols=2)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["blur", "magnitude"]
    with pytest.raises(ValueError, match="one kernel"):
        plot.show_kernel_effects([None], [np.zeros((4, 4))] * 2)


def _stacks():
    small = [("input 32×32", "input"), ("conv 5×5, 6", "conv"), ("pool 2×2", "pool"),
             ("fc 84", "fc"), ("10 scores", "output")]
    return [("small", small), ("deeper", small[:2] * 4 + small[2:])]


def test_show_layer_stacks_draws_one_box_per_row_and_scales_the_columns_alike():
    fig = plot.show_layer_stacks(_stacks())
    left, right = fig.axes[:2]
    boxes = [t for t in left.texts if t.get_text()]  # the arrows are empty annotations
    assert [t.get_text() for t in boxes] == [r[0] for r in _stacks()[0][1]]
    assert sum(bool(t.get_text()) for t in right.texts) == 11
    assert left.get_ylim() == right.get_ylim()  # the same vertical scale
    colours = {t.get_text(): t.get_bbox_patch().get_facecolor()[:3] for t in boxes}
    assert colours["fc 84"] != colours["conv 5×5, 6"]


def test_show_layer_stacks_puts_at_most_three_in_a_row_and_checks_the_kinds():
    fig = plot.show_layer_stacks(_stacks() * 2, ncols=3)
    assert len(fig.axes) == 6  # 2 rows of 3
    with pytest.raises(ValueError, match="ncols"):
        plot.show_layer_stacks(_stacks(), ncols=4)
    with pytest.raises(ValueError, match="kind"):
        plot.show_layer_stacks([("bad", [("conv", "convolution")])])
    with pytest.raises(ValueError, match="empty"):
        plot.show_layer_stacks([("none", [])])


def test_show_branches_draws_every_label_between_the_input_and_the_concatenation():
    branches = [["1×1, 64"], ["1×1, 48", "5×5, 64"], ["pool: avg 3×3", "1×1, 32"]]
    ax = plot.show_branches(branches, "input: 192", "concatenate: 160")
    texts = [t.get_text() for t in ax.texts if t.get_text()]
    assert texts[0] == "input: 192" and texts[-1] == "concatenate: 160"
    assert sorted(texts[1:-1]) == sorted(label for b in branches for label in b)
    with pytest.raises(ValueError, match="branches"):
        plot.show_branches([[]], "in", "out")
    with pytest.raises(TypeError, match="top"):
        plot.show_branches(branches, "in", None)


def test_show_modules_gives_each_module_a_row_as_tall_as_its_deepest_branch():
    fig = plot.show_modules([("A", [["1×1, 8"]], "in", "out"),
                             ("B", [["1×1, 8", "3×3, 8", "3×3, 8"], ["pool: max"]], "in", "out")])
    assert [ax.get_title() for ax in fig.axes] == ["A", "B"]
    assert fig.axes[1].get_position().height > fig.axes[0].get_position().height
