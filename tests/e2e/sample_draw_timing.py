"""Time "a drawn 3 scored by Toll, GeoTrans and NeuTraL AD" through ``sample_report.explain_sample``
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

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sample_helpers import canvas_three  # noqa: E402

from ad_core import sample_report
from ad_core.runs import list_runs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()
    os.environ["ANOMALY_LAB_RUNS"] = a.runs
    import torch

    torch.set_num_threads(a.threads)

    runs = [r for r in list_runs() if r.config.get("dataset") == "mnist5k"
            and r.config.get("detector") in ("toll", "geotrans", "neutral")]
    for r in runs:
        (r.path / "cache" / "train_embedding.npz").unlink(missing_ok=True)
    ids = [r.run_id for r in runs]
    rgba = canvas_three()
    print(f"cpus {os.cpu_count()}, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()}")
    print("runs:", ", ".join(f"{r.config['detector']} ({r.config['preset']})" for r in runs))
    t = time.perf_counter()
    rep = sample_report.explain_sample(ids, rgba, source="canvas")
    cold = time.perf_counter() - t
    warm = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        rep = sample_report.explain_sample(ids, rgba, source="canvas")
        warm.append(time.perf_counter() - t)
    print(f"cold {cold:.2f} s; warm median {statistics.median(warm):.3f} s, "
          f"max {max(warm):.3f} s over {a.repeat}")
    print("verdicts:", ", ".join(f"{v.detector} {v.percentile:.0f}% "
                                 f"{'flagged' if v.flagged else 'normal'}" for v in rep.runs))
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
