"""Sphinx extension: drop repeated <script> tags from each page.

sphinx-thebe 0.3.1 registers its inline configuration script on every env-before-read-docs
event, and under Sphinx 7 it ends up twice in each page; the second copy throws
"Identifier 'THEBE_JS_URL' has already been declared". Keeping the first copy of each
script fixes the page without touching the packages.
"""

from __future__ import annotations


def _dedupe(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (getattr(script, "filename", str(script)) or "",  # inline scripts: None or ""
               tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
