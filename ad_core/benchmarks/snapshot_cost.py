"""What training snapshots cost: the fit time of the same experiment with and without them.

For each detector (quick preset, mnist5k, normal class 8, seed 0 — the quick start's task), the
experiment is fitted alternately without a monitor and with a
:class:`~ad_core.snapshots.SnapshotRecorder` (``--reps`` times each, in this one process, torch
threads as given), and the table reports the median fit seconds of both, their ratio − 1 (the
overhead the issue caps at 15 %), the recorder's own count of seconds spent in snapshots, the
number of snapshots, the test samples each scores and the size of the saved ``snapshots.npz``.
Both fits must give the same test scores (snapshots never change what is learned): the table
says so per detector. A second table times the quick start's Toll fit on 1 and on 2 torch threads
(a training job of the app uses 1 thread on a bigger machine's pool and both cores on a 2-core
one: :func:`ad_core.worker.training_threads`).

    python -m ad_core.benchmarks.snapshot_cost --reps 2

Writes ``docs/results/snapshot_cost.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DETECTORS = ("toll", "ae", "dae", "neutral", "geotrans", "lisae")


def _fit(detector: str, snapshots: bool, root: Path) -> dict[str, Any]:
    from ad_core.experiment import ExperimentSpec, run_experiment
    from ad_core.snapshots import SnapshotRecorder

    spec = ExperimentSpec("mnist5k", ["8"], detector, seed=0)
    rec = SnapshotRecorder() if snapshots else None
    t0 = time.perf_counter()
    res = run_experiment(spec, rec, root=root, save=snapshots, artifacts=False)
    out: dict[str, Any] = {"fit_s": float(res.metrics["fit_seconds"]),
                           "experiment_s": time.perf_counter() - t0, "scores": res.scores}
    if rec is not None:
        t1 = time.perf_counter()
        path = rec.save(res.detector, root / res.run_id)
        out.update(save_s=time.perf_counter() - t1, bytes=path.stat().st_size if path else 0,
                   snapshots=len(rec.snapshots) + 1, in_fit_s=sum(s.seconds for s in rec.snapshots),
                   samples=len(rec.snapshots[0].scores) if rec.snapshots else 0)
    return out


def measure(detector: str, reps: int, root: Path) -> dict[str, Any]:
    """Alternate plain and snapshot fits ``reps`` times; medians and the same-scores check."""
    plain, snap = [], []
    for _ in range(reps):
        plain.append(_fit(detector, False, root))
        snap.append(_fit(detector, True, root))
    same = all(np.array_equal(p["scores"], s["scores"]) for p, s in zip(plain, snap))
    p_fit = float(np.median([p["fit_s"] for p in plain]))
    s_fit = float(np.median([s["fit_s"] for s in snap]))
    return {"detector": detector, "reps": reps, "fit_plain_s": p_fit, "fit_snapshots_s": s_fit,
            "overhead": s_fit / p_fit - 1.0,
            "in_fit_snapshot_s": float(np.median([s["in_fit_s"] for s in snap])),
            "final_and_save_s": float(np.median([s["save_s"] for s in snap])),
            "snapshots": snap[0]["snapshots"], "samples": snap[0]["samples"],
            "file_bytes": snap[0]["bytes"], "same_scores": same}


def threads(reps: int, root: Path) -> list[dict[str, Any]]:
    """The quick start's Toll fit (no snapshots) on 1 and on 2 torch threads."""
    from ad_core.device import set_threads

    out = []
    for n in (1, 2):
        set_threads(n)
        fits = [_fit("toll", False, root)["fit_s"] for _ in range(reps)]
        out.append({"threads": n, "fit_s": float(np.median(fits)), "fits": fits})
    return out


def markdown(rows: list[dict[str, Any]], thread_rows: list[dict[str, Any]]) -> str:
    lines = ["| detector | fit without s | fit with snapshots s | overhead | in-fit snapshot s | "
             "final + save s | snapshots | samples each | file kB | same scores |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['detector']} | {r['fit_plain_s']:.2f} | {r['fit_snapshots_s']:.2f} | "
                     f"{r['overhead']:+.1%} | {r['in_fit_snapshot_s']:.2f} | "
                     f"{r['final_and_save_s']:.2f} | {r['snapshots']} | {r['samples']} | "
                     f"{r['file_bytes'] / 1000:.0f} | {'yes' if r['same_scores'] else '**no**'} |")
    lines += ["", "Toll quick-start fit (no snapshots) by torch threads, this process alone:", "",
              "| threads | median fit s | fits |", "|---|---|---|"]
    for t in thread_rows:
        lines.append(f"| {t['threads']} | {t['fit_s']:.2f} | "
                     + ", ".join(f"{f:.2f}" for f in t["fits"]) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ad_core.benchmarks.snapshot_cost",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=2, help="fits per variant (median)")
    ap.add_argument("--detectors", default=",".join(DETECTORS))
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the main table "
                    "(a job of the app's pool uses 1; on 2 cores the one job uses 2)")
    ap.add_argument("--out", type=Path, default=None, help="results folder (docs/results)")
    args = ap.parse_args(argv)
    from ad_core.bench import write_results
    from ad_core.device import set_threads
    from ad_core.experiment import machine_info

    t_all = time.time()
    rows = []
    with tempfile.TemporaryDirectory(prefix="snapshot-cost-") as tmp:
        for det in args.detectors.split(","):
            set_threads(args.threads)
            rows.append(measure(det, args.reps, Path(tmp)))
            r = rows[-1]
            print(f"{det}: {r['fit_plain_s']:.2f} s → {r['fit_snapshots_s']:.2f} s "
                  f"({r['overhead']:+.1%}), {r['snapshots']} snapshots of {r['samples']} samples, "
                  f"{r['file_bytes'] / 1000:.0f} kB, same scores: {r['same_scores']}", flush=True)
        thread_rows = threads(args.reps, Path(tmp))
    md = markdown(rows, thread_rows)
    meta = {"title": "Training snapshots: what they cost",
            "command": f"python -m ad_core.benchmarks.snapshot_cost --reps {args.reps}"
                       + (f" --detectors {args.detectors}" if args.detectors != ",".join(DETECTORS)
                          else ""),
            "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine_info(),
            "threads": args.threads, "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "wall_seconds": time.time() - t_all,
            "notes": "mnist5k, normal class 8, quick preset, seed 0, one process; plain and "
                     "snapshot fits alternate. fit s = the detector's own fit_seconds (training "
                     "only). Overhead = median fit with snapshots / median fit without − 1."}
    jp, mp = write_results("snapshot_cost", rows, {**meta, "threads_table": thread_rows}, md,
                           out_dir=args.out)
    print(md)
    print(f"\nwrote {jp} and {mp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
