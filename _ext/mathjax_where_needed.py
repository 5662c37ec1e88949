"""Sphinx extension: load MathJax (1.2 MB) only on pages that have math.

myst-nb sets Sphinx's HTML assets policy to "always", so MathJax is added to every page,
including the home page, which has no formula. Notebook pages keep it (their outputs may hold
LaTeX that Sphinx does not see as math nodes); a Markdown page without math drops it.
"""

from __future__ import annotations

from docutils import nodes


def _drop_unused_mathjax(app, pagename, templatename, context, doctree) -> None:
    if doctree is None or not context.get("script_files"):
        return
    source = app.env.doc2path(pagename, base=False)
    if str(source).endswith(".ipynb"):
        return
    if any(doctree.findall(nodes.math)) or any(doctree.findall(nodes.math_block)):
        return
    context["script_files"] = [s for s in context["script_files"]
                               if "mathjax" not in (getattr(s, "filename", "") or "")]


def setup(app):
    app.connect("html-page-context", _drop_unused_mathjax, priority=950)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
