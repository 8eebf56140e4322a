"""AppTest of the Compare page's sweeps tab: a sweep run by the sweep runner (the CLI's
``bench`` path) is listed with its status, per-class table and relative-AUROC chart; an
unfinished sweep with a failed cell says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from ad_core import results

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_warm_up(monkeypatch) -> None:
    monkeypatch.setenv("ANOMALY_LAB_NO_WARMUP", "1")


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """A results folder with one real sweep (digits, iforest + ocsvm, 2 classes × 2 seeds) and
    one interrupted sweep with a failed cell."""
    from ad_core import sweep as S
    from ad_core.bench import run_grid

    out = tmp_path_factory.mktemp("sweeps")
    run_grid(dataset="digits", detectors=["iforest", "ocsvm"], classes="0,1", seeds=2,
             name="cli_sweep", options=S.SweepOptions(workers=1, progress=False), out_dir=out,
             quiet=True)
    partial = json.loads((out / "cli_sweep.json").read_text())
    partial["rows"] = partial["rows"][:3]
    partial["meta"].update(title="interrupted sweep", date="1999-01-01 00:00", sweep={
        "engine": "ray", "cells": 8, "done": 3, "resumed": 0, "ran": 4, "complete": False,
        "failed": [{"cell": "digits 1 ocsvm seed 0", "error": "ValueError: boom"}],
        "wall_seconds": 2.0})
    (out / "partial.json").write_text(json.dumps(partial))
    return out


def compare_page(sweep_dir: Path, monkeypatch) -> AppTest:

    monkeypatch.setattr(results, "RESULTS_DIR", sweep_dir)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    return at


def test_sweep_from_the_runner_is_listed_with_table_and_relative_chart(empty_runs, sweep_dir,
                                                                       monkeypatch):

    sweeps = results.list_sweeps(sweep_dir)
    assert [s.name for s in sweeps] == ["cli_sweep", "partial"]  # newest first
    assert sweeps[0].status["complete"] and sweeps[0].status["cells"] == 8
    at = compare_page(sweep_dir, monkeypatch)
    pick = at.selectbox(key="sweep_pick")
    assert pick.value == "cli_sweep" and "8 cells, local" in pick.format_func(pick.value)
    table = next(d.value for d in at.dataframe if "iforest" in d.value.columns)
    assert list(table.index) == ["0", "1", "average"] and "ocsvm" in table.columns
    assert any(c.key == "rel-cli_sweep-iforest" for c in at.get("plotly_chart"))
    assert [m.value for m in at.metric][:3] == ["8 / 8", "0", "local"]


def test_unfinished_sweep_with_a_failed_cell_says_so(empty_runs, sweep_dir, monkeypatch):
    at = compare_page(sweep_dir, monkeypatch)
    at.selectbox(key="sweep_pick").set_value("partial").run()
    assert not at.exception, at.exception
    assert "3/8 cells, 1 failed, ray" in at.selectbox(key="sweep_pick").format_func("partial")
    warning = " ".join(w.value for w in at.warning)
    assert "1 cell(s) failed" in warning and "digits 1 ocsvm seed 0: ValueError: boom" in warning
    assert at.dataframe  # the finished cells' table is still shown
