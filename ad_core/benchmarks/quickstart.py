"""Quick-start latency: from the Home page's button to the Scores page's data, through services.

Measures what a user waits for after pressing **Quick start**: the job is queued with
:func:`ad_core.services.start_quickstart`, trained in the background worker, saved, and the run's
scores are loaded and turned into the Scores page's two first figures' data (the score histogram
by label and the ROC curve). Each repetition uses a fresh run store. Run:

    OMP_NUM_THREADS=2 python -m ad_core.benchmarks.quickstart --repeats 3

Writes ``docs/results/quickstart_latency.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import numpy as np


def measure_once(owner: str = "bench") -> dict[str, Any]:
    """One click→results measurement in the current run store; returns the timings."""
    from ad_core import jobs, metrics, services

    t0 = time.perf_counter()
    jid = services.start_quickstart(owner)
    snap = jobs.get_manager().wait(jid, owner, timeout=600, poll=0.02)
    t_trained = time.perf_counter()
    if snap.status != jobs.DONE:
        raise RuntimeError(f"quick start ended {snap.status}: {snap.error}")
    run = services.run(snap.run_id)
    s = run.scores
    hist = np.histogram(s["test"], bins=50)
    roc = metrics.roc_curve(s["test_y"], s["test"])
    t_results = time.perf_counter()
    assert len(hist[0]) == 50 and len(roc["fpr"]) > 1
    return {"detector": snap.spec.detector, "preset": snap.spec.preset,
            "dataset": snap.spec.dataset, "normal": "+".join(snap.spec.normal),
            "queued_to_trained_s": t_trained - t0, "click_to_results_s": t_results - t0,
            "fit_seconds": run.metrics["fit_seconds"], "auroc": run.metrics["auroc"],
            "n_train": run.metrics["n_train"], "n_test": run.metrics["n_test"]}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ad_core.benchmarks.quickstart",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    from ad_core.bench import write_results
    from ad_core.experiment import machine_info

    rows = []
    t_all = time.time()
    for i in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="quickstart-") as d:
            os.environ["ANOMALY_LAB_RUNS"] = d
            row = measure_once()
            row["repeat"] = i
            rows.append(row)
            print(f"repeat {i}: click→results {row['click_to_results_s']:.1f} s "
                  f"(fit {row['fit_seconds']:.1f} s, AUROC {row['auroc']:.3f})", flush=True)
    lat = np.array([r["click_to_results_s"] for r in rows])
    md = "\n".join([
        "| repeat | detector | preset | dataset · normal | fit s | click → results s | AUROC |",
        "|---|---|---|---|---|---|---|",
        *[f"| {r['repeat']} | {r['detector']} | {r['preset']} | {r['dataset']} · {r['normal']} | "
          f"{r['fit_seconds']:.1f} | {r['click_to_results_s']:.1f} | {r['auroc']:.3f} |"
          for r in rows],
        "", f"Median click → results: **{np.median(lat):.1f} s** (target: under 15 s on 2 CPU "
            "cores). The first repeat includes importing the detector and loading the dataset."])
    meta = {"title": "Quick start: click → results latency",
            "command": f"python -m ad_core.benchmarks.quickstart --repeats {args.repeats}",
            "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine_info(),
            "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")},
            "wall_seconds": time.time() - t_all, "median_click_to_results_s": float(np.median(lat)),
            "notes": "Measured through ad_core.services (the same calls the Home page makes), "
                     "on a machine shared with other work; see 'machine'."}
    jp, mp = write_results("quickstart_latency", rows, meta, md)
    print(md)
    print(f"\nwrote {jp} and {mp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
