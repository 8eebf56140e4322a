"""Fidelity report: every paper claim the app states, rerun by one command, with an honest verdict.

Why one module of ~1,300 lines: it is the table of every paper claim the app states (22 of
them, from five papers), each with its cells, its statistic in its own unit and its verdict —
about 50 lines a claim. The cell engine is :mod:`ad_core.benchmarks.fidelity_cells` and the
rendering :mod:`ad_core.benchmarks.fidelity_report`.

    python -m ad_core.benchmarks.fidelity --seeds 3 --workers 2 --keep-cells

writes ``docs/results/fidelity.md``, ``docs/results/fidelity.json`` (``{"meta", "rows"}``, one
row per claim) and ``docs/results/fidelity_cells.json`` (a compact summary of every cell the
claims were computed from: its key, code fingerprint, when it finished, its compute seconds and
the figures it produced), so every number can be traced to its runs.

**Unit of the statistics: one task per (dataset, class).** A claim's seeds of one task are
averaged first; a signed-rank test then runs over tasks (never seeds × tasks), and is named with
its n wherever a p-value is shown (:func:`ad_core.metrics.statistic_label`). The augmentation
study's claims use its 20 tasks: all ten classes of ``mnist5k`` and of the 8×8 ``digits``.

**Each kind of claim has its own effect, unit and rule** (:data:`RULES`, printed in the report):
a difference (B − A in the paper's unit), a relative AUROC (pseudomedian of AUC_a / AUC_none), a
rank among the augmentations, a trend (Spearman ρ), an existence count, a qualitative outcome;
exact checks of our own formulas and the Teaching page's toy computations are listed but not
counted among the reproductions.

Paper figures appear only where the paper has one for the compared setting; otherwise the row
says "no paper figure for this data; the paper's nearest: …".

Cells are computed by :func:`ad_core.benchmarks.fidelity_cells.fidelity_cell`; a cell's key
includes the fingerprint of the code it ran (:func:`ad_core.sweep.cell_code`), so
``--keep-cells`` reuses only cells of today's code. ``--render-only`` computes nothing: it renders
from the kept cells of today's code (missing cells make their claims "not run");
``--from-summary`` re-renders from the committed ``fidelity_cells.json``; ``--from-stores CMD``
renders from the sweep stores as they are (a run stopped before it wrote its summary; each cell
keeps its own fingerprint).
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ad_core import reference as R
from ad_core.benchmarks.fidelity_cells import fidelity_cell
from ad_core.metrics import statistic_label, wilcoxon_difference, wilcoxon_paired
from ad_core.sweep import add_engine_args, configure, current_options, options_from_args, run_sweep

FAR_SMALLER = 0.25  # ours: a gap below a quarter of the paper's (same setting) is "direction only"
ALPHA = 0.05
NEGLIGIBLE = 0.01  # ours: a relative AUROC within 1 % of 1 is a negligible change
NORM_TOLERANCE = 1.0  # ours: "L1 ≈ L2" holds when they differ by at most 1 AUROC point (fixed)
DIGITS = tuple(str(i) for i in range(10))
PAIRS = (("0", "1"), ("2", "3"), ("4", "5"), ("6", "7"), ("8", "9"))  # LIS-AE 2-class MNIST
AUG_DATASETS = ("mnist5k", "digits")
#: seeds of the augmentation grid per dataset: ``None`` = all the command's seeds; mnist5k's
#: full-catalogue grid (19 DAE configurations × 10 classes, ~22 s a fit here) runs one seed to fit
#: the 2-core budget — every task's figure is the mean over the seeds it ran, said in each row.
AUG_SEEDS: dict[str, int | None] = {"mnist5k": 1, "digits": None}
AUG_SWEEP = (0.1, 0.3, 0.6, 0.9)
AUG_WILD = ("none", "rotate", "flip", "geom", "cutout", "cutpaste", "simclr")
GENERATORS = ("flip", "cutout", "invert")
LOCAL_NAMED = ("cutout", "cutpaste", "cutpaste-scar")  # the local family the paper names

#: Paper figures used here that :mod:`ad_core.reference` does not hold. Toll's latent-norm table
#: gives per-class figures; digit 8 (the class our Toll claims run) reads L1 97.1, L2 97.3, L∞ 95.2.
TOLL_NORMS_DIGIT8 = {"1": 97.1, "2": 97.3, "inf": 95.2}
AUG_PAPER = "Data augmentation study (Yoo et al. 2023)"
NEUTRAL_PAPER = "NeuTraL AD (Qiu et al. 2021)"

VERDICTS = ("reproduced", "direction only", "not reproduced")

#: kind → (effect column header, verdict rule), printed in the report.
RULES: dict[str, tuple[str, str]] = {
    "difference": (
        "B − A, mean over tasks (unit in the row)",
        "**reproduced** when our mean gap B − A is > 0, is significant over tasks where the test "
        "can reach 0.05 (one-sided signed-rank p < 0.05; needs ≥ 5 tasks since the smallest p is "
        "2⁻ⁿ) and, where the paper has a figure for the same setting, is at least 25 % of the "
        "paper's gap (the 25 % threshold is ours); **direction only** when the gap is > 0 but "
        "one of the other conditions fails; **not reproduced** otherwise."),
    "ratio": (
        "relative AUROC AUC_a / AUC_none: pseudomedian [exact 95 % CI]",
        "'helps' claims: **reproduced** when p < 0.05 (one-sided signed-rank over tasks, "
        "alternative: a is better), **direction only** when the pseudomedian is > 1 but "
        "p ≥ 0.05, **not reproduced** otherwise. 'Does not help' claims: **reproduced** when p ≥ "
        "0.05 or the change is negligible (pseudomedian below 1.01 — the 1 % band is ours), "
        "**not reproduced** otherwise. 'Hurts' claims: **reproduced** when p > 0.95 (the same "
        "one-sided p read the other way, as the study does), **direction only** when the "
        "pseudomedian is < 1 but p ≤ 0.95, **not reproduced** otherwise."),
    "rank": (
        "rank by pseudomedian relative AUROC among the augmentations run",
        "**reproduced** when the augmentation(s) the paper names rank as it says (first, or all "
        "named ones in the top of the ranking, per row) and significantly help (p < 0.05); "
        "**direction only** when they significantly help but rank lower; **not reproduced** "
        "when they do not significantly help."),
    "trend": (
        "Spearman ρ between the parameter and the pseudomedian relative AUROC",
        "**reproduced** when ρ < 0 (the effect falls as the parameter grows) and the best value "
        "is one of the small ones the paper names; **direction only** when ρ < 0 but the best "
        "value is not small; **not reproduced** when ρ ≥ 0."),
    "existence": (
        "count of cases that show the effect",
        "**reproduced** when at least one case shows it significantly; **not reproduced** "
        "otherwise."),
    "qualitative": (
        "measured outcome (unit in the row)",
        "**reproduced** when the measured outcome is the one the paper shows on the majority of "
        "seeds; **direction only** when it moves the paper's way without reaching it; **not "
        "reproduced** otherwise."),
    "check": (
        "ours vs the paper's worked number",
        "An exact evaluation of our own formula on the paper's worked numbers, or a Teaching "
        "page toy: **check passed** / **check failed**. Not a reproduction and **not counted**."),
}


# ============================================================================= the grid
def aug_label(aug: str, c: float | None = None) -> str:
    return f"cutout-c={c:g}" if c is not None else aug


def grid(seeds: Sequence[int], quick: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every cell of the report, by claim group (``quick``: a smoke run on a tiny grid)."""
    from ad_core.augment import CATALOGUE
    from ad_core.teaching.augmentation import dae_params

    seeds = [int(s) for s in seeds]
    cls = ("0", "3", "8") if quick else DIGITS
    g: dict[str, list[dict[str, Any]]] = {}
    g["checks"] = [{"kind": "toy", "name": n} for n in
                   ("dcl", "toll_fig2", "toll_thm1", "lisae_42", "neutral_toy")]
    toll_extra = {"iterations": 100} if quick else {}
    g["toll"] = [{"tag": t, "dataset": "mnist5k", "normal": ["8"], "detector": "toll",
                  "preset": "quick", "params": {**toll_extra, **p}, "seed": s}
                 for t, p in {"beta0": {"beta": 0.0}, "p2": {}, "p1": {"p": "1"},
                              "pinf": {"p": "inf"}}.items() for s in seeds]
    g["neutral"] = [{"tag": "bc", "dataset": "breast_cancer", "normal": ["benign"], "detector": d,
                     "preset": "quick", "params": {}, "seed": s}
                    for d in ("neutral", "iforest") for s in seeds]
    g["neutral"] += [{"kind": "toy", "name": "bc_magnitude", "seed": s} for s in seeds]
    geo: list[dict[str, Any]] = []
    for s in seeds:
        for c in cls:
            geo.append({"tag": "g72", "dataset": "mnist5k", "normal": [c], "detector": "geotrans",
                        "preset": "quick", "params": {"transformations": "72", "epochs": 0},
                        "seed": s})
            geo.append({"tag": "g72", "dataset": "mnist5k", "normal": [c], "detector": "ocsvm",
                        "preset": "quick", "params": {}, "seed": s})
        for n, a, t in R.GEOTRANS_INTUITION_EXPERIMENTS:
            geo.append({"kind": "intuition", "normal": n, "anomaly": a, "transformations": t,
                        "seed": s, "preset": "quick", "params": {"epochs": 5} if quick else {}})
        geo.append({"kind": "morph", "normal": "3", "starts": ["0", "3"], "seed": s,
                    "params": {"epochs": 2} if quick else {}})
    g["geotrans"] = geo
    lx: dict[str, Any] = {"epochs": 5, "phase2_epochs": 3} if quick else {}
    lis: list[dict[str, Any]] = []
    for s in seeds:
        for c in cls:
            for tag, extra in (("t3", {}), ("t3ctl", {"beta": 0.0})):
                lis.append({"tag": tag, "dataset": "mnist5k", "normal": [c], "detector": "lisae",
                            "preset": "quick", "params": {**lx, **extra}, "task": "negatives",
                            "task_options": {"negatives": "other-half"}, "seed": s})
            for d in ("lisae", "ae"):
                lis.append({"tag": "t1", "dataset": "mnist5k", "normal": [c], "detector": d,
                            "preset": "quick", "params": dict(lx) if d == "lisae" else
                            ({"epochs": 5} if quick else {}), "seed": s})
        for a, b in PAIRS[:2] if quick else PAIRS:
            for d in ("lisae", "ae"):
                lis.append({"tag": "2c", "dataset": "mnist5k", "normal": [a, b], "detector": d,
                            "preset": "quick", "params": dict(lx) if d == "lisae" else
                            ({"epochs": 5} if quick else {}), "seed": s})
    g["lisae"] = lis
    dx = {"epochs": 3} if quick else None
    testbed = [(a, None) for a in CATALOGUE] + [("cutout-c", c) for c in AUG_SWEEP]
    aug: list[dict[str, Any]] = []
    for study, configs, task in (("tb", testbed, "testbed"),
                                 ("wild", [(a, None) for a in AUG_WILD], "one-vs-rest")):
        for ds in (("digits",) if quick else AUG_DATASETS):
            n_seeds = AUG_SEEDS.get(ds)
            for a, c in configs:
                for cl in cls:
                    for s in (seeds[:n_seeds] if n_seeds else seeds):
                        aug.append({"tag": f"{study}|{aug_label(a, c)}", "dataset": ds,
                                    "normal": [cl], "detector": "dae", "preset": "quick",
                                    "params": dae_params(a, c, dx), "task": task, "seed": s})
    g["augmentation"] = sorted(aug, key=aug_priority)  # stable: grid order inside a block
    return g


