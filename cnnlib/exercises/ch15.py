"""Chapter 15 (shifts): checkers for exercises 15.1 and 15.2."""

from __future__ import annotations

import torch
from torch import nn

from cnnlib import shifts
from cnnlib.exercises.core import call, exercise, filled

EXACT = 1e-6
"""Below this relative error (float64) a layer counts as commuting with the shift."""


def _exact_shifts() -> list[int]:
    torch.manual_seed(1501)
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, padding_mode="circular").double()
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    return [d for d in range(1, 7)
            if shifts.equivariance_error(conv, x, (0, d), stride=2) < EXACT]


@exercise("15.1", "Circular padding, stride 2",
          "the list of shifts d in 1..6 for which the circular-padded stride-2 "
          "convolution's equivariance error is below 1e-6",
          "the same shifts as a float64 measurement on new random weights and images.")
def _check_15_1(answer: object) -> str | None:
    got = filled(answer)
    try:
        got = sorted({int(d) for d in got})
    except (TypeError, ValueError):
        return f"hand in a list of shifts such as [1, 2], got {answer!r}."
    want = _exact_shifts()
    if got == want:
        return None
    if any(d % 2 for d in got):
        return ("an odd shift moves the output by half a pixel: no whole shift of the "
                "stride-2 output matches it, whatever the padding.")
    if got == list(range(1, 7)):
        return ("circular padding removes the border effect, but the stride still "
                "subsamples: measure each shift.")
    return (f"measure shifts.equivariance_error(conv, x, (0, d), stride=2) for d = 1..6 "
            f"in float64; you listed {got}.")


def _blur_errors(x: torch.Tensor, offset: tuple[int, int]) -> list[float]:
    return [shifts.equivariance_error(shifts.BlurPool(1, size).double(), x, offset,
                                      stride=2) for size in range(1, 8)]


@exercise("15.2", "How much blur?",
          "a function blur_errors(x) that returns the equivariance errors of "
          "BlurPool(1, size) for a one-pixel shift (stride 2), for size = 1 to 7",
          "the seven errors match a float64 measurement on images the chapter did not "
          "use (relative tolerance 1e-4), for a shift down or right.",
          function="blur_errors")
def _check_15_2(answer: object) -> str | None:
    torch.manual_seed(1502)
    x = torch.randn(4, 1, 48, 40, dtype=torch.float64)
    got = call(answer, x.clone())
    if got is None:
        return "your function returned None: did you forget to return the list?"
    try:
        got = [float(e) for e in got]
    except (TypeError, ValueError):
        return f"return a list of seven numbers, got {got!r}."
    if len(got) != 7:
        return f"return one error per size 1, 2, ..., 7: you returned {len(got)}."

    def close(want: list[float]) -> bool:
        return all(abs(g - w) <= 1e-4 * abs(w) + 1e-9 for g, w in zip(got, want, strict=True))

    if close(_blur_errors(x, (0, 1))) or close(_blur_errors(x, (1, 0))):
        return None
    if close([shifts.equivariance_error(shifts.BlurPool(1, s).double(), x, (0, 1))
              for s in range(1, 8)]):
        return ("pass stride=2: the pool halves the image, so a one-pixel shift of its "
                "input is half a pixel of its output.")
    if close(_blur_errors(x, (1, 1))):
        return "shift by one pixel along one axis, (0, 1), not (1, 1)."
    return ("measure shifts.equivariance_error(shifts.BlurPool(1, size).double(), x, "
            "(0, 1), stride=2) for each size.")
