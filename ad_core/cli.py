"""Command line: ``python -m ad_core {datasets,detectors,train,bench,runs,app}``, installed as the
``anomaly-lab`` command (``[project.scripts]`` in pyproject.toml → :func:`console`).

User mistakes exit with code 2 and one line on stderr; ``train --json`` ends stdout with one JSON
object (dataset, normal, detector, preset, seed, auroc, aupr, f1, fit_seconds, score_seconds,
run_id).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ad_core.errors import UserError

# --negatives keywords (anything else is a comma-separated list of classes)
NEGATIVE_KEYWORDS = ("strokes", "other-half", "augmented-normals", "synthetic")


class ProgressBar:
    """A :class:`~ad_core.contracts.TrainingMonitor` drawing a ``tqdm`` bar (steps, loss, ETA) on
    stderr; a detector with two training phases (LIS-AE) gets one bar per phase."""

    def __init__(self, label: str = "train", stream: Any = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self._bar: Any = None

    def on_start(self, total: int) -> None:
        from tqdm import tqdm

        self.on_end()
        self._bar = tqdm(total=max(1, int(total)), desc=self.label, file=self.stream,
                         mininterval=0.2, unit="step", dynamic_ncols=True, leave=True)

    def on_step(self, step: int, loss: float, **metrics: float) -> None:
        if self._bar is None:
            return
        self._bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
        self._bar.update(max(0, int(step) - self._bar.n))

    def should_stop(self) -> bool:
        return False

    def on_end(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _parse_params(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for it in items or []:
        if "=" not in it:
            raise UserError(f"--param expects KEY=VALUE, got {it!r}.")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def cmd_datasets(args: argparse.Namespace) -> int:
    from ad_core.data import data_root, list_datasets

    root = data_root()
    print(f"{'name':<16}{'modality':<10}{'here?':<8}classes / files")
    for info in list_datasets():
        avail = info.available(root)
        classes = ", ".join(info.class_names) if info.class_names else "(from the files)"
        here = "yes" if avail else "no"
        print(f"{info.name:<16}{info.modality:<10}{here:<8}{classes}")
        if not avail and info.files_hint:
            print(f"{'':<34}missing: {info.files_hint}")
    print(f"\nData folder: {root} (set ANOMALY_LAB_DATA to change). Your own data: "
          "--dataset csv:PATH or images:PATH.")
    return 0


def cmd_detectors(args: argparse.Namespace) -> int:
    from ad_core.detectors import available_detectors

    for name, cls in available_detectors().items():
        print(f"{name:<10}{cls.title} — {cls.paper}")
        for p in cls.params:
            rng = f" [{p.low}, {p.high}]" if p.low is not None else ""
            ch = f" {{{', '.join(map(str, p.choices))}}}" if p.choices else ""
            print(f"    {p.name}={p.default}{rng}{ch}  {p.help}")
    from ad_core.detectors.external import external_catalogue

    cat = external_catalogue()
    print("\nMore detectors (--detector NAME; parameters from each one's signature):")
    for name, info in cat.detectors.items():
        params = ", ".join(f"{p.name}={p.default}" for p in info.params if not p.advanced)
        print(f"  {name:<28}{params}")
    for name, why in cat.unavailable.items():
        print(f"  {name:<28}(not usable here: {why})")
    if not cat.pyod_installed:
        print(f"  PyOD's detectors (pyod:ECOD, …) need PyOD: {cat.install_hint}.")
    print("  Your own class: --detector module.path:ClassName (docs/own_detector.md).")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from ad_core.experiment import ExperimentSpec, run_experiment

    ds_opts: dict[str, Any] = {}
    if args.label_column:
        if not args.dataset.startswith("csv:"):
            raise UserError("--label-column only applies to --dataset csv:PATH.")
        ds_opts["label_column"] = args.label_column
    spec = ExperimentSpec(dataset=args.dataset, normal=args.normal or ["0"],
                          detector=args.detector, preset=args.preset,
                          params=_parse_params(args.param), task=args.task, seed=args.seed,
                          dataset_options=ds_opts)
    if args.negatives:
        if args.task != "negatives":
            raise UserError("--negatives applies to --task negatives (for one-vs-rest LIS-AE "
                            "use --param negatives=strokes or negatives=augmented-normals).")
        spec.task_options["negatives"] = (args.negatives if args.negatives in NEGATIVE_KEYWORDS
                                          or args.negatives.startswith("dataset:")
                                          else args.negatives.split(","))
    if args.reuse:
        from ad_core.experiment import run_key
        from ad_core.runs import find_run

        found = find_run(run_key(spec)[0])
        if found is not None:
            return _report_reused(args, found)
    monitor: Any = ProgressBar(args.detector)
    if not (args.no_snapshots or args.no_save):
        from ad_core.snapshots import SnapshotRecorder, save_snapshots

        monitor = SnapshotRecorder(monitor)
    res = run_experiment(spec, monitor, save=not args.no_save)
    if not (args.no_snapshots or args.no_save):
        save_snapshots(monitor, res)
    m = res.metrics
    out = {"dataset": args.dataset, "normal": list(res.task.normal), "detector": args.detector,
           "preset": args.preset, "task": args.task, "seed": args.seed,
           "auroc": round(m["auroc"], 6), "aupr": round(m["aupr"], 6), "f1": round(m["f1"], 6),
           "fit_seconds": round(m["fit_seconds"], 3), "score_seconds": round(m["score_seconds"], 3),
           "n_train": m["n_train"], "n_test": m["n_test"], "run_id": res.run_id}
    neg_source = res.task.negatives_source or getattr(res.detector, "negatives_source_", None)
    if neg_source:
        out["negatives_source"] = neg_source
    if m.get("per_kind_auroc") and args.task == "testbed":
        out["per_kind_auroc"] = {k: round(v, 6) for k, v in m["per_kind_auroc"].items()}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{res.task.description}")
        print(f"AUROC {m['auroc']:.4f}  AUPR {m['aupr']:.4f}  F1 {m['f1']:.4f}  "
              f"fit {m['fit_seconds']:.1f}s  score {m['score_seconds']:.2f}s")
        if res.run_id:
            print(f"saved run {res.run_id}")
    return 0


def _report_reused(args: argparse.Namespace, run: Any) -> int:
    """``train --reuse`` found the run: print it as a training would, marked ``reused``."""
    m, c = run.metrics, run.config
    out = {"dataset": args.dataset, "normal": c.get("normal"), "detector": args.detector,
           "preset": args.preset, "task": args.task, "seed": args.seed,
           "auroc": round(m["auroc"], 6), "aupr": round(m["aupr"], 6), "f1": round(m["f1"], 6),
           "fit_seconds": round(m["fit_seconds"], 3), "score_seconds": round(m["score_seconds"], 3),
           "n_train": m["n_train"], "n_test": m["n_test"], "run_id": run.run_id, "reused": True}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{c.get('task_description', '')}")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.get("finished", 0)))
        print(f"AUROC {m['auroc']:.4f}  AUPR {m['aupr']:.4f}  F1 {m['f1']:.4f}  (reused run "
              f"{run.run_id}, trained {when}; drop --reuse to train afresh)")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ad_core.bench import run_grid
    from ad_core.sweep import options_from_args

    grid = run_grid(dataset=args.dataset, detectors=args.detector, classes=args.classes,
                    seeds=args.seeds, preset=args.preset, params=_parse_params(args.param),
                    task=args.task, name=args.name, options=options_from_args(args),
                    out_dir=args.out)
    return 1 if grid.sweep.failures else 0


def cmd_runs(args: argparse.Namespace) -> int:
    from ad_core.runs import list_runs

    for r in list_runs():
        m = r.metrics
        print(f"{r.run_id:<40} {r.config.get('detector', ''):<9} {r.config.get('dataset', ''):<14}"
              f" AUROC {m.get('auroc', float('nan')):.4f}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Why test sample N of a run scores as it does: its attribution maps, calibrated on the run
    (``ad_core.run_attribution``); ``--out`` writes them as a PNG."""
    import numpy as np

    from ad_core.run_attribution import run_reference, sample_maps
    from ad_core.runs import load_run
    from ad_core.sample_report import loaded_detector, sample_facts, test_sample

    r = load_run(args.run)
    x1 = test_sample(r, args.sample)
    problem = r.detector_problem()
    if problem:
        raise UserError(f"Run {r.run_id} cannot be explained: {problem}")
    det = loaded_detector(r)
    score = float(det.decision_function(x1[None])[0])
    maps = sample_maps(r, det, x1)
    facts = sample_facts(r, args.sample)
    verdict = "flagged as an anomaly" if score > det.threshold_ else "passes as normal"
    print(f"run {r.run_id} ({r.config.get('detector')}), test sample {args.sample} "
          f"(kind {facts['kind']}): score {score:.4g}, threshold {det.threshold_:.4g}: {verdict}")
    names = r.config.get("feature_names") or [f"f{i}" for i in range(x1.size)]
    for m in maps:
        cal = m.calibrated
        print(f"{m.method}: {m.label}; 1 = {m.scale:.3g} (the run's normal samples' 99th "
              f"percentile); largest |value| {float(np.abs(cal).max()):.2f}")
        if x1.ndim == 1:
            ref = run_reference(r)
            for i in np.argsort(-np.abs(cal), kind="stable")[:args.top]:
                print(f"    {names[i]:<28}{cal[i]:+8.2f}  value {x1[i]:.4g} (normal "
                      f"{ref['lo'][i]:.4g} – {ref['hi'][i]:.4g})")
        else:
            plane = cal.sum(0)
            y, x = np.unravel_index(int(np.argmax(plane)), plane.shape)
            print(f"    strongest at row {y}, column {x}: {plane[y, x]:+.2f}")
    if args.out:
        from ad_core.viz.attribution import save_maps_png

        out = save_maps_png(args.out, x1, [(m.method, m.calibrated) for m in maps])
        print(f"wrote {out}")
    return 0


