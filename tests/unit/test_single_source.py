"""One source of truth: the chapter list is _toc.yml, the repository name is cnnlib.REPO.

Every other place that repeats them (the README's chapter table, book/intro.md, the setup
cell of each notebook, _config.yml, the Colab links, pyproject.toml) is checked against them.
"""

import json
import re

import pytest
import yaml
from chapters import FILES, ROOT

import cnnlib

CHAPTERS = FILES  # "book/01_...", in the order of _toc.yml
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def title(chapter: str) -> str:
    """The notebook's own title: the first '# ' heading of its first cell."""
    first = "".join(json.loads((ROOT / f"{chapter}.ipynb").read_text())["cells"][0]["source"])
    return next(line[2:].strip() for line in first.splitlines() if line.startswith("# "))


def test_readme_chapter_table_lists_the_toc_in_order_with_the_notebook_titles():
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| \d+ \| \[([^\]]+)\]\((book/[^)]+)\.ipynb\)", readme, re.M)
    assert [path for _, path in rows] == CHAPTERS
    assert [name for name, _ in rows] == [title(ch) for ch in CHAPTERS]


def test_intro_lists_the_toc_in_order_with_the_notebook_titles():
    intro = (ROOT / "book" / "intro.md").read_text()
    links = re.findall(r"^\d+\. \[([^\]]+)\]\(([^)]+)\.ipynb\)", intro, re.M)
    assert [f"book/{path}" for _, path in links] == CHAPTERS
    assert [name for name, _ in links] == [title(ch) for ch in CHAPTERS]


def test_intro_gives_each_chapter_its_colab_link_and_its_measured_run_time():
    """The run time under each chapter is bench/quick.md's, to the nearest 5 s."""
    intro = (ROOT / "book" / "intro.md").read_text()
    bench = dict(re.findall(r"\| (\d\d_\w+)\.ipynb \| quick \| ([\d.]+) \|",
                            (ROOT / "bench" / "quick.md").read_text()))
    items = re.findall(r"^\d+\. \[[^\]]+\]\((\w+)\.ipynb\)(?:.*\n)*?"
                       r"\s+\*Runs in (\d+) s · \[open in Colab\]\(([^)]+)\)\*$", intro, re.M)
    assert [f"book/{stem}" for stem, _, _ in items] == CHAPTERS
    for stem, seconds, colab in items:
        assert colab == (f"https://colab.research.google.com/github/{cnnlib.REPO}"
                         f"/blob/main/book/{stem}.ipynb")
        assert int(seconds) == round(float(bench[stem]) / 5) * 5, stem


def test_config_and_pyproject_name_the_repository_of_cnnlib_REPO():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == f"https://github.com/{cnnlib.REPO}"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'Source = "https://github.com/{cnnlib.REPO}"' in pyproject


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_cell_installs_cnnlib_from_cnnlib_REPO(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    setup = "".join(cells[0]["source"])
    assert re.findall(r'^repo = "([\w.-]+/[\w.-]+)"$', setup, re.M) == [cnnlib.REPO]
    assert re.findall(r"git\+https://github\.com/(\S+)\"", setup) == ["{repo}"]


def test_every_colab_and_github_link_in_the_docs_names_cnnlib_REPO():
    for doc in [ROOT / "README.md", ROOT / "book" / "intro.md", ROOT / "CONTRIBUTING.md"]:
        text = doc.read_text()
        link = r"(?:colab\.research\.google\.com/github|github\.com)/([\w.-]+/[\w.-]+?)(?:/|\)|\"|$)"
        repos = re.findall(link, text, re.M)
        ours = [r for r in repos if r.split("/")[0] == cnnlib.REPO.split("/")[0]]
        assert ours and all(r == cnnlib.REPO for r in ours), (doc.name, ours)
