"""AppTest of the Compare page's fidelity tab: the papers' claims beside ours when
``docs/results/fidelity.json`` exists, and a hint on how to generate it when it does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_warm_up(monkeypatch) -> None:
    monkeypatch.setenv("ANOMALY_LAB_NO_WARMUP", "1")


def compare_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    return at


def infos(at: AppTest) -> str:
    return " ".join(e.value for e in [*at.info, *at.warning, *at.caption, *at.markdown])


def test_fidelity_tab_without_a_report_says_how_to_make_one(empty_runs, tmp_path, monkeypatch):
    from ad_core import services

    monkeypatch.setattr(services, "RESULTS_DIR", tmp_path)
    at = compare_page()
    assert "python -m ad_core.benchmarks.fidelity" in infos(at)


def test_fidelity_tab_shows_claims_beside_the_papers(empty_runs, tmp_path, monkeypatch):
    from ad_core import services

    rows = [{"paper": "augmentation study", "claim": "aligned augmentation helps",
             "paper_figure": "aligned augmentation wins (qualitative)",
             "ours": "p=0.016, pseudomedian 1.05 [1.01, 1.09]", "ours_mean": 1.05,
             "ours_std": 0.01, "n_seeds": 3,
             "setting": {"dataset": "mnist5k", "classes": [0, 1, 2], "epochs": 100},
             "verdict": "reproduced", "reason": "one-sided p < 0.05"},
            {"paper": "Toll", "claim": "β > 0 beats β = 0", "paper_figure": "82.9 → 97.3",
             "ours": "90.1 → 91.0", "ours_mean": None, "ours_std": None, "n_seeds": 1,
             "setting": "digit 8", "verdict": "direction only", "reason": "smaller gap"}]
    (tmp_path / "fidelity.json").write_text(json.dumps({"meta": {"command": "fid"},
                                                        "rows": rows}))
    monkeypatch.setattr(services, "RESULTS_DIR", tmp_path)
    at = compare_page()
    table = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert list(table["verdict"]) == ["reproduced", "direction only"]
    assert table["paper figure"][1] == "82.9 → 97.3" and table["mean ± std"][0] == "1.05 ± 0.01"
    assert [m.value for m in at.metric] == ["1", "1", "0"]
