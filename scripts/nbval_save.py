"""pytest plugin: keep the notebooks that nbval executes, with this run's outputs, and time them.

nbval runs a notebook cell by cell, checks it, and keeps nothing. The GPU run (scripts/
gpu_full_run.sh) must both check the chapters and bring their executed notebooks back, in one
execution, since the lease is short. Loaded with ``-p nbval_save`` (scripts/ on PYTHONPATH)
and ``NBVAL_SAVE_DIR=DIR`` set, this plugin writes, after every cell (so a run cut short still
returns what ran):

- ``DIR/<notebook>.ipynb``: the notebook with this run's outputs and execution counts;
- ``DIR/<notebook>.json``: seconds from kernel start to the last cell, cells run, failed cells.

Outputs are rebuilt from the kernel's messages the way nbclient (``make execute``) builds them:
one output per message, in order, ``clear_output`` honoured, consecutive printed text
joined. nbval's own copy is not used: it
merges all of a cell's printed text into one output placed first, which would move text printed
after a figure above it. ``python scripts/nbval_save.py summarize DIR`` prints the timing table.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

SAVE_DIR = "NBVAL_SAVE_DIR"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def outputs_from_messages(messages: list[dict]) -> list:
    """The outputs nbclient would store for a cell that sent these iopub messages."""
    from nbformat.v4 import output_from_msg

    outputs: list = []
    clear_before_next = False
    for msg in messages:
        kind = msg["msg_type"]
        if kind == "clear_output":
            if msg["content"].get("wait"):
                clear_before_next = True
            else:
                outputs.clear()
            continue
        if kind not in ("stream", "display_data", "execute_result", "error"):
            continue
        if clear_before_next:
            outputs.clear()
            clear_before_next = False
        out = output_from_msg(msg)
        last = outputs[-1] if outputs else None
        if (kind == "stream" and last is not None and last.output_type == "stream"
                and last.name == out.name):
            last.text += out.text  # the kernel's flush timing splits text; a reader sees one
        else:
            outputs.append(out)
    return outputs


def _patch_nbval() -> None:
    """Record each cell's message id and every iopub message nbval reads (nbval 0.11)."""
    from nbval.kernel import RunningKernel
    from nbval.plugin import IPyNbFile

    execute = RunningKernel.execute_cell_input
    get_message = IPyNbFile.get_kernel_message

    def execute_cell_input(self, cell_input, allow_stdin=None):
        self.nbval_save_msg_id = execute(self, cell_input, allow_stdin=allow_stdin)
        return self.nbval_save_msg_id

    def get_kernel_message(self, timeout=None, stream="iopub"):
        msg = get_message(self, timeout=timeout, stream=stream)
        if stream == "iopub":
            self.__dict__.setdefault("nbval_save_messages", []).append(msg)
        return msg

    RunningKernel.execute_cell_input = execute_cell_input
    IPyNbFile.get_kernel_message = get_kernel_message


class _Notebook:
    """The copy being filled for one notebook file."""

    def __init__(self, collector) -> None:
        self.path = Path(str(collector.fspath))
        self.nb = copy.deepcopy(collector.nb)
        info = self.nb.metadata.get("language_info")
        if info is not None:  # --nbval-current-env: the kernel runs this interpreter
            info["version"] = ".".join(map(str, sys.version_info[:3]))
        self.code = [c for c in self.nb.cells if c.cell_type == "code"]
        self.start = time.time()
        self.end = self.start
        self.count = 0
        self.ran = 0
        self.failed: list[dict] = []

    def save(self, folder: Path) -> None:
        import nbformat

        nbformat.write(self.nb, folder / self.path.name)
        summary = {"notebook": self.path.name, "seconds": round(self.end - self.start, 1),
                   "cells_run": self.ran, "code_cells": len(self.code), "failed": self.failed}
        (folder / f"{self.path.stem}.json").write_text(json.dumps(summary, indent=1) + "\n")


_NOTEBOOKS: dict[str, _Notebook] = {}


def _is_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell" and hasattr(item.parent, "nb")


def pytest_configure(config) -> None:
    if os.environ.get(SAVE_DIR):
        Path(os.environ[SAVE_DIR]).mkdir(parents=True, exist_ok=True)
        _patch_nbval()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    if os.environ.get(SAVE_DIR) and _is_cell(item) and item.parent.nodeid not in _NOTEBOOKS:
        _NOTEBOOKS[item.parent.nodeid] = _Notebook(item.parent)  # before nbval starts the kernel
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if not (os.environ.get(SAVE_DIR) and _is_cell(item)):
        yield
        return
    collector = item.parent
    collector.__dict__["nbval_save_messages"] = []
    started = time.time()
    outcome = yield
    record = _NOTEBOOKS[collector.nodeid]
    record.end = time.time()
    cell = record.code[item.cell_num]
    record.count += 1
    cell.execution_count = record.count
    if not item.options["skip"]:
        msg_id = getattr(collector.kernel, "nbval_save_msg_id", None)
        mine = [m for m in collector.__dict__.get("nbval_save_messages", [])
                if m["parent_header"].get("msg_id") == msg_id]
        cell.outputs = outputs_from_messages(mine)
        for out in cell.outputs:
            if out.output_type == "execute_result":
                out.execution_count = record.count
        cell.metadata["execution"] = {"iopub.execute_input": _iso(started),
                                      "shell.execute_reply": _iso(record.end)}
        record.ran += 1
    if outcome.excinfo is not None and not issubclass(outcome.excinfo[0], pytest.skip.Exception):
        message = str(outcome.excinfo[1]).strip().splitlines()
        record.failed.append({"cell": item.cell_num, "error": message[0] if message else ""})
    record.save(Path(os.environ[SAVE_DIR]))


def summarize(folder: Path) -> str:
    """A Markdown table of the per-notebook JSON files in ``folder``."""
    rows = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    lines = ["| notebook | seconds | cells run | failed cells |", "|---|---:|---:|---|"]
    for row in rows:
        failed = ", ".join(str(f["cell"]) for f in row["failed"]) or "none"
        lines.append(f"| {row['notebook']} | {row['seconds']:.1f} | "
                     f"{row['cells_run']}/{row['code_cells']} | {failed} |")
    total = sum(row["seconds"] for row in rows)
    lines.append(f"| **sum** | **{total:.1f}** | | |")
    for row in rows:
        for f in row["failed"]:
            lines.append(f"\n{row['notebook']} cell {f['cell']}: {f['error']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "summarize":
        sys.exit("usage: python scripts/nbval_save.py summarize DIR")
    print(summarize(Path(sys.argv[2])), end="")
