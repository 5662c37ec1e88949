"""The built website, opened in headless Chromium (Debian's) with no network.

Run after `make book`. Every request that leaves 127.0.0.1 is blocked, so what passes here
renders offline: each chapter page loads without script errors, its math is typeset by the
MathJax served from the build, its figures decode, and it links to Colab.
A screenshot of each chapter lands in _build/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from offline import open_offline, serve

import cnnlib

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
COLAB = f"https://colab.research.google.com/github/{cnnlib.REPO}/blob/main/"


def chapters() -> list[str]:
    """Chapter files (e.g. ``book/01_images_as_tensors``) in the order of _toc.yml."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [ch["file"] for part in toc["parts"] for ch in part["chapters"]]


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    if not (HTML / "index.html").is_file():
        pytest.fail("No built site in _build/html: run `make book` first.")
    with serve(HTML) as url:
        yield url


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_renders_offline_with_math_figures_and_colab_link(site, browser, chapter):
    page, blocked, errors = open_offline(browser, f"{site}/{chapter}.html")
    # MathJax typesets asynchronously; wait for it, then count what it left untypeset.
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
    page.evaluate("MathJax.startup.promise")
    math = page.evaluate(
        """() => {
            const nodes = [...document.querySelectorAll('.math')];
            return {total: nodes.length,
                    untypeset: nodes.filter(n => !n.querySelector('mjx-container')).length,
                    containers: document.querySelectorAll('mjx-container').length};
        }"""
    )
    assert math["containers"] > 0, f"{chapter}: no typeset math on the page"
    assert math["untypeset"] == 0, f"{chapter}: {math['untypeset']} of {math['total']} formulas untypeset"

    figures = page.evaluate(
        """() => [...document.querySelectorAll('.cell_output img')]
                  .map(img => ({src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0}))"""
    )
    assert figures, f"{chapter}: no figures in the cell outputs"
    broken = [f["src"] for f in figures if not f["ok"]]
    assert not broken, f"{chapter}: figures that did not load: {broken}"

    colab = page.locator(f'a[href="{COLAB}{chapter}.ipynb"]')
    assert colab.count() >= 1, f"{chapter}: no Colab launch link to {COLAB}{chapter}.ipynb"
    assert not errors, f"{chapter}: script errors: {errors}"
    needed = [u for u in blocked if u.endswith((".js", ".css", ".woff", ".woff2"))]
    assert not needed, f"{chapter}: the page asked the network for {needed}"

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{Path(chapter).name}.png"), full_page=False)
    page.close()


def test_home_page_lists_every_chapter(site, browser):
    page, _, errors = open_offline(browser, f"{site}/book/intro.html")
    hrefs = page.evaluate("() => [...document.querySelectorAll('nav a')].map(a => a.getAttribute('href'))")
    for chapter in chapters():
        name = Path(chapter).name
        assert any(h and h.rstrip("#").endswith(f"{name}.html") for h in hrefs), f"{name} not in navigation"
    assert not errors, errors
    page.close()
