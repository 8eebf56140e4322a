"""What the benchmark grids cost per cell here, and their projected wall time on N workers:
``python -m ad_core.benchmarks.scale``.

Runs one sample cell of every distinct cell type of each grid through the sweep runner (one cell
at a time, one torch thread, so a cell's seconds are CPU-core seconds) and, for the paper
presets, a shortened run of the paper configuration (a few epochs / iterations / WRN steps) that
is scaled up to the paper's schedule and the full datasets. Writes
``docs/results/scale_costs.{json,md}`` and the generated block of ``docs/scale.md``.

Projections: a grid's wall time on N one-core workers is the longest-processing-time-first
schedule of its cells (each cell costs its sample's seconds); a paper cell's fit is modelled as
overhead + length × marginal cost from two short runs, scaled to the paper's schedule and the full
data (see :func:`markdown`). They assume the same CPU and no contention; the machine here is
shared, so the load average is recorded beside the numbers.
"""

from __future__ import annotations

import argparse
import heapq
import math
import os
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

from ad_core.bench import REPO_ROOT, write_results
from ad_core.sweep import SweepOptions, run_sweep

SCALE_MD = REPO_ROOT / "docs" / "scale.md"
BEGIN, END = "<!-- scale-costs:begin -->", "<!-- scale-costs:end -->"
WORKERS = (1, 2, 8, 32, 128)
# Full MNIST / Fashion-MNIST one-vs-rest, per normal class: ~6,000 training images of the class,
# 10 % held out for validation (tasks.one_vs_rest), the official 10,000-image test set.
FULL = {"n_train": 5400, "n_val": 600, "n_test": 10000}
NORMAL = "3"


def _spec(detector: str, dataset: str = "mnist5k", task: str = "one-vs-rest",
          preset: str = "quick", **params: Any) -> dict[str, Any]:
    return {"dataset": dataset, "normal": [NORMAL if dataset == "mnist5k" else "0"],
            "detector": detector, "preset": preset, "params": params, "task": task, "seed": 0}


def quick_grids() -> list[dict[str, Any]]:
    """Each grid: its command, its cells as (cell type, count) and one sample spec per type."""
    from ad_core.benchmarks import augmentation as A
    from ad_core.benchmarks.reconstruction import GRID_DETECTORS

    recon = {lab: _spec(det, **params) for lab, (det, params) in GRID_DETECTORS.items()}
    aug_jobs = A.build_jobs(dataset="mnist5k", classes=A.DEFAULT_CLASSES, seeds=[0],
                            augmentations=list(A.CATALOGUE), wild=A.DEFAULT_WILD,
                            sweep=A.DEFAULT_SWEEP, preset="quick")
    n_testbed = sum(t["study"] == "testbed" for t, _ in aug_jobs)
    return [
        {"grid": "bench: digits, iforest + ae, 10 classes × 2 seeds",
         "command": "python -m ad_core bench --dataset digits --detector iforest --detector ae "
                    "--seeds 2",
         "types": {"iforest (digits)": (_spec("iforest", "digits"), 20),
                   "ae (digits)": (_spec("ae", "digits"), 20)}},
        {"grid": "reconstruction grid: mnist5k, 10 classes × 5 detectors × 3 seeds",
         "command": "python -m ad_core.benchmarks.reconstruction --parts grid",
         "types": {f"{lab} (mnist5k)": (spec, 30) for lab, spec in recon.items()}},
        {"grid": "geotrans grid: mnist5k, 10 classes × {geotrans, iforest} × 1 seed",
         "command": "python -m ad_core.benchmarks.geotrans --no-intuition --no-throughput "
                    "--no-measure-paper",
         "types": {"geotrans quick (mnist5k)": (_spec("geotrans"), 10),
                   "iforest (mnist5k)": (recon["iforest"], 10)}},
        {"grid": "neutral: mnist5k, 3 classes × 2 seeds",
         "command": "python -m ad_core.benchmarks.neutral (its mnist5k part)",
         "types": {"neutral quick (mnist5k)": (_spec("neutral"), 6)}},
        {"grid": f"augmentation study: mnist5k, {len(A.DEFAULT_CLASSES)} classes × 1 seed, "
                 f"{len(aug_jobs)} DAE fits",
         "command": "python -m ad_core.benchmarks.augmentation",
         "types": {"dae testbed (mnist5k)": (_spec("dae", task="testbed", augmentation="cutout"),
                                             n_testbed),
                   "dae one-vs-rest (mnist5k)": (_spec("dae", augmentation="rotate"),
                                                 len(aug_jobs) - n_testbed)}},
    ]


