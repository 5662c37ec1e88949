"""Execute chapter notebooks: refresh their stored outputs, or time them.

    python scripts/run_notebooks.py --inplace book/02_kernels.ipynb   # make execute
    python scripts/run_notebooks.py --bench bench book/*.ipynb        # make bench

Each notebook runs in a fresh kernel with the notebook's folder as working directory, as
nbval and Colab run it. ``--bench DIR`` writes ``DIR/<mode>.md``, a table of seconds per
notebook, without touching the notebooks.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

from cnnlib import config


def execute(path: Path, timeout: int) -> tuple[nbformat.NotebookNode, float]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def machine() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU, {os.cpu_count()} cores ({platform.machine()})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--inplace", action="store_true", help="store the new outputs")
    parser.add_argument("--bench", type=Path, metavar="DIR", help="write DIR/<mode>.md")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    args = parser.parse_args()
    if not (args.inplace or args.bench):
        parser.error("say --inplace (store outputs) or --bench DIR (time them), or both")

    rows = []
    for path in args.notebooks:
        print(f"executing {path} ({config.mode()} mode) ...", flush=True)
        nb, seconds = execute(path, args.timeout)
        print(f"  {seconds:.1f} s", flush=True)
        rows.append((path.name, seconds))
        if args.inplace:
            nbformat.write(nb, path)

    if args.bench:
        args.bench.mkdir(parents=True, exist_ok=True)
        out = args.bench / f"{config.mode()}.md"
        lines = [
            f"Notebook execution times, {config.mode()} mode, {machine()}, "
            f"torch {torch.__version__.split('+')[0]}, {date.today().isoformat()}.",
            "",
            "| notebook | mode | seconds |",
            "|---|---|---:|",
            *(f"| {name} | {config.mode()} | {s:.1f} |" for name, s in rows),
            f"| **total** | {config.mode()} | **{sum(s for _, s in rows):.1f}** |",
        ]
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
