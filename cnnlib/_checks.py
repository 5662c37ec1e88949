"""Argument checks shared by every cnnlib module, so each rejects bad input the same way.

Booleans are ints in Python (``True == 1``), so ``epochs=True`` would silently mean one epoch;
every check here refuses them.
"""

from __future__ import annotations

from collections.abc import Sequence


def int_at_least(name: str, value: object, minimum: int = 1) -> int:
    """``value`` if it is an int (not a bool) >= ``minimum``; otherwise a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
    return value


def int_pair(name: str, value: object, minimum: int = 1) -> tuple[int, int]:
    """``value`` as a (height, width) pair of ints >= ``minimum``: an int is used for both."""
    pair = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in pair):
        raise ValueError(
            f"{name} must be an int >= {minimum} or a pair (height, width) of such ints, got {value!r}."
        )
    return pair  # type: ignore[return-value]