def app_folder() -> Path:
    """The folder holding ``app.py`` with ``pages/``, ``ui/``, ``assets/`` and ``.streamlit/``: the
    clone this ``ad_core`` lies in, else the ``anomaly_lab_app`` package an installed wheel ships."""
    clone = Path(__file__).resolve().parents[1]
    if (clone / "app.py").is_file() and (clone / "pages").is_dir():
        return clone
    spec = importlib.util.find_spec("anomaly_lab_app")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        if (Path(loc) / "app.py").is_file():
            return Path(loc)
    raise UserError("The app's files (app.py, pages/, ui/) are not installed beside ad_core; "
                    "reinstall with pip install 'anomaly-lab[app]' or run from a clone.")


def app_command(streamlit_args: list[str]) -> list[str]:
    """``python -m streamlit run`` on :func:`app_folder`'s ``app.py``, with the options of its
    ``.streamlit/config.toml`` as flags (Streamlit reads that file only from the working
    directory); ``streamlit_args`` come last, so they win."""
    import tomllib

    folder = app_folder()
    flags = []
    config = folder / ".streamlit" / "config.toml"
    if config.is_file():
        for section, options in tomllib.loads(config.read_text()).items():
            for key, value in options.items():
                if isinstance(value, bool):
                    value = "true" if value else "false"
                if isinstance(value, str | int | float):
                    flags.append(f"--{section}.{key}={value}")
    return [sys.executable, "-m", "streamlit", "run", *flags, str(folder / "app.py"), *streamlit_args]


