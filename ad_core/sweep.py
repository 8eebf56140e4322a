"""The engine that runs any grid's cells (local processes or Ray); it knows no grid and no study.

Why one module of ~500 lines: the two engines (local processes, Ray) share the cell keys, resume
from kept cells, resource requests and the result order; split apart they would each need a copy
of those rules.

It runs the cells of ``python -m ad_core bench`` (:mod:`ad_core.bench`) and of every study in
``ad_core/benchmarks``: engines, resources, resume and per-cell keys live here.

A sweep is a list of *cells* (JSON-able dicts, usually :class:`~ad_core.experiment.ExperimentSpec`
fields) and a *cell function* (a module-level function ``cell -> dict``; by default
:func:`experiment_cell`). :func:`run_sweep` runs the cells on an engine and returns the results in
cell order:

- ``local`` (the default): processes on this machine, ``workers`` of them (default: CPU count
  ÷ CPUs per cell), spawned (never forked from a process that already ran torch);
- ``ray``: each cell is a Ray task with ``num_cpus = cpus_per_cell`` and
  ``num_gpus = gpus_per_cell``, so a multi-GPU node runs one cell per GPU. ``ray.init()`` starts
  Ray on this machine unless it is running already (a test's local Ray, say); ``address``
  connects to an existing cluster, which receives the ``ad_core`` package with the tasks.
  Ray is an optional extra: ``pip install -r requirements-scale.txt``. The connection and the
  task's resource request are :mod:`ad_core.ray_engine`'s, shared with the app's jobs on Ray.

Every cell sets torch's thread count to ``cpus_per_cell`` first (:func:`ad_core.device.set_threads`),
so the same cell gives the same numbers on either engine. A cell that raises is reported (one line, and in
:attr:`SweepResult.failures`) and the sweep carries on.

**Resume.** A named sweep appends each finished cell to ``<run store>/sweeps/<name>.jsonl`` as it
arrives (key = hash of the cell function, the fingerprint of the code it runs — its module's
``ad_core`` import closure and, for an experiment cell, the detector's method fingerprint, see
:func:`cell_code` — and the cell; each record also keeps that fingerprint, when the cell
finished and its compute seconds). Rerunning the same sweep reads the
finished cells from there and runs only the missing (or failed) ones; the file is removed once
every cell has finished, so the next run of a complete sweep starts afresh, unless ``keep=True``
(``--keep-cells``): then it stays, and a later run of the same cells (a report regenerated after
its text changed, or a sweep that grew) reruns only what is new. ``resume=False`` discards it
first.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ad_core import ray_engine
from ad_core.errors import UserError
from ad_core.ray_engine import RAY_MISSING, EngineUnavailableError, ray_available

__all__ = ["ENGINES", "RAY_MISSING", "EngineUnavailableError", "SweepOptions", "SweepResult",
           "add_engine_args", "configure", "current_options", "experiment_cell",
           "options_from_args", "ray_available", "run_sweep"]

ENGINES = ("local", "ray")

CellFn = Callable[[dict[str, Any]], dict[str, Any]]

# ----------------------------------------------------------------------------- options
@dataclass(frozen=True)
class SweepOptions:
    """How to run a sweep: the engine and the resources of one cell.

    ``workers``: cells at a time on the local engine, and the CPUs of a Ray started here
    (``workers × cpus_per_cell``; 0 = all of them). ``cpus_per_cell``: torch threads per cell and
    its Ray CPU request (0 = CPU count ÷ workers on the local engine, 1 on Ray).
    ``gpus_per_cell``: the Ray GPU request (Ray only). ``address``: an existing Ray cluster.
    ``resume``: reuse the finished cells of an interrupted run of the same sweep.
    ``keep``: keep the finished cells after a complete run too (see the module docstring).
    ``run_missing``: False reads the finished cells of a named sweep and computes nothing (the
    missing ones stay ``None`` and are counted in :attr:`SweepResult.skipped`).
    """

    engine: str = "local"
    workers: int = 0
    cpus_per_cell: int = 0
    gpus_per_cell: float = 0.0
    address: str | None = None
    resume: bool = True
    progress: bool = True
    keep: bool = False
    run_missing: bool = True

    def validate(self) -> SweepOptions:
        if self.engine not in ENGINES:
            raise UserError(f"Unknown engine {self.engine!r}; choose from {', '.join(ENGINES)}.")
        if self.workers < 0 or self.cpus_per_cell < 0 or self.gpus_per_cell < 0:
            raise UserError("--workers, --cpus-per-cell and --gpus-per-cell must be ≥ 0.")
        if self.engine == "local" and (self.gpus_per_cell or self.address):
            raise UserError("--gpus-per-cell and --address apply to --engine ray.")
        if self.engine == "ray" and not ray_available():
            raise EngineUnavailableError(RAY_MISSING)
        return self

    def threads(self, n_cells: int) -> int:
        """torch threads per cell."""
        if self.cpus_per_cell:
            return self.cpus_per_cell
        if self.engine == "ray":
            return 1
        return max(1, (os.cpu_count() or 1) // self.local_workers(n_cells))

    def local_workers(self, n_cells: int) -> int:
        """Processes of the local engine for ``n_cells`` cells."""
        w = self.workers or max(1, (os.cpu_count() or 1) // max(1, self.cpus_per_cell))
        return max(1, min(w, n_cells))


_defaults = SweepOptions()


def configure(options: SweepOptions) -> None:
    """Set the options every later :func:`run_sweep` without explicit ``options`` uses (a
    benchmark script's ``main`` calls this once with its command-line engine flags)."""
    global _defaults
    _defaults = options.validate()


def current_options() -> SweepOptions:
    return _defaults


def add_engine_args(ap: argparse.ArgumentParser) -> None:
    """The engine flags shared by ``bench`` and the benchmark scripts."""
    g = ap.add_argument_group("sweep engine")
    g.add_argument("--engine", choices=ENGINES, default="local",
                   help="local processes (default) or Ray tasks (pip install -r "
                        "requirements-scale.txt)")
    g.add_argument("--workers", type=int, default=0,
                   help="cells at a time here (0 = CPU count ÷ --cpus-per-cell); with --engine "
                        "ray and no --address: the CPUs the local Ray gets (× --cpus-per-cell)")
    g.add_argument("--cpus-per-cell", type=int, default=0,
                   help="torch threads per cell and its Ray CPU request (0 = CPU count ÷ "
                        "workers locally, 1 on Ray)")
    g.add_argument("--gpus-per-cell", type=float, default=0.0,
                   help="Ray GPU request per cell (1 = one cell per GPU); --engine ray only")
    g.add_argument("--address", default=None,
                   help="an existing Ray cluster (e.g. ray://head:10001 or auto); default: "
                        "start Ray on this machine")
    g.add_argument("--fresh", action="store_true",
                   help="recompute every cell (default: resume an interrupted sweep)")
    g.add_argument("--keep-cells", action="store_true",
                   help="keep the finished cells of a named sweep after it completes, so the "
                        "next run reuses them (default: a complete sweep starts afresh)")


def options_from_args(args: argparse.Namespace) -> SweepOptions:
    return SweepOptions(engine=args.engine, workers=args.workers,
                        cpus_per_cell=args.cpus_per_cell, gpus_per_cell=args.gpus_per_cell,
                        address=args.address, resume=not args.fresh,
                        keep=bool(getattr(args, "keep_cells", False))).validate()


# ----------------------------------------------------------------------------- cells
def experiment_cell(cell: dict[str, Any]) -> dict[str, Any]:
    """One :class:`ExperimentSpec` (as a dict) → the benchmark row: dataset, normal, detector,
    preset, params, task, seed, AUROC/AUPR/F1, per-kind AUROC, fit/score seconds, data sizes."""
    from ad_core.experiment import ExperimentSpec, run_experiment

    spec = ExperimentSpec(**{**cell, "explain_n": 0, "embed_n": 0})
    res = run_experiment(spec, save=False, artifacts=False)
    m = res.metrics
    return {"dataset": spec.dataset, "normal": "+".join(res.task.normal), "detector": spec.detector,
            "preset": spec.preset, "params": spec.params, "task": spec.task, "seed": spec.seed,
            "auroc": m["auroc"], "aupr": m["aupr"], "f1": m["f1"],
            "per_kind_auroc": m.get("per_kind_auroc", {}), "fit_seconds": m["fit_seconds"],
            "score_seconds": m["score_seconds"], "n_train": m["n_train"], "n_test": m["n_test"]}


def fn_module(fn: CellFn) -> str:
    """The importable module of a cell function (``__main__`` of ``python -m X`` → ``X``)."""
    mod = getattr(fn, "__module__", "") or ""
    if mod == "__main__":
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        mod = getattr(spec, "name", None) or mod
    return mod


def fn_name(fn: CellFn) -> str:
    return f"{fn_module(fn)}:{fn.__qualname__}"


def cell_code(fn: CellFn, cell: dict[str, Any]) -> str:
    """Fingerprint of the code a cell runs (:mod:`ad_core.runkey`): the cell function's module and
    every ``ad_core`` module it imports, transitively, plus — for a cell naming a registered
    ``detector`` — that detector's :func:`~ad_core.runkey.method_fingerprint`. A cell function
    outside ``ad_core`` (a test's) contributes its module name only."""
    from ad_core.runkey import code_fingerprint, content_key, method_fingerprint

    parts: dict[str, Any] = {"fn": fn_name(fn), "module": code_fingerprint(fn_module(fn))}
    det = cell.get("detector")
    if isinstance(det, str) and det:
        try:
            parts["method"] = method_fingerprint(det)
        except Exception:  # an unknown detector: the cell itself will fail and say so
            parts["method"] = None
    return content_key(parts)[:16]


def cell_key(fn: CellFn, cell: dict[str, Any], code: str | None = None) -> str:
    """Stable id of a cell: hash of the cell function's name, the fingerprint of the code it runs
    (:func:`cell_code`) and the canonical JSON of the cell — a cell computed by other code has
    another key, so a resumed or ``--keep-cells`` sweep never reuses it."""
    code = cell_code(fn, cell) if code is None else code
    text = json.dumps([fn_name(fn), code, cell], sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def describe(cell: dict[str, Any]) -> str:
    """A short human label: ``digits 0 ae seed 1``."""
    normal = cell.get("normal")
    normal = "+".join(map(str, normal)) if isinstance(normal, list | tuple) else normal
    parts = [cell.get("tag"), cell.get("dataset"), normal, cell.get("detector"),
             cell.get("anomaly"), json.dumps(cell["params"], sort_keys=True)
             if cell.get("params") else None,
             f"seed {cell['seed']}" if "seed" in cell else None]
    return " ".join(str(p) for p in parts if p not in (None, "")) or json.dumps(cell)[:80]


def call_cell(fn: CellFn, cell: dict[str, Any], threads: int) -> dict[str, Any]:
    """Run one cell where it lands (worker process or Ray task): ``{"ok", "result" | "error",
    "traceback", "seconds", "code"}``; never raises for a failing cell. ``code`` is
    :func:`cell_code` as read where the cell runs (a worker imports the tree as it is when it
    starts, which may differ from the tree the keys were made from)."""
    from ad_core.device import set_threads

    set_threads(threads)
    try:
        code: str | None = cell_code(fn, cell)
    except Exception:  # the fingerprint is provenance; never fail a cell for it
        code = None
    t0 = time.perf_counter()
    try:
        result = fn(dict(cell))
        return {"ok": True, "result": result, "seconds": time.perf_counter() - t0, "code": code}
    except Exception as e:  # a failing cell is reported, not fatal
        return {"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                "seconds": time.perf_counter() - t0, "code": code}


# ----------------------------------------------------------------------------- store
def store_path(name: str) -> Path:
    """``<run store>/sweeps/<name>.jsonl``: the finished cells of a named sweep."""
    from ad_core.runs import runs_root

    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return runs_root() / "sweeps" / f"{safe}.jsonl"


def read_store(path: Path) -> dict[str, dict[str, Any]]:
    """Finished cells by key (a torn last line from a killed run is skipped)."""
    out: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "key" in rec and "result" in rec:
            out[rec["key"]] = rec
    return out


# ----------------------------------------------------------------------------- results
@dataclass
class CellFailure:
    index: int
    cell: dict[str, Any]
    error: str
    traceback: str = ""


@dataclass
class SweepResult:
    """Results aligned with the cells (``None`` where a cell failed)."""

    cells: list[dict[str, Any]]
    results: list[dict[str, Any] | None]
    failures: list[CellFailure] = field(default_factory=list)
    resumed: int = 0
    ran: int = 0
    engine: str = "local"
    wall_seconds: float = 0.0
    cell_seconds: list[float | None] = field(default_factory=list)
    store: str | None = None
    #: per cell: ``{"key", "code", "finished", "seconds", "resumed"}`` (None where it failed or,
    #: with ``run_missing=False``, was not computed)
    provenance: list[dict[str, Any] | None] = field(default_factory=list)
    skipped: int = 0

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r is not None]

    @property
    def complete(self) -> bool:
        return not self.failures and all(r is not None for r in self.results)

    def status(self) -> dict[str, Any]:
        """What ``meta["sweep"]`` of a results JSON records."""
        return {"engine": self.engine, "cells": len(self.cells),
                "done": sum(r is not None for r in self.results), "resumed": self.resumed,
                "ran": self.ran, "failed": [{"cell": describe(f.cell), "error": f.error}
                                            for f in self.failures],
                "complete": self.complete, "wall_seconds": round(self.wall_seconds, 2)}


# ----------------------------------------------------------------------------- engines
def _local(todo: list[tuple[int, dict[str, Any]]], fn: CellFn, opts: SweepOptions,
           threads: int) -> Iterator[tuple[int, dict[str, Any]]]:
    workers = opts.local_workers(len(todo))
    if workers == 1:  # in this process; its torch thread count is restored afterwards
        import torch

        from ad_core.device import set_threads

        before = torch.get_num_threads()
        try:
            for i, cell in todo:
                yield i, call_cell(fn, cell, threads)
        finally:
            set_threads(before)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from ad_core.spawning import importable, spawn_context

    fn = importable(fn)  # a cell function of a benchmark run with -m: by its module's name
    ex = ProcessPoolExecutor(max_workers=workers, mp_context=spawn_context())
    try:
        futs = {ex.submit(call_cell, fn, cell, threads): i for i, cell in todo}
        for fut in as_completed(futs):
            try:
                out = fut.result()
            except BrokenProcessPool:
                out = {"ok": False, "error": "the worker process died (killed or out of memory)",
                       "seconds": None}
            except Exception as e:  # e.g. a result that cannot be pickled back
                out = {"ok": False, "error": f"{type(e).__name__}: {e}", "seconds": None}
            yield futs[fut], out
    finally:  # normal end: all done; Ctrl-C: drop the queued cells, do not wait for them
        ex.shutdown(wait=False, cancel_futures=True)


def _ray_session(opts: SweepOptions) -> contextlib.AbstractContextManager[Any]:
    """Ray for one sweep (:func:`ad_core.ray_engine.session`): the cluster at ``address``, or a
    Ray started here with ``workers × cpus_per_cell`` CPUs (all of them when ``workers`` is 0)."""
    cpus = opts.workers * max(1, opts.cpus_per_cell) if opts.workers else None
    return ray_engine.session(opts.address, None if opts.address else cpus)


def _ray(todo: list[tuple[int, dict[str, Any]]], fn: CellFn, opts: SweepOptions,
         threads: int) -> Iterator[tuple[int, dict[str, Any]]]:
    with _ray_session(opts) as ray:
        task = ray_engine.remote(call_cell, opts.cpus_per_cell or 1, opts.gpus_per_cell)
        refs = {task.remote(fn, cell, threads): i for i, cell in todo}
        try:
            while refs:
                ready, _ = ray.wait(list(refs), num_returns=1)
                for ref in ready:
                    i = refs.pop(ref)
                    try:
                        out = ray.get(ref)
                    except Exception as e:  # the task's worker died: reported like a failing cell
                        out = {"ok": False, "seconds": None,
                               "error": f"{type(e).__name__}: {(str(e).splitlines() or [''])[0]}"}
                    yield i, out
        finally:  # interrupted: do not leave the cluster working on an abandoned sweep
            for ref in refs:
                ray.cancel(ref)


# ----------------------------------------------------------------------------- the runner
def run_sweep(cells: Sequence[dict[str, Any]], fn: CellFn = experiment_cell, *,
              name: str | None = None, options: SweepOptions | None = None,
              on_result: Callable[[SweepResult], None] | None = None,
              label: str | None = None) -> SweepResult:
    """Run every cell (``fn(cell) -> dict``) and return the results in cell order.

    ``name`` makes the sweep resumable (see the module docstring); ``on_result(partial)`` is
    called after every finished cell with the results so far (a benchmark rewrites its JSON
    there, so a running sweep shows up on the Compare page).
    """
    opts = (options or _defaults).validate()
    cells = [dict(c) for c in cells]
    t0 = time.time()
    from ad_core.runkey import _fingerprint

    _fingerprint.cache_clear()  # the tree as it is now, not as it was when this process started
    codes = [cell_code(fn, c) for c in cells]
    keys = [cell_key(fn, c, code) for c, code in zip(cells, codes)]
    res = SweepResult(cells, [None] * len(cells), engine=opts.engine,
                      cell_seconds=[None] * len(cells), provenance=[None] * len(cells))
    path = store_path(name) if name else None
    if path is not None:
        res.store = str(path)
        if not opts.resume and path.exists():
            path.unlink()
        done = read_store(path)
        for i, k in enumerate(keys):
            if k in done:
                res.results[i] = done[k]["result"]
                res.cell_seconds[i] = done[k].get("seconds")
                res.provenance[i] = {"key": k, "code": done[k].get("code", codes[i]),
                                     "finished": done[k].get("finished"),
                                     "seconds": done[k].get("seconds"), "resumed": True}
                res.resumed += 1
    todo = [(i, c) for i, c in enumerate(cells) if res.results[i] is None]
    if not opts.run_missing:
        res.skipped = len(todo)
        todo = []
    if res.resumed:
        print(f"{name}: {res.resumed} of {len(cells)} cells already done ({path}); running the "
              f"other {len(todo)} (--fresh to recompute all)", file=sys.stderr, flush=True)
    session = uuid.uuid4().hex[:12]
    threads = opts.threads(len(cells))
    engine = _ray if opts.engine == "ray" else _local
    from tqdm import tqdm

    bar = tqdm(total=len(cells), initial=res.resumed, desc=label or name or "sweep", unit="cell",
               file=sys.stderr, disable=not opts.progress or not todo, mininterval=0.5,
               dynamic_ncols=True)
    store = None
    try:
        if path is not None and todo:
            path.parent.mkdir(parents=True, exist_ok=True)
            store = path.open("a")
        for i, out in engine(todo, fn, opts, threads):
            res.ran += 1
            if out["ok"]:
                res.results[i] = out["result"]
                res.cell_seconds[i] = out["seconds"]
                finished = time.time()
                # stored under the code that actually ran it (a worker started after an edit in
                # the tree ran other code than the key was made from: never reused as today's)
                code = out.get("code") or codes[i]
                key = keys[i] if code == codes[i] else cell_key(fn, cells[i], code)
                res.provenance[i] = {"key": key, "code": code, "finished": finished,
                                     "seconds": out["seconds"], "resumed": False}
                if store is not None:
                    store.write(json.dumps({"key": key, "index": i, "cell": cells[i],
                                            "code": code, "fn": fn_name(fn),
                                            "result": out["result"], "seconds": out["seconds"],
                                            "session": session, "engine": opts.engine,
                                            "finished": finished}, default=str) + "\n")
                    store.flush()
            else:
                res.failures.append(CellFailure(i, cells[i], out["error"],
                                                out.get("traceback", "")))
                bar.write(f"cell {i} ({describe(cells[i])}) failed: {out['error']}",
                          file=sys.stderr)
                bar.set_postfix(failed=len(res.failures))
            bar.update(1)
            res.wall_seconds = time.time() - t0
            if on_result is not None:
                on_result(res)
    finally:
        bar.close()
        if store is not None:
            store.close()
    res.failures.sort(key=lambda f: f.index)
    res.wall_seconds = time.time() - t0
    if res.failures:
        print(f"{len(res.failures)} of {len(cells)} cells failed (the others are kept"
              + (f"; rerun to retry only those: {path}" if path else "") + "):", file=sys.stderr)
        for f in res.failures:
            print(f"  cell {f.index} ({describe(f.cell)}): {f.error}", file=sys.stderr)
    elif path is not None and path.exists() and not opts.keep and not res.skipped:
        path.unlink()  # complete: the next run of this sweep starts afresh
    return res