# Paper-preset probes: (label, detector, unit, the two short schedules run (params, length),
# the paper's length, the paper's batch for iterations). The fit is modelled as
# overhead + length × marginal cost, both from the two runs.
PAPER_PROBES: tuple[tuple[str, str, str, tuple, int, int], ...] = (
    ("ae paper (DAE-paper net, 256 epochs)", "ae", "epochs",
     (({"epochs": 1}, 1), ({"epochs": 4}, 4)), 256, 0),
    ("dae paper (rotate, 256 epochs)", "dae", "epochs",
     (({"epochs": 1}, 1), ({"epochs": 4}, 4)), 256, 0),
    ("lisae paper (100 + 50 epochs)", "lisae", "epochs",
     (({"epochs": 2, "phase2_epochs": 1}, 3), ({"epochs": 4, "phase2_epochs": 2}, 6)), 150, 0),
    ("toll paper (2,000 iterations, batch 1,000)", "toll", "iterations",
     (({"iterations": 10, "eval_every": 10}, 10), ({"iterations": 30, "eval_every": 10}, 30)),
     2000, 1000),
)


def lpt_makespan(costs: Sequence[float], workers: int) -> float:
    """Wall time of the cells on ``workers`` one-core workers, longest first to the least
    loaded worker."""
    loads = [0.0] * max(1, min(workers, len(costs)))
    heapq.heapify(loads)
    for c in sorted(costs, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + c)
    return max(loads) if costs else 0.0


