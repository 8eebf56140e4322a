"""AppTest of the Teaching demos page: every demo renders its figures with no exception."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from ad_core import teaching as T  # noqa: E402
from ad_core.runs import save_run  # noqa: E402
from ad_core.teaching import common  # noqa: E402

PAGE = Path(__file__).resolve().parents[2] / "pages" / "teaching.py"


def _write(folder: Path, name: str, rows: list[dict], meta: dict | None = None) -> None:
    (folder / f"{name}.json").write_text(json.dumps({"meta": meta or {"command": "test"},
                                                     "rows": rows}))


@pytest.fixture()
def cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Small fake cached results (GeoTrans §6, morph, augmentation) in a temporary folder."""
    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(tmp_path / "runs"))  # no saved runs
    monkeypatch.setattr(common, "results_path", lambda name: tmp_path / f"{name}.json")
    _write(tmp_path, "teaching_geotrans_intuition", [
        {"experiment": T.geotrans_label(*e), "normal": e[0], "anomaly": e[1],
         "transformations": e[2].split(","), "auroc": a, "paper_auroc": p, "seed": 0,
         "n_train": 10, "n_test": 20, "n_anomalies": 10, "seconds": 1.0}
        for (e, p), a in zip(T.GEOTRANS_PAPER.items(), (0.6, 0.9, 0.8))])
    frames = T.encode_frames(np.linspace(0, 1, 3 * 28 * 28).reshape(3, 28, 28))
    _write(tmp_path, "teaching_geotrans_morph", [
        {"normal": "3", "start": s, "seed": 0, "transformations": ["identity", "flip"],
         "lr": 0.01, "steps": [0, 10, 20], "normality": [0.2, 0.4, 0.6], **frames}
        for s in ("0", "3")])
    rows = [{"study": "testbed", "augmentation": a, "label": a, "c": None, "normal_class": c,
             "seed": 0, "anomaly_kind": k, "auroc": au}
            for c in ("0", "1") for a, au in (("none", 0.6), ("cutout", 0.8))
            for k in ("cutout", "flip", "all")]
    _write(tmp_path, T.AUGMENTATION_RESULTS, rows, {"command": "test", "complete": False})
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(30), np.ones(30)].astype(np.int64)
    save_run("20260101-000000-lisae-abc123", root=tmp_path / "runs",
             config={"detector": "lisae", "dataset": "mnist5k", "normal": ["0"],
                     "task": "negatives", "created": 1.0},
             metrics={"auroc": 0.9},
             scores={"test": rng.normal(size=60) + 2 * y, "test_y": y,
                     "extra_phase1_test": rng.normal(size=60) + y})
    return tmp_path


DEMO_LABELS = ("Toll · targeted collapse", "LIS-AE · latent shaping",
               "GeoTrans · which transformations", "NeuTraL AD · edge cases",
               "Augmentation alignment")


def open_each_demo(at: AppTest) -> dict[str, AppTest]:
    """Open every tab in turn (the tabs are lazy: only the open one runs); what each showed."""
    seen = {}
    for label in DEMO_LABELS:
        at.session_state["teaching_demo"] = label
        at.run()
        assert not at.exception, (label, at.exception)
        seen[label] = {"charts": {c.key for c in at.get("plotly_chart")},
                       "captions": [c.value for c in at.caption],
                       "markdown": [m.value for m in at.markdown],
                       "info": [i.value for i in at.info], "warning": [w.value for w in at.warning]}
    return seen


def test_only_the_open_demo_runs(cached: Path) -> None:
    at = AppTest.from_file(str(PAGE), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    assert len(at.tabs) == 5
    assert {c.key for c in at.get("plotly_chart")} == {"toll_contours", "toll_flow",
                                                       "toll_collapse"}


def test_page_renders_every_demo(cached: Path) -> None:
    at = AppTest.from_file(str(PAGE), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Teaching demos"
    at.slider(key="toll_beta").set_value(0.5).run()
    assert not at.exception, at.exception
    seen = open_each_demo(at)
    keys = set().union(*(v["charts"] for v in seen.values()))
    assert keys == {"toll_contours", "toll_flow", "toll_collapse", "lisae_iso", "lisae_section",
                    "lisae_phases", "geo_bars", "geo_morph_0", "geo_morph_3", "neutral_tau_fig",
                    "neutral_toy", "aug_rel_bench"}
    at.session_state["teaching_demo"] = "LIS-AE · latent shaping"
    at.run()
    assert at.selectbox(key="lisae_run").value == "20260101-000000-lisae-abc123"
    at.slider(key="lisae_gamma").set_value(12.0).run()
    assert not at.exception, at.exception
    assert any("partial" in c for c in seen["Augmentation alignment"]["captions"])
    assert sum("claim reproduces here" in m for m in seen["GeoTrans · which transformations"]
               ["markdown"]) == 2
    # NeuTraL edge cases beside the appendix at τ = 1
    at.session_state["teaching_demo"] = "NeuTraL AD · edge cases"
    at.run()
    table = next(d.value for d in at.dataframe if "DCL (ours)" in d.value.columns)
    assert list(table["DCL (ours)"]) == ["1.386", "1.386", "0.627"]
    at.select_slider(key="neutral_tau").set_value(0.5).run()
    assert not at.exception, at.exception


def test_page_says_plainly_when_results_are_missing(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(common, "results_path", lambda name: tmp_path / f"{name}.json")
    at = AppTest.from_file(str(PAGE), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    seen = open_each_demo(at)
    warnings = [w for v in seen.values() for w in v["warning"]]
    infos = [i for v in seen.values() for i in v["info"]]
    assert any("augmentation_testbed.json" in w for w in warnings)
    assert any("python -m ad_core.teaching geotrans" in i for i in infos)
    assert any("no saved LIS-AE run" in i for i in infos)
