"""Exercises that check themselves: write an answer, then ``exercises.check("16.1", answer)``.

A chapter's exercise cell is a template with ``...`` where the reader's work goes; the check
call below it runs the answer on cases the chapter did not show and says, specifically, what
is wrong ("that is the dense convolution: the depthwise part has groups=c_in"), or that it
is right and what was checked. The collapsed solution under it passes the same check.
The checkers of each chapter live in one file here (``ch13.py``, ``ch15.py``, ...); the
registry and :func:`check` in ``core.py``.
"""

from cnnlib.exercises import ch13, ch15, ch16  # noqa: F401  (registers their checkers)
from cnnlib.exercises.core import Feedback as Feedback
from cnnlib.exercises.core import check as check
from cnnlib.exercises.core import exercise_keys as exercise_keys
