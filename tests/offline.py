"""Serving a folder on 127.0.0.1 and opening pages in Chromium with the network cut off.

Shared by the site test, the widget tests and the Colab-style test (its data mirror):
a page that passes here works offline.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output to the point
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1; yield its base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def open_offline(browser, url: str, viewport: dict | None = None,
                 color_scheme: str = "light", scripts: bool = True):
    """Open ``url`` with every non-local request aborted; return (page, blocked, errors).

    ``scripts=False`` opens it as an untrusted notebook in Jupyter shows it: no JavaScript.
    """
    page = browser.new_page(viewport=viewport or DESKTOP, color_scheme=color_scheme,
                            java_script_enabled=scripts)
    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url.startswith("http://127.0.0.1"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    return page, blocked, errors


def text_without_scripts(browser, url: str, selector: str) -> str:
    """The text of ``selector`` on ``url`` opened with JavaScript off, whitespace collapsed."""
    page, _, _ = open_offline(browser, url, scripts=False)
    try:
        return " ".join(page.locator(selector).inner_text().split())
    finally:
        page.close()
