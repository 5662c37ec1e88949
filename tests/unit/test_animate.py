"""cnnlib.animate: the windows it draws are the ones torch's convolution reads."""

import matplotlib

matplotlib.use("Agg")

import re  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.animation import AbstractMovieWriter  # noqa: E402

from cnnlib import animate  # noqa: E402
from cnnlib.shapes import conv_out  # noqa: E402

CONFIGS = [  # (in_size, kernel_size, stride, padding, dilation)
    (5, 3, 1, 0, 1),
    (5, 3, 2, 1, 1),
    (4, 2, 1, 1, 1),
    (6, 3, 3, 2, 1),
    (7, 3, 2, 2, 2),
    (8, 1, 3, 0, 1),
    (3, 3, 1, 2, 2),
]


def torch_windows(in_size, kernel_size, stride, padding, dilation):
    """The padded-input cells each output reads, found by unfolding an image of cell numbers."""
    n = in_size + 2 * padding
    numbers = torch.arange(n * n, dtype=torch.float64).reshape(1, 1, n, n)
    cols = F.unfold(numbers, kernel_size, dilation=dilation, stride=stride)[0]  # (k*k, outputs)
    return [sorted(divmod(int(v), n) for v in col) for col in cols.T]


class RecordingWriter(AbstractMovieWriter):
    """A movie writer that keeps, for each frame matplotlib draws, the two grids' colours."""

    def setup(self, fig, outfile, dpi=None):
        self.fig, self.frames = fig, []

    def grab_frame(self, **savefig_kwargs):
        ax_in, ax_out = self.fig.axes
        self.frames.append((np.array(ax_in.images[0].get_array()),
                            np.array(ax_out.images[0].get_array())))

    def finish(self):
        pass


def cells_with(colour, grid):
    return sorted(map(tuple, np.argwhere(np.all(np.isclose(grid, colour), axis=-1)).tolist()))


@pytest.mark.parametrize("config", CONFIGS)
def test_conv_windows_are_the_cells_torch_unfold_reads(config):
    ours = [sorted(w) for w in animate.conv_windows(*config)]
    assert ours == torch_windows(*config)
    assert len(ours) == conv_out(*config) ** 2


@pytest.mark.parametrize("config", CONFIGS)
def test_each_frame_highlights_one_window_and_fills_one_output(config):
    in_size, _, _, padding, _ = config
    anim = animate.conv_animation(*config)
    writer = RecordingWriter()
    anim.save("unused.gif", writer=writer)
    expected = torch_windows(*config)
    assert len(writer.frames) == conv_out(*config) ** 2 == len(expected)
    for frame, (grid_in, grid_out) in enumerate(writer.frames):
        assert cells_with(animate.WINDOW, grid_in) == expected[frame]
        assert len(cells_with(animate.OUTPUT_DONE, grid_out)) == frame
        now = divmod(frame, grid_out.shape[1])
        assert cells_with(animate.OUTPUT_NOW, grid_out) == [now]
        # cells outside the window keep their colour: grey padding, white input
        inside = np.zeros(grid_in.shape[:2], dtype=bool)
        inside[padding:padding + in_size, padding:padding + in_size] = True
        rest = ~np.all(np.isclose(grid_in, animate.WINDOW), axis=-1)
        assert np.allclose(grid_in[rest & inside], animate.INPUT)
        assert np.allclose(grid_in[rest & ~inside], animate.PADDING)


def test_frame_sequence_length_is_the_number_of_outputs():
    anim = animate.conv_animation(9, 3, stride=2, padding=1)
    assert len(list(anim.new_frame_seq())) == conv_out(9, 3, 2, 1) ** 2 == 25
    anim.save("unused.gif", writer=RecordingWriter())  # render it, as a notebook would


def test_jshtml_embeds_every_frame():
    html = animate.conv_animation(4, 3, stride=1, padding=0).to_jshtml()
    assert html.count("frames[") >= 4 and "data:image/png;base64" in html


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(in_size=3, kernel_size=5), "padded input"),
        (dict(in_size=3, kernel_size=3, dilation=2), "padded input"),
        (dict(in_size=5, kernel_size=3, stride=0), "stride"),
        (dict(in_size=5, kernel_size=3, padding=-1), "padding"),
        (dict(in_size=5.0, kernel_size=3), "size"),
        (dict(in_size=20, kernel_size=3), "max_frames"),
        (dict(in_size=5, kernel_size=3, interval=0), "positive"),
    ],
)
def test_bad_arguments_raise_value_error_that_says_what_to_change(kwargs, words):
    with pytest.raises(ValueError, match=words):
        animate.conv_animation(**kwargs)


def test_to_html_player_needs_no_network_and_keeps_every_frame():
    anim = animate.conv_animation(in_size=4, kernel_size=3, stride=1, padding=0)
    html = animate.to_html(anim, default_mode="once")
    assert "fa fa-" not in html and "bootstrapcdn" not in html
    assert not re.search(r"(src|href)=\"https?://", html)
    assert html.count("&#9654;") >= 2  # the play and step-forward buttons
    assert html.count("data:image/png;base64") == 4  # conv_out(4, 3) ** 2 frames
