"""Are the attribution maps faithful, and fast enough? (issue 20, items 5-6)

``python -m ad_core.benchmarks.attribution`` trains every detector (quick preset, seed 0) on a few
normal classes of ``mnist5k`` and on ``breast_cancer`` (runs saved under
``runs/.attribution-bench/`` and reused by content key on a second call), then for each run:

- **Deletion test.** For ``--samples`` anomalies of the test set that the run flags (spread over
  their score range), the most-attributed pixels (or features) are replaced by the run's reference
  (the mean training normal, or each sample's nearest training normal where the detector scores
  the mean as anomalous: :func:`ad_core.run_attribution.reference_kind`) in ``--steps`` equal
  steps, each step scored by the run's own ``decision_function``
  (:func:`ad_core.detectors.attribution.deletion_curve`). The curve is normalised per sample
  (1 = untouched score, 0 = everything replaced) and its area is taken (lower = the order found
  what makes the score high sooner). Orders compared: the model-agnostic attribution, the native
  map (where the method has one) and ``--random`` random orders.
- **Speed.** The time of the app's per-sample maps (:func:`ad_core.run_attribution.sample_maps`:
  model-agnostic + native, calibration cached) for one 28×28 image through every run of a task,
  and for one table row; the targets are 2 s and 0.5 s on 2 cores.

Writes ``docs/results/attribution.md`` + ``.json``: per detector and dataset the mean deletion AUC
of each order with a 95 % bootstrap CI over samples, the paired difference attribution − random,
and the times.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import numpy as np

from ad_core.bench import write_results
from ad_core.errors import UserError
from ad_core.experiment import ExperimentSpec, machine_info, run_experiment, run_key
from ad_core.paths import REPO_ROOT
from ad_core.run_attribution import REFERENCE_NAME, reference_kind, references, run_scales, sample_maps
from ad_core.runs import Run, find_run, load_run
from ad_core.sample_report import loaded_detector

IMAGE_DETECTORS = ("ae", "dae", "toll", "lisae", "geotrans", "neutral", "iforest", "ocsvm", "lof",
                   "kde", "cae_ocsvm")
TABLE_DETECTORS = ("ae", "dae", "toll", "lisae", "neutral", "iforest", "ocsvm", "lof", "kde")
BENCH_ROOT = REPO_ROOT / "runs" / ".attribution-bench"
RESULTS_PNG = REPO_ROOT / "docs" / "results" / "attribution_maps.png"


def bootstrap_ci(values: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the mean."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def trained_run(spec: ExperimentSpec) -> tuple[Run, bool]:
    """The run of ``spec`` under :data:`BENCH_ROOT`: reused when its content key exists."""
    key = run_key(spec)[0]
    found = find_run(key, BENCH_ROOT)
    if found is not None:
        return found, True
    res = run_experiment(spec, root=BENCH_ROOT)
    return load_run(res.run_id, BENCH_ROOT), False


def pick_anomalies(r: Run, threshold: float, n: int) -> np.ndarray:
    """Up to ``n`` test anomalies the run flags, spread evenly over their scores (if it flags
    fewer than ``n``, the highest-scored anomalies)."""
    sc = r.scores
    y, s = np.asarray(sc["test_y"]), np.asarray(sc["test"], dtype=float)
    anom = np.flatnonzero(y == 1)
    flagged = anom[s[anom] > threshold]
    pool = flagged if len(flagged) >= n else anom[np.argsort(-s[anom], kind="stable")][:n]
    pool = pool[np.argsort(s[pool], kind="stable")]
    return pool[np.unique(np.linspace(0, len(pool) - 1, min(n, len(pool))).round().astype(int))]


def deletion_rows(r: Run, args: argparse.Namespace) -> dict[str, Any]:
    """Deletion AUCs of one run: per sample, attribution / native / mean of random orders."""
    from ad_core.detectors.attribution import deletion_auc, deletion_curve

    det = loaded_detector(r)
    run_scales(r, det)  # calibration, cached (timed separately)
    x = r.test_x()
    rows = pick_anomalies(r, float(det.threshold_), args.samples)
    refs = references(r, det, x[rows])
    out: dict[str, list[float]] = {"attribution": [], "native": [], "random": [], "peak": []}
    rng = np.random.default_rng(args.seed)
    for i, ref in zip(rows, refs):
        maps = {m.method: m.values for m in sample_maps(r, det, x[i])}
        agn = maps.get("occlusion", maps.get("ablation"))
        f, sc = deletion_curve(det, x[i], agn, ref, args.steps)
        out["attribution"].append(deletion_auc(f, sc))
        out["peak"].append(float((sc.max() - sc[-1]) / (sc[0] - sc[-1])) if sc[0] > sc[-1]
                           else float("nan"))
        if "native" in maps:
            out["native"].append(deletion_auc(*deletion_curve(det, x[i], maps["native"], ref,
                                                              args.steps)))
        rand = np.array([deletion_auc(*deletion_curve(det, x[i], agn, ref, args.steps, rng=rng))
                         for _ in range(args.random)])
        out["random"].append(float(rand[np.isfinite(rand)].mean()) if np.isfinite(rand).any()
                             else float("nan"))
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()} | {
        "rows": rows, "reference": reference_kind(r, det)}


def time_maps(runs: list[Run], x1: np.ndarray, repeats: int = 5) -> dict[str, float]:
    """Seconds of :func:`sample_maps` for one input, per run: the fastest wall time of
    ``repeats`` after one warm-up call (the least disturbed by other work on a shared machine;
    models loaded and calibrations cached beforehand), and the CPU seconds of that call
    (``<detector>:cpu``, all threads)."""
    out = {}
    for r in runs:
        det = loaded_detector(r)
        sample_maps(r, det, x1)
        ts = []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            sample_maps(r, det, x1)
            ts.append((time.perf_counter() - t0, time.process_time() - c0))
        wall, cpu = min(ts)
        out[r.config["detector"]] = float(wall)
        out[f"{r.config['detector']}:cpu"] = float(cpu)
    return out


def fmt(v: np.ndarray) -> str:
    v = np.asarray(v, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return "—"
    lo, hi = bootstrap_ci(v)
    return f"{v.mean():.3f} [{lo:.3f}, {hi:.3f}]"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ad_core.benchmarks.attribution",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--classes", default="0,8", help="mnist5k normal classes (comma-separated)")
    ap.add_argument("--detectors", default=",".join(IMAGE_DETECTORS))
    ap.add_argument("--table-detectors", default=",".join(TABLE_DETECTORS))
    ap.add_argument("--samples", type=int, default=8, help="flagged anomalies per run")
    ap.add_argument("--random", type=int, default=3, help="random orders per sample")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--param", action="append", default=[], metavar="DETECTOR:KEY=VALUE",
                    help="override a quick-preset value for the images (said in the header)")
    ap.add_argument("--table-param", action="append", default=[], metavar="DETECTOR:KEY=VALUE",
                    help="a parameter for the table runs (e.g. lisae:negatives=augmented-normals:"
                         " LIS-AE on a table has no negative classes; said in the header)")
    ap.add_argument("--name", default="attribution")
    ap.add_argument("--figure", action="store_true",
                    help="only draw docs/results/attribution_maps.png: one flagged test digit "
                         "of the first class through every (already trained) image run")
    args = ap.parse_args(argv)
    t_start = time.time()
    overrides: dict[str, dict[str, str]] = {}
    table_params: dict[str, dict[str, str]] = {}
    for given, into in ((args.param, overrides), (args.table_param, table_params)):
        for p in given:
            det, kv = p.split(":", 1)
            k, v = kv.split("=", 1)
            into.setdefault(det, {})[k] = v
    tasks = [("mnist5k", [c], [d for d in args.detectors.split(",") if d])
             for c in args.classes.split(",") if c]
    if args.figure:
        return figure(tasks[0], overrides, args)
    tasks.append(("breast_cancer", ["benign"], [d for d in args.table_detectors.split(",") if d]))
    results: list[dict[str, Any]] = []
    timings: dict[str, dict[str, float]] = {}
    skipped: list[str] = []
    for dataset, normal, dets in tasks:
        runs = []
        for d in dets:
            params = (overrides if dataset == "mnist5k" else table_params).get(d, {})
            spec = ExperimentSpec(dataset, normal, d, params=params, seed=args.seed,
                                  explain_n=20, embed_n=200)
            t0 = time.time()
            try:
                r, reused = trained_run(spec)
            except UserError as e:  # e.g. LIS-AE on a table without negatives
                skipped.append(f"{d} on {dataset}: {e}")
                print(f"{dataset} {normal} {d}: skipped ({e})", flush=True)
                continue
            t1 = time.time()
            det = loaded_detector(r)
            run_scales(r, det)
            t2 = time.time()
            dl = deletion_rows(r, args)
            t3 = time.time()
            runs.append(r)
            results.append({"dataset": dataset, "normal": "+".join(normal), "detector": d,
                            "run_id": r.run_id, "auroc": float(r.metrics.get("auroc", np.nan)),
                            "params": params, "reused": reused, "train_s": round(t1 - t0, 1),
                            "calibration_s": round(t2 - t1, 2), "deletion_s": round(t3 - t2, 1),
                            "test_rows": dl["rows"].tolist(), "reference": dl["reference"],
                            **{k: dl[k].tolist() for k in ("attribution", "native", "random",
                                                           "peak")}})
            print(f"{dataset} {normal} {d} ({dl['reference']} reference): attribution "
                  f"{fmt(dl['attribution'])} native "
                  f"{fmt(dl['native'])} random {fmt(dl['random'])} "
                  f"(train {t1 - t0:.0f}s, calib {t2 - t1:.1f}s, deletion {t3 - t2:.0f}s)",
                  flush=True)
        x1 = runs[0].test_x()[int(np.flatnonzero(runs[0].scores["test_y"] == 1)[0])]
        timings[f"{dataset}:{'+'.join(normal)}"] = time_maps(runs, x1)
        print(f"time {dataset} {normal}: {timings[f'{dataset}:{chr(43).join(normal)}']}",
              flush=True)
    md = report(results, timings, args)
    if skipped:
        md += "\n\nNot measured: " + "; ".join(skipped)
    load = os.getloadavg()
    meta = {"title": "Attribution maps: faithfulness (deletion test) and speed",
            "command": "python -m ad_core.benchmarks.attribution " + " ".join(
                sys.argv[1:] if argv is None else argv),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": machine_info(), "wall_seconds": round(time.time() - t_start),
            "load_average_after": [round(v, 2) for v in load],
            "settings": {k: getattr(args, k) for k in ("classes", "samples", "random", "steps",
                                                       "seed", "param")},
            "timings": timings, "notes": notes(args, load)}
    write_results(args.name, results, meta, md)
    print(md)
    return 0


def figure(task: tuple[str, list[str], list[str]], overrides: dict[str, dict[str, str]],
           args: argparse.Namespace) -> int:
    """The README's picture: the test anomaly that the most runs flag (highest mean percentile
    of its scores among the runs), its calibrated maps by every run side by side."""
    from ad_core.viz.attribution import save_grid_png

    dataset, normal, dets = task
    runs = [trained_run(ExperimentSpec(dataset, normal, d, params=overrides.get(d, {}),
                                       seed=args.seed, explain_n=20, embed_n=200))[0]
            for d in dets]
    y = np.asarray(runs[0].scores["test_y"])
    ranks = np.mean([np.argsort(np.argsort(np.asarray(r.scores["test"], float))) for r in runs], 0)
    ranks[y != 1] = -1
    row = int(np.argmax(ranks))
    x1 = runs[0].test_x()[row]
    grid = []
    for r in runs:
        det = loaded_detector(r)
        flags = float(det.decision_function(x1[None])[0]) > det.threshold_
        titles = {"occlusion": "occlusion", "ablation": "ablation",
                  "native": "native: error map" if "error" in det.native_map
                  else "native: gradient x input"}
        grid.append((f"{r.config['detector']} ({'flags' if flags else 'passes'})",
                     [(titles[m.method], m.calibrated) for m in sample_maps(r, det, x1)]))
    out = save_grid_png(RESULTS_PNG, x1, grid, caption=(
        f"mnist5k test row {row} (kind {runs[0].test_kinds()[row]}), normal class "
        f"{'+'.join(normal)}. " + "Colour: score change when the part is replaced by the run's "
        "normal reference (the mean training normal; for "
        + (", ".join(r.config["detector"] for r in runs
                     if reference_kind(r, loaded_detector(r)) == "nearest") or "no run")
        + ": the nearest training normal), 1 = the strongest effects on the run's normal samples; "
        "red raises the anomaly score, blue lowers it; same scale for every sample of a run."))
    print(f"wrote {out}")
    return 0


def notes(args: argparse.Namespace, load: tuple[float, ...]) -> str:
    over = f" Preset overrides for the images: {', '.join(args.param)}." if args.param else ""
    if args.table_param:
        over += f" Table parameters: {', '.join(args.table_param)}."
    return (f"mnist5k normal classes {args.classes} (one-vs-rest, seed {args.seed}) and "
            f"breast_cancer (benign normal), quick presets.{over} Per run {args.samples} test "
            f"anomalies it flags (spread over their scores), {args.steps} deletion steps, "
            f"{args.random} random orders each. Deletion AUC: the score as the top-k % "
            "attributed pixels/features are replaced by the run's reference (column *reference*: "
            "the mean training normal where the detector scores it as normal, else each sample's "
            "nearest training normal), normalised per "
            "sample (1 = untouched, 0 = all replaced), area over k; lower = more faithful. Mean "
            "[95 % bootstrap CI over samples]. Machine load average after the run "
            f"{[round(v, 2) for v in load]}" + (" (other work shared the 2 cores)." if load[0] > 2.5
                                                 else " (the 2 cores were otherwise idle)."))


def report(results: list[dict[str, Any]], timings: dict[str, dict[str, float]],
           args: argparse.Namespace) -> str:
    lines = ["| dataset | detector | reference | n (undefined) | AUROC | deletion AUC: attribution "
             "| native | random | attribution − random | better than random? |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in results:
        by.setdefault((row["dataset"], row["detector"]), []).append(row)
    verdicts = []
    for (ds, d), rows in by.items():
        att = np.concatenate([np.asarray(r["attribution"], float) for r in rows])
        nat = np.concatenate([np.asarray(r["native"], float) for r in rows])
        rnd = np.concatenate([np.asarray(r["random"], float) for r in rows])
        diff = att - rnd
        lo, hi = bootstrap_ci(diff)
        ok = int(np.isfinite(diff).sum())
        undefined = int(len(att) - np.isfinite(att).sum())
        better = ("yes" if hi < 0 else "no (worse)" if lo > 0 else "no (not separable)"
                  if ok >= 2 else "too few samples")
        if better != "yes":
            peak = np.concatenate([np.asarray(r.get("peak", []), float) for r in rows])
            rose = int((peak[np.isfinite(peak)] > 1.0).sum())
            why = []
            if undefined:
                refs = sorted({REFERENCE_NAME[r.get("reference", "mean")] for r in rows})
                why.append(f"for {undefined} of {len(att)} samples {' / '.join(refs)} "
                           "itself scores at least as high as the sample, so replacing parts by "
                           "it cannot explain the score (a reference problem, not an order one)")
            if rose:
                why.append(f"in {rose} of {np.isfinite(peak).sum()} samples the score rose "
                           "above the untouched one part-way (replacing some features by their "
                           "normal values makes the sample more anomalous: the effects are not "
                           "additive, so the one-at-a-time ranking does not carry over)")
            verdicts.append((ds, d, better + (": " + "; ".join(why) if why else "")))
        au = np.mean([r["auroc"] for r in rows])
        kinds = "/".join(sorted({r.get("reference", "mean") for r in rows}))
        lines.append(f"| {ds} | {d} | {kinds} | {ok} ({undefined}) | {au:.3f} | {fmt(att)} | "
                     f"{fmt(nat)} | {fmt(rnd)} | {fmt(diff)} | {better} |")
    lines += ["", "Seconds for the maps of one input through every run of a task (model-agnostic "
              "+ native map, calibration cached; fastest of 5 calls after a warm-up; CPU seconds "
              "of all threads on the second line; the load average is in the notes above):",
              "", "| task | " + " | ".join(IMAGE_DETECTORS) + " | total | target | met |",
              "|---|" + "---|" * (len(IMAGE_DETECTORS) + 3)]
    for task, t in timings.items():
        target = 0.5 if task.startswith("breast_cancer") else 2.0
        for suffix, what in (("", "wall"), (":cpu", "CPU")):
            total = sum(v for k, v in t.items() if k.endswith(suffix) and (
                suffix or ":" not in k))
            cells = [f"{t[d + suffix]:.2f}" if d + suffix in t else "—" for d in IMAGE_DETECTORS]
            met = ("yes" if total <= target else "**no**") if not suffix else ""
            lines.append(f"| {task} {what} s | " + " | ".join(cells) + f" | {total:.2f} | "
                         f"{'≤ ' + str(target) if not suffix else ''} | {met} |")
    lines += ["", "*undefined*: samples whose score does not drop when everything is replaced by "
              "the reference (the reference itself scores at least as high as the sample), so "
              "the normalised curve has no scale; they are left out of the means."]
    if verdicts:
        lines += ["", "Where the attribution order is not shown better than random: "
                  + "; ".join(f"{d} on {ds} ({v})" for ds, d, v in verdicts) + "."]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
