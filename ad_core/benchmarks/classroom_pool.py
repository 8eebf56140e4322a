"""Scene (b) of the classroom benchmark on a bigger training pool (issue 24): ``--workers K``
training processes, or the app's jobs as Ray tasks (``--engine ray``). Run through
:mod:`ad_core.benchmarks.classroom`'s command line::

    python -m ad_core.benchmarks.classroom --sessions 4 --scenes b --workers 2
    python -m ad_core.benchmarks.classroom --sessions 4 --scenes b --workers 2 --engine ray

Each run is one row of ``docs/results/classroom.{json,md}`` (``b_variants``), beside the rows
already there: the scene's wall time, each job's wait and training time (from the server log) and
whether each class's AUROC equals the one-worker run's.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from ad_core.benchmarks import browser as B
from ad_core.benchmarks.classroom import _fmt, render, scene_different


def _aurocs(r: dict[str, Any]) -> dict[str, float]:
    return {"+".join(x["normal"] or []): x["auroc"] for x in r.get("runs", [])}


def render_variants(res: dict[str, Any], variants: dict[str, Any]) -> list[str]:
    """Scene (b) on 1 and more workers and on Ray: one row per configuration."""
    base = res.get("b") or {}
    one = {k: v for r in variants.values() if r.get("engine") == "local" and r.get("workers") == 1
           for k, v in _aurocs(r).items()} or _aurocs(base)
    lines = ["", "## Scene (b) on a bigger training pool", "",
             "Each row: one fresh server, N sessions training N different classes at once. "
             "*Scene* = first click → the last session's charts; *waits* = each job's time in the "
             "queue, *trained* = each job's time in its worker (both from the server log, in "
             "start order); AUROCs compared class by class with the one-worker run.", "",
             "| configuration | command | machine, load | N | trainings | scene (s) | "
             "click → charts min / median / max (s) | job waits (s) | trained (s) | "
             "AUROCs = 1 worker | blank / not finished | peak RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    order = sorted(variants.items(), key=lambda kv: (kv[1].get("engine") == "ray",
                                                     kv[1].get("workers", 1), kv[0]))
    for name, r in order:
        s = r["summary"]
        au = _aurocs(r)
        common = [k for k in au if k in one]
        same = (("yes" if all(au[k] == one[k] for k in common) else
                 "no: " + ", ".join(f"{k}: {au[k]:.4f} vs {one[k]:.4f}" for k in common
                                    if au[k] != one[k]))
                + f" ({len(common)} classes)") if common else "—"
        lines.append(
            f"| {name} | `{r['command']}` ({r['when']}) | {r['machine']}; {r['load_note']} | "
            f"{r['sessions']} | {r['trainings']} | {_fmt(r.get('scene_wall_s'))} | "
            f"{_fmt(s['min'])} / {_fmt(s['median'])} / {_fmt(s['max'])} | "
            f"{', '.join(_fmt(x) for x in r.get('job_waits_s', []))} | "
            f"{', '.join(_fmt(x) for x in r.get('job_train_s', []))} | {same} | "
            f"{r['blank_pages']} / {r['not_finished']} | {r['peak_rss_gib']:.2f} GiB |")
    return lines


def main_variant(args: argparse.Namespace) -> int:
    """Scene (b) on another training pool (``--workers``, ``--engine``): measured on a server
    started with those settings and saved as one more row; every other row stays as it was."""
    workers = args.workers or 1
    name = f"{args.engine}, {workers} worker{'s' if workers > 1 else ''}"
    os.environ["ANOMALY_LAB_TRAINING_WORKERS"] = str(workers)  # the server inherits them
    os.environ["ANOMALY_LAB_ENGINE"] = args.engine
    if args.ray_address:
        os.environ["ANOMALY_LAB_RAY_ADDRESS"] = args.ray_address
    log_dir = Path(tempfile.mkdtemp(prefix="classroom-logs-"))
    with B.chromium() as browser:
        r = scene_different(browser, args.sessions, log_dir, args.timeout, tag="b-variant")
    r.update({
        "command": f"python -m ad_core.benchmarks.classroom --sessions {args.sessions} --scenes b "
                   f"--workers {workers}" + (" --engine ray" if args.engine == "ray" else "")
                   + (f" --ray-address {args.ray_address}" if args.ray_address else ""),
        "when": time.strftime("%Y-%m-%d %H:%M"), "engine": args.engine, "workers": workers,
        "machine": f"{os.cpu_count()} CPUs",
        "load_note": args.load_note or f"load average at start {os.getloadavg()[0]:.2f}",
        "load_after": os.getloadavg()[0], "log_dir": str(log_dir)})
    print(json.dumps({k: v for k, v in r.items() if k != "runs"}, default=str))
    path = args.out.with_suffix(".json")
    res = json.loads(path.read_text()) if path.exists() else {
        "command": "", "when": "", "sessions": args.sessions, "machine": r["machine"],
        "load_note": ""}
    res.setdefault("b_variants", {})[f"{name}, N = {args.sessions}"] = r
    args.out.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=1, default=str))
    args.out.with_suffix(".md").write_text(render(res))
    print(render(res))
    print(f"logs and screenshots: {log_dir}")
    return 1 if r["blank_pages"] or r["traceback"] else 0
