"""Checking a reader's answer: the registry, :func:`check` and :class:`Feedback`.

An exercise is registered with :func:`exercise` as a *checker*: a function that receives
the reader's answer and returns ``None`` when it is right, or a message that says what is
wrong and what to try. Checkers run the reader's code on cases the chapter did not show
and compare it with an independent reference (PyTorch, torchvision or ``cnnlib``), so a
checker cannot be passed by copying a printed number.

The reader's template leaves ``...`` where the work goes: a function whose body is
``return ...`` or a value ``answer = ...``. :func:`check` recognises the ``...`` (and a
``NotImplementedError``) and says "not filled in yet" instead of a traceback; an
exception from the reader's own code is reported as feedback too, never raised, so a
notebook cell that checks an answer never ends in an error.
"""

from __future__ import annotations

import html
import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from cnnlib import check as _check


class NotFilledIn(Exception):
    """Raised inside a checker when the reader's function returned ``...``."""


@dataclass(frozen=True)
class Exercise:
    """One checked exercise: ``key`` ("chapter.number"), what the answer is, its checker."""

    key: str
    title: str
    answer: str
    checker: Callable[[object], str | None]
    passed: str
    function: str | None = None  # the name of the function the reader hands in, if any


@dataclass(frozen=True)
class Feedback:
    """What :func:`check` found: shown as one line in a notebook (text and HTML)."""

    key: str
    status: str  # "correct", "wrong" or "not filled in"
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        mark = {"correct": "✓", "wrong": "✗", "not filled in": "…"}[self.status]
        return textwrap.fill(f"{mark} Exercise {self.key}, {self.status}: {self.message}",
                             width=76, subsequent_indent="  ")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {"correct": "#1a7f37", "wrong": "#b42318",
                  "not filled in": "#6e4f00"}[self.status]
        return (f'<p class="cnn-feedback" data-status="{self.status}" '
                f'style="border-left: 4px solid {colour}; padding: 2px 8px">'
                f"{html.escape(str(self)).replace(chr(10), ' ')}</p>")


_REGISTRY: dict[str, Exercise] = {}


def exercise(key: str, title: str, answer: str, passed: str, function: str | None = None
             ) -> Callable[[Callable[[object], str | None]], Callable[[object], str | None]]:
    """Register the decorated function as the checker of exercise ``key``.

    ``answer`` says what the reader hands in (shown when it has the wrong kind);
    ``passed`` is the message for a right answer (what was checked, with tolerances);
    ``function`` names the function the reader hands in, when the answer is one: anything
    else is refused before the checker runs.
    """

    for name, value in (("key", key), ("title", title), ("answer", answer), ("passed", passed)):
        _check.instance(name, value, str, "a string")

    def register(checker: Callable[[object], str | None]) -> Callable[[object], str | None]:
        if key in _REGISTRY:
            raise ValueError(f"exercise {key!r} is registered twice.")
        _REGISTRY[key] = Exercise(key, title, answer, checker, passed, function)
        return checker

    return register


def exercise_keys() -> list[str]:
    """The keys of every checked exercise, in chapter order ("13.1", "13.2", ...)."""
    return sorted(_REGISTRY, key=lambda k: tuple(int(p) for p in k.split(".")))


def get(key: str) -> Exercise:
    """The registered exercise ``key``; a ValueError lists the keys there are."""
    _check.instance("key", key, str, 'a string such as "16.1"')
    if key not in _REGISTRY:
        raise ValueError(f"key {key!r} names no checked exercise. Checked exercises: "
                         f"{', '.join(exercise_keys())}.")
    return _REGISTRY[key]


def filled(value: object) -> object:
    """``value``, or raise :class:`NotFilledIn` if it is still the template's ``...``."""
    if value is Ellipsis:
        raise NotFilledIn
    return value


def call(fn: Callable, *args, **kwargs) -> object:
    """Call the reader's function; its ``...`` (or a NotImplementedError) means not filled in."""
    _check.function("fn", fn)
    try:
        result = fn(*args, **kwargs)
    except NotImplementedError as e:
        raise NotFilledIn from e
    return filled(result)


def check(key: str, answer: object) -> Feedback:
    """Check the reader's ``answer`` to exercise ``key`` and say what is wrong, if anything.

    ``answer`` is what the exercise asks for: usually the reader's function, sometimes a
    value. Returns a :class:`Feedback` (a notebook shows it as one line); it never raises
    for a wrong answer, only for an unknown ``key``.
    """
    ex = get(key)
    try:
        if isinstance(filled(answer), type(None)):
            problem = f"the answer is None; hand in {ex.answer}."
        elif ex.function is not None and not callable(answer):
            problem = f"hand in the function itself: check('{key}', {ex.function})."
        else:
            problem = ex.checker(answer)
    except NotFilledIn:
        return Feedback(key, "not filled in",
                        f"replace the ... with your code ({ex.answer}), then run the "
                        "cell again.")
    except Exception as e:  # the reader's code raised: say where, not a traceback
        frame = traceback.extract_tb(e.__traceback__)[-1]
        return Feedback(key, "wrong", f"your code raised {type(e).__name__}: {e} "
                        f"(in {frame.name}, line {frame.lineno}).")
    if problem is None:
        return Feedback(key, "correct", ex.passed)
    return Feedback(key, "wrong", problem)