def fmt_s(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "–"
    if s < 120:
        return f"{s:.1f} s"
    if s < 2 * 3600:
        return f"{s / 60:.1f} min"
    if s < 3 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def measure(options: SweepOptions) -> dict[str, Any]:
    grids = quick_grids()
    samples: dict[str, dict[str, Any]] = {}
    for g in grids:
        for label, (spec, _) in g["types"].items():
            samples.setdefault(label, spec)
    for label, det, _unit, runs, _k, _b in PAPER_PROBES:
        for i, (params, _n) in enumerate(runs):
            samples[f"{label}#{i}"] = _spec(det, preset="paper", **params)
    import json

    unique = {json.dumps(c, sort_keys=True): c for c in samples.values()}  # same spec: run once
    cells = list(unique.values())
    from ad_core.data import load_dataset

    for ds in {c["dataset"] for c in cells}:
        load_dataset(ds)  # load once, so the first cell's time is not the dataset's
    load0 = os.getloadavg()[0]
    res = run_sweep(cells, options=options, label="scale costs")
    load1 = os.getloadavg()[0]
    by_key = {k: {"cell_seconds": sec, "fit_seconds": row["fit_seconds"],
                  "score_seconds": row["score_seconds"], "n_train": row["n_train"],
                  "n_test": row["n_test"], "auroc": row["auroc"]}
              for k, row, sec in zip(unique, res.results, res.cell_seconds) if row is not None}
    cost = {lab: by_key[k] for lab, spec in samples.items()
            if (k := json.dumps(spec, sort_keys=True)) in by_key}
    rows: list[dict[str, Any]] = []
    for g in grids:
        per_cell = [cost.get(lab, {}).get("cell_seconds") for lab in g["types"]]
        if any(c is None for c in per_cell):
            rows.append({"part": "grid", "grid": g["grid"], "missing": True})
            continue
        all_cells = [c for (_, (_, n)), c in zip(g["types"].items(), per_cell) for _ in range(n)]
        rows.append({"part": "grid", "grid": g["grid"], "command": g["command"],
                     "cells": len(all_cells),
                     "per_cell": {lab: cost[lab] for lab in g["types"]},
                     "cpu_seconds": sum(all_cells),
                     "wall_seconds": {str(n): lpt_makespan(all_cells, n) for n in WORKERS}})
    for label, _det, unit, runs, paper_k, batch in PAPER_PROBES:
        c = [cost.get(f"{label}#{i}") for i in range(len(runs))]
        if None in c:
            rows.append({"part": "paper", "probe": label, "missing": True})
            continue
        (_, k1), (_, k2) = runs
        marginal = max(0.0, (c[1]["fit_seconds"] - c[0]["fit_seconds"]) / (k2 - k1))
        overhead = max(0.0, c[0]["fit_seconds"] - marginal * k1)
        n_here = c[0]["n_train"]
        data = (FULL["n_train"] / n_here if unit == "epochs"
                else min(batch, FULL["n_train"]) / min(batch, n_here))
        per = (overhead + marginal * paper_k * data
               + c[1]["score_seconds"] * FULL["n_test"] / c[1]["n_test"])
        rows.append({"part": "paper", "probe": label, "unit": unit, "lengths": [k1, k2],
                     "measured": c, "marginal_seconds": marginal, "overhead_seconds": overhead,
                     "paper_length": paper_k, "data_factor": data,
                     "projected_cell_seconds": per,
                     "wall_seconds_10_classes": {str(n): per * math.ceil(10 / n)
                                                 for n in (1, 2, 10)}})
    from ad_core.benchmarks.geotrans import measure_paper_step, projected_paper_seconds

    step = measure_paper_step(threads=options.cpus_per_cell or 1)
    per = projected_paper_seconds(FULL["n_train"], FULL["n_val"], FULL["n_test"], 72, 3, step)
    rows.append({"part": "paper", "probe": "geotrans paper (WRN-10-4, 72 transformations, "
                                           "3 epochs)", "measured": step,
                 "unit": "wrn_steps", "projected_cell_seconds": per,
                 "wall_seconds_10_classes": {str(n): per * math.ceil(10 / n) for n in (1, 2, 10)}})
    return {"rows": rows, "load_average": [load0, load1, os.getloadavg()[0]],
            "failures": [f.error for f in res.failures], "threads": options.threads(len(cells))}


def markdown(out: dict[str, Any], meta: dict[str, Any]) -> str:
    grid = [r for r in out["rows"] if r["part"] == "grid" and not r.get("missing")]
    paper = [r for r in out["rows"] if r["part"] == "paper" and not r.get("missing")]
    la = ", ".join(f"{x:.1f}" for x in out["load_average"])
    lines = [f"Generated by `{meta['command']}` on {meta['date']} — {meta['machine']['cpus']} "
             f"CPUs, {meta['machine']['platform']}, torch {meta['machine']['torch']}, "
             f"device {meta['machine']['device']}; one cell at a time with "
             f"{out['threads']} torch thread; seed 0, normal class {NORMAL} (digits: 0). "
             f"**Shared machine** (run under `nice -n 19` beside other work; load average at "
             f"start / after the cells / at the end: {la}), so treat the seconds as upper "
             "bounds of an idle core.", "",
             "### Quick-preset grids: measured per cell, projected on N one-core workers", "",
             "| grid | cells | seconds per cell (measured) | CPU total | "
             + " | ".join(f"N={n}" for n in WORKERS) + " |",
             "|---|---|---|---|" + "---|" * len(WORKERS)]
    for r in grid:
        per = "; ".join(f"{lab}: {c['cell_seconds']:.1f}" for lab, c in r["per_cell"].items())
        lines.append(f"| {r['grid']} | {r['cells']} | {per} | {fmt_s(r['cpu_seconds'])} | "
                     + " | ".join(fmt_s(r["wall_seconds"][str(n)]) for n in WORKERS) + " |")
    lines += ["", "### Paper presets on full MNIST / Fashion-MNIST (one-vs-rest, per normal "
              "class): measured short runs, projected", "",
              f"Each paper preset ran twice here on mnist5k (normal {NORMAL}) with a shortened "
              "schedule (second column); fit = overhead + length × marginal cost from the two "
              "runs. Projected per cell: overhead + marginal × the paper's length × a data factor "
              "(epochs: ~5,400 training images of a full MNIST class — 6,000 less 10 % validation "
              "— ÷ the images here; Toll's iterations: its batch of 1,000 ÷ the batch here) + "
              "scoring × 10,000 test images ÷ those here. GeoTrans: the measured WRN step and "
              "views/s through `geotrans.projected_paper_seconds`. One seed; CIFAR-10 "
              "(3 × 32 × 32 inputs) was not measured here.", "",
              "| detector (paper preset) | measured here | projected per cell | 10 classes, N=1 "
              "| N=2 | N=10 |", "|---|---|---|---|---|---|"]
    for r in paper:
        m = r["measured"]
        if r["unit"] == "wrn_steps":
            what = (f"WRN-10-4 training step (batch 128, 72 outputs): {m['train_step_s']:.2f} s; "
                    f"{m['views_per_s']:.0f} views/s scoring")
        else:
            (k1, k2), u = r["lengths"], r["unit"]
            what = (f"{k1} / {k2} {u} on {m[0]['n_train']} images: fit {m[0]['fit_seconds']:.1f}"
                    f" / {m[1]['fit_seconds']:.1f} s → {r['marginal_seconds']:.2f} s per "
                    f"{u[:-1]} + {r['overhead_seconds']:.1f} s; score {m[1]['score_seconds']:.2f} "
                    f"s per {m[1]['n_test']} test images")
        w = r["wall_seconds_10_classes"]
        lines.append(f"| {r['probe']} | {what} | {fmt_s(r['projected_cell_seconds'])} | "
                     f"{fmt_s(w['1'])} | {fmt_s(w['2'])} | {fmt_s(w['10'])} |")
    if out["failures"]:
        lines += ["", "Cells that failed here: " + "; ".join(out["failures"])]
    return "\n".join(lines)


def write_scale_md(block: str) -> None:
    """Replace the generated block of docs/scale.md (between the markers)."""
    text = SCALE_MD.read_text() if SCALE_MD.exists() else f"{BEGIN}\n{END}\n"
    pat = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    SCALE_MD.write_text(pat.sub(lambda _: f"{BEGIN}\n{block}\n{END}", text))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ad_core.benchmarks.scale",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--name", default="scale_costs")
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite docs/scale.md")
    args = ap.parse_args(argv)
    from ad_core.experiment import machine_info

    t0 = time.time()
    opts = SweepOptions(workers=1, cpus_per_cell=1)  # one cell at a time: clean per-cell cost
    out = measure(opts)
    meta = {"title": "Sweep costs per cell and projected wall time on N workers",
            "command": "python -m ad_core.benchmarks.scale " + " ".join(
                sys.argv[1:] if argv is None else list(argv)),
            "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine_info(),
            "seeds": [0], "wall_seconds": time.time() - t0, "load_average": out["load_average"],
            "data": "digits (embedded 8×8), mnist5k (500 images per class)"}
    md = markdown(out, meta)
    jp, mp = write_results(args.name, out["rows"], meta, md)
    if not args.no_docs:
        write_scale_md(md)
    print(md)
    print(f"\nwrote {jp} and {mp}" + ("" if args.no_docs else f" and {SCALE_MD}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
