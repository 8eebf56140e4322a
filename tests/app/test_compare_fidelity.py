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
    from ad_core import results

    monkeypatch.setattr(results, "RESULTS_DIR", tmp_path)
    at = compare_page()
    assert "python -m ad_core.benchmarks.fidelity" in infos(at)


def test_fidelity_tab_shows_claims_beside_the_papers(empty_runs, tmp_path, monkeypatch):
    from ad_core import results

    stat = ("one-sided Wilcoxon signed-rank test (exact), n = 20 tasks; Hodges–Lehmann "
            "pseudomedian with exact 95 % CI")
    rows = [{"id": "aug_flip_aligned", "paper": "augmentation study",
             "claim": "aligned augmentation helps", "kind": "ratio",
             "paper_figure": "qualitative", "ours": "0.90 → 0.95",
             "effect_text": "1.050 [1.010, 1.090]", "pvalue": 0.0001, "n_tasks": 20,
             "n_seeds": 3, "statistic": stat, "setting": "mnist5k + digits",
             "verdict": "reproduced", "counted": True, "reason": "p < 0.05"},
            {"id": "toll_beta", "paper": "Toll", "claim": "β > 0 beats β = 0",
             "kind": "difference", "paper_figure": "β=0 82.9 → β=1000 97.3",
             "ours": "79.8 → 91.8", "effect_text": "+12.0 AUROC points", "pvalue": None,
             "n_tasks": 1, "n_seeds": 3, "setting": "digit 8", "verdict": "direction only",
             "counted": True, "reason": "smaller gap"},
            {"id": "neutral_dcl", "paper": "NeuTraL", "claim": "edge case", "kind": "check",
             "paper_figure": "1.386", "ours": "1.386", "effect_text": "1.386",
             "verdict": "check passed", "counted": False, "reason": "agrees"}]
    (tmp_path / "fidelity.json").write_text(json.dumps({"meta": {"command": "fid"},
                                                        "rows": rows}))
    monkeypatch.setattr(results, "RESULTS_DIR", tmp_path)
    at = compare_page()
    table = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert list(table["verdict"]) == ["reproduced", "direction only", "check passed"]
    assert table["paper figure"][1] == "β=0 82.9 → β=1000 97.3"
    assert table["effect"][0] == "1.050 [1.010, 1.090]" and "gap" not in table.columns
    assert [m.value for m in at.metric] == ["1", "1", "0"]  # the check is not counted
    assert any(stat in c.value for c in at.caption)
