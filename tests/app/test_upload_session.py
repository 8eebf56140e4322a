"""AppTest of uploads on a shared server (issue 17): the Data page names an upload by the file the
user gave (never its path on the server), and another browser session can neither list nor open
it, even with its dataset name."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WINE = ("x1,x2,label\n" + "".join(f"{i % 13},{(i * 7) % 11},{i % 2}\n" for i in range(60))).encode()


@pytest.fixture()
def data(tmp_path, monkeypatch, empty_runs) -> Path:
    """A fresh data folder (``ANOMALY_LAB_DATA``), an empty run store, no warm-up."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("ANOMALY_LAB_DATA", str(d))
    monkeypatch.setenv("ANOMALY_LAB_NO_WARMUP", "1")
    return d


def data_page(state: dict | None = None) -> AppTest:
    """A new browser session on the Data page (``state`` seeds its session state)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in (state or {}).items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    """Every message and caption the page shows, and the dataset list's labels."""
    parts = [e.value for e in [*at.info, *at.warning, *at.caption, *at.markdown, *at.success,
                               *at.error]]
    return " ".join(parts + [str(o) for o in at.selectbox(key="data_dataset").options])


def test_upload_is_named_by_its_file_and_stays_in_its_session(data) -> None:
    a = data_page()
    a.file_uploader(key="upload").set_value(("heldout-wine.csv", WINE, "text/csv")).run()
    assert not a.exception, a.exception
    name = a.session_state["data_choice"].dataset
    assert name.startswith("csv:") and a.session_state["uploads"] == [name]
    text = shown(a)
    assert "Loaded **heldout-wine.csv** (your upload)" in text
    assert "heldout-wine.csv (your upload): normal = 0" in text  # the Task line
    assert "heldout-wine.csv — tabular, yours" in text
    assert str(data) not in text and "uploads/" not in text and name not in text

    train = a.switch_page("pages/train.py").run()
    assert not train.exception, train.exception
    task_line = next(m.value for m in train.markdown if m.value.startswith("**Task:**"))
    assert task_line.startswith("**Task:** heldout-wine.csv (your upload) · normal 0")
    assert str(data) not in task_line

    # Another browser session, with A's dataset name pasted into its choice and upload list
    from ad_core.catalogue import DataChoice

    b = data_page({"data_choice": DataChoice(dataset=name, normal=["0"]), "uploads": [name]})
    assert "belongs to another browser session" in " ".join(e.value for e in b.error)
    assert b.selectbox(key="data_dataset").value != name
    assert b.session_state["data_choice"].dataset != name
    assert "heldout-wine" not in " ".join(str(o) for o in b.selectbox(key="data_dataset").options)
    assert str(data) not in shown(b)


def test_a_removed_upload_is_explained_on_the_data_page(data) -> None:
    a = data_page()
    a.file_uploader(key="upload").set_value(("heldout-wine.csv", WINE, "text/csv")).run()
    name = a.session_state["data_choice"].dataset
    from ad_core.data.user import upload_path

    upload_path(name).unlink()  # cleaned up by the budget or the day limit
    a.run()
    assert not a.exception, a.exception
    warning = " ".join(w.value for w in a.warning)
    assert "heldout-wine.csv is no longer on this server" in warning
    assert str(data) not in warning