#: Order of the augmentation cells, so a run cut short loses the least: the plain AE and the
#: aligned/misaligned pairs on both datasets first (n = 20 for the core claims), then every
#: other claim on the cheap 8×8 digits (~2 s a fit), then the same on mnist5k (~20 s a fit).
_BLOCKS = (("tb", ("flip", "cutout", "invert")),
           ("tb", tuple(aug_label("cutout-c", c) for c in AUG_SWEEP)),
           ("wild", ("none", "rotate", "simclr")),
           ("tb", ("cutpaste", "cutpaste-scar", "geom")),
           ("wild", ("flip", "geom", "cutout", "cutpaste")))


def aug_priority(cell: dict[str, Any]) -> int:
    """The block of an augmentation cell (lower runs first)."""
    study, label = cell["tag"].split("|", 1)
    if study == "tb" and label in ("none", "flip", "cutout", "invert"):
        return 0
    block = next((i for i, (st, labels) in enumerate(_BLOCKS[1:], 1)
                  if st == study and label in labels), len(_BLOCKS))
    return block + (0 if cell.get("dataset") == "digits" else len(_BLOCKS))


GROUP_ORDER = ("checks", "toll", "neutral", "geotrans", "lisae", "augmentation")


def stored_cells(gname: str, quick: bool = False) -> set[str]:
    """The cells (canonical JSON) a group's store holds a finished record of, whatever code."""
    from ad_core.runkey import canonical
    from ad_core.sweep import read_store, store_path

    return {canonical(r.get("cell")) for r in read_store(
        store_path(f"fidelity_{gname}" + ("_quick" if quick else ""))).values()}


def run_groups(cells: dict[str, list[dict[str, Any]]], *, workers: int, quick: bool,
               compute: bool = True, missing_only: bool = False
               ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run (or with ``compute=False`` only read) every group's cells as named sweeps; rows =
    each finished cell's result with ``_group``, ``_cell`` and ``_prov`` (key, code, finished,
    seconds, resumed). ``missing_only``: run only the cells the store holds no record of (a run
    that was stopped mid-way, finished by a second command; render with ``--from-stores``)."""
    if missing_only:
        from ad_core.runkey import canonical

        have = {g: stored_cells(g, quick) for g in cells}
        cells = {g: [c for c in cl if canonical(c) not in have[g]] for g, cl in cells.items()}
    rows: list[dict[str, Any]] = []
    status: dict[str, Any] = {}
    opts = current_options()
    if workers:
        opts = replace(opts, workers=workers)
    # reading (``compute=False``) or finishing (``missing_only``) never deletes a store
    opts = replace(opts, run_missing=compute, keep=opts.keep or not compute or missing_only)
    for gname in GROUP_ORDER:
        cl = cells.get(gname) or []
        if not cl:
            continue
        t0 = time.time()
        res = run_sweep(cl, fidelity_cell, name=f"fidelity_{gname}" + ("_quick" if quick else ""),
                        options=opts, label=f"fidelity {gname}")
        status[gname] = {**res.status(), "skipped": res.skipped, "seconds": time.time() - t0}
        for cell, r, prov in zip(res.cells, res.results, res.provenance):
            if r is not None:
                rows.append({**r, "_group": gname, "_cell": cell, "_prov": prov})
        print(f"[{gname}] {sum(r is not None for r in res.results)}/{len(cl)} cells "
              f"({res.resumed} reused, {res.ran} run, {res.skipped} not computed)", flush=True)
    return rows, status


# ============================================================================= cell summary
def _r(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 5) if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _r(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_r(x) for x in v]
    return v


SUMMARY_DROP = ("params", "n_train", "n_test", "task", "seconds")


def cell_summary(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One compact record per cell: group, key, code fingerprint, finished (UTC), compute
    seconds, the cell as run and the figures it produced (rounded to 5 decimals)."""
    out = []
    for r in rows:
        p = r.get("_prov") or {}
        cell = r["_cell"]
        out.append({"group": r["_group"], "key": p.get("key"), "code": p.get("code"),
                    "finished": _utc(p.get("finished")), "seconds": _r(p.get("seconds")),
                    "cell": cell,
                    # what the cell produced, less what the cell already says
                    "result": _r({k: v for k, v in r.items() if not k.startswith("_")
                                  and k not in SUMMARY_DROP and v is not None
                                  and not (k in cell and cell[k] == v)})})
    return out


def rows_from_stores(cells: dict[str, list[dict[str, Any]]], quick: bool = False
                     ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows from the named sweeps' stores as they are (``runs/sweeps/fidelity_<group>.jsonl``),
    for a run that was stopped before it wrote its summary: the latest finished record of each
    cell of the grid, whatever code fingerprint it carries (its own fingerprint, finish time
    and seconds are kept and shown). Nothing is computed."""
    from ad_core.runkey import canonical
    from ad_core.sweep import read_store, store_path

    rows: list[dict[str, Any]] = []
    status: dict[str, Any] = {}
    for gname in GROUP_ORDER:
        want = {canonical(c): c for c in cells.get(gname) or []}
        best: dict[str, dict[str, Any]] = {}
        for rec in read_store(store_path(f"fidelity_{gname}" + ("_quick" if quick else ""))
                              ).values():
            k = canonical(rec.get("cell"))
            if k in want and rec.get("finished", 0) >= best.get(k, {}).get("finished", 0):
                best[k] = rec
        for k, rec in best.items():
            rows.append({**rec["result"], "_group": gname, "_cell": want[k],
                         "_prov": {"key": rec.get("key"), "code": rec.get("code"),
                                   "finished": rec.get("finished"),
                                   "seconds": rec.get("seconds"), "resumed": True}})
        status[gname] = {"cells": len(want), "done": len(best), "resumed": len(best), "ran": 0,
                         "skipped": len(want) - len(best)}
    return rows, status


def rows_from_summary(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows (as :func:`run_groups` returns them) from a committed cell summary."""
    rows = []
    for c in records:
        fin = c.get("finished")
        ts = calendar.timegm(time.strptime(fin, "%Y-%m-%d %H:%M:%S UTC")) if fin else None
        rows.append({**{k: v for k, v in c["cell"].items() if k not in ("params",)},
                     **c["result"], "_group": c["group"], "_cell": c["cell"],
                     "_prov": {"key": c.get("key"), "code": c.get("code"), "finished": ts,
                               "seconds": c.get("seconds"), "resumed": True}})
    return rows


def _utc(ts: float | None) -> str | None:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts)) if ts else None


def closure_changes(rows: Sequence[dict[str, Any]]) -> list[str]:
    """``ad_core`` modules the cells' code depends on (the cell function's closure and the
    detectors' modules) whose file was last modified while the cells were being computed: in a
    shared working tree another engineer's edit can land mid-run, so a group started after it
    ran the edited code. (Only the last modification time is known.)"""
    from ad_core.benchmarks.fidelity_cells import fidelity_cell
    from ad_core.runkey import PACKAGE_ROOT, _module_path, detector_module, module_closure
    from ad_core.sweep import cell_code

    provs = [r.get("_prov") or {} for r in rows]
    spans = [(float(p["finished"]) - float(p.get("seconds") or 0), float(p["finished"]))
             for p in provs if p.get("finished")]
    if not spans:
        return []
    # the cells ran today's code (their recorded fingerprints are today's): an mtime inside the
    # run is a checkout or an edit that was reverted, not other code
    with contextlib.suppress(Exception):
        if all(p.get("code") == cell_code(fidelity_cell, r.get("_cell") or {})
               for p, r in zip(provs, rows)):
            return []
    start, end = min(a for a, _ in spans), max(b for _, b in spans)
    mods = {"ad_core.benchmarks.fidelity_cells"}
    for r in rows:
        det = (r.get("_cell") or {}).get("detector")
        if det:
            with contextlib.suppress(Exception):
                mods.add(detector_module(det))
    out = []
    for m in module_closure(*sorted(mods), "ad_core.tasks", "ad_core.metrics"):
        path = _module_path(m)
        if path is not None and start <= path.stat().st_mtime <= end:
            out.append(f"{path.relative_to(PACKAGE_ROOT.parent)} ({_utc(path.stat().st_mtime)})")
    return out


