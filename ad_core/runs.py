"""The run store: one folder per trained run, written atomically, read by every view.

Layout of ``<runs_root>/<run_id>/``:
    config.json          what was run (dataset, task spec, detector, params, seed, status, times)
    metrics.json         AUROC, AUPR, F1, per-kind AUROC, fit/score seconds …
    detector/            the detector's own save(): detector.json + weights.safetensors
    scores.npz           test scores, labels, kinds, indices, validation/training scores, extras
    inputs.npz           the test inputs (images as uint8, tables as float32) for galleries
    explain.npz          explain() artefacts for a sample of test items (``index`` = test rows)
    embedding.npz        embed() of the test set (for PCA / t-SNE / UMAP), cached projections

Nothing is pickled (``allow_pickle=False`` everywhere). Run ids are generated here and checked
against a strict pattern before they touch a path.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ad_core.contracts import Explanation, FitReport, jsonable
from ad_core.data.base import runs_root
from ad_core.errors import UnknownNameError, UserError

if TYPE_CHECKING:
    from ad_core.detectors.base import Detector

RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")


def new_run_id(detector: str) -> str:
    """A fresh, path-safe id: time stamp, detector name and random hex."""
    safe = re.sub(r"[^A-Za-z0-9]", "", detector)[:20] or "run"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}-{secrets.token_hex(3)}"


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is a well-formed id; raise :class:`UnknownNameError` otherwise."""
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id) or ".." in run_id:
        raise UnknownNameError(f"{run_id!r} is not a valid run id.")
    return run_id


