"""AppTest of "Watch it learn" on the Scores, Embeddings, Reconstructions and Transformations
pages: a run trained with snapshots shows its animated replay (one frame per snapshot) and the
HTML download once the section is opened; the same run with its ``snapshots.npz`` deleted shows
one caption and no error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LABEL = "Watch it learn (training replay)"
#: page file → (section name, which run: a reconstruction or a transformation detector)
PAGES = {"scores": ("scores", "ae"), "embeddings": ("embedding", "ae"),
         "reconstructions": ("reconstruction", "ae"),
         "transformations": ("transformations", "neutral")}


@pytest.fixture(scope="module")
def replay_store(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Tiny digits runs with snapshots (AE, NeuTraL AD) and copies without them."""
    from ad_core.experiment import ExperimentSpec, run_experiment
    from ad_core.snapshots import FILE, SnapshotRecorder

    root = tmp_path_factory.mktemp("replay-app-runs")
    ids: dict[str, str] = {}
    for det in ("ae", "neutral"):
        rec = SnapshotRecorder()
        res = run_experiment(ExperimentSpec("digits", ["0"], det, params={"epochs": 2},
                                            explain_n=20, embed_n=100), rec, root=root)
        rec.save(res.detector, root / res.run_id)
        bare = f"{res.run_id}-bare"
        shutil.copytree(root / res.run_id, root / bare)
        (root / bare / FILE).unlink()
        ids[det], ids[f"{det}-bare"] = res.run_id, bare
    return root, ids


@pytest.fixture()
def store(replay_store, monkeypatch) -> tuple[Path, dict[str, str]]:
    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(replay_store[0]))
    return replay_store


def render(page: str, run_id: str, opened: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=90)
    at.session_state["run_id"] = run_id
    if opened:
        at.session_state[f"replay-{opened}"] = True
    at.run()
    assert not at.exception, at.exception
    return at


def replay_charts(at: AppTest, what: str) -> dict[str, dict]:
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")
            if (c.key or "").startswith(f"replay-{what}-")}


@pytest.mark.parametrize("page", list(PAGES))
def test_a_run_with_snapshots_replays_its_training(store, page) -> None:
    from ad_core.snapshots import load_replay

    root, ids = store
    what, det = PAGES[page]
    rid = ids[det]
    n_snap = len(load_replay(root / rid))
    closed = render(page, rid)
    assert LABEL in [e.label for e in closed.expander]
    assert not replay_charts(closed, what)  # built only when opened

    at = render(page, rid, opened=what)
    charts = replay_charts(at, what)
    animated = [c for c in charts.values() if c.get("frames")]
    assert animated, f"no animated replay on {page}: {list(charts)}"
    for spec in animated:
        assert len(spec["frames"]) == n_snap
        assert len(spec["layout"]["sliders"][0]["steps"]) == n_snap
        labels = [b["label"] for b in spec["layout"]["updatemenus"][0]["buttons"]]
        assert labels == ["▶ Play", "❚❚ Pause"]
    assert "Download replay (HTML)" in [b.proto.label for b in at.get("download_button")]
    if page == "scores":
        assert set(charts) == {"replay-scores-scores", "replay-scores-auroc"}
    if page == "embeddings":
        assert "PCA fitted" in animated[0]["layout"]["title"]["text"]


def test_replay_controls_switch_view_and_sample(store) -> None:
    _, ids = store
    at = render("reconstructions", ids["ae"], opened="reconstruction")
    assert "replay-reconstruction-reconstruction" in replay_charts(at, "reconstruction")
    at.segmented_control(key="replay-reconstruction-key").set_value("error_map").run()
    assert not at.exception, at.exception
    assert set(replay_charts(at, "reconstruction")) == {"replay-reconstruction-error_map",
                                                        "replay-reconstruction-auroc"}

    at = render("transformations", ids["neutral"], opened="transformations")
    title = replay_charts(at, "transformations")["replay-transformations-views"]
    first = title["layout"]["title"]["text"]
    at.selectbox(key="replay-transformations-sample").set_value(5).run()
    assert not at.exception, at.exception
    spec = replay_charts(at, "transformations")["replay-transformations-views"]
    assert spec["layout"]["title"]["text"] != first  # another sample's views


@pytest.mark.parametrize("page", list(PAGES))
def test_a_run_without_snapshots_says_so_without_an_error(store, page) -> None:
    _, ids = store
    what, det = PAGES[page]
    at = render(page, ids[f"{det}-bare"], opened=what)
    assert any("trained without snapshots" in c.value for c in at.caption)
    assert LABEL not in [e.label for e in at.expander]
    assert not replay_charts(at, what)
    assert not at.error
