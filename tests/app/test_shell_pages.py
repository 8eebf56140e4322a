"""AppTest of the shell: the router and the Home, Data, Train, Embeddings and Compare pages.

Every page is rendered through ``app.py`` (navigation + sidebar) with an empty run store and with
a finished digits run (``tests/app/conftest.py``), and the key interactions are exercised.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHELL_PAGES = ("home", "data", "train", "embeddings", "compare")


@pytest.fixture(autouse=True)
def _no_warm_up(monkeypatch) -> None:
    monkeypatch.setenv("ANOMALY_LAB_NO_WARMUP", "1")


def open_page(page: str, run_id: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if run_id:
        at.session_state["run_id"] = run_id
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    if page != "home":
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return " ".join(e.value for e in [*at.info, *at.warning, *at.caption, *at.markdown,
                                      *at.success])


@pytest.mark.parametrize("page", SHELL_PAGES)
def test_every_page_renders_without_runs(empty_runs, page) -> None:
    at = open_page(page)
    assert at.title[0].value == {"home": "Anomaly Lab"}.get(page, page.capitalize())
    if page == "home":  # (AppTest drops the entry script's sidebar after switch_page)
        assert at.sidebar.selectbox(key=at.session_state["sidebar_run_key"]).value == ""
    if page == "embeddings":
        assert "No run selected" in texts(at)
    if page == "compare":
        assert "No saved runs yet" in texts(at)


def test_home_lists_detectors_and_has_quick_start(empty_runs) -> None:
    at = open_page("home")
    assert at.button(key="quickstart")
    assert "Isolation Forest" in texts(at) and "Liu, Ting & Zhou" in texts(at)


def test_url_run_is_restored_into_the_sidebar(finished_run) -> None:
    at = open_page("home", query={"run": finished_run})
    assert at.sidebar.selectbox(key=at.session_state["sidebar_run_key"]).value == finished_run
    assert at.session_state["run_id"] == finished_run


def test_data_page_choices_feed_the_session(empty_runs) -> None:
    at = open_page("data")
    assert at.selectbox(key="data_dataset").value == "mnist5k"
    assert at.get("plotly_chart")  # the sample grid
    at.multiselect(key="data_normal_mnist5k").set_value(["3", "5"]).run()
    assert not at.exception, at.exception
    choice = at.session_state["data_choice"]
    assert choice.normal == ["3", "5"] and "normal = 3 + 5" in texts(at)
    at.selectbox(key="data_dataset").set_value("breast_cancer").run()
    assert not at.exception, at.exception
    assert at.dataframe and at.session_state["data_choice"].dataset == "breast_cancer"
    at.radio(key="data_task").set_value("negatives").run()
    assert not at.exception, at.exception


def test_train_page_starts_a_job_and_lists_it(empty_runs) -> None:
    at = open_page("train")
    assert "No training jobs" in texts(at)
    at.multiselect(key="train_detectors").set_value(["iforest"]).run()
    at.toggle(key="custom-iforest").set_value(True).run()
    assert not at.exception, at.exception
    at.number_input(key="p-iforest-quick-n_estimators").set_value(30).run()
    at.button(key="start").click().run()
    assert not at.exception, at.exception
    jid = at.session_state["jobs"][0]
    from ad_core import services

    snap = services.job(jid, at.session_state["owner"])
    assert snap.spec.params == {"n_estimators": 30} and snap.spec.detector == "iforest"
    t_end = time.time() + 30
    while services.job(jid, at.session_state["owner"]).active and time.time() < t_end:
        time.sleep(0.1)
    at.run()
    assert not at.exception, at.exception
    assert "✅" in texts(at)
    assert at.dataframe  # the finished runs table


def test_train_page_lists_finished_runs(finished_run) -> None:
    at = open_page("train", finished_run)
    assert at.dataframe and at.button(key="start")


def test_embeddings_page_with_a_run(finished_run) -> None:
    at = open_page("embeddings", finished_run)
    assert len(at.get("plotly_chart")) == 1
    assert "lasso" in texts(at)
    at.segmented_control(key="emb_color").set_value("score").run()
    assert not at.exception, at.exception


def test_compare_page_with_runs_and_a_benchmark(finished_run, tmp_path, monkeypatch) -> None:
    from ad_core import results

    rows = [{"dataset": "mnist5k", "normal": str(c), "detector": d, "seed": s, "task":
             "one-vs-rest", "params": {}, "auroc": 0.8 + 0.01 * c + (0.05 if d == "iforest" else 0)}
            for c in range(10) for d in ("iforest", "kde") for s in range(2)]
    (tmp_path / "sweep.json").write_text(json.dumps({"meta": {"title": "test sweep"},
                                                     "rows": rows}))
    monkeypatch.setattr(results, "RESULTS_DIR", tmp_path)
    at = open_page("compare", finished_run)
    assert at.dataframe and len(at.get("plotly_chart")) >= 2  # runs bars + relative AUROC
    assert "Papers' numbers beside ours" in texts(at)