def _npz_ready(d: dict[str, Any]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for k, v in d.items():
        if v is None:
            continue
        if hasattr(v, "detach"):
            v = v.detach().cpu().numpy()
        a = np.asarray(v)
        if a.dtype == object:
            a = a.astype(str)
        out[k] = a
    return out


def save_npz(path: Path, arrays: dict[str, Any]) -> None:
    """Write arrays (tensors, lists of strings …) to ``path`` with no pickled objects."""
    np.savez_compressed(path, **_npz_ready(arrays))


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Read an ``.npz`` written by :func:`save_npz` (never unpickles)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def save_run(run_id: str, *, config: dict, metrics: dict, detector: Detector | None = None,
             scores: dict[str, Any] | None = None, inputs: dict[str, Any] | None = None,
             explain: dict[str, Any] | None = None, embedding: dict[str, Any] | None = None,
             root: Path | None = None) -> Path:
    """Write a complete run folder atomically (temp folder, then rename) and return its path."""
    root = Path(root) if root is not None else runs_root()
    root.mkdir(parents=True, exist_ok=True)
    check_run_id(run_id)
    final = root / run_id
    if final.exists():
        raise UserError(f"A run named {run_id} already exists.")
    tmp = root / f".tmp-{run_id}-{secrets.token_hex(3)}"
    tmp.mkdir()
    try:
        (tmp / "config.json").write_text(json.dumps(jsonable(config), indent=1))
        (tmp / "metrics.json").write_text(json.dumps(jsonable(metrics), indent=1))
        if detector is not None:
            detector.save(tmp / "detector")
        for name, arrays in (("scores", scores), ("inputs", inputs), ("explain", explain),
                             ("embedding", embedding)):
            if arrays:
                save_npz(tmp / f"{name}.npz", arrays)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    key = config.get("run_key")
    if key and config.get("status") == "done":
        _write_key_index(root, str(key), run_id)
    return final


KEY_INDEX = ".keys"
_KEY_RE = re.compile(r"^[0-9a-f]{8,64}$")


def _write_key_index(root: Path, key: str, run_id: str) -> None:
    """Point ``key`` at ``run_id`` (the newest finished run of that key wins); atomic."""
    if not _KEY_RE.match(key):
        return
    d = root / KEY_INDEX
    d.mkdir(exist_ok=True)
    tmp = d / f".{key}.{secrets.token_hex(3)}"
    tmp.write_text(run_id)
    os.replace(tmp, d / key)


def find_run(key: str, root: Path | None = None) -> Run | None:
    """The finished run whose content key is ``key`` (:func:`ad_core.experiment.run_key`), or
    ``None``. The index entry is checked against the run's own config, so a deleted or
    mismatching run is never returned."""
    root = Path(root) if root is not None else runs_root()
    if not key or not _KEY_RE.match(key):
        return None
    try:
        run_id = (root / KEY_INDEX / key).read_text().strip()
        run = load_run(run_id, root)
        ok = run.config.get("run_key") == key and run.config.get("status") == "done"
    except (OSError, ValueError, UserError):
        return None
    return run if ok else None


@dataclass
class Run:
    """A saved run, loaded lazily: ``config`` and ``metrics`` at once, arrays on first use."""

    run_id: str
    path: Path

    @cached_property
    def config(self) -> dict:
        return json.loads((self.path / "config.json").read_text())

    @cached_property
    def metrics(self) -> dict:
        return json.loads((self.path / "metrics.json").read_text())

    def _npz(self, name: str) -> dict[str, np.ndarray]:
        p = self.path / f"{name}.npz"
        return load_npz(p) if p.exists() else {}

    @cached_property
    def scores(self) -> dict[str, np.ndarray]:
        return self._npz("scores")

    @cached_property
    def inputs(self) -> dict[str, np.ndarray]:
        return self._npz("inputs")

    @cached_property
    def explain(self) -> dict[str, np.ndarray]:
        return self._npz("explain")

    @cached_property
    def embedding(self) -> dict[str, np.ndarray]:
        return self._npz("embedding")

    def test_x(self) -> np.ndarray:
        """Test inputs as float32 (images back in [0, 1])."""
        x = self.inputs.get("test_x")
        if x is None:
            return np.zeros((0,), np.float32)
        return x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)

    def test_kinds(self) -> np.ndarray:
        """Every test row's kind ("normal", an anomaly class or generator) from the stored scores;
        runs that stored no ``test_kind`` get "anomaly"/"normal" from their 0/1 labels."""
        sc = self.scores
        if "test_kind" in sc:
            return sc["test_kind"].astype(str)
        y = sc.get("test_y", np.zeros(0, dtype=int))
        return np.where(np.asarray(y) == 1, "anomaly", "normal")

    def detector(self) -> Any:
        """The trained detector, reloaded from safetensors + JSON (an external estimator is
        refitted and checked against its saved scores; see :meth:`detector_problem`)."""
        from ad_core.detectors import load_detector

        return load_detector(self.path / "detector")

    def detector_problem(self) -> str:
        """Why this run's trained detector cannot be rebuilt here, in one sentence, found without
        rebuilding it (``""`` when nothing says so): no saved detector, or an external estimator
        whose package is missing or whose class changed. The run still opens from its saved
        scores, metrics and inputs; :meth:`detector` then raises
        :class:`~ad_core.errors.DetectorUnavailableError` with the same reason (also when an
        external estimator's refit does not reproduce its saved scores)."""
        from ad_core.detectors import detector_problem

        return detector_problem(self.path / "detector")

    def explanation(self) -> Explanation:
        """The stored ``explain()`` artefacts as an :class:`Explanation` (``index`` = test rows);
        ask it what exists (``has``/``available``)."""
        return Explanation.from_arrays(self.explain)

    @cached_property
    def detector_meta(self) -> dict:
        """The detector's ``detector.json`` (config, fitted scalars, history); ``{}`` if absent."""
        try:
            meta = json.loads((self.path / "detector" / "detector.json").read_text())
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def fit_report(self) -> FitReport:
        """The training record (losses per step/epoch, phases, cancelled, selected checkpoint)."""
        hist = self.detector_meta.get("history")
        return FitReport.from_history(hist if isinstance(hist, dict) else {})

    @property
    def title(self) -> str:
        c = self.config
        from ad_core.data.user import dataset_display_name

        return (f"{c.get('detector')} on {dataset_display_name(str(c.get('dataset')))} "
                f"(normal {'+'.join(map(str, c.get('normal', [])))}, {c.get('task')}) · {self.run_id}")

    def cached_arrays(self, name: str, compute: Callable[[], dict[str, np.ndarray]]
                      ) -> dict[str, np.ndarray]:
        """``cache/<name>.npz`` of this run: read when present, else ``compute()`` d and written
        atomically (two sessions may compute it at once; a read-only run folder recomputes)."""
        path = self.path / "cache" / f"{name}.npz"
        if path.exists():
            return load_npz(path)
        arrays = compute()
        self.store_arrays(name, arrays)
        return arrays

    def store_arrays(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        """Write ``cache/<name>.npz`` atomically (a temporary file, then a rename: two sessions
        may write it at once); a read-only run folder is left as it is."""
        with contextlib.suppress(OSError):
            tmp = self.cache_path(f"{name}.{os.getpid()}-{threading.get_ident()}.tmp.npz")
            save_npz(tmp, arrays)
            os.replace(tmp, self.path / "cache" / f"{name}.npz")

    def cache_path(self, name: str) -> Path:
        """A file inside the run folder for derived, cacheable results (e.g. projections)."""
        d = self.path / "cache"
        d.mkdir(exist_ok=True)
        return d / name


def load_run(run_id: str, root: Path | None = None) -> Run:
    """Open a saved run by id; :class:`UnknownNameError` when there is none."""
    root = Path(root) if root is not None else runs_root()
    check_run_id(run_id)
    p = root / run_id
    if not (p / "config.json").exists():
        raise UnknownNameError(f"There is no saved run {run_id!r}.")
    return Run(run_id, p)


def list_runs(root: Path | None = None) -> list[Run]:
    """Every complete run, newest first."""
    root = Path(root) if root is not None else runs_root()
    if not root.exists():
        return []
    runs = [Run(p.name, p) for p in root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / "config.json").exists()
            and RUN_ID_RE.match(p.name)]
    return sorted(runs, key=lambda r: r.config.get("created", 0), reverse=True)


def delete_run(run_id: str, root: Path | None = None) -> None:
    """Remove a run folder."""
    run = load_run(run_id, root)
    shutil.rmtree(run.path)
