"""The Train page's "More detectors" (issue 22): installed PyOD / scikit-learn estimators and the
user's own class are listed, configured from their signatures and trained like any detector."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from ad_core import services  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def wait_done(at, jid: str, timeout: float = 120.0):
    owner = at.session_state["owner"]
    t_end = time.time() + timeout
    while services.job(jid, owner).active and time.time() < t_end:
        time.sleep(0.2)
    return services.job(jid, owner)


def test_an_installed_estimator_is_listed_configured_and_trained(empty_runs) -> None:
    at = open_page("train")
    at.multiselect(key="train_detectors").set_value([]).run()
    at.toggle(key="train_more_list").set_value(True).run()
    assert not at.exception, at.exception
    more = at.multiselect(key="train_more")
    assert "sklearn:IsolationForest" in more.options or any(
        "sklearn:IsolationForest" in str(o) for o in more.options)
    more.set_value(["sklearn:IsolationForest"]).run()
    assert not at.exception, at.exception
    assert any("IsolationForest" in e.label for e in at.expander)
    at.toggle(key="custom-sklearn:IsolationForest").set_value(True).run()
    at.number_input(key="p-sklearn:IsolationForest-quick-n_estimators").set_value(20).run()
    at.button(key="start").click().run()
    assert not at.exception, at.exception
    snap = wait_done(at, at.session_state["jobs"][0])
    assert snap.status == services.DONE and snap.saved, snap.error
    assert snap.spec.detector == "sklearn:IsolationForest"
    assert snap.spec.params == {"n_estimators": 20}
    assert 0.5 < snap.result["auroc"] <= 1.0


def test_your_own_class_trains_and_a_bad_name_is_one_line(empty_runs) -> None:
    at = open_page("train")
    at.multiselect(key="train_detectors").set_value([]).run()
    at.text_input(key="train_own").input("examples.my_detector:Nope").run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and "Nope" in at.error[0].value
    assert at.button(key="start").disabled
    at.text_input(key="train_own").input("examples.my_detector:MyDetector").run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    at.button(key="start").click().run()
    snap = wait_done(at, at.session_state["jobs"][0])
    assert snap.status == services.DONE and snap.saved, snap.error
    assert snap.spec.detector == "examples.my_detector:MyDetector"