def trace(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Traceability of a claim: how many cells, their code fingerprints, when they were computed
    and their total compute time."""
    provs = [r.get("_prov") or {} for r in rows]
    fins = [p["finished"] for p in provs if p.get("finished")]
    return {"cells": len(rows), "code": sorted({p.get("code") for p in provs if p.get("code")}),
            "computed_from": _utc(min(fins)) if fins else None,
            "computed_to": _utc(max(fins)) if fins else None,
            "compute_seconds": round(float(sum(p.get("seconds") or 0 for p in provs)), 1)}


# ============================================================================= statistics
def sel(rows: Sequence[dict[str, Any]], **match: Any) -> list[dict[str, Any]]:
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def task_of(r: dict[str, Any]) -> tuple[str, str]:
    """The statistical unit: (dataset, normal class)."""
    return (str(r.get("dataset", "")), str(r.get("normal", "")))


def per_task(rows_a: Sequence[dict[str, Any]], rows_b: Sequence[dict[str, Any]],
             value: Callable[[dict[str, Any]], float | None]
             ) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray, int]:
    """Pair A and B by (task, seed), then average each task's seeds: (tasks, A per task,
    B per task, seeds per task at most). A task's seeds are never counted as tasks."""
    a = {(task_of(r), r["seed"]): value(r) for r in rows_a}
    b = {(task_of(r), r["seed"]): value(r) for r in rows_b}
    common = [k for k in a if k in b and a[k] is not None and b[k] is not None]
    tasks = sorted({t for t, _ in common})
    ma = np.array([np.mean([a[k] for k in common if k[0] == t]) for t in tasks])
    mb = np.array([np.mean([b[k] for k in common if k[0] == t]) for t in tasks])
    n_seeds = max((sum(k[0] == t for k in common) for t in tasks), default=0)
    return tasks, ma, mb, n_seeds


def _auroc(r: dict[str, Any]) -> float:
    return float(r["auroc"])


