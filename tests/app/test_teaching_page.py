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


def fake_report() -> dict:
    """A small fidelity report: one row per claim the Teaching page states, and the
    augmentation summary its chart reads."""
    places = {"Teaching · Toll": ["toll_fig2", "toll_thm1"],
              "Teaching · LIS-AE": ["lisae_42", "lisae_t1"],
              "Teaching · GeoTrans": ["geo_6_flip", "geo_6_translate", "geo_morph"],
              "Teaching · NeuTraL AD": ["neutral_dcl", "neutral_toy"],
              "Teaching · Augmentation alignment": ["aug_cutout_aligned", "aug_cutoutc_trend"]}
    stat = ("one-sided Wilcoxon signed-rank test (exact), n = 20 tasks; Hodges–Lehmann "
            "pseudomedian with exact 95 % CI")
    rows = [{"id": cid, "claim": f"claim {cid}", "paper_figure": "paper fig", "ours": "ours",
             "effect_text": "+0.1", "pvalue": 0.01 if cid.startswith("aug") else None,
             "n_tasks": 20, "statistic": stat if cid.startswith("aug") else None,
             "verdict": "reproduced", "shown_in": [place]}
            for place, ids in places.items() for cid in ids]
    for r in rows:
        if r["id"] == "geo_6_flip":
            r.update(ours_a=0.77, ours_b=0.97)
        if r["id"] == "geo_6_translate":
            r.update(ours_a=0.77, ours_b=0.80)
    summary = [{"study": "testbed", "group": g, "label": lab, "augmentation": lab.split("=")[0],
                "category": "local", "pseudomedian": pm, "ci_low": pm - 0.02,
                "ci_high": pm + 0.02, "pvalue": 0.01, "n": 20}
               for g in ("cutout", "flip") for lab, pm in (("cutout", 1.1), ("cutout-c=0.1", 1.05),
                                                          ("cutout-c=0.9", 0.9))]
    return {"meta": {"command": "python -m ad_core.benchmarks.fidelity --seeds 3",
                     "date": "2026-12-05", "seeds": [0, 1, 2], "augmentation_summary": summary},
            "rows": rows}


@pytest.fixture()
def cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small fake fidelity report and morph cache in a temporary folder."""
    from ad_core import results

    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(tmp_path / "runs"))  # no saved runs
    monkeypatch.setattr(common, "results_path", lambda name: tmp_path / f"{name}.json")
    monkeypatch.setattr(results, "RESULTS_DIR", tmp_path)
    (tmp_path / "fidelity.json").write_text(json.dumps(fake_report()))
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
                    "neutral_toy", "aug_rel_bench", "aug_sweep_bench"}
    at.session_state["teaching_demo"] = "LIS-AE · latent shaping"
    at.run()
    assert at.selectbox(key="lisae_run").value == "20260101-000000-lisae-abc123"
    at.slider(key="lisae_gamma").set_value(12.0).run()
    assert not at.exception, at.exception
    # every demo shows the fidelity report's verdicts for the claims it states, with the test
    assert all(any("What the fidelity report measured" in m for m in v["markdown"])
               for v in seen.values())
    assert any("n = 20 tasks" in c for c in seen["Augmentation alignment"]["captions"])
    assert not any("width" in m for v in seen.values() for m in v["markdown"] + v["info"])
    # NeuTraL edge cases beside the appendix at τ = 1
    at.session_state["teaching_demo"] = "NeuTraL AD · edge cases"
    at.run()
    table = next(d.value for d in at.dataframe if "DCL (ours)" in d.value.columns)
    assert list(table["DCL (ours)"]) == ["1.386", "1.386", "0.627"]
    at.select_slider(key="neutral_tau").set_value(0.5).run()
    assert not at.exception, at.exception


def test_page_says_plainly_when_results_are_missing(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ad_core import results

    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(common, "results_path", lambda name: tmp_path / f"{name}.json")
    monkeypatch.setattr(results, "RESULTS_DIR", tmp_path)
    at = AppTest.from_file(str(PAGE), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    seen = open_each_demo(at)
    warnings = [w for v in seen.values() for w in v["warning"]]
    infos = [i for v in seen.values() for i in v["info"]]
    assert any("fidelity.json" in w for w in warnings)
    assert sum("python -m ad_core.benchmarks.fidelity" in i for i in infos) == len(DEMO_LABELS)
    assert any("python -m ad_core.teaching geotrans" in i for i in infos)
    assert any("no saved LIS-AE run" in i for i in infos)


def test_toll_and_neutral_replays_show_real_runs(cached: Path, monkeypatch) -> None:
    """The two Toll runs (β = 0 and β > 0, same seed) and the NeuTraL AD run, trained with
    snapshots (tiny digits versions of the page's runs): side-by-side ‖z‖ replays, the views."""
    from ad_core.experiment import ExperimentSpec, run_experiment
    from ad_core.snapshots import SnapshotRecorder, save_snapshots
    from ad_core.teaching import replay as TR

    pair = (ExperimentSpec("digits", ["8"], "toll", params={"beta": 0.0, "iterations": 40}),
            ExperimentSpec("digits", ["8"], "toll", params={"iterations": 40}))
    neutral = ExperimentSpec("digits", ["8"], "neutral")
    monkeypatch.setattr(TR, "TOLL_PAIR", pair)
    monkeypatch.setattr(TR, "NEUTRAL_RUN", neutral)
    at = AppTest.from_file(str(PAGE), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    assert [b.label for b in at.button if b.key == "teach-toll-jobs-go"]  # nothing trained yet
    ids = []
    for spec in (*pair, neutral):
        rec = SnapshotRecorder()
        res = run_experiment(spec, rec, root=cached / "runs")
        save_snapshots(rec, res, cached / "runs")
        ids.append(res.run_id)
    at.run()
    assert not at.exception, at.exception
    charts = {c.key: c for c in at.get("plotly_chart")}
    assert {f"teach-toll-{i}" for i in ids[:2]} <= set(charts)
    for i, beta in zip(ids[:2], ("β = 0", "β = 1")):
        fig = json.loads(charts[f"teach-toll-{i}"].proto.spec)
        assert beta in fig["layout"]["title"]["text"] and len(fig["frames"]) >= 10
    at.session_state["teaching_demo"] = "NeuTraL AD · edge cases"
    at.run()
    assert not at.exception, at.exception
    views = [c for c in at.get("plotly_chart") if c.key == "teach-neutral-views"]
    assert views and len(json.loads(views[0].proto.spec)["frames"]) >= 10
