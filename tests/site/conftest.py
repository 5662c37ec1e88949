"""Fixtures for the browser tests: one headless Chromium (Debian's) per session, and the built
site served offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from offline import CHROMIUM, serve

HTML = Path(__file__).resolve().parents[2] / "_build" / "html"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `apt-get install -y chromium`.")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def built_site() -> Iterator[str]:
    """The URL of the built website (``make book``), served from 127.0.0.1."""
    if not (HTML / "index.html").is_file():
        pytest.fail("No built site in _build/html: run `make book` first.")
    with serve(HTML) as url:
        yield url
