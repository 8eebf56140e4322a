"""The fidelity report (issue 18): tasks not seeds, one effect column per kind of claim, every
claim the app states, traceable cells — on fake cells, no training."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest

from ad_core.benchmarks import fidelity as FI
from ad_core.benchmarks.fidelity_report import markdown

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "docs" / "results" / "fidelity.json"


def fake_row(tag: str, dataset: str, normal: str, seed: int, auroc: float, **kind: float) -> dict:
    return {"tag": tag, "dataset": dataset, "normal": normal, "seed": seed, "detector": "dae",
            "auroc": auroc, "per_kind_auroc": dict(kind), "_group": "augmentation",
            "_cell": {"params": {}}, "_prov": {"key": f"{tag}{dataset}{normal}{seed}",
                                               "code": "c0de", "finished": 1.7e9 + seed,
                                               "seconds": 2.0}}


def seed_rows(classes=("0", "1", "2", "3", "4", "5"), seeds=(0, 1, 2)) -> list[dict]:
    """Flip helps on every class by 4–6 % with tiny seed-to-seed differences (as measured)."""
    rows = []
    for ci, c in enumerate(classes):
        for s in seeds:
            base = 0.80 + 0.01 * ci + 0.001 * s
            rows.append(fake_row("tb|none", "mnist5k", c, s, base, flip=base, cutout=base,
                                 invert=1.0))
            up = base * (1.05 + 0.001 * s - 0.002 * ci)
            rows.append(fake_row("tb|flip", "mnist5k", c, s, up, flip=up, cutout=base * 0.99,
                                 invert=1.0))
    return rows


def test_a_p_value_counts_tasks_never_seeds_of_one_class() -> None:
    """6 classes × 3 seeds are 6 tasks: the smallest one-sided p is 2⁻⁶, not 2⁻¹⁸."""
    claims = {c["id"]: c for c in FI.augmentation_claims(seed_rows(), [0, 1, 2])}
    c = claims["aug_flip_aligned"]
    assert c["n_tasks"] == 6 and c["n_seeds"] == 3
    assert c["pvalue"] == pytest.approx(2 ** -6) and c["pvalue"] >= 2 ** -6
    assert c["statistic"] == ("one-sided Wilcoxon signed-rank test (exact), n = 6 tasks; "
                              "Hodges–Lehmann pseudomedian with exact 95 % CI")
    assert c["verdict"] == "reproduced" and c["kind"] == "ratio" and c["unit"] == "relative AUROC"
    mis = claims["aug_misaligned_flip"]  # flip on CutOut anomalies: 0.99, hurts
    assert mis["verdict"] == "reproduced" and mis["effect"] == pytest.approx(0.99)


def test_per_task_averages_a_tasks_seeds_before_pairing() -> None:
    rows = seed_rows(classes=("0", "1"), seeds=(0, 1, 2))
    tasks, a, b, ns = FI.per_task(FI.sel(rows, tag="tb|flip"), FI.sel(rows, tag="tb|none"),
                                  FI._kind("flip"))
    assert tasks == [("mnist5k", "0"), ("mnist5k", "1")] and ns == 3
    none0 = [0.80 + 0.001 * s for s in range(3)]
    assert b[0] == pytest.approx(np.mean(none0))
    assert a[0] == pytest.approx(np.mean([x * (1.05 + 0.001 * s) for s, x in enumerate(none0)]))
    # a seed that only one side ran is not paired
    tasks, a, b, ns = FI.per_task(FI.sel(rows, tag="tb|flip", seed=0), FI.sel(rows, tag="tb|none"),
                                  FI._kind("flip"))
    assert ns == 1 and b[0] == pytest.approx(0.80)


def test_a_difference_claim_uses_tasks_and_the_papers_gap() -> None:
    a = [dict(fake_row("x", "mnist5k", str(c), s, 0.90), detector="ae") for c in range(6)
         for s in range(3)]
    b = [dict(fake_row("x", "mnist5k", str(c), s, 0.95 + 0.001 * c), detector="lisae")
         for c in range(6) for s in range(3)]
    c = FI.difference_claim("x", "g", "p", "B beats A", a_rows=a, b_rows=b, label_a="A",
                            label_b="B", paper_a=0.90, paper_b=0.91)
    assert c["n_tasks"] == 6 and c["pvalue"] == pytest.approx(2 ** -6)
    assert c["verdict"] == "reproduced" and c["unit"] == "AUROC"
    small = FI.difference_claim("x", "g", "p", "B beats A", a_rows=a, b_rows=b, label_a="A",
                                label_b="B", paper_a=0.5, paper_b=0.9)
    assert small["verdict"] == "direction only" and "25 %" in small["reason"]
    other = FI.difference_claim("x", "g", "p", "B beats A", a_rows=a, b_rows=b, label_a="A",
                                label_b="B", same_setting=False, nearest="FMNIST 92.8 → 93.5")
    assert other["paper_figure"].startswith("no paper figure for this data; the paper's "
                                            "nearest: FMNIST")
    worse = FI.difference_claim("x", "g", "p", "B beats A", a_rows=b, b_rows=a, label_a="A",
                                label_b="B", paper_a=0.9, paper_b=0.95)
    assert worse["verdict"] == "not reproduced"


def _fake_claims() -> list[dict]:
    rows = seed_rows()
    claims = FI.augmentation_claims(rows, [0, 1, 2])
    a = [dict(fake_row("beta0", "mnist5k", "8", s, 0.80), detector="toll") for s in range(3)]
    b = [dict(fake_row("p2", "mnist5k", "8", s, 0.92), detector="toll") for s in range(3)]
    claims.append(FI.difference_claim("toll_beta", "toll", "Toll", "β beats 0", a_rows=a,
                                      b_rows=b, label_a="β=0", label_b="β=1000", scale=100,
                                      unit="AUROC points", paper_a=82.9, paper_b=97.3))
    claims.append(FI.claim("neutral_dcl", "checks", "NeuTraL", "edge case", "check",
                           paper_figure="1.386", ours="1.386", effect=None, effect_text="1.386",
                           unit="", verdict="check passed", reason="agrees", setting="exact",
                           rows=[]))
    return claims


def test_no_column_mixes_units_each_kind_has_its_own_effect_and_rule() -> None:
    claims = _fake_claims()
    meta = {"counts": FI.counts(claims), "seeds": [0, 1, 2]}
    md = markdown(claims, meta)
    headers = [ln for ln in md.splitlines() if ln.startswith("| # |")]
    assert headers and not any(re.search(r"\|\s*gap\s*\|", h, re.I) for h in headers)
    kinds = {c["kind"] for c in claims}
    assert len(headers) == len(kinds) >= 3  # one table per kind of claim
    for kind in kinds:
        col, rule = FI.RULES[kind]
        assert f"effect: {col}" in md and rule in md
    # a ratio below 1 is shown as a ratio below 1, never as a positive "gap"
    tables = md.split("## ")
    ratio = next(t for t in tables if t.startswith("Relative AUROC"))
    assert "0.990" in ratio and "+0.99" not in ratio
    assert "25 % threshold is ours" in md
    # the implementation check is listed but not counted
    assert meta["counts"]["checks"] == 1
    ran = [c for c in claims if c["kind"] != "check" and c["verdict"] != "not run"]
    assert meta["counts"]["claims"] == len(ran)  # "not run" claims are counted apart
    assert meta["counts"]["not run"] == sum(c["verdict"] == "not run" for c in claims) > 0


def test_traceability_lines_name_cells_code_time_and_compute() -> None:
    claims = _fake_claims()
    md = markdown(claims, {"counts": FI.counts(claims)})
    flip = next(c for c in claims if c["id"] == "aug_flip_aligned")
    assert flip["trace"]["cells"] == 36 and flip["trace"]["code"] == ["c0de"]
    assert flip["trace"]["compute_seconds"] == pytest.approx(72.0)
    assert "Cells: 36 (code fingerprint c0de; computed 2023-11-14" in md
    summary = FI.cell_summary(seed_rows(classes=("0",), seeds=(0,)))
    assert summary[0]["code"] == "c0de" and summary[0]["finished"].endswith("UTC")
    back = FI.rows_from_summary(summary)
    assert back[0]["per_kind_auroc"]["flip"] == pytest.approx(0.8)


def test_the_lisae_claim_has_the_no_negatives_control() -> None:
    g = FI.grid([0], quick=True)["lisae"]
    ctl = [c for c in g if c["tag"] == "t3ctl"]
    t3 = [c for c in g if c["tag"] == "t3"]
    assert ctl and len(ctl) == len(t3) and all(c["params"]["beta"] == 0.0 for c in ctl)
    assert all({k: v for k, v in c["params"].items() if k != "beta"} == t["params"]
               for c, t in zip(ctl, t3))


def test_the_augmentation_grid_has_twenty_tasks() -> None:
    g = FI.grid([0, 1, 2])["augmentation"]
    tasks = {(c["dataset"], c["normal"][0]) for c in g}
    assert len(tasks) == 20


# ----------------------------------------------------------------------------- the report itself
def _teaching_places() -> set[str]:
    """Every place string the Teaching page asks the report for (``fidelity_box("…")``)."""
    tree = ast.parse((ROOT / "pages" / "teaching.py").read_text())
    out = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "fidelity_box"
                and node.args and isinstance(node.args[0], ast.Constant)):
            out.add(node.args[0].value)
    return out


TEACHING_CLAIMS = {  # what each Teaching demo states (text and figures on the page)
    "Teaching · Toll": {"toll_fig2", "toll_thm1"},
    "Teaching · LIS-AE": {"lisae_42", "lisae_t1"},
    "Teaching · GeoTrans": {"geo_6_flip", "geo_6_translate", "geo_morph"},
    "Teaching · NeuTraL AD": {"neutral_dcl", "neutral_toy"},
    "Teaching · Augmentation alignment": {"aug_cutout_local", "aug_cutout_aligned",
                                          "aug_misaligned_flip", "aug_misaligned_cutout",
                                          "aug_cutoutc_trend", "aug_cutoutc_large",
                                          "aug_flip_best", "aug_invert_best"},
}


def test_every_teaching_claim_is_in_the_committed_report() -> None:
    assert _teaching_places() == set(TEACHING_CLAIMS)  # the page shows each demo's claims
    report = json.loads(REPORT.read_text())
    rows = {r.get("id"): r for r in report["rows"]}
    assert set(FI.CLAIM_IDS) <= set(rows)
    for place, ids in TEACHING_CLAIMS.items():
        for cid in ids:
            assert cid in rows, f"{place} states {cid}, absent from the report"
            assert place in rows[cid]["shown_in"], (place, cid)
            assert rows[cid]["verdict"] in (*FI.VERDICTS, "not run", "check passed", "check failed")


def test_the_committed_report_counts_tasks_and_names_its_statistic() -> None:
    report = json.loads(REPORT.read_text())
    for r in report["rows"]:
        if r.get("pvalue") is not None:
            assert r["statistic"].startswith("one-sided Wilcoxon signed-rank test")
            assert f"n = {r['n_tasks']} tasks" in r["statistic"]
            assert r["pvalue"] >= 2.0 ** -r["n_tasks"] - 1e-12  # n tasks, never seeds × tasks
    aug = [r for r in report["rows"] if r["group"] == "augmentation" and r.get("n_tasks")]
    # one task per (dataset, class): at most 2 datasets × 10 classes, whatever the seeds
    assert aug and all(r["n_tasks"] <= 20 for r in aug) and any(r["n_tasks"] == 20 for r in aug)
    cells = json.loads((REPORT.parent / "fidelity_cells.json").read_text())
    assert (REPORT.parent / "fidelity_cells.json").stat().st_size < 600_000
    assert all(c["code"] and c["finished"] for c in cells["cells"])
