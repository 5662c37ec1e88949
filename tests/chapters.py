"""The book's chapters in the order of _toc.yml: the one chapter list every test reads."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
_TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
FILES = [ch["file"] for part in _TOC["parts"] for ch in part["chapters"]]
"""Each chapter as _toc.yml names it, e.g. ``book/01_images_as_tensors``."""
CHAPTERS = [ROOT / f"{file}.ipynb" for file in FILES]
"""Each chapter's notebook."""
