"""cnnlib.animate: the windows it draws are the ones torch's convolution reads, and the
player it embeds works offline, fits a phone's column and can be used without seeing it."""

import base64
import re

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.animation import AbstractMovieWriter

from cnnlib import animate
from cnnlib.shapes import conv_out

matplotlib.use("Agg")

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


def player(**kwargs):
    anim = animate.conv_animation(in_size=4, kernel_size=3, stride=1, padding=0)
    return anim, animate.to_html(anim, **kwargs)


def test_player_frame_has_the_description_as_alt_text():
    anim, html = player()
    alt = re.findall(r'<img id="_anim_img\w+" alt="([^"]*)">', html)
    assert alt == [anim.description]
    assert "3×3 kernel" in alt[0] and "4×4 input" in alt[0] and "4 frames" in alt[0]
    _, custom = player(description='A "kernel" <slides>')
    assert 'alt="A &quot;kernel&quot; &lt;slides&gt;"' in custom  # escaped, cannot break the tag


def test_description_names_dilation_and_padding_only_when_used():
    assert "dilation" not in animate.describe(5, 3) and "no padding" in animate.describe(5, 3)
    text = animate.describe(5, 3, stride=2, padding=2, dilation=2)
    assert "dilation 2 (spanning 5×5 cells)" in text and "2 cells of zero padding" in text


def test_player_without_a_description_raises_value_error():
    anim = animate.conv_animation(in_size=4, kernel_size=3)
    described = anim.description
    del anim.description
    with pytest.raises(ValueError, match="description"):
        animate.to_html(anim)
    with pytest.raises(ValueError, match="description"):
        animate.to_html(anim, description="  ")
    assert "<img" in animate.to_html(anim, description=described)


def test_player_slider_is_labelled_and_every_button_has_a_name():
    _, html = player()
    slider_id = re.search(r'<input id="(_anim_slider\w+)" type="range"', html).group(1)
    assert f'<label for="{slider_id}"' in html
    assert re.search(rf'<input id="{slider_id}" type="range" aria-label="Animation frame"', html)
    buttons = re.findall(r"<button([^>]*)>", html)
    assert len(buttons) == 9
    assert all(re.search(r'aria-label="[A-Z][a-z ]+"', b) for b in buttons)
    for radio in re.findall(r'<input type="radio"[^>]*id="(\w+)"', html):
        assert f'<label for="{radio}">' in html


def test_player_fits_a_narrow_column():
    _, html = player()
    css = html.split("</style>", 1)[0]
    assert html.startswith("<style>") and '<div class="cnnlib-anim">' in html
    assert re.search(r"\.cnnlib-anim \.animation img \{[^}]*max-width: 100%", css)
    assert re.search(r"\.cnnlib-anim input\[type=range\]\.anim-slider \{[^}]*width: 100%", css)
    assert re.search(r"\.cnnlib-anim \.anim-buttons \{[^}]*flex-wrap: wrap", css)


def test_player_frames_are_sharper_than_the_old_72_dpi():
    _, html = player()
    first = re.search(r'frames\[0\] = "data:image/png;base64,([^"]+)"', html).group(1)
    png = base64.b64decode(first)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert height == 3 * 150  # size 3 inches at 150 dpi (was 216 px at 72 dpi)
    assert width > 600


def test_player_needs_no_cdn():
    _, html = player()
    html = re.sub(r"data:image/png;base64,[^\"]*", "", html)  # base64 can spell anything
    assert "cdn" not in html.lower() and "font-awesome" not in html
    assert not re.search(r"(src|href)=\"https?://", html)
