"""The book's own rules, checked on every committed chapter notebook."""

import json
import re
from pathlib import Path

import pytest
from chapters import CHAPTERS, ROOT

import cnnlib

SETUP = '%pip install -q "cnnlib[book] @ git+https://github.com/{repo}"'
MACHINE_PATH = re.compile(r"(/root/|/work/|/tmp/|/home/)\w")


def code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def text_outputs(cell: dict) -> str:
    """The text of a cell's outputs, images left out (base64 can spell anything)."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        for mime, value in out.get("data", {}).items():
            if mime.startswith("text/") or mime == "application/javascript":
                parts.append("".join(value))
        parts.append("".join(out.get("traceback", [])))
    return "\n".join(parts)


def test_every_notebook_in_book_is_in_the_toc():
    assert sorted(CHAPTERS) == sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_first_code_cell_installs_cnnlib_only_when_missing(path):
    first = "".join(code_cells(path)[0]["source"])
    assert 'if importlib.util.find_spec("cnnlib") is None:' in first and SETUP in first
    assert f'repo = "{cnnlib.REPO}"' in first
    assert "config.seed_everything(" in first


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_stored_outputs_are_complete_and_clean(path):
    cells = code_cells(path)
    assert all(c["execution_count"] is not None for c in cells), "a code cell was never executed"
    assert not [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    leaks = [m.group(0) for c in cells if (m := MACHINE_PATH.search(text_outputs(c)))]
    assert not leaks, f"machine paths in outputs: {leaks}"
    assert any(c["outputs"] and checked_by_nbval(c) for c in cells)


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def checked_by_nbval(cell: dict) -> bool:
    """nbval compares this cell's output (the tag keeps the marker out of the reader's view)."""
    return "nbval-check-output" in tags(cell)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_exercises_with_collapsed_solutions_and_a_summary(path):
    nb = json.loads(path.read_text())
    headings = [line for c in nb["cells"] if c["cell_type"] == "markdown"
                for line in "".join(c["source"]).splitlines() if line.startswith("## ")]
    assert "## Exercises" in headings and "## Summary" in headings
    solutions = [c for c in code_cells(path) if "hide-cell" in tags(c)]
    assert len(solutions) >= 3
    half_hidden = [c["source"][:1] for c in code_cells(path) if "hide-input" in tags(c)]
    assert not half_hidden, f"solutions whose output shows before the reader opens them: {half_hidden}"
    assert "learning goals" in "".join(nb["cells"][0]["source"]).lower()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_stays_small_enough_for_the_site(path):
    assert path.stat().st_size < 3 * 1024 * 1024


PAGE_WIDTH = 76  # characters of code the page shows on a desktop (CONTRIBUTING.md, page rules)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_readers_copy_has_no_test_markers(path):
    marked = [line for c in code_cells(path) for line in "".join(c["source"]).splitlines()
              if "NBVAL" in line or "noqa" in line]
    assert not marked, f"test markers in the code readers see (use cell tags): {marked}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_printed_lines_fit_the_page(path):
    long = []
    for cell in code_cells(path):
        for out in cell["outputs"]:
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            if "image/png" in out.get("data", {}) or "text/html" in out.get("data", {}):
                text = "".join(out.get("text", ""))  # the figure's repr is not shown
            long += [line for line in text.splitlines() if len(line) > PAGE_WIDTH]
    assert not long, f"{len(long)} printed lines wider than {PAGE_WIDTH} characters: {long[:3]}"


FIGURE_TYPES = ("image/png", "image/jpeg")  # chapter 12 stores JPEG photos


def figures_without_alt(path) -> list[str]:
    """The first source line of every code cell whose figure (PNG or JPEG) lacks alt text."""
    missing = []
    for cell in code_cells(path):
        if any(t in o.get("data", {}) for o in cell["outputs"] for t in FIGURE_TYPES):
            alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
            if len(alt.split()) < 4 or alt.endswith((".png", ".jpg")):
                missing.append("".join(cell["source"][:1]).strip())
    return missing


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text(path):
    missing = figures_without_alt(path)
    assert not missing, f"figures without a real description (metadata mystnb.image.alt): {missing}"


@pytest.mark.parametrize("mime", FIGURE_TYPES)
def test_the_alt_text_check_catches_a_figure_without_one(tmp_path, mime):
    figure = {"output_type": "display_data", "data": {mime: "AAAA"}, "metadata": {}}
    cell = {"cell_type": "code", "source": ["show(photo)"], "outputs": [figure],
            "metadata": {}, "execution_count": 1}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [cell]}))
    assert figures_without_alt(path) == ["show(photo)"]
    cell["metadata"] = {"mystnb": {"image": {"alt": "a tabby cat on a sofa"}}}
    path.write_text(json.dumps({"cells": [cell]}))
    assert figures_without_alt(path) == []
