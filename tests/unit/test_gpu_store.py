"""scripts/store_gpu_outputs.py: what a GPU run brings back is stored only if it is clean."""

from __future__ import annotations

import copy
import importlib.util
import io
import json
import tarfile
from pathlib import Path

import pytest
from chapters import ROOT

spec = importlib.util.spec_from_file_location("store_gpu_outputs",
                                              ROOT / "scripts" / "store_gpu_outputs.py")
store = importlib.util.module_from_spec(spec)
spec.loader.exec_module(store)

SANITIZE = store.read_sanitize(ROOT / "nbval_sanitize.cfg")


def stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def figure() -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}}


def code(source: str, outputs: list[dict], count: int, tags=()) -> dict:
    return {"cell_type": "code", "source": source, "execution_count": count,
            "metadata": {"tags": list(tags)}, "outputs": outputs}


def quick_notebook() -> dict:
    """A stored chapter: a checked cell, a training cell, a figure."""
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# A chapter"},
        code("print(shape)", [stream("torch.Size([1, 8, 14, 14]) in 0.3 s\n")], 1,
             tags=["nbval-check-output"]),
        code("train()", [stream("quick mode: 91.20% after 1 epoch\n")], 2),
        code("plot()", [figure()], 3),
    ]}


def full_run(stored: dict) -> dict:
    """The same chapter as a clean full-mode run returns it."""
    nb = copy.deepcopy(stored)
    nb["cells"][1]["outputs"] = [stream("torch.Size([1, 8, 14, 14]) in 0.01 s\n")]  # time: sanitized
    nb["cells"][2]["outputs"] = [stream("full mode: 99.10% after 3 epochs\n")]
    return nb


SUMMARY = {"notebook": "01_x.ipynb", "seconds": 12.0, "cells_run": 3, "code_cells": 3,
           "failed": []}


def test_a_clean_full_run_is_accepted():
    stored = quick_notebook()
    assert store.problems(full_run(stored), stored, SUMMARY, SANITIZE) == []


def test_an_error_output_is_rejected():
    stored = quick_notebook()
    run = full_run(stored)
    run["cells"][2]["outputs"] = [{"output_type": "error", "ename": "RuntimeError",
                                   "evalue": "CUDA out of memory", "traceback": []}]
    assert any("error output: RuntimeError" in p for p in store.problems(run, stored, SUMMARY, SANITIZE))


def test_a_machine_path_in_an_output_is_rejected():
    stored = quick_notebook()
    run = full_run(stored)
    run["cells"][2]["outputs"].append(
        {"output_type": "stream", "name": "stderr",
         "text": "/opt/torch/.venv/lib/python3.12/site-packages/x.py:3: UserWarning\n"})
    assert any("machine path" in p for p in store.problems(run, stored, SUMMARY, SANITIZE))


def test_a_changed_checked_cell_is_rejected_but_an_unchecked_one_may_change():
    stored = quick_notebook()
    run = full_run(stored)
    run["cells"][1]["outputs"] = [stream("torch.Size([1, 8, 13, 13]) in 0.01 s\n")]
    found = store.problems(run, stored, SUMMARY, SANITIZE)
    assert found == ["code cell 0 is checked by nbval and its output changed"]


def test_a_lost_figure_and_a_run_cut_short_are_rejected():
    stored = quick_notebook()
    run = full_run(stored)
    run["cells"][3]["outputs"] = []
    found = store.problems(run, stored, {**SUMMARY, "cells_run": 2}, SANITIZE)
    assert "the run reached 2 of 3 code cells" in found
    assert "code cell 2 showed a figure before and shows none now" in found


def test_a_run_of_another_version_of_the_chapter_is_rejected():
    stored = quick_notebook()
    run = full_run(stored)
    run["cells"][2]["source"] = "train(epochs=9)"
    assert "differ from the stored notebook" in store.problems(run, stored, SUMMARY, SANITIZE)[0]


def write_archive(path: Path, notebooks: dict[str, dict]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, nb in notebooks.items():
            for suffix, payload in ((".ipynb", nb), (".json", SUMMARY)):
                data = json.dumps(payload).encode()
                info = tarfile.TarInfo(f"gpu_run/executed/{name}{suffix}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def test_main_stores_passing_notebooks_and_leaves_rejected_ones(tmp_path, capsys):
    book = tmp_path / "book"
    book.mkdir()
    stored = quick_notebook()
    for name in ("01_x", "02_y"):
        (book / f"{name}.ipynb").write_text(json.dumps(stored))
    bad = full_run(stored)
    bad["cells"][2]["outputs"] = [{"output_type": "error", "ename": "E", "evalue": "", "traceback": []}]
    write_archive(tmp_path / "gpu_run.tar.gz", {"01_x": full_run(stored), "02_y": bad})

    status = store.main([str(tmp_path), "--book", str(book)])

    assert status == 1
    assert json.loads((book / "01_x.ipynb").read_text()) == full_run(stored)
    assert json.loads((book / "02_y.ipynb").read_text()) == stored
    assert "REJECT 02_y.ipynb" in capsys.readouterr().out


def test_split_archive_parts_are_joined(tmp_path):
    write_archive(tmp_path / "whole.tar.gz", {"01_x": quick_notebook()})
    data = (tmp_path / "whole.tar.gz").read_bytes()
    parts = tmp_path / "back"
    parts.mkdir()
    (parts / "gpu_run.tar.gz.part00").write_bytes(data[:100])
    (parts / "gpu_run.tar.gz.part01").write_bytes(data[100:])
    executed = store.unpack(parts, tmp_path / "unpacked")
    assert sorted(p.name for p in executed.iterdir()) == ["01_x.ipynb", "01_x.json"]


def test_a_folder_without_a_run_names_what_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="gpu_full_run.sh"):
        store.unpack(tmp_path, tmp_path / "unpacked")
