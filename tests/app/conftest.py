"""Fixtures for the app's AppTests: a finished run on ``digits`` in a throw-away run store.

``finished_run`` points ``ANOMALY_LAB_RUNS`` at a folder holding one complete run made by the real
pipeline (``ad_core.experiment.run_experiment``: Isolation Forest, digits, normal class 0) and
returns its id; the run is made once per test session. ``empty_runs`` points it at an empty
folder (the "no run yet" state).
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def finished_run_store(tmp_path_factory) -> tuple[Path, str]:
    """(run store folder, run id) of one finished digits run, created once."""
    from ad_core.experiment import ExperimentSpec, run_experiment

    root = tmp_path_factory.mktemp("app-runs")
    res = run_experiment(ExperimentSpec("digits", ["0"], "iforest", explain_n=40, embed_n=400),
                         root=root)
    return root, res.run_id


@pytest.fixture()
def finished_run(finished_run_store, monkeypatch) -> str:
    """The id of a finished digits run; ``ANOMALY_LAB_RUNS`` points at its store."""
    root, rid = finished_run_store
    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(root))
    return rid


@pytest.fixture()
def empty_runs(tmp_path, monkeypatch) -> Path:
    """An empty run store (``ANOMALY_LAB_RUNS``)."""
    root = tmp_path / "runs"
    root.mkdir()
    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(root))
    return root
