"""Training snapshots: what a detector makes of a fixed set of test samples while it learns.

A :class:`SnapshotRecorder` is a training monitor (it wraps the job's or the CLI's own monitor and
forwards every callback). :func:`ad_core.experiment.run_experiment` shows it the detector and the
task before training (``observe``); from then on, at a dozen steps spread over each training phase
(denser early: :func:`snapshot_steps`), it scores a fixed, class-balanced subsample of the test set
(≤ 500 samples: the *score histogram* and the *running AUROC*), keeps the latent codes the
Embeddings view projects (:meth:`Detector.embed`), and the method's own view of eight fixed samples
(:meth:`Detector.explain`: reconstructions and error maps of the auto-encoders, NeuTraL AD's learned
views, GeoTrans's softmax over its transformations). After training, :meth:`save` adds the *final*
snapshot — the fitted detector's own scores, i.e. the run's final scores for those samples, at the
selected checkpoint's step — and writes everything into the run folder (``snapshots.npz``, a few
MB at most: :data:`MAX_BYTES`). Classical detectors, which have no training steps, get the final
snapshot only.

Taking a snapshot never changes what is learned: the networks are put in eval mode (no batch-norm
statistic moves) and back, every random generator is saved and restored, and the detector state a
mid-training score needs but training has not built yet (GeoTrans's Dirichlet parameters, LIS-AE's
phase-1 copy, the CAE's OC-SVM) is made from a small sample of training normals for the snapshot
and removed again. ``tests/test_snapshots.py`` checks that a run with snapshots gives the same
scores as one without.

The subsample size adapts so the snapshots cost about :data:`OVERHEAD` of the fit: the recorder
times the scoring of a few samples when training starts and one training step, and sizes the
subsample from both; the measured share is saved with the snapshots (``overhead``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ad_core import metrics as M
from ad_core.contracts import NullMonitor, TrainingMonitor

#: Snapshots per training phase (the first phase also gets step 1's).
POINTS = 12
#: At most this many test samples are scored at every snapshot.
MAX_SAMPLES = 500
#: …and at least this many (both groups), whatever the cost: on a fit of a few seconds with a
#: costly score (GeoTrans's 72 transformations, NeuTraL AD's K views) even these cost more than
#: :data:`OVERHEAD` (``python -m ad_core.benchmarks.snapshot_cost`` measures it).
MIN_SAMPLES = 32
#: Samples whose method view (reconstruction, views, softmax) is kept.
N_VIEWS = 8
#: Training normals used for the state a mid-training score needs (GeoTrans's α, the CAE's SVM).
N_STATE = 256
#: The share of the fit time the snapshots aim at (the issue allows 15 %).
OVERHEAD = 0.10
#: The snapshot file's size cap; latent codes and views are thinned to stay below it.
MAX_BYTES = 5_000_000
CODE_BYTES = 1_500_000
VIEW_BYTES = 3_000_000
#: One snapshot's views (a one-phase run's dozen fit in :data:`VIEW_BYTES`; a longer run's are
#: thinned when saved).
SNAPSHOT_VIEW_BYTES = VIEW_BYTES // (POINTS + 2)
FILE = "snapshots.npz"


def snapshot_steps(total: int, points: int = POINTS) -> list[int]:
    """The steps of one training phase of ``total`` steps at which a snapshot is taken: ``points``
    steps spaced on a power curve (denser early, where most of the learning happens), always
    including the phase's last step; every step when the phase is shorter than ``points``."""
    if total <= 0:
        return []
    if total <= points:
        return list(range(1, total + 1))
    steps = {max(1, math.ceil(total * (k / points) ** 1.8)) for k in range(1, points + 1)}
    steps.add(total)
    out = sorted(steps)
    # nudge duplicates created by rounding to the next free step, so there are ``points`` steps
    while len(out) < points:
        gaps = [(b - a, a) for a, b in zip(out, out[1:]) if b - a > 1]
        if not gaps:
            break
        _, a = max(gaps)
        out = sorted({*out, a + (out[out.index(a) + 1] - a) // 2})
    return out


def balanced_subsample(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Indices of up to ``k`` test samples, half anomalies and half normals where both have that
    many, interleaved (normal, anomaly, …) so that every prefix stays balanced."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    norm = rng.permutation(np.flatnonzero(y == 0))
    anom = rng.permutation(np.flatnonzero(y == 1))
    k = min(int(k), len(y))
    k_a = min(len(anom), max(k // 2, k - len(norm)))
    k_n = min(len(norm), k - k_a)
    norm, anom = norm[:k_n], anom[:k_a]
    out = np.empty(k_n + k_a, dtype=np.int64)
    m = min(k_n, k_a)
    out[0:2 * m:2], out[1:2 * m:2] = norm[:m], anom[:m]
    out[2 * m:] = np.concatenate([norm[m:], anom[m:]])
    return out


def _modules(det: Any) -> list[nn.Module]:
    """Every network the detector holds as an attribute (and their submodules)."""
    return [m for v in vars(det).values() if isinstance(v, nn.Module) for m in v.modules()]


@contextlib.contextmanager
def frozen_training(det: Any, train_x: torch.Tensor) -> Iterator[None]:
    """Score ``det`` in the middle of training without changing what it learns: eval mode and
    back, random generators restored, and the post-training state its score needs built from
    ``train_x`` (a small sample of training normals) for the duration, then removed."""
    modes = [(m, m.training) for m in _modules(det)]
    rng = (torch.get_rng_state(), np.random.get_state(), random.getstate(),
           torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None)
    added: list[str] = []
    try:
        for m, _ in modes:
            m.eval()
        with torch.no_grad():
            added = det._interim_state(train_x)  # :meth:`Detector._interim_state`
        yield
    finally:
        for name in added:
            with contextlib.suppress(AttributeError):
                delattr(det, name)
        for m, mode in modes:
            m.train(mode)
        torch.set_rng_state(rng[0])
        np.random.set_state(rng[1])
        random.setstate(rng[2])
        if rng[3] is not None:
            torch.cuda.set_rng_state_all(rng[3])


@dataclass
class Snapshot:
    """One look at the model: the global training step, the training phase, the subsample's
    scores and AUROC, latent codes of its first samples, and the method's views of 8 samples."""

    step: int
    phase: int
    scores: np.ndarray
    auroc: float
    codes: np.ndarray | None
    views: dict[str, np.ndarray]
    seconds: float


class SnapshotRecorder:
    """A training monitor that forwards to ``inner`` and records snapshots (module docstring).

    ``on_snapshot`` receives a small dict per snapshot (``step``, ``phase``, ``auroc``, the
    subsample's ``scores`` and ``labels``) — the app's live histogram."""

    def __init__(self, inner: TrainingMonitor | None = None, *, points: int = POINTS,
                 max_samples: int = MAX_SAMPLES, seed: int = 0,
                 on_snapshot: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.inner = inner or NullMonitor()
        self.points = int(points)
        self.max_samples = int(max_samples)
        self.seed = int(seed)
        self.on_snapshot = on_snapshot
        self.snapshots: list[Snapshot] = []
        self.det: Any = None
        self.task: Any = None
        self.phase = 0
        self.global_step = 0
        self.phase_offsets: list[int] = []
        self.phase_totals: list[int] = []
        self._schedule: set[int] = set()
        self._order: np.ndarray | None = None
        self._n: int | None = None
        self._cost: float | None = None
        self._t_step: float | None = None
        self._n_codes: int | None = None
        self.snapshot_seconds = 0.0
        self.fit_started: float | None = None
        self.fit_seconds = 0.0

    # ----------------------------------------------------------------- monitor protocol
    def observe(self, det: Any, task: Any) -> None:
        """Called by ``run_experiment`` before training: the detector and its task."""
        self.det, self.task = det, task
        self._order = balanced_subsample(task.test_y, self.max_samples, self.seed)
        pos = self._order
        views_n = pos[np.asarray(task.test_y)[pos] == 0][: N_VIEWS // 2]
        views_a = pos[np.asarray(task.test_y)[pos] == 1][: N_VIEWS - len(views_n)]
        self.view_index = np.concatenate([views_n, views_a]).astype(np.int64)
        g = torch.Generator().manual_seed(self.seed + 101)
        n_tr = len(task.train_x)
        self._state_x = task.train_x[torch.randperm(n_tr, generator=g)[:N_STATE]]
        self.fit_started = time.perf_counter()

    def on_start(self, total: int) -> None:
        self.phase += 1
        self.phase_offsets.append(self.global_step)
        self.phase_totals.append(int(total))
        self._schedule = {self.global_step + s for s in snapshot_steps(int(total), self.points)}
        if self.det is not None and self._cost is None:
            self._probe_cost()
        self._t_last = time.perf_counter()
        self.inner.on_start(total)

    def on_step(self, step: int, loss: float, **metrics: float) -> None:
        self.global_step += 1
        now = time.perf_counter()
        if self._t_step is None and self.global_step >= 2:
            self._t_step = now - self._t_last  # step 2: no first-step set-up in it
        self._t_last = now
        self.inner.on_step(step, loss, **metrics)
        first = self.phase == 1 and self.global_step == min(2, self.phase_totals[0])
        if self.det is not None and (self.global_step in self._schedule or first):
            self._take()
            self._t_last = time.perf_counter()

    def should_stop(self) -> bool:
        return self.inner.should_stop()

    def on_end(self) -> None:
        self.inner.on_end()

    # ----------------------------------------------------------------- taking snapshots
    def _probe_cost(self) -> None:
        """Seconds to score and embed one test sample (the interim state included), timed on a
        few samples as training starts (twice: the second call, without set-up, counts)."""
        x = self.task.test_x[torch.from_numpy(self._order[:16])]
        t_start, times = time.perf_counter(), []
        try:
            for _ in range(2):  # the first call pays one-time set-up: keep the faster
                t0 = time.perf_counter()
                with frozen_training(self.det, self._state_x[:16]):
                    self.det._score(x)
                    self.det._embed(x)
                times.append(time.perf_counter() - t0)
        except Exception:  # a detector that cannot score mid-training: final snapshot only
            self.det = None
            return
        self._cost = max(1e-6, min(times) / len(x))
        self.snapshot_seconds += time.perf_counter() - t_start

    def _size(self) -> int:
        """The subsample size: what :data:`OVERHEAD` of the estimated fit time pays for, within
        [:data:`MIN_SAMPLES`, ``max_samples``], decided once at the first sized snapshot."""
        if self._n is None:
            total = sum(self.phase_totals) or 1
            t_step = self._t_step if self._t_step is not None else (
                time.perf_counter() - self._t_last)
            n_snaps = max(1, self.points * max(1, len(self.phase_totals)) + 2)
            budget = OVERHEAD * t_step * total / n_snaps
            n = int(budget / (self._cost or 1e-3))
            self._n = int(min(len(self._order), self.max_samples, max(MIN_SAMPLES, n)))
        return self._n

    def _score_subsample(self, det: Any, idx: np.ndarray, fitted: bool) -> tuple[np.ndarray, Any,
                                                                                 dict]:
        x = self.task.test_x[torch.from_numpy(idx)]
        scores = np.asarray(det.decision_function(x) if fitted else det._score(x), np.float64)
        if self._n_codes is None:
            emb = np.asarray(det._embed(x[:2]))
            d = int(np.prod(emb.shape[1:])) or 1
            self._n_codes = int(min(len(idx), CODE_BYTES // (2 * d * (self.points * 2 + 2))))
        codes = None
        if self._n_codes >= 8:
            codes = np.asarray(det._embed(x[: self._n_codes]), np.float32)
            codes = codes.reshape(len(codes), -1).astype(np.float16)
        views = {}
        try:
            raw = det._explain(self.task.test_x[torch.from_numpy(self.view_index)])
            views = _view_arrays(raw, SNAPSHOT_VIEW_BYTES)
        except Exception:  # a method without views: scores and codes only
            views = {}
        return scores, codes, views

    def _take(self) -> None:
        """Record a snapshot of the model as it is now (in the middle of training)."""
        t0 = time.perf_counter()
        idx = self._order[: self._size()]
        try:
            with frozen_training(self.det, self._state_x[: max(16, min(N_STATE, len(idx)))]):
                scores, codes, views = self._score_subsample(self.det, idx, fitted=False)
        except Exception:  # never let a snapshot break a training
            self.det = None
            return
        y = np.asarray(self.task.test_y)[idx]
        snap = Snapshot(self.global_step, self.phase, scores.astype(np.float32),
                        _auroc(y, scores), codes, views, time.perf_counter() - t0)
        self.snapshots.append(snap)
        self.snapshot_seconds += snap.seconds
        self._announce(snap, y)

    def _announce(self, snap: Snapshot, y: np.ndarray) -> None:
        if self.on_snapshot is None:
            return
        with contextlib.suppress(Exception):
            self.on_snapshot({"step": snap.step, "phase": snap.phase, "auroc": snap.auroc,
                              "total": sum(self.phase_totals), "scores": snap.scores.tolist(),
                              "labels": y.astype(int).tolist()})

    # ----------------------------------------------------------------- after training
    def final(self, det: Any) -> Snapshot | None:
        """The fitted detector's snapshot (its ``decision_function``: the run's final scores)."""
        if self.task is None or self._order is None:
            return None
        self.fit_seconds = float(getattr(det, "fit_seconds_", 0.0) or 0.0)
        if self._n is None:
            self._n = int(min(len(self._order), self.max_samples))
        idx = self._order[: self._n]
        t0 = time.perf_counter()
        scores, codes, views = self._score_subsample(det, idx, fitted=True)
        y = np.asarray(self.task.test_y)[idx]
        report = getattr(det, "report_", None)
        sel = getattr(report, "selected_step", None)
        step = (self.phase_offsets[-1] + int(sel)) if (sel is not None and self.phase_offsets) \
            else self.global_step
        snap = Snapshot(step, max(self.phase, 1) if self.phase_offsets else 0,
                        scores.astype(np.float32), _auroc(y, scores), codes, views,
                        time.perf_counter() - t0)
        return snap

    def arrays(self, det: Any) -> dict[str, np.ndarray] | None:
        """Everything to save: the training snapshots, then the final one, as arrays."""
        fin = self.final(det)
        if fin is None:
            return None
        snaps = [*self.snapshots, fin]
        n = len(fin.scores)
        idx = self._order[:n]
        out: dict[str, np.ndarray] = {
            "index": idx, "y": np.asarray(self.task.test_y)[idx].astype(np.int8),
            "kind": np.asarray(self.task.test_kind)[idx].astype(str),
            "step": np.array([s.step for s in snaps], np.int64),
            "phase": np.array([s.phase for s in snaps], np.int64),
            "final": np.array([False] * len(self.snapshots) + [True]),
            "scores": np.stack([s.scores[:n] for s in snaps]).astype(np.float32),
            "auroc": np.array([s.auroc for s in snaps], np.float64),
            "view_index": self.view_index}
        if all(s.codes is not None for s in snaps):
            m = min(len(s.codes) for s in snaps)
            out["codes"] = np.stack([s.codes[:m] for s in snaps])
        keys = set.intersection(*(set(s.views) for s in snaps)) if snaps else set()
        views = {k: np.stack([s.views[k] for s in snaps]) for k in sorted(keys)
                 if len({s.views[k].shape for s in snaps}) == 1}
        while views and sum(v.nbytes for v in views.values()) > VIEW_BYTES:  # the run's cap
            del views[max(views, key=lambda k: views[k].nbytes)]
        out.update({f"view_{k}": v for k, v in views.items()})
        same = [s for s in self.snapshots if s.step == fin.step and len(s.scores) >= n]
        match = float(np.max(np.abs(same[-1].scores[:n] - fin.scores))) if same else math.nan
        fit_s = self.fit_seconds or 1e-9
        train_snap_s = sum(s.seconds for s in self.snapshots)
        meta = {"phase_offsets": self.phase_offsets, "phase_totals": self.phase_totals,
                "checkpoint_step": int(fin.step), "checkpoint_max_abs_diff": match,
                "snapshot_seconds": round(self.snapshot_seconds, 4),
                "fit_seconds": round(self.fit_seconds, 4),
                "overhead": round(train_snap_s / max(1e-9, fit_s - train_snap_s), 4)
                if self.snapshots else 0.0,
                "n_samples": int(n), "n_codes": int(out["codes"].shape[1]) if "codes" in out
                else 0, "points_per_phase": self.points}
        out["meta_json"] = np.array(json.dumps(meta))
        return out

    def save(self, det: Any, run_path: str | Path) -> Path | None:
        """Write the snapshots into the run folder (atomically); returns the file, or None when
        there was nothing to record (no task seen)."""
        from ad_core.runs import save_npz

        arrays = self.arrays(det)
        if arrays is None:
            return None
        path = Path(run_path) / FILE
        tmp = path.with_name(f".{FILE}.{os.getpid()}.tmp.npz")
        save_npz(tmp, arrays)
        os.replace(tmp, path)
        return path


def save_snapshots(recorder: SnapshotRecorder, result: Any, root: Any = None) -> Path | None:
    """After ``run_experiment(spec, recorder, …)``: write the recorder's snapshots into the saved
    run (nothing for an unsaved one). A failure to write them is logged, never fatal: the run
    opens without a replay."""
    if getattr(result, "run_id", None) is None:
        return None
    from ad_core.runs import load_run

    try:
        return recorder.save(result.detector, load_run(result.run_id, root).path)
    except Exception:  # the run itself is saved; only its replay is missing
        import logging

        logging.getLogger(__name__).exception("could not save the training snapshots")
        return None


def _auroc(y: np.ndarray, scores: np.ndarray) -> float:
    if len(np.unique(y)) < 2 or not np.all(np.isfinite(scores)):
        return math.nan
    return float(M.auroc(y, scores))


#: The method views a snapshot keeps, by preference (what the Reconstructions and Transformations
#: pages draw); anything else in ``explain`` is left out.
VIEW_KEYS = ("reconstruction", "error_map", "views", "softmax", "probs", "score_terms",
             "latent_norm")


def _view_arrays(raw: dict[str, Any], budget: int) -> dict[str, np.ndarray]:
    """The numeric ``explain`` arrays worth replaying, as float16, largest dropped first until
    they fit ``budget`` bytes."""
    out: dict[str, np.ndarray] = {}
    for k in VIEW_KEYS:
        v = raw.get(k)
        if v is None:
            continue
        a = np.asarray(v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v)
        if a.dtype.kind in "fiu" and a.size:
            small = np.all(np.abs(a[np.isfinite(a)]) < 6e4)  # float16's range
            out[k] = a.astype(np.float16 if small else np.float32)
    while out and sum(a.nbytes for a in out.values()) > budget:
        del out[max(out, key=lambda k: out[k].nbytes)]
    return out


# --------------------------------------------------------------------------- reading


@dataclass
class Replay:
    """A run's saved snapshots, read back: ``steps`` in training order, the last one ``final``."""

    index: np.ndarray
    y: np.ndarray
    kind: np.ndarray
    step: np.ndarray
    phase: np.ndarray
    final: np.ndarray
    scores: np.ndarray
    auroc: np.ndarray
    view_index: np.ndarray
    codes: np.ndarray | None
    views: dict[str, np.ndarray]
    meta: dict[str, Any]

    def __len__(self) -> int:
        return len(self.step)

    def labels(self) -> list[str]:
        """A label per snapshot: ``step 40 (phase 1)`` … ``final (step 1000)``."""
        two = len(set(self.phase.tolist()) - {0}) > 1
        out = []
        for s, p, f in zip(self.step.tolist(), self.phase.tolist(), self.final.tolist()):
            out.append(f"final, step {s}" if f else
                       f"step {s}" + (f" (phase {p})" if two else ""))
        return out


def load_replay(run_path: str | Path) -> Replay | None:
    """The run's snapshots, or None for a run saved without them (older runs, ``--no-snapshots``)."""
    from ad_core.runs import load_npz

    path = Path(run_path) / FILE
    if not path.exists():
        return None
    a = load_npz(path)
    views = {k[5:]: v for k, v in a.items() if k.startswith("view_") and k != "view_index"}
    return Replay(index=a["index"], y=a["y"].astype(int), kind=a["kind"], step=a["step"],
                  phase=a["phase"], final=a["final"].astype(bool), scores=a["scores"],
                  auroc=a["auroc"], view_index=a["view_index"], codes=a.get("codes"),
                  views=views, meta=json.loads(str(a["meta_json"])))
