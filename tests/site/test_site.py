"""The built website, opened in headless Chromium (Debian's) with no network.

Run after `make book`. Every request that leaves 127.0.0.1 is blocked, so what passes here
renders offline: each chapter page loads without script errors, its math is typeset by the
MathJax served from the build, its figures decode, and it links to Colab.
A screenshot of each chapter lands in _build/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chapters import FILES, ROOT
from offline import PHONE, open_offline

import cnnlib

SHOTS = ROOT / "_build" / "screenshots"
COLAB = f"https://colab.research.google.com/github/{cnnlib.REPO}/blob/main/"


# Visible code boxes whose text is wider than the box: the first line of each.
WIDE_CODE = """() => [...document.querySelectorAll('div.cell_input pre, div.cell_output pre')]
    .filter(pre => pre.checkVisibility() && pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => pre.innerText.split('\\n')[0].slice(0, 60))"""


@pytest.mark.parametrize("chapter", FILES)
def test_chapter_renders_offline_with_math_figures_and_colab_link(built_site, browser, chapter):
    page, blocked, errors = open_offline(browser, f"{built_site}/{chapter}.html")
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

    wide = page.evaluate(WIDE_CODE)
    assert not wide, f"{chapter}: code wider than its box (scrolls sideways): {wide[:3]}"
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    filtered = page.evaluate(
        """() => [...document.querySelectorAll('.cell_output img')]
                  .filter(img => getComputedStyle(img).filter !== 'none').length"""
    )
    assert filtered == 0, f"{chapter}: dark mode alters {filtered} output images"

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.documentElement.dataset.theme = 'light'")
    page.screenshot(path=str(SHOTS / f"{Path(chapter).name}.png"), full_page=False)
    page.close()


def test_home_page_lists_every_chapter(built_site, browser):
    page, _, errors = open_offline(browser, f"{built_site}/book/intro.html")
    hrefs = page.evaluate("() => [...document.querySelectorAll('nav a')].map(a => a.getAttribute('href'))")
    for chapter in FILES:
        name = Path(chapter).name
        assert any(h and h.rstrip("#").endswith(f"{name}.html") for h in hrefs), f"{name} not in navigation"
    mathjax = page.locator('script[src*="mathjax"]').count()
    assert mathjax == 0, "the home page has no formula but loads MathJax"
    assert not errors, errors
    page.close()


@pytest.mark.parametrize("chapter", FILES)
def test_chapter_reads_well_on_a_phone(built_site, browser, chapter):
    """At 390 px: the menu opens with every chapter, nothing scrolls sideways, no test
    markers show, figures are described, and exercise solutions stay closed until opened."""
    page, _, errors = open_offline(browser, f"{built_site}/{chapter}.html", viewport=PHONE)
    scroll, client = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"{chapter}: the page is {scroll} px wide on a {client} px screen"
    wide = page.evaluate(WIDE_CODE)
    assert not wide, f"{chapter}: code wider than its box: {wide[:3]}"
    text = page.evaluate("() => document.body.innerText")
    assert "NBVAL" not in text and "noqa" not in text, f"{chapter}: test markers on the page"

    alts = page.evaluate("() => [...document.querySelectorAll('.cell_output img')].map(i => i.alt)")
    vague = [a for a in alts if len(a.split()) < 4 or a.endswith((".png", ".jpg"))]
    assert alts and not vague, f"{chapter}: figures without a description: {vague[:3]}"

    solutions = page.locator(".tag_hide-cell")
    assert solutions.count() >= 3, f"{chapter}: fewer than 3 collapsed solutions"
    shown = page.evaluate(
        """() => [...document.querySelectorAll('.tag_hide-cell .cell_output')]
                  .filter(o => o.checkVisibility()).length""")
    assert shown == 0, f"{chapter}: {shown} solution outputs visible before they are opened"
    first = solutions.first
    first.locator("summary").first.click()
    assert first.locator(".cell_input pre").first.is_visible(), f"{chapter}: a solution does not open"

    links = """() => [...document.querySelectorAll('.bd-sidebar-primary nav a')]
                 .filter(a => a.offsetParent !== null && a.getBoundingClientRect().right > 0)
                 .map(a => a.classList.contains('current') || a.getAttribute('href') === '#'
                           ? location.pathname : a.getAttribute('href'))"""
    assert not page.evaluate(links), f"{chapter}: the chapter list shows before the menu opens"
    page.locator("button.primary-toggle").first.click()
    page.wait_for_timeout(300)
    shown_links = page.evaluate(links)
    for name in (Path(c).name for c in FILES):
        assert any(h and h.split("#")[0].endswith(f"{name}.html") for h in shown_links), (
            f"{chapter}: the phone menu does not list {name}")
    assert not errors, f"{chapter}: script errors: {errors}"
    page.close()


def test_screenshots_of_a_chapter_on_a_phone_and_a_desktop_in_both_themes(built_site, browser):
    chapter = "book/03_stride_padding"
    SHOTS.mkdir(parents=True, exist_ok=True)
    for device, viewport in (("phone", PHONE), ("desktop", None)):
        for theme in ("light", "dark"):
            page, _, errors = open_offline(browser, f"{built_site}/{chapter}.html", viewport=viewport,
                                           color_scheme=theme)
            page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
            page.locator(".cell_output img").first.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / f"{device}-{theme}.png"))
            assert not errors, errors
            page.close()
