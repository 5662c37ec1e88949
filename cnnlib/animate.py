"""Animations: a kernel sliding over a padded input, the output filling in cell by cell.

The animation is a matplotlib ``FuncAnimation``; in a notebook, render it to HTML/JavaScript
with ``IPython.display.HTML(anim.to_jshtml())`` so it plays on a static web page, no kernel
needed.
"""

from __future__ import annotations

import re
from html import escape

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.patches import Rectangle

from cnnlib import check
from cnnlib.shapes import conv_out

# Cell colours (RGB in [0, 1]) of the two grids.
INPUT = (1.0, 1.0, 1.0)
PADDING = (0.85, 0.85, 0.85)
WINDOW = (1.0, 0.6, 0.2)  # the cells the kernel reads in this frame
OUTPUT_DONE = (0.55, 0.75, 0.95)
OUTPUT_NOW = WINDOW
OUTPUT_TODO = (1.0, 1.0, 1.0)


def conv_windows(in_size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 dilation: int = 1) -> list[list[tuple[int, int]]]:
    """The input cells each output position reads, in row-major output order.

    Cells are (row, col) in the *padded* input, so padding cells have row or col ``< padding``
    or ``>= padding + in_size``. There are ``conv_out(...) ** 2`` windows of
    ``kernel_size ** 2`` cells each; the kernel tap (a, b) of output (i, j) reads cell
    ``(i*stride + a*dilation, j*stride + b*dilation)``.
    """
    check.int_at_least("in_size", in_size)
    out = conv_out(in_size, kernel_size, stride, padding, dilation)  # validates the arguments
    taps = [(a * dilation, b * dilation) for a in range(kernel_size) for b in range(kernel_size)]
    return [[(i * stride + da, j * stride + db) for da, db in taps]
            for i in range(out) for j in range(out)]


def _grid_axes(ax: plt.Axes, n: int, title: str) -> None:
    ax.set_xticks(np.arange(-0.5, n, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n, 1), minor=True)
    ax.grid(which="minor", color="0.3", linewidth=0.8)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(title, fontsize=10)


def describe(in_size: int, kernel_size: int, stride: int = 1, padding: int = 0,
             dilation: int = 1) -> str:
    """A text description of :func:`conv_animation`'s animation, for its alt text."""
    check.int_at_least("in_size", in_size)
    out = conv_out(in_size, kernel_size, stride, padding, dilation)  # validates the arguments
    span = dilation * (kernel_size - 1) + 1
    holes = f" with dilation {dilation} (spanning {span}×{span} cells)" if dilation > 1 else ""
    border = (f"{padding} cell{'s' if padding > 1 else ''} of zero padding (grey)" if padding
              else "no padding")
    return (f"Animation of a {kernel_size}×{kernel_size} kernel{holes} sliding with stride "
            f"{stride} over a {in_size}×{in_size} input with {border}. In each of its "
            f"{out * out} frames the input cells the kernel reads are orange, and one more "
            f"cell of the {out}×{out} output fills in.")


def conv_animation(in_size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                   dilation: int = 1, interval: int = 700, max_frames: int = 49,
                   size: float = 3.0, dpi: int = 150) -> FuncAnimation:
    """Animate a ``kernel_size`` kernel sliding over an ``in_size`` × ``in_size`` input.

    Left: the padded input (padding cells grey, marked 0), the cells the kernel reads in
    orange and the span of the (dilated) window outlined. Right: the output grid, the
    current cell in orange and the finished ones in blue. One frame per output position, so
    ``conv_out(in_size, kernel_size, stride, padding, dilation) ** 2`` frames, at most
    ``max_frames`` (keeps the embedded HTML small). Frames are ``size`` inches high at
    ``dpi`` dots per inch (150 stays sharp when a page shows them at their natural size).
    The figure is closed (not shown by pyplot); render with :func:`to_html`, which uses
    ``anim.description`` (set here from :func:`describe`) as the alt text, or save with
    ``anim.save(...)``.
    """
    windows = conv_windows(in_size, kernel_size, stride, padding, dilation)
    if len(windows) > max_frames:
        raise ValueError(
            f"This convolution has {len(windows)} output positions, one frame each, more than "
            f"max_frames={max_frames}; use a smaller in_size or a larger stride, or raise max_frames."
        )
    if interval <= 0 or dpi <= 0 or size <= 0:
        raise ValueError(f"interval, dpi and size must be positive, got {interval}, {dpi}, {size}.")
    out = conv_out(in_size, kernel_size, stride, padding, dilation)
    n = in_size + 2 * padding
    span = dilation * (kernel_size - 1) + 1

    base = np.empty((n, n, 3))
    base[:] = PADDING
    base[padding:padding + in_size, padding:padding + in_size] = INPUT

    ratio = out / n
    fig, (ax_in, ax_out) = plt.subplots(1, 2, figsize=(size * (1 + max(ratio, 0.4)) + 0.4, size),
                                        dpi=dpi, width_ratios=[1, max(ratio, 0.4)])
    image_in = ax_in.imshow(base, interpolation="nearest")
    image_out = ax_out.imshow(np.ones((out, out, 3)), interpolation="nearest")
    if n <= 12:  # mark padding cells with their value, where legible
        for r in range(n):
            for c in range(n):
                if not (padding <= r < padding + in_size and padding <= c < padding + in_size):
                    ax_in.text(c, r, "0", ha="center", va="center", fontsize=8, color="0.45")
    _grid_axes(ax_in, n, f"input {in_size}×{in_size}, padding {padding}")
    _grid_axes(ax_out, out, f"output {out}×{out}")
    outline = Rectangle((-0.5, -0.5), span, span, fill=False, edgecolor="C3", linewidth=2)
    ax_in.add_patch(outline)
    fig.suptitle(f"kernel {kernel_size}×{kernel_size}, stride {stride}, dilation {dilation}",
                 fontsize=10)
    fig.tight_layout()

    def draw(frame: int) -> list:
        cells = base.copy()
        for r, c in windows[frame]:
            cells[r, c] = WINDOW
        image_in.set_data(cells)
        row0, col0 = windows[frame][0]
        outline.set_xy((col0 - 0.5, row0 - 0.5))
        done = np.empty((out * out, 3))
        done[:frame] = OUTPUT_DONE
        done[frame] = OUTPUT_NOW
        done[frame + 1:] = OUTPUT_TODO
        image_out.set_data(done.reshape(out, out, 3))
        return [image_in, image_out, outline]

    anim = FuncAnimation(fig, draw, frames=len(windows), interval=interval, blit=False)
    anim.description = describe(in_size, kernel_size, stride, padding, dilation)
    plt.close(fig)  # the notebook shows the animation, not a static copy of the figure
    return anim


