"""Time "a drawn 3 scored by Toll, GeoTrans and NeuTraL AD" through ``services.explain_sample``
(issue 11's 2-second target), on runs already trained on mnist5k digit 8.

    nice -n 19 .venv/bin/python tests/e2e/sample_draw_timing.py RUNS_DIR [--threads 1 2]

Cold = the first call in a fresh process with the runs' neighbour caches removed (models loaded
from disk, training normals rebuilt and embedded); warm = later calls (what a user drawing one
digit after another waits for). Prints the machine's load too: the 2 cores are shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def canvas_three(size: int = 280, width: int = 22) -> np.ndarray:
    """A white "3" on a black RGBA canvas, as streamlit-drawable-canvas returns it."""
    pts = np.array([(95, 70), (175, 52), (200, 80), (150, 135), (200, 170), (205, 205),
                    (135, 245), (90, 230)], float) * size / 280
    yy, xx = np.mgrid[:size, :size]
    ink = np.zeros((size, size), bool)
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
        for t in np.linspace(0, 1, 40):
            ink |= (xx - (x0 + t * (x1 - x0))) ** 2 + (yy - (y0 + t * (y1 - y0))) ** 2 \
                <= (width / 2) ** 2
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[ink, :3] = 255
    return rgba


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()
    os.environ["ANOMALY_LAB_RUNS"] = a.runs
    import torch

    torch.set_num_threads(a.threads)
    from ad_core import services

    runs = [r for r in services.runs() if r.config.get("dataset") == "mnist5k"
            and r.config.get("detector") in ("toll", "geotrans", "neutral")]
    for r in runs:
        (r.path / "cache" / "train_embedding.npz").unlink(missing_ok=True)
    ids = [r.run_id for r in runs]
    rgba = canvas_three()
    print(f"cpus {os.cpu_count()}, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()}")
    print("runs:", ", ".join(f"{r.config['detector']} ({r.config['preset']})" for r in runs))
    t = time.perf_counter()
    rep = services.explain_sample(ids, rgba, source="canvas")
    cold = time.perf_counter() - t
    warm = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        rep = services.explain_sample(ids, rgba, source="canvas")
        warm.append(time.perf_counter() - t)
    print(f"cold {cold:.2f} s; warm median {statistics.median(warm):.3f} s, "
          f"max {max(warm):.3f} s over {a.repeat}")
    print("verdicts:", ", ".join(f"{v.detector} {v.percentile:.0f}% "
                                 f"{'flagged' if v.flagged else 'normal'}" for v in rep.runs))
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