def cmd_app(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("streamlit") is None:
        raise UserError("The app needs Streamlit: pip install 'anomaly-lab[app]'.")
    cmd = app_command(args.streamlit_args)
    threads = str(os.cpu_count() or 2)  # as `make app`: BLAS/OpenMP/numba share the cores
    env = {var: threads for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
    env.update(os.environ)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":  # become the server: Ctrl-C and signals reach Streamlit directly
        os.execve(cmd[0], cmd, env)
    return subprocess.call(cmd, env=env)


def _seed(text: str) -> int:
    """``--seed``: a whole number ≥ 0 (torch and numpy reject negative seeds)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; use a seed of 0 or more")
    return value


def build_parser(prog: str = "python -m ad_core") -> argparse.ArgumentParser:
    from ad_core.sweep import add_engine_args

    p = argparse.ArgumentParser(prog=prog, description="Anomaly Lab command line.")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("app", help="start the Streamlit app; further arguments go to streamlit run "
                   "(e.g. --server.port 8502)")
    sub.add_parser("datasets", help="list datasets and whether they are available here")
    sub.add_parser("detectors", help="list detectors and their parameters")
    sub.add_parser("runs", help="list saved runs")
    t = sub.add_parser("train", help="train one detector on one task and report AUROC")
    t.add_argument("--dataset", required=True, help="registry name, csv:PATH or images:PATH")
    t.add_argument("--normal", action="append", help="normal class (index or name); repeatable")
    t.add_argument("--detector", required=True)
    t.add_argument("--preset", default="quick", help="quick or paper")
    t.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    t.add_argument("--task", default="one-vs-rest", help="one-vs-rest, testbed or negatives")
    t.add_argument("--negatives", default=None,
                   help="negatives task: classes (comma-separated, e.g. 5,6,7,8,9), other-half "
                        "(LIS-AE Table 3), strokes (generated stroke/glyph set), dataset:NAME, or "
                        "augmented-normals (explicit only: augmented copies of the normals)")
    t.add_argument("--seed", type=_seed, default=0, help="a whole number ≥ 0 (same seed → same "
                   "split and initialisation)")
    t.add_argument("--label-column", default=None, help="label column of a csv: dataset")
    t.add_argument("--json", action="store_true", help="end stdout with one JSON line")
    t.add_argument("--no-save", action="store_true", help="do not save the run")
    t.add_argument("--no-snapshots", action="store_true",
                   help="do not record training snapshots (the run's replay of how its scores, "
                        "codes and views evolved; about 10 %% of the fit time)")
    t.add_argument("--reuse", action="store_true",
                   help="if a run of exactly this experiment already exists (same data, task, "
                        "detector, resolved parameters, seed and method code), report it "
                        "instead of training again")
    e = sub.add_parser("explain", help="why a run's test sample scores as it does: attribution "
                       "maps, calibrated on the run")
    e.add_argument("--run", required=True, help="run id (python -m ad_core runs lists them)")
    e.add_argument("--sample", required=True, type=int, help="test sample row of the run")
    e.add_argument("--out", default=None, help="write the maps as a PNG here")
    e.add_argument("--top", type=int, default=8, help="features listed for a table row")
    b = sub.add_parser("bench", help="classes × detectors × seeds grid → docs/results/")
    b.add_argument("--dataset", required=True)
    b.add_argument("--detector", action="append", required=True)
    b.add_argument("--classes", default="all", help="'all' or comma-separated classes")
    b.add_argument("--seeds", type=int, default=3)
    b.add_argument("--preset", default="quick")
    b.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    b.add_argument("--task", default="one-vs-rest")
    b.add_argument("--name", default=None, help="output file stem under docs/results/")
    b.add_argument("--out", default=None, help="output folder (default docs/results/)")
    add_engine_args(b)
    return p


def main(argv: list[str] | None = None, prog: str = "python -m ad_core") -> int:
    parser = build_parser(prog)
    args, rest = parser.parse_known_args(argv)
    if args.cmd == "app":
        args.streamlit_args = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    handlers = {"datasets": cmd_datasets, "detectors": cmd_detectors, "train": cmd_train,
                "bench": cmd_bench, "runs": cmd_runs, "app": cmd_app, "explain": cmd_explain}
    try:
        return handlers[args.cmd](args)
    except UserError as e:
        sys.stderr.write(f"\nerror: {e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130


def console() -> int:
    """The ``anomaly-lab`` command: :func:`main` under that name."""
    return main(prog="anomaly-lab")


if __name__ == "__main__":
    raise SystemExit(main())