# matplotlib's HTML player draws its buttons with Font Awesome 4 icons loaded from a CDN, which
# leaves them blank offline (and in any page that blocks the CDN). Plain Unicode glyphs need
# no font download, so the player works on the static site, offline, and in Colab alike.
_PLAYER_ICONS = {
    '<i class="fa fa-play fa-flip-horizontal"></i>': "&#9664;",  # play backwards
    '<i class="fa fa-fast-backward"></i>': "|&#9664;&#9664;",
    '<i class="fa fa-step-backward"></i>': "|&#9664;",
    '<i class="fa fa-pause"></i>': "&#10074;&#10074;",
    '<i class="fa fa-play"></i>': "&#9654;",
    '<i class="fa fa-step-forward"></i>': "&#9654;|",
    '<i class="fa fa-fast-forward"></i>': "&#9654;&#9654;|",
    '<i class="fa fa-minus"></i>': "&minus;",
    '<i class="fa fa-plus"></i>': "+",
}


# The player's own stylesheet fixes the slider at 374 px and lays the nine buttons out in one
# row, wider than a phone's column. These rules (scoped to our wrapper, so they win over
# matplotlib's and touch no other player) let the frame, the slider and the buttons shrink and
# wrap to the width of the column.
_PLAYER_CSS = """<style>
.cnnlib-anim .animation { display: block; max-width: 100%; text-align: center; }
.cnnlib-anim .animation img { max-width: 100%; height: auto; }
.cnnlib-anim input[type=range].anim-slider { width: 100%; max-width: 480px; }
.cnnlib-anim .anim-buttons { display: flex; flex-wrap: wrap; justify-content: center;
  gap: 4px; }
.cnnlib-anim .anim-buttons button { min-width: 40px; min-height: 32px; }
.cnnlib-anim .anim-state { display: flex; flex-wrap: wrap; justify-content: center; }
.cnnlib-anim .cnnlib-sr-only { position: absolute; width: 1px; height: 1px; padding: 0;
  margin: -1px; overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
</style>
"""


def to_html(anim: FuncAnimation, description: str | None = None, **kwargs) -> str:
    """``anim.to_jshtml(**kwargs)`` as a self-contained, accessible player that fits the page.

    - No CDN stylesheet: the Font Awesome buttons become Unicode glyphs, so the player works
      offline, on the static site and in Colab alike.
    - ``description`` (default: ``anim.description``, which :func:`conv_animation` sets) is
      the frame image's alt text, for readers who cannot see it; it is required.
    - The slider gets a label ("Animation frame"); the buttons keep matplotlib's labels
      ("Play", "Next frame", ...), and all are ordinary form controls, so Tab, Enter and the
      arrow keys work.
    - The frame shrinks to the column width and the buttons wrap on a narrow screen.

    Show it with ``IPython.display.HTML(to_html(anim))``; the page plays with no kernel and no
    network.
    """
    check.instance("anim", anim, FuncAnimation, "a matplotlib FuncAnimation (e.g. from conv_animation)")
    description = description if description is not None else getattr(anim, "description", None)
    if not isinstance(description, str) or not description.strip():
        raise ValueError("to_html needs a description of the animation (its alt text, for "
                         "readers who cannot see it): pass description='...'.")
    html = anim.to_jshtml(**kwargs)
    html = re.sub(r'<link rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/font-awesome[^"]*">',
                  "", html)
    for icon, glyph in _PLAYER_ICONS.items():
        html = html.replace(icon, glyph)
    alt = escape(" ".join(description.split()), quote=True)
    html, n_img = re.subn(r'<img id="(_anim_img\w+)">', rf'<img id="\1" alt="{alt}">', html)
    html, n_slider = re.subn(
        r'<input id="(_anim_slider\w+)" type="range"',
        r'<label for="\1" class="cnnlib-sr-only">Animation frame</label>\n'
        r'    <input id="\1" type="range" aria-label="Animation frame"', html)
    if "fa fa-" in html or "://" in html.split("<script", 1)[0] or n_img != 1 or n_slider != 1:
        raise RuntimeError("matplotlib's player template changed: update cnnlib.animate.to_html.")
    return f'{_PLAYER_CSS}<div class="cnnlib-anim">\n{html}\n</div>'
