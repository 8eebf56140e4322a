"""The fidelity report's markdown (:mod:`ad_core.benchmarks.fidelity` computes the claims).

One table per kind of claim, each with its own effect column in its own unit and its verdict
rule written above it — never one "gap" column for several meanings — then each claim's setting,
reason, statistic and traceability line (cells, code fingerprint, when computed, compute time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ad_core.benchmarks.fidelity import RULES, VERDICTS

KIND_TITLES = {
    "difference": "Differences (claim \"B beats A\"; effect = B − A in the unit named per row)",
    "ratio": "Relative AUROC (augmentation study; effect = pseudomedian of AUC_a / AUC_none)",
    "rank": "Rankings (augmentation study; effect = rank by pseudomedian relative AUROC)",
    "trend": "Trends (effect = Spearman ρ)",
    "existence": "Existence (effect = a count)",
    "qualitative": "Qualitative outcomes (effect = the measured outcome)",
    "check": "Implementation checks and Teaching-page toys (not counted as reproductions)",
}


def _cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _machine(m: Any) -> str:
    if not isinstance(m, dict):
        return "this machine"
    return (f"{m.get('cpus', '?')} CPU cores ({m.get('device', 'cpu')}, torch {m.get('torch', '?')}, "
            f"{m.get('platform', '?')})")


def trace_line(c: dict[str, Any]) -> str:
    t = c.get("trace") or {}
    if not t.get("cells"):
        return "Cells: none finished."
    when = (f"computed {t['computed_from']} – {t['computed_to']}"
            if t.get("computed_from") else "computation time unknown")
    return (f"Cells: {t['cells']} (code fingerprint {', '.join(t.get('code') or ['?'])}; {when}; "
            f"{t.get('compute_seconds', 0):.0f} s of compute in total).")


def markdown(claims: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    c = meta.get("counts") or {}
    seeds = meta.get("seeds")
    lines = [
        f"**{c.get('claims', 0)} claims counted: {c.get('reproduced', 0)} reproduced, "
        f"{c.get('direction only', 0)} direction only, {c.get('not reproduced', 0)} not "
        f"reproduced.**" + (f" {c['not run']} more claims were not run (their cells did not "
                            f"finish; listed with that verdict, counted apart)."
                            if c.get("not run") else "")
        + f" Besides them, {c.get('checks', 0)} implementation checks and "
        f"Teaching-page toys ({c.get('checks_passed', 0)} passed), not counted.", "",
        f"Cells: {meta.get('cells')} computed by `{meta.get('cells_command')}` (seeds {seeds}"
        + (", QUICK smoke grid — verdicts indicative only" if meta.get("quick") else "")
        + f"), cell code fingerprint {meta.get('cell_code')}, finished "
        f"{meta.get('cells_computed_from')} – {meta.get('cells_computed_to')}, "
        f"{(meta.get('compute_seconds') or 0) / 60:.0f} min of compute in total. Every cell's "
        "key includes the fingerprint of the code it ran, so kept cells of other code are never "
        "reused; the per-cell summary (key, fingerprint, time, seconds, figures) is "
        "`fidelity_cells.json` beside this report.", ""]
    if meta.get("rendered_by"):
        lines += [f"Rendered from those cells by `{meta['rendered_by']}` on {meta.get('date')} "
                  "(no training in that step).", ""]
    if meta.get("cell_code_at_end") and meta.get("cell_code_at_end") != meta.get("cell_code"):
        lines += [f"Note: the cells' code changed while the command ran (fingerprint "
                  f"{meta.get('cell_code')} at the start, {meta['cell_code_at_end']} at the end: "
                  "another edit in the working tree); each cell records the fingerprint its key "
                  "was made with.", ""]
    if meta.get("closure_modified_during_run"):
        lines += ["Code edited while the cells were computed (files of the cells' code whose "
                  "last change falls inside the run, in this shared working tree): "
                  + ", ".join(meta["closure_modified_during_run"]) + ". A cell's recorded "
                  "fingerprint is that of the tree when its group's keys were made; groups whose "
                  "worker processes started after such an edit ran the edited file.", ""]
    if meta.get("cells_wall_seconds"):
        lines += [f"Wall time of the computing command: {meta['cells_wall_seconds'] / 60:.0f} min "
                  f"on {_machine(meta.get('machine'))}.", ""]
    if meta.get("tasks_per_group"):
        lines += ["Tasks (the unit of every test; seeds are averaged inside a task): " + "; ".join(
            f"{g} up to {n}" for g, n in meta["tasks_per_group"].items() if n) + ".", ""]
    sweeps = meta.get("sweeps") or {}
    if sweeps:
        lines += ["Sweeps: " + "; ".join(
            f"{g} {s.get('done')}/{s.get('cells')} cells ({s.get('resumed', 0)} reused, "
            f"{s.get('ran', 0)} run"
            + (f", {len(s['failed'])} failed" if s.get("failed") else "")
            + (f", {s['skipped']} not computed" if s.get("skipped") else "") + ")"
            for g, s in sweeps.items()) + ".", ""]
    lines += [
        "**Statistics.** A task is one (dataset, class) — for the §6 and Toll claims one setting "
        "— and a task's seeds are averaged before any test, so n counts tasks, never seeds × "
        "tasks. Every p-value is a one-sided Wilcoxon signed-rank test (exact) over the n tasks, "
        "with the Hodges–Lehmann pseudomedian and its exact 95 % CI; with n tasks the smallest "
        "one-sided p is 2⁻ⁿ. Paper figures appear only where the paper has one for the compared "
        "setting.", ""]
    n = 0
    for kind, (col, rule) in RULES.items():
        rows = [x for x in claims if x["kind"] == kind]
        if not rows:
            continue
        lines += [f"## {KIND_TITLES[kind]}", "", f"Verdict rule: {rule}", "",
                  f"| # | paper | claim | paper figure | ours | effect: {col} | p (n tasks) | "
                  "seeds | verdict |", "|---|---|---|---|---|---|---|---|---|"]
        for x in rows:
            n += 1
            x["_n"] = n
            p = ("–" if x.get("pvalue") is None else f"{x['pvalue']:.3g} ({x['n_tasks']})")
            lines.append(f"| {n} | {_cell(x['paper'])} | {_cell(x['claim'])} | "
                         f"{_cell(x['paper_figure'])} | {_cell(x['ours'])} | "
                         f"{_cell(x['effect_text'])} | {p} | {x.get('n_seeds') or '–'} | "
                         f"**{x['verdict']}** |")
        lines.append("")
    lines += ["## Settings, reasons and traceability", ""]
    for x in claims:
        lines += [f"{x.get('_n', '?')}. **{x['claim']}** (`{x['id']}`) — {x['verdict']}: "
                  f"{x['reason']}.",
                  f"   Setting: {x['setting'] or '–'}."]
        if x.get("statistic"):
            lines.append(f"   Statistic: {x['statistic']}.")
        if x.get("shown_in"):
            lines.append(f"   Stated by the app in: {', '.join(x['shown_in'])}.")
        lines += [f"   {trace_line(x)}", ""]
        x.pop("_n", None)
    lines += ["## Data", "",
              "mnist5k (500 images per class, 20 % test), the 8×8 `digits` set and the embedded "
              "breast-cancer table — not the papers' full datasets; absolute numbers differ from "
              "the papers', the claims are about directions and gaps. Thresholds that are ours, "
              "not the papers': the 25 % 'far smaller' threshold, the 1 % 'negligible' band and "
              "the 1-point '≈' tolerance."]
    assert all(v in (*VERDICTS, "not run") or v.startswith("check")
               for v in (x["verdict"] for x in claims))
    return "\n".join(lines)
