"""Numbers quoted in a chapter's prose must come from the code above them.

A sentence such as "the network reaches 99.33% after 3 epochs" is a claim about an executed
result. This test finds every number in a Markdown cell that looks measured (one with a
decimal point, a percentage, or thousands separators) and fails unless that number appears,
to the precision it is quoted with, in the outputs or the source of the code cells above the
Markdown cell. Numbers in math (``$...$``) and in inline code are left alone, and so are
figures from the literature: a sentence that names its source ("LeCun et al.", "the
paper", "(2016)", a Markdown link) may quote the paper's numbers. The citation covers that
sentence only, and a table directly under it (its caption); the next sentence of the same
paragraph is checked like any other.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from chapters import CHAPTERS

# A number as prose writes it: 0.029, 99.33%, 61,706, 1.9×, −0.42 (sign dropped).
PROSE_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+\.\d+|\d+)(\s?%)?(?![\w])"
                          r"(?:\s(million|billion))?")
SCALE = {None: 1, "million": 10**6, "billion": 10**9}
# A number as code prints it: 0.9933, 99.33, 6.1e-05, 61706 or 61,706.
OUTPUT_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
CODE = re.compile(r"`[^`\n]*`")
# Sentence breaks (not after "et al.", "e.g.", "i.e."), blank lines, and the start of each
# list item, quote, heading or table row.
SENTENCE = re.compile(r"(?<=[.!?])(?<!\bal\.)(?<!\be\.g\.)(?<!\bi\.e\.)\s+(?=[A-Z(*])"
                      r"|\n\s*\n|\n(?=\s*[-*|>#]|\s*\d+\.\s)")
# A sentence that names its source: "LeCun et al.", a link, "the paper", "(2016)", arXiv.
CITED = re.compile(r"et al\.|\]\(https?://|\b[Pp]apers?\b|\bpaper's\b|\b(?:19|20)\d\d\)"
                   r"|\barXiv\b|\bliterature\b")
# Not measurements: "section 4.3", "Table 2.1", "version 2.8"; nor the result of arithmetic
# the sentence shows ("256 × 6 × 6 = 9,216").
REFERENCE = re.compile(r"(?:[Ss]ections?|[Tt]able|[Ff]igure|[Vv]ersion|[Ee]q\.|=)\s*$")


def is_measured(number: str, percent: str | None) -> bool:
    """Only numbers that look like results: decimals, percentages, 1,000s separators."""
    return "." in number or "," in number or bool(percent)


def cell_text(cell: dict) -> str:
    """A code cell's source and its outputs' text (images left out)."""
    parts = ["".join(cell["source"])]
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        for mime, value in out.get("data", {}).items():
            if mime in ("text/plain", "text/html", "text/markdown", "text/latex"):
                parts.append("".join(value))
    return "\n".join(parts)


def output_values(text: str) -> set[Decimal]:
    values = set()
    for token in OUTPUT_NUMBER.findall(text):
        token = token.replace(",", "").rstrip(".")
        try:
            value = Decimal(token)
        except ArithmeticError:
            continue
        # Base64 in a widget's HTML spells "9E7166828" now and then: past any printed result,
        # and past what Decimal arithmetic can subtract without overflowing.
        if abs(value.adjusted()) <= 300:
            values.add(value)
    return values


def precision(number: str) -> Decimal:
    """The rounding a number is quoted with: 0.01 for 94.83, 1,000 for "about 257,000"."""
    if "." in number:
        return Decimal(1).scaleb(-len(number.split(".")[1]))
    big = number.endswith(",000") and int(number.replace(",", "")) >= 10_000
    return Decimal(1000) if big else Decimal(1)


def supported(number: str, percent: bool, seen: set[Decimal], scale: int = 1) -> bool:
    """Does some value above, rounded as the prose rounds it, give ``number``?

    A percentage may be printed as a percentage (99.33) or as a fraction (0.9933); "23.8
    million" matches 23,834,568.
    """
    quoted = Decimal(number.replace(",", "")) * scale
    places = precision(number) * scale
    candidates = seen | ({v * 100 for v in seen} if percent else set())
    return any(abs(v - quoted) <= places / 2 for v in candidates)


def uncited(markdown: str) -> list[str]:
    """The sentences of ``markdown`` that name no source.

    A table whose caption (the sentence just above it) or header row cites is exempt; any
    other table is checked row by row.
    """
    kept: list[str] = []
    cites = False
    for sentence in SENTENCE.split(markdown):
        if not sentence or not sentence.strip():
            continue
        row = sentence.lstrip().startswith("|")
        cites = (cites and row) or bool(CITED.search(sentence))
        if not cites:
            kept.append(sentence)
    return kept


def unsupported_numbers(path: Path) -> list[str]:
    """Every measured-looking number in prose that the code does not support.

    Decimals and percentages must come from the code cells above the Markdown cell.
    Counts with thousands separators (61,706 parameters, 5,000 images) may be previewed:
    they must appear in some code cell of the chapter. So may anything in the first cell,
    whose learning goals say what the chapter will show.
    """
    cells = json.loads(path.read_text())["cells"]
    everywhere = set().union(*(output_values(cell_text(c)) for c in cells
                               if c["cell_type"] == "code"))
    seen: set[Decimal] = set()
    problems = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            seen |= output_values(cell_text(cell))
            continue
        if cell["cell_type"] != "markdown":
            continue
        text = CODE.sub(" ", MATH.sub(" ", "".join(cell["source"])))
        prose = " ".join(uncited(text))
        prose = re.sub(r"<[^>]+>|\]\([^)]*\)", " ", prose)  # tags, link targets
        for m in PROSE_NUMBER.finditer(prose):
            number, percent, scale = m.group(1), m.group(2), SCALE[m.group(3)]
            if REFERENCE.search(prose[max(0, m.start() - 12):m.start()]):
                continue
            if not is_measured(number, percent):
                continue
            preview = index == 0 or ("," in number and "." not in number)
            pool = everywhere if preview else seen
            # "5.71 billion" may be printed as 5,713,200,000, as 5,713.2 (millions) or 5.71.
            units = {scale, scale // 10**3, scale // 10**6, 1} - {0}
            if not any(supported(number, bool(percent), pool, u) for u in units):
                start = max(0, m.start() - 50)
                context = " ".join(prose[start:m.end() + 20].split())
                problems.append(f"{number}{'%' if percent else ''}: …{context}…")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_numbers_in_prose_come_from_the_outputs_above(path):
    problems = unsupported_numbers(path)
    assert not problems, (
        f"{path.name}: numbers in the prose that no cell above prints "
        "(print them, or cite the paper in the same sentence):\n  " + "\n  ".join(problems))


def test_the_check_catches_a_number_that_contradicts_the_output(tmp_path):
    def notebook(prose: str) -> Path:
        cells = [{"cell_type": "code", "source": ["print(acc)"], "outputs": [
                     {"output_type": "stream", "name": "stdout", "text": ["0.9933 61706\n"]}]},
                 {"cell_type": "markdown", "source": [prose]}]
        path = tmp_path / "nb.ipynb"
        path.write_text(json.dumps({"cells": cells}))
        return path

    assert unsupported_numbers(notebook("It reaches 99.3% with 61,706 weights.")) == []
    assert unsupported_numbers(notebook("It reaches 99.33%, as printed.")) == []
    assert len(unsupported_numbers(notebook("It reaches 98.9%."))) == 1
    assert len(unsupported_numbers(notebook("Error 0.95% here, 3x3 kernels."))) == 1
    assert unsupported_numbers(notebook("LeCun et al. report 0.95%.")) == []
    assert unsupported_numbers(notebook("The paper's table:\n\n| a | 0.95% |")) == []
    assert len(unsupported_numbers(notebook("Intro.\n\nWe use 5,000 images."))) == 1
    assert unsupported_numbers(notebook("It has 0.06 million weights.")) == []
    assert unsupported_numbers(notebook("The formula $0.299 R$ and `lr=0.1`.")) == []
    # A citation covers its own sentence, not its paragraph, nor a table under another one.
    assert len(unsupported_numbers(notebook(
        "The paper reports 0.95%. We reach 98.9%."))) == 1
    assert len(unsupported_numbers(notebook("Our run:\n\n| a | 0.95% |"))) == 1
    assert unsupported_numbers(notebook("| (LeCun et al.) | error |\n|---|---|\n| a | 0.95% |")) == []


def test_the_check_catches_chapter_10s_stale_numbers_beside_a_citation(tmp_path):
    """Two paragraphs chapter 10 once stored: a citation in one sentence let the stale
    numbers of the others through, against the outputs printed above them."""
    printed = ("plain-8: train loss 1.639, test accuracy 40.0%\n"
               "ResNet-8: train loss 1.655, test accuracy 39.2%\n"
               "plain-20: train loss 1.767, test accuracy 34.1%\n"
               "ResNet-20: train loss 1.576, test accuracy 43.6%\n"
               "ResNet-20: 43.6%; without layer1.2 33.4%, layer2.2 38.7%, layer3.2 39.7%\n"
               "plain-20: 34.1%; without layer1.2 14.5%, layer2.2 9.3%, layer3.2 10.2%\n")
    cell_39 = (
        "In the stored run the printed comparison shows the paper's pattern. The 20-layer "
        "plain network ends with a *higher* training loss than the 8-layer one (1.749 against "
        "1.637), and it is the least accurate of the four on the test images (35.2%). The "
        "20-layer ResNet ends *below* the 8-layer ResNet (1.574 against 1.647) and is the most "
        "accurate (45.5%).")
    cell_46 = (
        "The ResNet-20 keeps most of its accuracy without any one of those blocks (45.5% whole, "
        "36.6% to 40.0% with one deleted), while the plain-20 falls from 35.2% to between 9.4% "
        "and 16.4%. Veit et al. read this as a ResNet behaving like an ensemble.")
    stale = {"39": ["1.749", "1.637", "35.2%", "1.574", "1.647", "45.5%"],
             "46": ["45.5%", "36.6%", "35.2%", "9.4%", "16.4%"]}  # 40.0% is printed (plain-8)
    for name, prose in (("39", cell_39), ("46", cell_46)):
        cells = [{"cell_type": "code", "source": ["run()"], "outputs": [
                     {"output_type": "stream", "name": "stdout", "text": [printed]}]},
                 {"cell_type": "markdown", "source": [prose]}]
        path = tmp_path / f"cell_{name}.ipynb"
        path.write_text(json.dumps({"cells": cells}))
        flagged = [problem.split(":")[0] for problem in unsupported_numbers(path)]
        assert flagged == stale[name]
