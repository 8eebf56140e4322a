"""A deep link to one of two runs of the same experiment (same title in the sidebar) opens that
run, not its twin: Streamlit matches a selectbox value by its label, so labels must be unique."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_a_deep_link_opens_the_linked_twin(tmp_path, monkeypatch) -> None:
    from ad_core.experiment import ExperimentSpec, run_experiment

    spec = ExperimentSpec("digits", ["0"], "iforest", explain_n=10, embed_n=50)
    first = run_experiment(spec, root=tmp_path).run_id
    second = run_experiment(spec, root=tmp_path).run_id
    assert first != second
    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(tmp_path))
    from ad_core import jobs

    # a job manager of its own, on this run store, dropped afterwards (the process-wide one of
    # other tests is put back by monkeypatch)
    monkeypatch.setattr(jobs, "_MANAGER", None)
    try:
        check_links(first, second)
    finally:
        if jobs._MANAGER is not None:
            jobs._MANAGER.shutdown()


def check_links(*run_ids: str) -> None:
    for rid in run_ids:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.query_params["run"] = rid
        at.run()
        at.switch_page("pages/scores.py").run()
        assert not at.exception, at.exception
        assert at.session_state["run_id"] == rid
