"""AppTest of the Teaching demos page: it renders every demo's figures with no exception."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

PAGE = Path(__file__).resolve().parents[2] / "pages" / "teaching.py"


@pytest.fixture()
def app(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(tmp_path / "runs"))  # no saved runs
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.run()
    return at


def _charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def test_page_renders_all_demos(app: AppTest) -> None:
    assert not app.exception, app.exception
    assert app.title[0].value == "Teaching demos"
    assert len(app.tabs) == 5
    # Toll contours + flow + collapse, LIS-AE two, NeuTraL two at least.
    assert _charts(app) >= 7
    assert any("no saved LIS-AE run" in i.value for i in app.info)


def test_sliders_rerun_without_error(app: AppTest) -> None:
    app.slider(key="toll_beta").set_value(0.5).run()
    assert not app.exception, app.exception
    app.slider(key="lisae_gamma").set_value(12.0).run()
    app.select_slider(key="neutral_tau").set_value(0.5).run()
    assert not app.exception, app.exception
    table = app.dataframe[-1].value if app.dataframe else None
    assert table is not None
