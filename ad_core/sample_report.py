"""One sample explained: scored and explained by every finished run that can take it, side by
side: its score, where it falls among the run's normal test scores, whether the run's threshold
flags it, the detector's own explanation, and its nearest training normals in the run's
embedding (``Detector.embed``).

Each run's own ``decision_function`` and ``explain`` do the work; nothing here re-implements a
score. Used by the Sample page; core capability, no streamlit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ad_core.contracts import Explanation
from ad_core.detectors.base import Detector
from ad_core.errors import BadDataError, UserError
from ad_core.experiment import ExperimentSpec
from ad_core.page_data import score_note
from ad_core.run_attribution import SampleMap, sample_maps
from ad_core.runs import Run, list_runs, load_run
from ad_core.sample_input import prepare_input


@dataclass(frozen=True)
class Neighbours:
    """A sample's nearest training normals in one run's embedding (``Detector.embed``)."""

    rows: np.ndarray        # dataset rows of the neighbours
    distances: np.ndarray   # Euclidean distances in the embedding, nearest first
    inputs: np.ndarray      # their inputs: images [k, C, H, W] in [0, 1], tables [k, D]


@dataclass
class RunVerdict:
    """How one run sees the sample: its score, where that score falls among the run's normal test
    scores, whether the run's threshold flags it, and the detector's own explanation."""

    run_id: str
    title: str
    detector: str
    detector_title: str
    input: np.ndarray            # what this run's model received, one sample [C, H, W] or [D]
    score: float
    threshold: float
    flagged: bool
    percentile: float            # % of the run's normal test scores at or below ``score``
    explanation: Explanation     # ``explain(x)`` of the one sample (leading axis of length 1)
    score_note: str = ""
    neighbours: Neighbours | None = None
    neighbours_note: str = ""
    in_training: bool | None = None   # the sample's dataset row was one of this run's normals
    #: attribution maps of the sample, calibrated on the run (model-agnostic, then native)
    maps: list[SampleMap] = field(default_factory=list)
    maps_note: str = ""


@dataclass
class SampleReport:
    """What :func:`explain_sample` returns: one :class:`RunVerdict` per run that could score the
    input, ``skipped`` (run id → why not) for the others, and how the input was prepared."""

    runs: list[RunVerdict]
    skipped: dict[str, str]
    notes: list[str]

    @property
    def input(self) -> np.ndarray | None:
        """What the first run received (the page's "what the models see" preview)."""
        return self.runs[0].input if self.runs else None


def _finished(r: Run) -> bool:
    return r.config.get("status", "done") == "done" and (r.path / "detector").is_dir()


def run_input_shape(r: Run) -> tuple[int, ...]:
    """A run's per-sample input shape (``(1, 28, 28)``, ``(30,)``)."""
    return tuple(int(s) for s in r.config.get("input_shape") or r.test_x().shape[1:])


def sample_runs(r: Run) -> list[Run]:
    """Every finished run on ``r``'s dataset and normal class(es), ``r`` first, then newest first
    (any task protocol or seed)."""
    key = (r.config.get("dataset"), sorted(map(str, r.config.get("normal") or [])))
    same = [o for o in list_runs() if _finished(o) and o.run_id != r.run_id
            and (o.config.get("dataset"), sorted(map(str, o.config.get("normal") or []))) == key]
    return [r, *same]


def input_run_groups() -> dict[tuple[int, ...], list[Run]]:
    """Finished runs by per-sample input shape (newest first in each): the runs a drawn or
    uploaded input of that shape can be scored by."""
    out: dict[tuple[int, ...], list[Run]] = {}
    for r in list_runs():
        if _finished(r):
            out.setdefault(run_input_shape(r), []).append(r)
    return out


def shape_label(shape: tuple[int, ...], runs_of_shape: list[Run] | None = None) -> str:
    """``1×28×28 grey images (mnist5k …)`` / ``30 features (breast_cancer)``."""
    names = sorted({str(r.config.get("dataset")) for r in runs_of_shape or []})
    where = f" ({', '.join(names[:3])}{' …' if len(names) > 3 else ''})" if names else ""
    if len(shape) == 3:
        kind = "grey" if shape[0] == 1 else "colour"
        return f"{shape[1]}×{shape[2]} {kind} images{where}"
    return f"{shape[0]} features{where}"


def test_sample(r: Run, row: int) -> np.ndarray:
    """Test row ``row`` of run ``r`` as the models receive it (float32, images in [0, 1])."""
    x = r.test_x()
    if not len(x):
        raise BadDataError(f"Run {r.run_id} stored no test inputs, so its samples cannot be "
                           "shown. Train it again.")
    if not 0 <= int(row) < len(x):
        raise BadDataError(f"Test sample {row} does not exist: run {r.run_id} has test samples "
                           f"0 to {len(x) - 1}.")
    return x[int(row)]


def sample_facts(r: Run, row: int) -> dict[str, Any]:
    """What run ``r`` stored about test row ``row``: kind, label, dataset row, its score."""
    sc = r.scores
    get = lambda k, cast: cast(sc[k][row]) if k in sc and row < len(sc[k]) else None  # noqa: E731
    return {"row": int(row), "kind": get("test_kind", str), "label": get("test_y", int),
            "dataset_row": get("test_index", int), "score": get("test", float)}


_detector_lock = threading.Lock()


_detector_cache: dict[tuple[str, float], Detector] = {}


_reference_cache: dict[tuple[str, float], dict[str, np.ndarray]] = {}


def _cache_key(r: Run) -> tuple[str, float]:
    p = r.path / "detector" / "detector.json"
    return str(r.path), p.stat().st_mtime if p.exists() else 0.0


def loaded_detector(r: Run) -> Detector:
    """The run's trained detector, loaded once per process (a few runs are kept)."""
    key = _cache_key(r)
    with _detector_lock:
        det = _detector_cache.get(key)
    if det is None:
        det = r.detector()
        with _detector_lock:
            if len(_detector_cache) >= 12:
                _detector_cache.pop(next(iter(_detector_cache)))
            _detector_cache[key] = det
    return det


def _training_reference(r: Run, det: Detector) -> dict[str, np.ndarray]:
    """The run's training normals (rebuilt from its task spec, same seed → same split) with
    their embedding ``det.embed``; cached in the run folder and in memory."""
    from ad_core.experiment import build_experiment_task

    key = _cache_key(r)
    with _detector_lock:
        ref = _reference_cache.get(key)
    if ref is not None:
        return ref

    def compute() -> dict[str, np.ndarray]:
        task = build_experiment_task(ExperimentSpec.from_record(r.config))
        x = task.train_x
        rows = (task.train_index if task.train_index is not None
                else np.full(len(x), -1, dtype=np.int64))
        stored = ((x.clamp(0, 1) * 255).round().byte().numpy() if task.modality == "image"
                  else x.numpy().astype(np.float32))
        return {"features": det.embed(x).reshape(len(x), -1).astype(np.float32),
                "rows": np.asarray(rows, dtype=np.int64), "inputs": stored}

    ref = r.cached_arrays("train_embedding", compute)
    with _detector_lock:
        _reference_cache[key] = ref
    return ref


def _neighbours(r: Run, det: Detector, x1: np.ndarray, k: int) -> Neighbours:
    ref = _training_reference(r, det)
    z = det.embed(x1).reshape(1, -1).astype(np.float64)
    d = np.sqrt(((ref["features"].astype(np.float64) - z) ** 2).sum(1))
    near = np.argsort(d, kind="stable")[:k]
    inp = ref["inputs"][near]
    inp = inp.astype(np.float32) / 255.0 if inp.dtype == np.uint8 else inp.astype(np.float32)
    return Neighbours(ref["rows"][near], d[near], inp)


def explain_sample(run_ids: list[str], x: Any, *, source: str = "auto", neighbours: int = 6,
                   dataset_row: int | None = None, maps: bool = True) -> SampleReport:
    """Score and explain one input ``x`` with every run in ``run_ids``: the ONE call behind the
    Sample page, for a run's test sample and for a drawn or uploaded input alike.

    ``x`` is one sample of the runs' input shape, a canvas drawing ``[H, W, 4]`` or an image
    (:func:`prepare_input` makes each run's input; ``source`` says which). Every run scores it
    with its detector's ``decision_function`` and explains it with its ``explain`` (never a copy
    of its scoring);
    the percentile is among the run's normal test scores, ``flagged`` uses the run's
    ``threshold_``. With ``neighbours > 0`` the nearest training normals in the run's
    ``embed`` space are found. ``dataset_row`` (a test sample's row in its dataset) tells which
    runs had that very sample among their training normals. With ``maps`` each run adds its
    attribution maps (:func:`ad_core.run_attribution.sample_maps`: which parts of ``x`` raise its
    score, calibrated on the run). A run that cannot take ``x``
    (another shape, a table for an image) is listed in ``skipped`` with the reason; a bad input
    for all of them raises :class:`BadDataError`.
    """
    report = SampleReport([], {}, [])
    first_error: UserError | None = None
    prepared: dict[tuple[int, ...], tuple[np.ndarray, list[str]] | UserError] = {}
    for rid in run_ids:
        r = load_run(rid)
        shape = run_input_shape(r)
        if shape not in prepared:
            try:
                prepared[shape] = prepare_input(x, shape, source)
            except UserError as e:
                prepared[shape] = e
        prep = prepared[shape]
        if isinstance(prep, UserError):
            report.skipped[rid] = str(prep)
            first_error = first_error or prep
            continue
        x1, notes = prep
        report.notes += [n for n in notes if n not in report.notes]
        try:  # an external estimator that cannot be restored here, or that raises on x
            det = loaded_detector(r)
            batch = x1[None]
            score = float(det.decision_function(batch)[0])
        except UserError as e:
            report.skipped[rid] = str(e)
            continue
        ex = det.explain(batch)
        sc = r.scores
        normal = (sc["test"][sc["test_y"] == 0].astype(float)
                  if "test" in sc and "test_y" in sc else np.zeros(0))
        pct = float(100.0 * np.mean(normal <= score)) if len(normal) else float("nan")
        thr = float(getattr(det, "threshold_", r.metrics.get("threshold", float("nan"))))
        verdict = RunVerdict(rid, r.title, str(r.config.get("detector")),
                             str(r.config.get("detector_title") or r.config.get("detector")),
                             x1, score, thr, bool(score > thr), pct, ex, score_note(r))
        if neighbours > 0:
            try:
                verdict.neighbours = _neighbours(r, det, batch, neighbours)
                if dataset_row is not None and (verdict.neighbours.rows >= 0).any():
                    verdict.in_training = bool(np.isin(
                        dataset_row, _training_reference(r, det)["rows"]))
            except UserError as e:
                verdict.neighbours_note = (f"No training neighbours: the run's training data "
                                           f"could not be rebuilt ({e})")
        if maps:
            try:
                verdict.maps = sample_maps(r, det, x1)
            except UserError as e:
                verdict.maps_note = f"No attribution map: {e}"
        report.runs.append(verdict)
    if not report.runs and first_error is not None:
        if all(isinstance(p, UserError) and str(p) == str(first_error)
               for p in prepared.values()):
            raise first_error
        raise BadDataError("No run can score this input: " + " ".join(
            sorted({str(p) for p in prepared.values() if isinstance(p, UserError)})))
    return report
