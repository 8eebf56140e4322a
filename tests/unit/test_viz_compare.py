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


def test_relative_auroc_counts_tasks_not_seeds_of_one_class():
    """Three seeds of six classes are six tasks: p = 2⁻⁶, never 2⁻¹⁸ (issue 18)."""
    rows = [dict(r, seed=s, auroc=r["auroc"] * (1 + 0.001 * s)) for r in _rows() for s in range(3)]
    dae = next(s for s in C.relative_auroc(rows, "ae") if s["variant"] == "dae")
    assert dae["n"] == 6 and dae["n_seeds"] == 3 and dae["pvalue"] == pytest.approx(1 / 64)
    assert dae["statistic"].startswith("one-sided Wilcoxon signed-rank test (exact), n = 6 tasks")
    labels = [y for tr in C.relative_auroc_chart([dae], "ae").data for y in tr.y]
    assert "n=6 tasks" in labels[0]


def test_fidelity_frame_lays_the_claims_out():
    rows = [{"paper": "augmentation study", "claim": "c", "kind": "ratio", "paper_figure": "fig",
             "ours": "o", "effect_text": "0.950 [0.930, 0.970]", "pvalue": 0.9999, "n_tasks": 20,
             "n_seeds": 3, "statistic": "one-sided Wilcoxon signed-rank test (exact), n = 20 "
             "tasks", "setting": "s", "verdict": "reproduced", "counted": True, "reason": "r",
             "trace": {"cells": 120, "code": ["abc"], "computed_from": "t0",
                       "computed_to": "t1", "compute_seconds": 60.0}},
            {"paper": "NeuTraL", "claim": "c2", "kind": "check", "paper_figure": "1.386",
             "ours": "1.386", "effect_text": "1.386", "pvalue": None, "verdict": "check passed",
             "counted": False, "reason": "agrees", "setting": "exact"}]
    df = C.fidelity_frame(rows)
    assert list(df.columns) == list(C.FIDELITY_COLUMNS) and "gap" not in df.columns
    assert df["effect"].tolist() == ["0.950 [0.930, 0.970]", "1.386"]
    assert df["p"].tolist() == ["1", "–"] and df["tasks"][0] == 20
    assert df["cells"][0] == "120 cells, code abc, t0 – t1, 60 s" and df["cells"][1] == ""
    assert df["counted"].tolist() == [True, False]
    assert C.fidelity_frame([]).empty
