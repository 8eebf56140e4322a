"""The Compare page's builders: relative AUROC with the one-sided Wilcoxon statistics, its chart,
and the fidelity table."""

from __future__ import annotations

import pytest

from ad_core.viz import compare as C


def _rows() -> list[dict]:
    rows = []
    for c in range(6):
        base = 0.7 + 0.03 * c
        for det, f in (("ae", 1.0), ("dae", 1.05 + 0.01 * c), ("bad", 0.9 - 0.01 * c)):
            rows.append({"dataset": "mnist5k", "normal": str(c), "task": "testbed", "seed": 0,
                         "detector": det, "params": {}, "auroc": base * f})
    return rows


def test_relative_auroc_is_the_one_sided_pseudomedian_statistic():
    stats = C.relative_auroc(_rows(), "ae")
    assert [s["variant"] for s in stats] == ["dae", "bad"], "best pseudomedian first"
    dae, bad = stats
    assert dae["alternative"] == "greater" and dae["pvalue"] == pytest.approx(1 / 64)
    assert dae["pseudomedian"] == pytest.approx(1.075) and dae["verdict"] == "helps"
    assert bad["pvalue"] == 1.0 and bad["verdict"] == "hurts"
    fig = C.relative_auroc_chart(stats, "ae")
    labels = [y for tr in fig.data for y in tr.y]
    assert all("one-sided p=" in y for y in labels)
    assert {tr.name.split(" (")[0] for tr in fig.data} == {"helps", "hurts"}
    assert "one-sided" in fig.layout.title.text and "pseudomedian" in fig.layout.title.text


def test_fidelity_frame_lays_the_claims_out():
    rows = [{"paper": "augmentation study", "claim": "c", "paper_figure": "fig", "ours": "o",
             "ours_mean": 1.0512, "ours_std": 0.0123, "n_seeds": 3,
             "setting": {"dataset": "mnist5k", "classes": ["0", "1"]}, "verdict": "reproduced",
             "reason": "r"},
            {"paper": "Toll", "claim": "c2", "paper_figure": "82.9 → 97.3", "ours": "x",
             "ours_mean": None, "ours_std": None, "n_seeds": 1, "setting": "digit 8",
             "verdict": "not reproduced", "reason": "why"}]
    df = C.fidelity_frame(rows)
    assert list(df.columns) == list(C.FIDELITY_COLUMNS)
    assert df["mean ± std"].tolist() == ["1.051 ± 0.012", "–"]
    assert df["setting"][0] == "dataset=mnist5k, classes=['0', '1']"
    assert C.fidelity_frame([]).empty
