"""scripts/nbval_save.py: the executed notebooks of a GPU run keep their outputs in order."""

from __future__ import annotations

import importlib.util
import json

from chapters import ROOT

spec = importlib.util.spec_from_file_location("nbval_save", ROOT / "scripts" / "nbval_save.py")
nbval_save = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nbval_save)


def msg(kind: str, **content) -> dict:
    return {"msg_type": kind, "header": {"msg_type": kind}, "content": content,
            "parent_header": {"msg_id": "cell"}}


def figure() -> dict:
    return msg("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
               metadata={})


def test_text_printed_after_a_figure_stays_after_it():
    outputs = nbval_save.outputs_from_messages([
        msg("stream", name="stdout", text="before\n"),
        figure(),
        msg("stream", name="stdout", text="after\n"),
    ])
    assert [o.output_type for o in outputs] == ["stream", "display_data", "stream"]
    assert [o.get("text") for o in outputs] == ["before\n", None, "after\n"]


def test_consecutive_text_of_one_stream_is_joined_and_other_streams_kept_apart():
    outputs = nbval_save.outputs_from_messages([
        msg("stream", name="stdout", text="epoch 1\n"),
        msg("stream", name="stdout", text="epoch 2\n"),
        msg("stream", name="stderr", text="a warning\n"),
        msg("status", execution_state="idle"),
    ])
    assert [(o.name, o.text) for o in outputs] == [("stdout", "epoch 1\nepoch 2\n"),
                                                   ("stderr", "a warning\n")]


def test_clear_output_with_wait_clears_at_the_next_output():
    outputs = nbval_save.outputs_from_messages([
        figure(),
        msg("clear_output", wait=True),
        msg("stream", name="stdout", text="final\n"),
    ])
    assert [o.output_type for o in outputs] == ["stream"]


def test_errors_are_kept_so_the_store_step_can_reject_them():
    outputs = nbval_save.outputs_from_messages([
        msg("error", ename="RuntimeError", evalue="CUDA error", traceback=["..."]),
    ])
    assert outputs[0].output_type == "error" and outputs[0].ename == "RuntimeError"


def test_summary_table_lists_each_notebook_and_its_failed_cells(tmp_path):
    for name, failed in (("01_a", []), ("02_b", [{"cell": 7, "error": "Cell outputs differ"}])):
        (tmp_path / f"{name}.json").write_text(json.dumps(
            {"notebook": f"{name}.ipynb", "seconds": 12.5, "cells_run": 9, "code_cells": 9,
             "failed": failed}))
    table = nbval_save.summarize(tmp_path)
    assert "| 01_a.ipynb | 12.5 | 9/9 | none |" in table
    assert "| 02_b.ipynb | 12.5 | 9/9 | 7 |" in table
    assert "| **sum** | **25.0** |" in table
    assert "02_b.ipynb cell 7: Cell outputs differ" in table
