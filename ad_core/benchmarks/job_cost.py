"""What one of the app's training jobs costs (issue 24, "Serving a class" in docs/scale.md): scene
(b)'s job of the classroom benchmark — the quick start's detector and preset on one class of its
dataset, with the app's scoring, explanations, embedding and saved run — in a fresh process per
measurement (torch imported and the data loaded first): wall seconds, CPU seconds and the
process's peak RSS, for each torch thread count asked. Run::

    python -m ad_core.benchmarks.job_cost --threads 1 2 --classes 0 1

Prints one JSON line per job (nothing is written): the per-job cost the projection of a class
of 40 in docs/scale.md is computed from.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r'''
import json, resource, sys, tempfile, time
from dataclasses import replace
threads, normal = int(sys.argv[1]), sys.argv[2]
from ad_core.device import set_threads
set_threads(threads)
from ad_core.worker import _warm_torch
_warm_torch()
from ad_core.catalogue import quickstart_spec
from ad_core.data import load_dataset
from ad_core.experiment import run_experiment
spec = replace(quickstart_spec(), normal=[normal])
load_dataset(spec.dataset)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
with tempfile.TemporaryDirectory() as root:
    res = run_experiment(spec, root=root)
print(json.dumps({"threads": threads, "normal": normal, "detector": spec.detector,
                  "preset": spec.preset, "wall_s": time.perf_counter() - t0,
                  "cpu_s": time.process_time() - c0, "fit_s": res.metrics["fit_seconds"],
                  "auroc": res.metrics["auroc"], "rss_before_job_mib": rss0 / 1024,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--classes", nargs="+", default=["0", "1"])
    args = ap.parse_args(argv)
    bad = 0
    for threads in args.threads:
        for normal in args.classes:
            r = subprocess.run([sys.executable, "-c", CHILD, str(threads), normal],
                               capture_output=True, text=True, cwd=ROOT)
            lines = r.stdout.strip().splitlines()
            if r.returncode or not lines:
                bad += 1
                print(json.dumps({"threads": threads, "normal": normal,
                                  "error": r.stderr[-2000:]}), flush=True)
            else:
                print(lines[-1], flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