def _kind(kind: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda r: (r.get("per_kind_auroc") or {}).get(kind)


def _ovo(r: dict[str, Any]) -> float | None:
    v = list((r.get("per_kind_auroc") or {}).values())
    return float(np.mean(v)) if v else None


def _fmt_test(t: dict[str, Any] | None, digits: int = 3) -> str:
    if not t:
        return "–"
    cov = "" if t["ci_attained"] else f", {100 * t['ci_coverage']:.1f} % CI"
    return (f"p = {t['pvalue']:.3g}; pseudomedian {t['pseudomedian']:.{digits}f} "
            f"[{t['ci_low']:.{digits}f}, {t['ci_high']:.{digits}f}{cov}] "
            f"({statistic_label(t['n'], t['method'])})")


# ============================================================================= claim records
def claim(cid: str, group: str, paper: str, text: str, kind: str, *, paper_figure: str,
          ours: str, effect: float | None, effect_text: str, unit: str, verdict: str,
          reason: str, setting: str, rows: Sequence[dict[str, Any]], n_tasks: int | None = None,
          n_seeds: int | None = None, test: dict[str, Any] | None = None,
          same_setting: bool = False, shown_in: Sequence[str] = ()) -> dict[str, Any]:
    """One row of the report."""
    counted = kind != "check"
    return {"id": cid, "group": group, "paper": paper, "claim": text, "kind": kind,
            "counted": counted, "paper_figure": paper_figure, "paper_same_setting": same_setting,
            "ours": ours, "effect": effect, "effect_text": effect_text, "unit": unit,
            "n_tasks": n_tasks, "n_seeds": n_seeds,
            "pvalue": None if test is None else float(test["pvalue"]),
            "statistic": None if test is None else statistic_label(test["n"], test["method"]),
            "test": None if test is None else {k: v for k, v in test.items() if k != "tasks"},
            "verdict": verdict, "reason": reason, "setting": setting,
            "shown_in": list(shown_in), "trace": trace(rows)}


def not_run(cid: str, group: str, paper: str, text: str, kind: str, why: str,
            paper_figure: str = "", shown_in: Sequence[str] = ()) -> dict[str, Any]:
    return claim(cid, group, paper, text, kind, paper_figure=paper_figure, ours="not run",
                 effect=None, effect_text="–", unit="", verdict="not run",
                 reason=f"not run: {why}", setting="", rows=[], shown_in=shown_in)


def difference_claim(cid: str, group: str, paper: str, text: str, *, a_rows, b_rows,
                     label_a: str, label_b: str, value=_auroc, scale: float = 1.0,
                     unit: str = "AUROC", digits: int = 3, paper_a: float | None = None,
                     paper_b: float | None = None, same_setting: bool = True,
                     nearest: str = "", setting: str = "", why: str = "",
                     shown_in: Sequence[str] = ()) -> dict[str, Any]:
    """A claim "B beats A" whose effect is the difference B − A, per task (seeds averaged)."""
    tasks, a, b, ns = per_task(a_rows, b_rows, value)
    if not tasks:
        return not_run(cid, group, paper, text, "difference", "no paired cells finished",
                       shown_in=shown_in)
    a, b = a * scale, b * scale
    d = b - a
    m = float(d.mean())
    test = wilcoxon_difference(b, a) if len(tasks) >= 2 else None
    can_sig = len(tasks) >= 5
    sig = bool(test and test["pvalue"] < ALPHA)
    if paper_a is not None and paper_b is not None and same_setting:
        pf = f"{label_a} {paper_a:g} → {label_b} {paper_b:g} (gap {paper_b - paper_a:+.3g})"
        pgap: float | None = paper_b - paper_a
    else:
        pf = "no paper figure for this data; the paper's nearest: " + nearest
        pgap = None
    seeds_note = ""
    if len(tasks) == 1:
        by_seed = [(bb - aa) * scale for aa, bb in zip(
            *[[value(r) for r in sorted(x, key=lambda r: r["seed"])] for x in (a_rows, b_rows)])]
        if len(by_seed) > 1:
            seeds_note = (f"; per seed {', '.join(f'{v:+.{digits}f}' for v in by_seed)} "
                          f"(std {np.std(by_seed):.{digits}f})")
    reasons = []
    if m <= 0:
        v = "not reproduced"
        reasons.append(f"our gap {m:+.{digits}f} {unit} is not on the paper's side")
    else:
        v = "reproduced"
        reasons.append(f"our gap {m:+.{digits}f} {unit} is on the paper's side")
        if can_sig and not sig:
            v = "direction only"
            reasons.append(f"but not significant over the {len(tasks)} tasks "
                           f"(p = {test['pvalue']:.3g})")
        elif can_sig:
            reasons.append(f"and significant over the {len(tasks)} tasks "
                           f"(p = {test['pvalue']:.3g})")
        elif not can_sig:
            reasons.append(f"({len(tasks)} task{'s' if len(tasks) > 1 else ''}: a signed-rank "
                           f"test cannot reach 0.05, so the verdict rests on the sign and size)")
        if pgap is not None and pgap > 0 and m < FAR_SMALLER * pgap:
            v = "direction only"
            reasons.append(f"and far smaller than the paper's {pgap:+.3g} (below our 25 % "
                           f"threshold)")
        elif pgap is not None:
            reasons.append(f"(paper {pgap:+.3g})")
        if pgap is None:
            reasons.append("(no paper figure for this data, so no size comparison)")
    reason = " ".join(reasons) + seeds_note
    if why and v != "reproduced":
        reason += f". {why}"
    ours = (f"{label_a} {a.mean():.{digits}f} → {label_b} {b.mean():.{digits}f}"
            + (f" (mean over {len(tasks)} tasks)" if len(tasks) > 1 else ""))
    out = claim(cid, group, paper, text, "difference", paper_figure=pf, ours=ours, effect=m,
                effect_text=f"{m:+.{digits}f} {unit}", unit=unit, verdict=v, reason=reason,
                setting=setting, rows=[*a_rows, *b_rows], n_tasks=len(tasks), n_seeds=ns,
                test=test, same_setting=pgap is not None, shown_in=shown_in)
    out.update(label_a=label_a, label_b=label_b, ours_a=float(a.mean()), ours_b=float(b.mean()),
               paper_a=paper_a if pgap is not None else None,
               paper_b=paper_b if pgap is not None else None)
    return out


# ----------------------------------------------------------------------------- checks (toys)
def check_claims(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    toys = {r["name"]: r for r in sel(rows, kind="toy")}
    out = []

    def chk(cid, paper, text, name, ok_fn, ours_fn, paper_figure, setting, shown):
        t = toys.get(name)
        if t is None:
            out.append(not_run(cid, "checks", paper, text, "check", "the cell did not finish",
                               paper_figure, shown))
            return
        ok = bool(ok_fn(t))
        out.append(claim(cid, "checks", paper, text, "check", paper_figure=paper_figure,
                         ours=ours_fn(t), effect=None, effect_text=ours_fn(t), unit="",
                         verdict="check passed" if ok else "check failed",
                         reason=("our computation agrees with the paper" if ok else
                                 "our computation disagrees with the paper"),
                         setting=setting, rows=[t], shown_in=shown))

    app = R.NEUTRAL_APPENDIX
    chk("neutral_dcl", NEUTRAL_PAPER, "Appendix A: at K = 2, τ = 1 the identity transformations "
        "cost K log K = 1.386 and the counterexample 0.627 (identity is not DCL's minimum)",
        "dcl", lambda t: abs(t["values"]["identity"] - app["identity"]) < 5e-4
        and abs(t["values"]["counterexample"] - app["counterexample"]) < 5e-4,
        lambda t: (f"identity {t['values']['identity']:.3f}, counterexample "
                   f"{t['values']['counterexample']:.3f}"),
        f"identity {app['identity']}, counterexample {app['counterexample']}",
        "implementation check: exact evaluation of our unscaled DCL on the appendix's embeddings",
        ["Teaching · NeuTraL AD"])
    chk("toll_fig2", R.TOLL, "§3.1, Figure 2: a plain AE's score misses deviations along the kept "
        "high-variance direction x₁; adding β‖z‖ makes the score see them",
        "toll_fig2", lambda t: t["auroc_axis"]["beta=1"]["along x1"]
        > t["auroc_axis"]["beta=0"]["along x1"],
        lambda t: (f"AUROC along x₁: β = 0 {t['auroc_axis']['beta=0']['along x1']:.3f} → β = 1 "
                   f"{t['auroc_axis']['beta=1']['along x1']:.3f}"),
        "qualitative (Figure 2: closed score contours)",
        "Teaching toy: linear AE, 1-D latent, 400 samples of N(0, diag(4, 1)), 400 Adam steps, "
        "anomalies pushed 3σ along x₁, seed 0", ["Teaching · Toll"])
    chk("toll_thm1", R.TOLL, "Theorem 1: under the norm penalty's gradient flow, high-variance "
        "directions collapse first", "toll_thm1",
        lambda t: int(np.argmin(t["relative_end"])) == int(np.argmax(t["eigenvalues"])),
        lambda t: ("relative spread at t = 1.5: " + ", ".join(
            f"λ = {lam:.2f}: {rel:.3f}" for lam, rel in zip(t["eigenvalues"], t["relative_end"]))),
        "Theorem 1 (analytic)", "Teaching toy: closed-form gradient flow, W(0) = I",
        ["Teaching · Toll"])
    chk("lisae_42", R.LISAE, "§4.2: shaping the latent layer with negatives turns PCA's circular "
        "score cylinder into an elliptic one and catches off-plane anomalies", "lisae_42",
        lambda t: t["auroc_lisae"] > t["auroc_pca"],
        lambda t: f"AUROC PCA {t['auroc_pca']:.3f} → LIS-AE {t['auroc_lisae']:.3f}",
        "qualitative (§4.2)", "Teaching toy: 400 normals and 400 anomalies, γ = 5, seed 0",
        ["Teaching · LIS-AE"])
    chk("neutral_toy", NEUTRAL_PAPER, "§3: the DCL trains distinct, recognisable views: the "
        "trained loss falls well below K log K (random guessing)", "neutral_toy",
        lambda t: t["train_dcl"] < 0.5 * t["k_log_k"],
        lambda t: f"DCL {t['train_dcl']:.3f} vs K log K {t['k_log_k']:.3f}",
        "qualitative (§3)", "Teaching toy: K = 4 residual transformations on a 2-D ring, τ = 0.1, "
        "300 full-batch steps, seed 0 (passes when below half of K log K)",
        ["Teaching · NeuTraL AD"])
    return out


# ----------------------------------------------------------------------------- Toll
def toll_claims(rows: Sequence[dict[str, Any]], seeds: Sequence[int]) -> list[dict[str, Any]]:
    t = [r for r in rows if r.get("detector") == "toll"]
    it = next((r["_cell"]["params"].get("iterations") for r in t
               if r["_cell"]["params"].get("iterations")), 400)
    setting = (f"mnist5k normal 8 (one task), Toll quick preset (small conv AE + BN, "
               f"dataset-standardised pixels, z 128, β 1000, {it} batches of 64 without repeats, "
               f"val-loss checkpoint), seeds {list(seeds)}; the paper preset (appendix-B net, "
               f"2000 full batches) costs hours per fit on 2 CPU cores and is not run")
    p = R.FIDELITY["toll_digit8"]
    out = [difference_claim(
        "toll_beta", "toll", R.TOLL, "β = 1000 beats β = 0 (plain AE) on digit 8 (ablation)",
        a_rows=sel(t, tag="beta0"), b_rows=sel(t, tag="p2"), label_a="β=0", label_b="β=1000",
        scale=100, unit="AUROC points", digits=1, paper_a=p["beta0"], paper_b=p["beta1000"],
        setting=setting)]
    by = {tag: {r["seed"]: 100 * r["auroc"] for r in sel(t, tag=tag)}
          for tag in ("beta0", "p1", "p2", "pinf")}
    common = sorted(set.intersection(*(set(v) for v in by.values()))) if all(by.values()) else []
    pn = TOLL_NORMS_DIGIT8
    text = "L1 ≈ L2 > L∞ (latent norm), digit 8"
    if not common:
        out.append(not_run("toll_norms", "toll", R.TOLL, text, "difference", "cells missing"))
        return out
    l1, l2, li, b0 = (float(np.mean([by[k][s] for s in common]))
                      for k in ("p1", "p2", "pinf", "beta0"))
    gap = min(l1, l2) - li
    close = abs(l1 - l2)
    pgap = min(pn["1"], pn["2"]) - pn["inf"]
    if gap <= 0:
        v, why = "not reproduced", f"min(L1, L2) − L∞ = {gap:+.1f} points is not > 0"
    elif close > NORM_TOLERANCE:
        v, why = "direction only", (f"L∞ is lowest ({gap:+.1f} points), but |L1 − L2| = "
                                    f"{close:.1f} points exceeds our fixed ≈ tolerance of "
                                    f"{NORM_TOLERANCE:g} point, so '≈' does not hold")
    elif gap < FAR_SMALLER * pgap:
        v, why = "direction only", f"gap {gap:+.1f} points is far smaller than the paper's {pgap:+.1f}"
    else:
        v, why = "reproduced", (f"min(L1, L2) − L∞ = {gap:+.1f} points (paper {pgap:+.1f}) and "
                                f"|L1 − L2| = {close:.1f} ≤ {NORM_TOLERANCE:g} point")
    why += (f"; our L∞ ({li:.1f}) is no better than β = 0 ({b0:.1f}): with the L∞ norm the "
            f"penalty does not help on this task" if li <= b0 else
            f"; our L∞ ({li:.1f}) is above β = 0 ({b0:.1f})")
    used = [r for r in t if r["tag"] in ("p1", "p2", "pinf", "beta0") and r["seed"] in common]
    out.append(claim("toll_norms", "toll", R.TOLL, text, "difference",
                     paper_figure=f"L1 {pn['1']:g}, L2 {pn['2']:g} > L∞ {pn['inf']:g} "
                                  f"(latent-norm table, normal 8; gap {pgap:+.1f})",
                     ours=f"L1 {l1:.1f}, L2 {l2:.1f}, L∞ {li:.1f} (β = 0: {b0:.1f})",
                     effect=gap, effect_text=f"{gap:+.1f} AUROC points (min(L1, L2) − L∞); "
                                             f"|L1 − L2| = {close:.1f}",
                     unit="AUROC points", verdict=v, reason=why, setting=setting, rows=used,
                     n_tasks=1, n_seeds=len(common), same_setting=True))
    return out


# ----------------------------------------------------------------------------- LIS-AE
def lisae_claims(rows: Sequence[dict[str, Any]], seeds: Sequence[int]) -> list[dict[str, Any]]:
    ref = R.FIDELITY["lisae"]
    l_ = [r for r in rows if r.get("tag") in ("t3", "t3ctl", "t1", "2c")]
    t3, ctl = sel(l_, tag="t3"), sel(l_, tag="t3ctl")
    ep = next((r["_cell"]["params"] for r in t3), {})
    short = f" (shortened: {ep.get('epochs')} + {ep.get('phase2_epochs')} epochs)" \
        if ep.get("epochs") else " (30 + 20 epochs)"
    cls = sorted({r["normal"] for r in t3})
    c3 = difference_claim(
        "lisae_t3", "lisae", R.LISAE, "Table 3 (MNIST): latent shaping with negatives from the "
        "other half beats the same training without negatives", a_rows=ctl, b_rows=t3,
        label_a="no negatives", label_b="MNIST negatives", paper_a=ref["table3_none"],
        paper_b=ref["table3_mnist"],
        setting=(f"mnist5k, normal c ∈ {{{', '.join(cls)}}} (one task each), negatives = the five "
                 f"classes of the other half, anomalies = the remaining four; LIS-AE quick "
                 f"preset{short}; 'no negatives' = the control: the same phase 1 and the same "
                 f"phase-2 epochs on the latent layer with β = 0 (positives only), so the gain "
                 f"is the negatives', not the extra training; seeds {list(seeds)}"))
    _, p1, _, _ = per_task(t3, t3, lambda r: r.get("auroc_phase1"))
    c3["reason"] += (f"; phase 1 alone (before latent shaping): {p1.mean():.3f}" if len(p1) else "")
    c3["ours"] += (f"; phase 1 alone {p1.mean():.3f}" if len(p1) else "")
    t1 = sel(l_, tag="t1")
    src = next((r.get("negatives_source") for r in t1 if r["detector"] == "lisae"), "")
    c1 = difference_claim(
        "lisae_t1", "lisae", R.LISAE, "Table 1, 1-class MNIST: LIS-AE beats the AE",
        a_rows=sel(t1, detector="ae"), b_rows=sel(t1, detector="lisae"), label_a="AE",
        label_b="LIS-AE", paper_a=ref["table1_ae"], paper_b=ref["table1_lisae"],
        setting=(f"mnist5k one-vs-rest, normal c ∈ {{{', '.join(cls)}}}; LIS-AE quick "
                 f"preset{short} with the default negatives: {src}; AE = `ae` quick preset "
                 f"(100 epochs); seeds {list(seeds)}"), shown_in=["Teaching · LIS-AE"])
    c2r = sel(l_, tag="2c")
    c2 = difference_claim(
        "lisae_2c", "lisae", R.LISAE, "2-class MNIST: LIS-AE beats the AE",
        a_rows=sel(c2r, detector="ae"), b_rows=sel(c2r, detector="lisae"), label_a="AE",
        label_b="LIS-AE", paper_a=ref["two_class_ae"], paper_b=ref["two_class_lisae"],
        setting=(f"mnist5k, normal pairs {', '.join(sorted({r['normal'] for r in c2r}))} (one "
                 f"task each), the rest anomalies; stroke/glyph negatives; LIS-AE quick{short}, "
                 f"AE quick; seeds {list(seeds)}"))
    return [c3, c1, c2]


# ----------------------------------------------------------------------------- GeoTrans
def geotrans_claims(rows: Sequence[dict[str, Any]], seeds: Sequence[int]) -> list[dict[str, Any]]:
    g = [r for r in rows if r.get("tag") == "g72"]
    p = R.FIDELITY["geotrans"]
    cls = sorted({r["normal"] for r in g})
    out = [difference_claim(
        "geo_ocsvm", "geotrans", R.GEOTRANS, "GeoTrans (72 transformations) beats a raw-pixel "
        "OC-SVM (one-vs-rest, average over classes)", a_rows=sel(g, detector="ocsvm"),
        b_rows=sel(g, detector="geotrans"), label_a="RAW-OC-SVM", label_b="GeoTrans", scale=100,
        unit="AUROC points", digits=1, same_setting=False,
        nearest=(f"Fashion-MNIST RAW-OC-SVM {p['raw_ocsvm_fmnist']:g} → GeoTrans "
                 f"{p['geotrans_fmnist']:g}; CIFAR-10 62.0 → 86.0 (Table 1; the paper has no "
                 f"MNIST table, and its OC-SVM's ν and γ were tuned on test labels)"),
        setting=(f"mnist5k one-vs-rest, classes {{{', '.join(cls)}}} (one task each); GeoTrans "
                 f"with all 72 transformations and the paper's ⌈200/72⌉ = 3 epochs but the quick "
                 f"small CNN (WRN-10-4 costs tens of minutes per class on 2 CPU cores); OC-SVM "
                 f"(RBF, quick preset, untuned) on raw pixels; seeds {list(seeds)}"
                 + paper_preset_evidence("grid")))]
    intu = sel(rows, kind="intuition")

    def exp_rows(n: str, a: str, t: str) -> list[dict[str, Any]]:
        return [dict(r, dataset="mnist5k", normal=f"{r['normal']} vs {r['anomaly']}")
                for r in intu if (r["normal"], r["anomaly"], r["transformations"]) == (n, a, t)]

    def recog(rr: list[dict[str, Any]], key: str = "recognition") -> str:
        v = [r[key] for r in rr if key in r]
        return f"{100 * np.mean(v):.0f} %" if v else "n/a"

    e83, e38, es83 = R.GEOTRANS_INTUITION_EXPERIMENTS
    pi = R.FIDELITY["geotrans_intuition"]
    ep = next((r["_cell"]["params"].get("epochs") for r in intu
               if r["_cell"].get("params", {}).get("epochs")), None)
    setting = ("§6 on mnist5k: train on one digit's ~360 images with two transformations, test "
               "on its test images vs one anomaly digit (one task per experiment); quick CNN, "
               + (f"{ep} epochs (shortened)" if ep else "the paper's ⌈200/2⌉ = 100 epochs")
               + f"; tx+7 = the authors' Keras shift of 7 px along the rows; seeds {list(seeds)}"
               + paper_preset_evidence("intuition"))
    r83, r38, rs83 = exp_rows(*e83), exp_rows(*e38), exp_rows(*es83)

    def unpair(rr: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
        return [dict(r, normal=tag) for r in rr]  # the two sides of one comparison = one task

    c1 = difference_claim(
        "geo_6_flip", "geotrans", R.GEOTRANS, "§6: with {identity, flip}, 8-vs-3 fails and "
        "3-vs-8 works", a_rows=unpair(r83, "§6 flip"), b_rows=unpair(r38, "§6 flip"),
        label_a="8 vs 3", label_b="3 vs 8", paper_a=pi["8v3_flip"], paper_b=pi["3v8_flip"],
        setting=setting, shown_in=["Teaching · GeoTrans"])
    c1["reason"] += (f"; transformation recognition on held-out normals: 8s {recog(r83)}, "
                     f"3s {recog(r38)}")
    c2 = difference_claim(
        "geo_6_translate", "geotrans", R.GEOTRANS, "§6: translation fixes 8-vs-3 ({identity, "
        "translate 7 px} beats {identity, flip})", a_rows=unpair(r83, "§6 8v3"),
        b_rows=unpair(rs83, "§6 8v3"), label_a="flip", label_b="translate",
        paper_a=pi["8v3_flip"], paper_b=pi["8v3_translate"], setting=setting,
        why=(f"The paper's argument needs the flip to be unrecognisable on 8s (a symmetric "
             f"digit). Measured on held-out 8s, our classifier names the transformation of "
             f"{recog(r83)} of the views with {{identity, flip}} (3s: "
             f"{recog(r83, 'recognition_anomaly')}) and {recog(rs83)} with {{identity, tx+7}}: "
             f"MNIST 8s are slanted, so their flip is learnable and the flip score already "
             f"separates 8 from 3, leaving the translation less to fix"),
        shown_in=["Teaching · GeoTrans"])
    out += [c1, c2]
    mo = sel(rows, kind="morph")
    text = ("Figure 1: gradient ascent on the normality score of a model trained on 3s drives a "
            "0 toward a 3; a 3 stays a 3")
    if not mo:
        out.append(not_run("geo_morph", "geotrans", R.GEOTRANS, text, "qualitative",
                           "the cells did not finish", shown_in=["Teaching · GeoTrans"]))
        return out
    zero = [next(x for x in r["rows"] if x["start"] == "0") for r in mo]
    three = [next(x for x in r["rows"] if x["start"] == "3") for r in mo]
    became = sum(x["judged_end"] == "3" for x in zero)
    stayed = sum(x["judged_end"] == "3" for x in three)
    rose = sum(x["p_normal_end"] > x["p_normal_start"] for x in zero)
    k = len(mo)
    if became * 2 > k and stayed * 2 > k:
        v = "reproduced"
    elif rose * 2 > k:
        v = "direction only"
    else:
        v = "not reproduced"
    ours = (f"the morphed 0 is judged a 3 on {became} of {k} seeds (P(3) "
            f"{np.mean([x['p_normal_start'] for x in zero]):.3f} → "
            f"{np.mean([x['p_normal_end'] for x in zero]):.3f}); the 3 stays a 3 on {stayed} of "
            f"{k}; normality of the 0 {np.mean([x['normality_start'] for x in zero]):.3f} → "
            f"{np.mean([x['normality_end'] for x in zero]):.3f}")
    out.append(claim("geo_morph", "geotrans", R.GEOTRANS, text, "qualitative",
                     paper_figure="qualitative (Figure 1: images only)", ours=ours,
                     effect=became / k, effect_text=f"{became}/{k} seeds: the 0 ends judged a 3",
                     unit="fraction of seeds", verdict=v,
                     reason=("judge: a pixel logistic-regression digit classifier fitted on the "
                             "training split of all ten classes; the ascent maximises the "
                             "simplified normality score (200 steps, largest pixel change 0.01)"),
                     setting=(f"mnist5k, GeoTrans quick CNN trained on 3s with the 8 "
                              f"flip × rotation transformations (⌈200/8⌉ = 25 epochs), "
                              f"ascent from the first test 0 and the first test 3; seeds "
                              f"{list(seeds)}"), rows=mo, n_tasks=1, n_seeds=k,
                     shown_in=["Teaching · GeoTrans"]))
    return out


def paper_preset_evidence(part: str, path: Path | None = None) -> str:
    """What the GeoTrans paper-preset runs (``python -m ad_core.benchmarks.geotrans
    --paper-classes … --paper-intuition … --name geotrans_paper``) measured, for a row's setting;
    '' when none ran. ``part``: ``grid`` (WRN-10-4, 72 transformations, 3 epochs, against the
    same run's IsolationForest) or ``intuition`` (§6 with WRN-10-4, 100 epochs)."""
    from ad_core.bench import RESULTS_DIR

    path = path or RESULTS_DIR / "geotrans_paper.json"
    try:
        rows = json.loads(path.read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return ""
    seeds = sorted({r.get("seed", 0) for r in rows if str(r.get("part", "")).startswith("paper_")})
    src = f" ({path.name}, seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})"
    if part == "grid":
        got = [r for r in rows if r.get("part") == "paper_grid"]
        iso = {r["normal"]: r["auroc"] for r in rows
               if r.get("part") == "grid" and r.get("detector") == "iforest"}
        if not got:
            return ""
        figs = "; ".join(f"class {r['normal']}: {100 * r['auroc']:.1f} vs IsolationForest "
                         + (f"{100 * iso[r['normal']]:.1f}" if r["normal"] in iso else "n/a")
                         for r in got)
        return (f". Paper preset (WRN-10-4, 72 transformations, 3 epochs) run here on "
                f"{len(got)} of 10 classes{src}: {figs}")
    got = [r for r in rows if r.get("part") == "paper_intuition"]
    if not got:
        return ""
    figs = "; ".join(
        f"{r['normal']} vs {r['anomaly']} {{{', '.join(r['transformations'])}}}: AUROC "
        f"{r['auroc']:.3f} (paper {r['paper_auroc']:.3f})"
        + (f", recognition on held-out normals {100 * r['recognition']:.0f} %"
           if "recognition" in r else "") for r in got)
    return f". With the paper's WRN-10-4 and 100 epochs{src}: {figs}"


# ----------------------------------------------------------------------------- NeuTraL
def neutral_claims(rows: Sequence[dict[str, Any]], seeds: Sequence[int]) -> list[dict[str, Any]]:
    bc = sel(rows, tag="bc")
    diag = sel(rows, kind="toy", name="bc_magnitude")
    why = ""
    if diag:
        m = {k: 100 * float(np.mean([d["auroc"][k] for d in diag])) for k in
             ("rows", "length", "direction")}
        nt = sel(bc, detector="neutral")
        na = 100 * float(np.mean([r["auroc"] for r in nt])) if nt else math.nan
        why = (f"Diagnostic (IsolationForest on the same splits, AUROC %): rows {m['rows']:.1f}, "
               f"length ‖x‖ only {m['length']:.1f}, direction x/‖x‖ only {m['direction']:.1f}; "
               f"NeuTraL {na:.1f}. "
               + ("The length alone carries IsolationForest's signal (malignant rows are larger "
                  "in magnitude); " if m["length"] >= m["rows"] - 1 else "")
               + ("on the direction alone, which NeuTraL's cosine-similarity loss compares, "
                  "IsolationForest falls below NeuTraL" if m["direction"] < na else ""))
    c = difference_claim(
        "neutral_tabular", "neutral", NEUTRAL_PAPER, "Tabular NeuTraL AD beats IsolationForest "
        "(F1 at the true anomaly fraction)", a_rows=sel(bc, detector="iforest"),
        b_rows=sel(bc, detector="neutral"), label_a="IF", label_b="NeuTraL",
        value=lambda r: r["f1"], scale=100, unit="F1 points", digits=1, same_setting=False,
        nearest=("the paper's tabular tables (F1 on Arrhythmia, Thyroid, KDD, KDD-Rev against IF "
                 "and others) are in its main text, which our copy (the appendix) does not hold, "
                 "so no figure is quoted"),
        setting=(f"breast_cancer (embedded; one task), benign = normal, ODDS protocol (half the "
                 f"benign rows train, the rest and all malignant rows test); F1 at the true "
                 f"anomaly fraction (the paper's metric); NeuTraL quick preset; seeds "
                 f"{list(seeds)}"), why=why)
    if diag:
        c["trace"] = trace([*bc, *diag])
    au = {d: float(np.mean([r["auroc"] for r in sel(bc, detector=d)])) for d in ("neutral",
                                                                                "iforest")
          if sel(bc, detector=d)}
    if len(au) == 2:
        c["ours"] += f"; AUROC IF {au['iforest']:.3f}, NeuTraL {au['neutral']:.3f}"
    return [c]


# ----------------------------------------------------------------------------- augmentation
def _aug_rows(rows: Sequence[dict[str, Any]], study: str, label: str) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("tag") == f"{study}|{label}"]


def aug_stats(rows: Sequence[dict[str, Any]], study: str, label: str,
              value: Callable[[dict[str, Any]], float | None]) -> dict[str, Any] | None:
    """Relative AUROC of ``label`` against the plain AE over tasks (seeds averaged first)."""
    tasks, a, b, ns = per_task(_aug_rows(rows, study, label), _aug_rows(rows, study, "none"),
                               value)
    if len(tasks) < 1:
        return None
    return {**wilcoxon_paired(a, b, alternative="greater"), "tasks": tasks, "n_seeds": ns,
            "mean_a": float(a.mean()), "mean_b": float(b.mean()), "label": label}


def augmentation_claims(rows: Sequence[dict[str, Any]], seeds: Sequence[int]
                        ) -> list[dict[str, Any]]:
    from ad_core.augment import CATALOGUE

    aug = [r for r in rows if str(r.get("tag", "")).startswith(("tb|", "wild|"))]
    datasets = sorted({r["dataset"] for r in aug})
    per_ds = {d: sorted({r["seed"] for r in aug if r["dataset"] == d}) for d in datasets}
    epochs = next((r["_cell"]["params"].get("epochs") for r in aug
                   if r["_cell"]["params"].get("epochs")), None)
    base_setting = (f"{' + '.join(datasets)}, all classes present ("
                    + "; ".join(f"{d}: seeds {per_ds[d]}" for d in datasets)
                    + "), one task per (dataset, class) with its seeds averaged; DAE quick "
                    + (f"preset shortened to {epochs} epochs" if epochs else "preset (100 epochs)")
                    + "; the paper used SVHN-C/CIFAR-10C and a 256-epoch DAE"
                    + ("" if len({len(v) for v in per_ds.values()}) <= 1 else
                       "; fewer seeds on mnist5k to fit the 2-core budget: its 19 testbed "
                       "configurations × 10 classes cost ~20 s a fit here"))
    tb_labels = [a for a in CATALOGUE if a != "none"]
    shown = "Teaching · Augmentation alignment"

    def stats_all(gen: str) -> dict[str, dict[str, Any]]:
        out = {}
        for lab in [*tb_labels, *(aug_label("cutout-c", c) for c in AUG_SWEEP)]:
            s = aug_stats(aug, "tb", lab, _kind(gen))
            if s is not None:
                out[lab] = s
        return out

    by_gen = {g: stats_all(g) for g in GENERATORS}
    tb_rows = [r for r in aug if r["tag"].startswith("tb|")]
    wild_rows = [r for r in aug if r["tag"].startswith("wild|")]
    out: list[dict[str, Any]] = []

    def ratio_claim(cid, text, label, gen, mode, paper_figure, shown_in=(shown,)):
        s = by_gen[gen].get(label)
        if s is None:
            return not_run(cid, "augmentation", AUG_PAPER, text, "ratio", "no paired cells",
                           paper_figure, shown_in)
        pm, p = s["pseudomedian"], s["pvalue"]
        if mode == "helps":
            v = "reproduced" if p < ALPHA else "direction only" if pm > 1 else "not reproduced"
        elif mode == "no help":
            v = "reproduced" if (p >= ALPHA or pm < 1 + NEGLIGIBLE) else "not reproduced"
        else:
            v = "reproduced" if p > 1 - ALPHA else "direction only" if pm < 1 else "not reproduced"
        reason = (f"{label} on gen = {gen}: pseudomedian {pm:.3f}, one-sided p = {p:.3g} "
                  f"(n = {s['n']} tasks); mean AUROC {s['mean_a']:.3f} vs {s['mean_b']:.3f} for "
                  f"the plain AE")
        used = [r for r in tb_rows if r["tag"] in (f"tb|{label}", "tb|none")]
        return claim(cid, "augmentation", AUG_PAPER, text, "ratio", paper_figure=paper_figure,
                     ours=f"mean AUROC {s['mean_b']:.3f} (plain AE) → {s['mean_a']:.3f} ({label})",
                     effect=pm, effect_text=f"{pm:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}]",
                     unit="relative AUROC", verdict=v, reason=reason, setting=base_setting,
                     rows=used, n_tasks=s["n"], n_seeds=s["n_seeds"], test=s, shown_in=shown_in)

    def rank_stats(gen: str) -> dict[str, dict[str, Any]]:
        """Every augmentation's statistics on the tasks all of them ran (a run cut short
        leaves some on fewer tasks: they are compared on the common tasks, never on others)."""
        stats = {lab: st for lab, st in by_gen[gen].items() if "=" not in lab}  # the catalogue
        if not stats:
            return {}
        common = set.intersection(*(set(st["tasks"]) for st in stats.values()))
        if not common:
            full = max(st["n"] for st in stats.values())
            return {lab: st for lab, st in stats.items() if st["n"] == full}
        if all(len(st["tasks"]) == len(common) for st in stats.values()):
            return stats
        sub = [r for r in aug if task_of(r) in common]
        return {lab: st for lab in stats
                if (st := aug_stats(sub, "tb", lab, _kind(gen))) is not None}

    def rank_claim(cid, text, gen, named, need, paper_figure, shown_in=(shown,), extra=""):
        rs = rank_stats(gen)
        rk = sorted(rs, key=lambda lab: -rs[lab]["pseudomedian"])
        if not rk or not all(a in rk for a in named):
            return not_run(cid, "augmentation", AUG_PAPER, text, "rank", "augmentations missing",
                           paper_figure, shown_in)
        pos = {a: rk.index(a) + 1 for a in named}
        sig = {a: rs[a]["pvalue"] < ALPHA for a in named}
        placed = need(pos)
        v = ("reproduced" if placed and any(sig.values()) and (len(named) == 1 or all(sig.values()))
             else "direction only" if any(sig.values()) else "not reproduced")
        ranks = ", ".join(f"{a} #{pos[a]}/{len(rk)} ({rs[a]['pseudomedian']:.3f}, "
                          f"p = {rs[a]['pvalue']:.3g})" for a in named)
        top = ", ".join(f"{a} {rs[a]['pseudomedian']:.3f}" for a in rk[:3])
        base = rs[rk[0]]["mean_b"]
        n = rs[named[0]]["n"]
        fewer = n < max(st["n"] for lab, st in by_gen[gen].items() if "=" not in lab)
        reason = (f"ranks on gen = {gen}: {ranks}; top 3: {top}; the plain AE's mean AUROC on "
                  f"gen = {gen} is {base:.3f}" + extra
                  + (f"; ranked on the {n} tasks every augmentation ran (the run was cut short: "
                     f"{', '.join(f'{d} {c}' for d, c in sorted(rs[rk[0]]['tasks'])[:3])}…)"
                     if fewer else ""))
        used = [r for r in tb_rows]
        return claim(cid, "augmentation", AUG_PAPER, text, "rank", paper_figure=paper_figure,
                     ours=ranks, effect=float(min(pos.values())),
                     effect_text=" ".join(f"{a} #{pos[a]}/{len(rk)}" for a in named),
                     unit="rank", verdict=v, reason=reason, setting=base_setting, rows=used,
                     n_tasks=n, n_seeds=rs[named[0]]["n_seeds"], test=rs[named[0]],
                     shown_in=shown_in)

    out.append(ratio_claim("aug_flip_aligned", "Controlled testbed: the aligned augmentation "
                           "significantly helps — DAE(Flip) beats the plain AE on flipped "
                           "anomalies", "flip", "flip", "helps",
                           "qualitative (App. C.1, gen = Flip); no figure for a DAE on digits"))
    out.append(rank_claim("aug_flip_best", "gen = Flip: the aligned augmentation (Flip, and GEOM "
                          "which contains it) works best", "flip", ("flip", "geom"),
                          lambda pos: min(pos.values()) == 1,
                          "qualitative (App. C.1); no figure for a DAE on digits",
                          shown_in=(shown, "Compare · augmentation tables")))
    out.append(ratio_claim("aug_cutout_aligned", "Controlled testbed: the aligned augmentation "
                           "significantly helps — DAE(CutOut) beats the plain AE on CutOut "
                           "anomalies", "cutout", "cutout", "helps",
                           "Fig. 1: p < 0.05 over the paper's 20 tasks (SVHN-C, CIFAR-10C); no "
                           "figure for digits"))
    out.append(rank_claim("aug_cutout_local", "gen = CutOut: the local augmentations (CutOut, "
                          "CutPaste, CutPaste-scar) improve the plain AE most", "cutout",
                          LOCAL_NAMED, lambda pos: max(pos.values()) <= 4,
                          "qualitative (Fig. 1); no figure for digits",
                          extra=" (placed = all three named ones in the top 4: the local family "
                                "has four members with CutOut-c)"))
    out.append(rank_claim("aug_invert_best", "gen = Invert: the aligned augmentation (Invert) "
                          "works best", "invert", ("invert",), lambda pos: pos["invert"] == 1,
                          "qualitative (App. C.1); no figure for a DAE on digits",
                          shown_in=(shown, "Compare · augmentation tables"),
                          extra=" — where the plain AE already scores ≈ 1 the ratio has no room "
                                "to rise, so ties decide the ranking"))
    out.append(ratio_claim("aug_misaligned_flip", "A misaligned augmentation does not help: "
                           "DAE(Flip) on CutOut anomalies", "flip", "cutout", "no help",
                           "Fig. 1 / Obs. 2: negligible change or a significant decrease"))
    out.append(ratio_claim("aug_misaligned_cutout", "A misaligned augmentation does not help: "
                           "DAE(CutOut) on flipped anomalies", "cutout", "flip", "no help",
                           "App. C.1 / Obs. 2: negligible change or a significant decrease"))
    hurt = [(lab, g, s) for g in GENERATORS for lab, s in by_gen[g].items()
            if "=" not in lab and s["pvalue"] > 1 - ALPHA]
    n_pairs = sum(1 for g in GENERATORS for lab in by_gen[g] if "=" not in lab)
    if n_pairs:
        out.append(claim(
            "aug_hurt", "augmentation", AUG_PAPER, "Obs. 2: a misaligned augmentation can make "
            "the DAE significantly worse than the plain AE", "existence",
            paper_figure="qualitative (Obs. 2, Fig. 1)",
            ours="; ".join(f"{lab} on {g} ({s['pseudomedian']:.3f}, p = {s['pvalue']:.3g})"
                           for lab, g, s in hurt[:10]) + ("…" if len(hurt) > 10 else "")
            or "none", effect=float(len(hurt)),
            effect_text=f"{len(hurt)} of {n_pairs} (augmentation, gen) pairs hurt (p > 0.95)",
            unit="count", verdict="reproduced" if hurt else "not reproduced",
            reason=f"{len(hurt)} pairs significantly hurt (one-sided p > 0.95 over tasks)",
            setting=base_setting, rows=tb_rows,
            n_tasks=max((s["n"] for g in GENERATORS for s in by_gen[g].values()), default=0),
            n_seeds=None, shown_in=(shown,)))
    # CutOut-c sweep on gen = CutOut
    pts = [(c, by_gen["cutout"].get(aug_label("cutout-c", c))) for c in AUG_SWEEP]
    pts = [(c, s) for c, s in pts if s is not None]
    text = ("CutOut-c works better with small c (Obs. 3): the relative AUROC on CutOut "
            "anomalies falls as the erased area fraction c grows")
    if len(pts) >= 2:
        from scipy.stats import spearmanr

        cs, pms = [c for c, _ in pts], [s["pseudomedian"] for _, s in pts]
        rho = float(spearmanr(cs, pms).statistic) if len(cs) > 2 else float(
            np.sign(cs[1] - cs[0]) * np.sign(pms[1] - pms[0]))
        rho = 0.0 if not math.isfinite(rho) else rho
        best = cs[int(np.argmax(pms))]
        v = ("reproduced" if rho < 0 and best <= 0.3 else "direction only" if rho < 0
             else "not reproduced")
        curve = ", ".join(f"c = {c:g}: {s['pseudomedian']:.3f} (p = {s['pvalue']:.3g})"
                          for c, s in pts)
        used = [r for r in tb_rows if r["tag"].startswith("tb|cutout-c=") or r["tag"] == "tb|none"]
        out.append(claim("aug_cutoutc_trend", "augmentation", AUG_PAPER, text, "trend",
                         paper_figure="Fig. 3: relative AUC decreasing in c ∈ [0.1, 0.9] "
                                      "(qualitative; no figure for digits)",
                         ours=curve, effect=rho, effect_text=f"ρ = {rho:+.2f} (best c = {best:g})",
                         unit="Spearman ρ", verdict=v,
                         reason=(f"Spearman ρ(c, pseudomedian) = {rho:+.2f} over c ∈ {cs}; best "
                                 f"c = {best:g} (the generator's erased area is U(0.02, 0.33))"),
                         setting=base_setting + "; c = the erased area fraction "
                                                "(RandomErasing(scale=(c, c), ratio=1))",
                         rows=used, n_tasks=pts[0][1]["n"], n_seeds=pts[0][1]["n_seeds"],
                         shown_in=(shown,)))
        big = [(c, s) for c, s in pts if c >= 0.6]
        text2 = ("CutOut-c with a large erased area hurts: c ≥ 0.6 decreases the AUROC of the "
                 "plain AE (Obs. 3)")
        if big:
            cl, sl = big[-1]
            v2 = ("reproduced" if all(s["pseudomedian"] < 1 for _, s in big)
                  and sl["pvalue"] > 1 - ALPHA else
                  "direction only" if all(s["pseudomedian"] < 1 for _, s in big)
                  else "not reproduced")
            out.append(claim("aug_cutoutc_large", "augmentation", AUG_PAPER, text2, "ratio",
                             paper_figure="Fig. 3: relative AUC < 1 for c ≥ 0.6 (qualitative)",
                             ours=", ".join(f"c = {c:g}: {s['pseudomedian']:.3f} (p = "
                                            f"{s['pvalue']:.3g})" for c, s in big),
                             effect=sl["pseudomedian"],
                             effect_text=f"c = {cl:g}: {sl['pseudomedian']:.3f} "
                                         f"[{sl['ci_low']:.3f}, {sl['ci_high']:.3f}]",
                             unit="relative AUROC", verdict=v2,
                             reason=(f"'hurts' rule on c = {cl:g} (p = {sl['pvalue']:.3g}), with "
                                     f"every c ≥ 0.6 below 1"), setting=base_setting, rows=used,
                             n_tasks=sl["n"], n_seeds=sl["n_seeds"], test=sl, shown_in=(shown,)))
    else:
        out.append(not_run("aug_cutoutc_trend", "augmentation", AUG_PAPER, text, "trend",
                           "fewer than two c values ran", shown_in=(shown,)))
        out.append(not_run("aug_cutoutc_large", "augmentation", AUG_PAPER, "CutOut-c with a "
                           "large erased area hurts (Obs. 3)", "ratio", "no c ≥ 0.6 ran",
                           shown_in=(shown,)))
    # in the wild: per task the mean one-vs-one AUROC over the anomaly classes
    wild = {lab: aug_stats(aug, "wild", lab, _ovo) for lab in AUG_WILD if lab != "none"}
    wild = {k: v for k, v in wild.items() if v is not None}
    wsetting = (base_setting.replace("DAE quick", "in the wild (one-vs-one AUROC against each "
                                                  "other class, averaged per task); DAE quick"))
    text = ("Obs. 4 (Fig. 4): in the wild, geometric augmentations help most, Rotate first; "
            "local ones help less")
    if "rotate" in wild:
        rk = sorted(wild, key=lambda k: -wild[k]["pseudomedian"])
        s = wild["rotate"]
        pos = rk.index("rotate") + 1
        geo = [wild[k]["pseudomedian"] for k in ("rotate", "flip", "geom") if k in wild]
        loc = [wild[k]["pseudomedian"] for k in ("cutout", "cutpaste") if k in wild]
        sig = s["pvalue"] < ALPHA
        v = ("reproduced" if sig and pos == 1 else "direction only" if sig or
             s["pseudomedian"] > 1 else "not reproduced")
        out.append(claim(
            "aug_wild_rotate", "augmentation", AUG_PAPER, text, "rank",
            paper_figure="qualitative (Fig. 4, CIFAR-10/SVHN one-vs-one); no figure for digits",
            ours=", ".join(f"{k} {wild[k]['pseudomedian']:.3f} (p = {wild[k]['pvalue']:.3g})"
                           for k in rk),
            effect=float(pos), effect_text=f"rotate #{pos}/{len(rk)}, {s['pseudomedian']:.3f} "
                                           f"[{s['ci_low']:.3f}, {s['ci_high']:.3f}]",
            unit="rank", verdict=v,
            reason=(f"rotate: pseudomedian {s['pseudomedian']:.3f}, p = {s['pvalue']:.3g}; mean "
                    f"pseudomedian of geometric {np.mean(geo):.3f} vs local "
                    f"{np.mean(loc) if loc else float('nan'):.3f}"),
            setting=wsetting, rows=wild_rows, n_tasks=s["n"], n_seeds=s["n_seeds"], test=s,
            shown_in=("Compare · augmentation tables",)))
    else:
        out.append(not_run("aug_wild_rotate", "augmentation", AUG_PAPER, text, "rank",
                           "no in-the-wild cells", shown_in=("Compare · augmentation tables",)))
    text = "Obs. 5: SimCLR augmentation gives no meaningful improvement over the plain AE"
    if "simclr" in wild:
        s = wild["simclr"]
        pm, p = s["pseudomedian"], s["pvalue"]
        v = "reproduced" if (p >= ALPHA or pm < 1 + NEGLIGIBLE) else "not reproduced"
        out.append(claim(
            "aug_wild_simclr", "augmentation", AUG_PAPER, text, "ratio",
            paper_figure="qualitative (Obs. 5); no figure for digits",
            ours=f"mean one-vs-one AUROC {s['mean_b']:.3f} (plain AE) → {s['mean_a']:.3f}",
            effect=pm, effect_text=f"{pm:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}]",
            unit="relative AUROC", verdict=v,
            reason=f"'does not help' rule: pseudomedian {pm:.3f}, one-sided p = {p:.3g}",
            setting=wsetting, rows=[r for r in wild_rows if r["tag"] in ("wild|simclr",
                                                                          "wild|none")],
            n_tasks=s["n"], n_seeds=s["n_seeds"], test=s,
            shown_in=("Compare · augmentation tables",)))
    else:
        out.append(not_run("aug_wild_simclr", "augmentation", AUG_PAPER, text, "ratio",
                           "no in-the-wild cells", shown_in=("Compare · augmentation tables",)))
    return out


def augmentation_summary(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Relative AUROC of every augmentation of the report's grid against the plain AE, per
    testbed generator and in the wild (tasks = (dataset, class), seeds averaged first), in the
    augmentation benchmark's summary shape (the Teaching page charts it)."""
    from ad_core.augment import CATALOGUE

    aug = [r for r in rows if str(r.get("tag", "")).startswith(("tb|", "wild|"))]
    out = []
    for study, groups in (("tb", GENERATORS), ("wild", ("one-vs-one",))):
        labels = list(dict.fromkeys(r["tag"].split("|", 1)[1] for r in aug
                                    if r["tag"].startswith(study + "|")))
        for g in groups:
            for lab in labels:
                if lab == "none":
                    continue
                s = aug_stats(aug, study, lab, _ovo if study == "wild" else _kind(g))
                if s is None:
                    continue
                base = lab.split("=")[0]
                out.append({"study": "testbed" if study == "tb" else "wild", "group": g,
                            "label": lab, "augmentation": base,
                            "category": CATALOGUE[base].category,
                            "mean_auroc": s["mean_a"], "mean_auroc_none": s["mean_b"],
                            "n_seeds": s["n_seeds"], "statistic": statistic_label(s["n"]),
                            **{k: s[k] for k in ("pseudomedian", "ci_low", "ci_high",
                                                 "ci_coverage", "ci_attained", "pvalue", "n",
                                                 "method")}})
    return out


CLAIM_GROUPS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "checks": lambda rows, seeds: check_claims(rows), "toll": toll_claims,
    "lisae": lisae_claims, "geotrans": geotrans_claims, "neutral": neutral_claims,
    "augmentation": augmentation_claims}

#: Every claim id the report makes (a page or test can check that its claims are here).
CLAIM_IDS = ("neutral_dcl", "toll_fig2", "toll_thm1", "lisae_42", "neutral_toy", "toll_beta",
             "toll_norms", "lisae_t3", "lisae_t1", "lisae_2c", "geo_ocsvm", "geo_6_flip",
             "geo_6_translate", "geo_morph", "neutral_tabular", "aug_flip_aligned",
             "aug_flip_best", "aug_cutout_aligned", "aug_cutout_local", "aug_invert_best",
             "aug_misaligned_flip", "aug_misaligned_cutout", "aug_hurt", "aug_cutoutc_trend",
             "aug_cutoutc_large", "aug_wild_rotate", "aug_wild_simclr")


def build_claims(rows: Sequence[dict[str, Any]], seeds: Sequence[int]) -> list[dict[str, Any]]:
    """Every claim from the finished cells (a missing cell makes its claim "not run")."""
    out: list[dict[str, Any]] = []
    for g, fn in CLAIM_GROUPS.items():
        got = fn([r for r in rows if r["_group"] == g], seeds)
        out += got
    order = {c: i for i, c in enumerate(CLAIM_IDS)}
    kinds = {k: i for i, k in enumerate(RULES)}  # the report's tables, in this order
    return sorted(out, key=lambda c: (kinds.get(c["kind"], len(kinds)),
                                      order.get(c["id"], len(order))))


def counts(claims: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Verdict counts of the counted claims; a claim whose cells did not finish is "not run",
    counted apart (neither a reproduction nor a failure)."""
    counted = [c for c in claims if c["counted"] and c["verdict"] != "not run"]
    return {"claims": len(counted), **{v: sum(c["verdict"] == v for c in counted)
                                       for v in VERDICTS},
            "not run": sum(c["verdict"] == "not run" for c in claims),
            "checks": sum(not c["counted"] for c in claims),
            "checks_passed": sum(c["verdict"] == "check passed" for c in claims)}


# ============================================================================= command
def parse_seeds(text: str) -> list[int]:
    """``"3"`` → [0, 1, 2]; ``"0,1,2"`` → [0, 1, 2]."""
    text = text.strip()
    if "," in text:
        return [int(s) for s in text.split(",") if s.strip()]
    return list(range(int(text)))


def main(argv: Sequence[str] | None = None) -> int:
    from ad_core.benchmarks.fidelity_report import markdown

    ap = argparse.ArgumentParser(prog="python -m ad_core.benchmarks.fidelity",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="3", help="a count (3 = seeds 0, 1, 2) or a list 0,1,2")
    ap.add_argument("--quick", action="store_true", help="smoke run on a tiny grid (one seed, "
                    "three classes, digits only for the augmentation study, short training)")
    ap.add_argument("--render-only", action="store_true",
                    help="compute nothing: render from the kept cells of today's code")
    ap.add_argument("--from-summary", action="store_true",
                    help="re-render from the committed docs/results/<name>_cells.json")
    ap.add_argument("--from-stores", default=None, metavar="COMMAND",
                    help="render from the sweep stores as they are (a run stopped before it "
                         "wrote its summary); COMMAND = the command that computed them")
    ap.add_argument("--groups", default=",".join(GROUP_ORDER),
                    help=f"claim groups to compute (default all: {', '.join(GROUP_ORDER)})")
    ap.add_argument("--missing-only", action="store_true",
                    help="compute only the cells no store holds yet (finish a stopped run; then "
                         "render with --from-stores)")
    ap.add_argument("--name", default="fidelity", help="output file stem under docs/results/")
    ap.add_argument("--out", default=None, help="output folder (default docs/results)")
    add_engine_args(ap)
    args = ap.parse_args(argv)
    configure(options_from_args(args))

    from ad_core.bench import RESULTS_DIR, write_results
    from ad_core.experiment import machine_info
    from ad_core.runkey import _fingerprint, code_fingerprint

    out_dir = Path(args.out) if args.out else RESULTS_DIR
    seeds = parse_seeds(args.seeds)
    if args.quick:
        seeds = seeds[:1]
    t0 = time.time()
    command = "python -m ad_core.benchmarks.fidelity " + " ".join(
        sys.argv[1:] if argv is None else list(argv))
    if args.from_summary:
        stored = json.loads((out_dir / f"{args.name}_cells.json").read_text())
        rows = rows_from_summary(stored["cells"])
        run_meta = stored["meta"]
        status = run_meta.get("sweeps", {})
    elif args.from_stores:
        rows, status = rows_from_stores(grid(seeds, args.quick), args.quick)
        run_meta = {"command": args.from_stores, "seeds": seeds, "quick": bool(args.quick),
                    "machine": machine_info(), "sweeps": status, "stopped": True,
                    "cell_code": ", ".join(sorted({(r["_prov"] or {}).get("code") or "?"
                                                   for r in rows}))}
    else:
        wanted = [g.strip() for g in args.groups.split(",") if g.strip()]
        if set(wanted) - set(GROUP_ORDER):
            ap.error(f"unknown group(s) {sorted(set(wanted) - set(GROUP_ORDER))}")
        cells = {g: cl for g, cl in grid(seeds, args.quick).items() if g in wanted}
        rows, status = run_groups(cells, workers=args.workers, quick=args.quick,
                                  compute=not args.render_only, missing_only=args.missing_only)
        run_meta = {"command": command, "seeds": seeds, "quick": bool(args.quick),
                    "machine": machine_info(), "sweeps": status,
                    "cell_code": code_fingerprint("ad_core.benchmarks.fidelity_cells"),
                    # recomputed (not the per-process cache): did the cells' code change while
                    # the command ran (another edit in the tree)?
                    "cell_code_at_end": _fingerprint.__wrapped__(
                        ("ad_core.benchmarks.fidelity_cells",))}
    claims = build_claims(rows, run_meta.get("seeds", seeds))
    fins = [r["_prov"]["finished"] for r in rows if (r.get("_prov") or {}).get("finished")]
    cells_wall = sum(float((st or {}).get("seconds") or 0) for st in status.values())
    tasks = {g: max((c.get("n_tasks") or 0 for c in claims if c["group"] == g), default=0)
             for g in dict.fromkeys(c["group"] for c in claims)}
    meta = {"title": "Fidelity report: every paper claim the app states, rerun",
            # the command that computed the cells; a re-render from the kept cells or the
            # committed summary says so in ``rendered_by``
            "command": run_meta.get("command") or command,
            "rendered_by": command if command != run_meta.get("command") else None,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "cells_wall_seconds": round(cells_wall, 1), "tasks_per_group": tasks,
            "machine": run_meta.get("machine"), "seeds": run_meta.get("seeds", seeds),
            "quick": bool(run_meta.get("quick")), "cells_command": run_meta.get("command"),
            "cells": len(rows), "cell_code": run_meta.get("cell_code"),
            "cell_code_at_end": run_meta.get("cell_code_at_end"),
            "cells_computed_from": _utc(min(fins)) if fins else None,
            "cells_computed_to": _utc(max(fins)) if fins else None,
            "compute_seconds": round(sum((r["_prov"] or {}).get("seconds") or 0 for r in rows), 1),
            "wall_seconds": round(time.time() - t0, 1), "sweeps": status,
            "counts": counts(claims), "rules": {k: v[1] for k, v in RULES.items()},
            "augmentation_summary": augmentation_summary(rows),
            "closure_modified_during_run": closure_changes(rows),
            "load_average_at_end": os.getloadavg()[0]}
    # (re)written from the rows: a re-render from the summary keeps its cells and meta and only
    # re-serialises them in the current compact form
    (out_dir / f"{args.name}_cells.json").write_text(json.dumps(
        {"meta": run_meta, "cells": cell_summary(rows)}, separators=(",", ":"),
        default=str) + "\n")
    jp, mp = write_results(args.name, claims, meta, markdown(claims, meta), out_dir)
    c = meta["counts"]
    print(f"{c['claims']} claims: {c['reproduced']} reproduced, {c['direction only']} direction "
          f"only, {c['not reproduced']} not reproduced; {c['checks_passed']}/{c['checks']} checks "
          f"passed. Wrote {jp}, {mp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
