"""Multiple-choice self-checks that run in the reader's browser, with a key computed by code.

:func:`quiz` takes a question and its options, each with a truth value that the notebook
*computes* (by running the layer, the hook or the test the question is about) and a short
reason. Exactly one option must be true, or :func:`quiz` raises: the key cannot be typed
wrong. The result is a display object of plain HTML and a few lines of JavaScript; clicking
an option says whether it is right and why, in the page, in Jupyter, in Colab and on the
static site, with no kernel.

Test hook: the root element (``div.cnnq``) has ``data-answer`` (the index of the right
option); each option is a ``button`` with ``data-index``; the verdict appears in
``p.cnnq-verdict`` with ``data-verdict`` set to ``right`` or ``wrong``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from cnnlib import check

_CSS = """.cnnq{border:1px solid #c8ccd1;border-radius:6px;padding:8px 12px;margin:8px 0;
max-width:40rem}.cnnq-q{font-weight:600;margin:0 0 6px}.cnnq button{display:block;width:100%;
text-align:left;margin:4px 0;padding:6px 8px;border:1px solid #c8ccd1;border-radius:4px;
background:#f6f8fa;color:#1f2328;font:inherit;cursor:pointer}.cnnq button[aria-pressed=true]
{border-color:#1f2328}.cnnq-verdict{margin:6px 0 0}.cnnq-verdict[data-verdict=right]
{color:#1a7f37}.cnnq-verdict[data-verdict=wrong]{color:#b42318}"""

_JS = """(function (root) {
  var verdict = root.querySelector(".cnnq-verdict");
  var answer = Number(root.dataset.answer);
  root.querySelectorAll("button").forEach(function (b) {
    b.addEventListener("click", function () {
      root.querySelectorAll("button").forEach(function (o) {
        o.setAttribute("aria-pressed", String(o === b));
      });
      var right = Number(b.dataset.index) === answer;
      verdict.dataset.verdict = right ? "right" : "wrong";
      verdict.textContent = (right ? "Right. " : "Not quite. ") + b.dataset.why;
    });
  });
})"""


@dataclass(frozen=True)
class Quiz:
    """A multiple-choice question as a display object (a notebook shows its HTML)."""

    question: str
    options: tuple[str, ...]
    answer: int
    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"Quiz({self.question[:40]!r}..., {len(self.options)} options)"


def quiz(question: str, options: Sequence[tuple[str, bool, str]]) -> Quiz:
    """A self-check: ``options`` are (text, is_true, why) with ``is_true`` computed by code.

    Exactly one option must be true; ``why`` is shown when the reader picks that option.
    """
    check.instance("question", question, str, "a string")
    check.sequence("options", options, "a list of (text, is_true, why) triples")
    if len(options) < 2:
        raise ValueError(f"options must offer at least 2 choices, got {len(options)}.")
    for i, option in enumerate(options):
        if (not isinstance(option, tuple) or len(option) != 3
                or not isinstance(option[0], str) or not isinstance(option[2], str)):
            raise ValueError(f"options[{i}] must be a (text, is_true, why) triple of str, "
                             f"bool and str, got {option!r}.")
    truths = [bool(o[1]) for o in options]
    if sum(truths) != 1:
        true = [o[0] for o in options if o[1]]
        raise ValueError(f"exactly one option must be true, but {len(true)} are: {true}. "
                         "Check the code that computes them, or reword the options.")
    answer = truths.index(True)
    root = "cnnq-" + hashlib.sha256(question.encode()).hexdigest()[:12]
    buttons = "\n".join(
        f'<button type="button" data-index="{i}" data-why="{escape(why)}" '
        f'aria-pressed="false">{escape(text)}</button>'
        for i, (text, _, why) in enumerate(options))
    html = (f'<div class="cnnq" id="{root}" data-answer="{answer}"><style>{_CSS}</style>\n'
            f'<p class="cnnq-q">{escape(question)}</p>\n{buttons}\n'
            f'<p class="cnnq-verdict" aria-live="polite">Pick an answer.</p>\n'
            f'<script>{_JS}(document.getElementById("{root}"));</script></div>')
    return Quiz(question, tuple(o[0] for o in options), answer, html)
