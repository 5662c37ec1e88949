"""The self-check questions in headless Chromium, offline: clicking an option says whether
it is the one the notebook computed true, and why, on a test page and in the built site."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from offline import PHONE, open_offline, serve

from cnnlib import explore

BOOK = Path(__file__).resolve().parents[2] / "book"


def chapters_with_quizzes() -> list[str]:
    found = []
    for path in sorted(BOOK.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        if any('class="cnnq"' in "".join(o.get("data", {}).get("text/html", ""))
               for o in outputs):
            found.append(f"book/{path.stem}")
    return found


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quiz")
    quizzes = [explore.quiz("Which is even?", [("3", False, "3 is odd."),
                                               ("4", True, "4 = 2 · 2."),
                                               ("5", False, "5 is odd.")]),
               explore.quiz("Which is odd?", [("7", True, "7 is odd."), ("8", False, "no")])]
    body = "".join(q._repr_html_() for q in quizzes)
    (folder / "index.html").write_text(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>quiz</title>"
        f"</head><body>{body}</body></html>", encoding="utf-8")
    with serve(folder) as url:
        yield f"{url}/index.html"


def verdict(root) -> tuple[str | None, str]:
    p = root.locator(".cnnq-verdict")
    return p.get_attribute("data-verdict"), p.inner_text()


def test_a_wrong_then_the_right_option_says_so_and_why(browser, page_url):
    page, blocked, errors = open_offline(browser, page_url, viewport=PHONE)
    try:
        first, second = page.locator(".cnnq").all()
        first.locator("button", has_text="3").click()
        assert verdict(first) == ("wrong", "Not quite. 3 is odd.")
        first.locator("button", has_text="4").click()
        assert verdict(first) == ("right", "Right. 4 = 2 · 2.")
        assert first.locator("button[aria-pressed=true]").inner_text() == "4"
        # the second quiz on the page is untouched by the first
        assert verdict(second)[0] is None
        second.locator("button", has_text="7").click()
        assert verdict(second)[0] == "right" and verdict(first)[0] == "right"
        assert not blocked and not errors
    finally:
        page.close()


@pytest.mark.parametrize("chapter", chapters_with_quizzes())
def test_each_quiz_in_the_built_site_accepts_its_computed_answer(built_site, browser, chapter):
    page, _, errors = open_offline(browser, f"{built_site}/{chapter}.html")
    try:
        roots = page.locator(".cnnq").all()
        assert roots, f"no self-check question rendered in {chapter}"
        for root in roots:
            answer = int(root.get_attribute("data-answer"))
            wrong = next(i for i in range(root.locator("button").count()) if i != answer)
            root.locator(f"button[data-index='{wrong}']").click()
            assert verdict(root)[0] == "wrong"
            root.locator(f"button[data-index='{answer}']").click()
            assert verdict(root)[0] == "right", json.dumps(verdict(root))
        assert not errors
    finally:
        page.close()
