"""The sweep runner (ad_core.sweep): results in cell order, failures reported not fatal, resume
after a kill (only the missing cells run), the CLI's engine flags, and without Ray installed one
clear line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ad_core import sweep as S
from ad_core.bench import grid_table, run_grid
from ad_core.data.base import REPO_ROOT

ONE = S.SweepOptions(workers=1, cpus_per_cell=1, progress=False)


def square_cell(cell: dict) -> dict:
    """A trivial cell function (module level, so worker processes can import it)."""
    if cell["x"] == 3:
        raise ValueError("three is not allowed")
    return {"x": cell["x"], "y": cell["x"] ** 2}


def test_results_in_cell_order_and_failures_reported_not_fatal(capsys):
    cells = [{"x": i} for i in range(6)]
    res = S.run_sweep(cells, square_cell, options=ONE)
    assert [r and r["y"] for r in res.results] == [0, 1, 4, None, 16, 25]
    assert len(res.failures) == 1 and res.failures[0].index == 3
    assert "ValueError: three is not allowed" in res.failures[0].error
    assert not res.complete and res.status()["done"] == 5
    err = capsys.readouterr().err
    assert "1 of 6 cells failed" in err and "three is not allowed" in err


def test_named_sweep_retries_only_failed_cells_and_clears_its_store_when_complete(runs_dir):
    cells = [{"x": i} for i in range(5)]
    first = S.run_sweep(cells, square_cell, name="t-retry", options=ONE)
    store = S.store_path("t-retry")
    assert store.parent == runs_dir / "sweeps" and len(S.read_store(store)) == 4
    second = S.run_sweep(cells[:3] + [{"x": 30}, cells[4]], square_cell, name="t-retry",
                         options=ONE)
    assert second.resumed == 4 and second.ran == 1  # only x=30 (replacing the failed x=3) runs
    assert second.complete and not store.exists()
    assert [r["y"] for r in second.results] == [0, 1, 4, 900, 16]
    assert first.results[4] == second.results[4]


def test_keep_cells_keeps_a_complete_sweep_so_a_rerun_reuses_it(runs_dir):
    keep = S.SweepOptions(workers=1, cpus_per_cell=1, progress=False, keep=True)
    cells = [{"x": i} for i in (1, 2)]
    first = S.run_sweep(cells, square_cell, name="t-keep", options=keep)
    assert first.complete and S.store_path("t-keep").exists()
    again = S.run_sweep(cells + [{"x": 4}], square_cell, name="t-keep", options=keep)
    assert again.resumed == 2 and again.ran == 1
    assert [r["y"] for r in again.results] == [1, 4, 16]
    args = S.options_from_args(_parse(["--keep-cells"]))
    assert args.keep and not S.options_from_args(_parse([])).keep


def test_a_cells_key_carries_the_code_it_ran_so_kept_cells_of_other_code_are_not_reused(
        runs_dir, monkeypatch):
    """Issue 18: the key includes the code fingerprint (the cell function's module closure, plus
    the detector's method fingerprint); --keep-cells never reuses a cell of other code, and the
    store records each cell's fingerprint, finish time and compute seconds."""
    from ad_core import runkey

    cell = {"x": 2, "detector": "iforest"}
    base = S.cell_key(square_cell, cell)
    assert base == S.cell_key(square_cell, dict(cell))  # stable
    real_method = runkey.method_fingerprint
    monkeypatch.setattr(runkey, "method_fingerprint", lambda d: "other-method-code")
    assert S.cell_key(square_cell, cell) != base  # the detector's code changed
    monkeypatch.setattr(runkey, "method_fingerprint", real_method)
    assert S.cell_key(square_cell, cell) == base
    real_code = runkey.code_fingerprint
    monkeypatch.setattr(runkey, "code_fingerprint", lambda *m: "other-module-code")
    assert S.cell_key(square_cell, cell) != base  # the cell function's modules changed
    monkeypatch.setattr(runkey, "code_fingerprint", real_code)
    # the fidelity cell function's fingerprint covers its ad_core import closure
    from ad_core.benchmarks.fidelity_cells import fidelity_cell

    assert "ad_core.experiment" in runkey.module_closure(S.fn_module(fidelity_cell))

    keep = S.SweepOptions(workers=1, cpus_per_cell=1, progress=False, keep=True)
    cells = [{"x": 1}, {"x": 2}]
    first = S.run_sweep(cells, square_cell, name="t-code", options=keep)
    recs = list(S.read_store(S.store_path("t-code")).values())
    assert all(r["code"] and r["finished"] > 0 and r["seconds"] >= 0 for r in recs)
    assert all(p and not p["resumed"] and p["code"] for p in first.provenance)
    same = S.run_sweep(cells, square_cell, name="t-code", options=keep)
    assert same.resumed == 2 and same.ran == 0 and all(p["resumed"] for p in same.provenance)
    monkeypatch.setattr(runkey, "code_fingerprint", lambda *m: "edited")
    other = S.run_sweep(cells, square_cell, name="t-code", options=keep)
    assert other.resumed == 0 and other.ran == 2  # computed by other code: recomputed
    # run_missing=False computes nothing and leaves the store alone
    monkeypatch.setattr(runkey, "code_fingerprint", lambda *m: "edited again")
    read = S.run_sweep(cells, square_cell, name="t-code",
                       options=S.SweepOptions(workers=1, progress=False, run_missing=False))
    assert read.skipped == 2 and read.ran == 0 and read.results == [None, None]
    assert S.store_path("t-code").exists()


def test_a_cell_is_stored_under_the_code_that_actually_ran_it(runs_dir, monkeypatch):
    """The tree changed between making the keys and running the cell (another engineer's edit):
    the cell is stored under the fingerprint its worker read, so it is never reused as a cell
    of the code the keys were made from."""
    calls = {"n": 0}

    def drifting(fn, cell):
        calls["n"] += 1
        return "before" if calls["n"] <= 2 else "after"  # 2 keys, then the cells run

    monkeypatch.setattr(S, "cell_code", drifting)
    keep = S.SweepOptions(workers=1, cpus_per_cell=1, progress=False, keep=True)
    res = S.run_sweep([{"x": 1}, {"x": 2}], square_cell, name="t-drift", options=keep)
    assert [p["code"] for p in res.provenance] == ["after", "after"]
    recs = S.read_store(S.store_path("t-drift"))
    assert {r["code"] for r in recs.values()} == {"after"}
    assert set(recs) == {S.cell_key(square_cell, {"x": x}, "after") for x in (1, 2)}
    monkeypatch.setattr(S, "cell_code", lambda fn, cell: "before")
    again = S.run_sweep([{"x": 1}, {"x": 2}], square_cell, name="t-drift", options=keep)
    assert again.resumed == 0 and again.ran == 2


def _parse(argv: list[str]):
    import argparse

    ap = argparse.ArgumentParser()
    S.add_engine_args(ap)
    return ap.parse_args(argv)


def test_engine_options_are_checked():
    with pytest.raises(S.UserError, match="apply to --engine ray"):
        S.SweepOptions(gpus_per_cell=1).validate()
    with pytest.raises(S.UserError, match="Unknown engine"):
        S.SweepOptions(engine="dask").validate()
    assert S.SweepOptions(engine="ray").threads(10) == 1
    assert S.SweepOptions(workers=2, cpus_per_cell=3).threads(10) == 3


def test_engine_ray_without_ray_is_one_clear_line(monkeypatch, capsys):
    from ad_core.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray → ImportError
    assert main(["bench", "--dataset", "digits", "--detector", "iforest", "--classes", "0",
                 "--seeds", "1", "--engine", "ray"]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip() and "cell/s" not in ln
           and "%|" not in ln]
    assert err == [f"error: {S.RAY_MISSING}"]


GRID = ["bench", "--dataset", "digits", "--detector", "iforest", "--classes", "0,1,2,3,4",
        "--seeds", "2",
        "--param", "n_estimators=40", "--workers", "1", "--name", "resume-test"]


def test_resume_after_kill_runs_only_the_missing_cells(tmp_path, runs_dir):
    """Kill a running ``bench`` (its whole process group) after a few cells, rerun the same
    command: the finished cells come from the store, only the others run, same table as a run
    that was never interrupted."""
    store = S.store_path("resume-test")
    store.unlink(missing_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    cmd = [sys.executable, "-m", "ad_core", *GRID, "--out", str(tmp_path)]
    p = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(S.read_store(store)) < 2 and p.poll() is None:
        time.sleep(0.02)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    first = S.read_store(store)
    assert 2 <= len(first) < 10, "the grid (5 classes × 2 seeds) should be killed mid-way"
    partial = json.loads((tmp_path / "resume-test.json").read_text())
    assert partial["meta"]["sweep"]["complete"] is False

    p2 = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p2.returncode == 0, p2.stderr
    assert f"{len(first)} of 10 cells already done" in p2.stderr
    assert not store.exists()  # complete: the store is cleared
    data = json.loads((tmp_path / "resume-test.json").read_text())
    st = data["meta"]["sweep"]
    assert st == {**st, "cells": 10, "done": 10, "resumed": len(first), "ran": 10 - len(first),
                  "complete": True, "failed": []}
    fresh = run_grid(dataset="digits", detectors=["iforest"], classes="0,1,2,3,4", seeds=2,
                     params={"n_estimators": "40"}, name="resume-fresh", options=ONE,
                     out_dir=tmp_path, quiet=True)
    table = grid_table(data["rows"]).split("\n\nTime")[0]
    assert table == grid_table(fresh.sweep.rows).split("\n\nTime")[0]
    assert table in p2.stdout
