"""Attribution maps of one run, calibrated on the run (issue 20): what the Sample page, the
Scores page and ``python -m ad_core explain`` show.

A run's maps come from its detector's ``attribute`` (:mod:`ad_core.detectors.attribution`): the
model-agnostic one (occlusion / feature ablation against the run's reference, :func:`references`)
and the method's native map where it has one. **Calibration**: every map of a run is divided by one
number per run and method, the 99th percentile of |attribution| over the maps of up to
``CALIBRATION_N`` of the run's normal test samples — never by the image's own min-max. So 0 = no
effect, 1 = as strong as the strongest effects seen on normal samples of this run, the same on
every sample; a normal sample's map stays mostly below 1, an anomaly's goes beyond.

**Reference** (what a part is replaced by, :func:`reference_kind`): the run's mean training normal
when the detector itself scores that mean as normal (at or below its threshold); otherwise — NeuTraL
AD on images scores the blurry mean digit as more anomalous than 7 of 8 flagged anomalies, so no
part of a sample could be "explained" by it — each sample's nearest training normal (Euclidean, in
input space), a real normal the detector accepts. The reference data (mean, 5th and 95th percentile
of the training normals: a table's "normal range", and up to :data:`POOL_N` training normals) and
the scales are cached in the run folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass

import numpy as np

from ad_core.detectors.attribution import calibration_scale
from ad_core.detectors.base import Detector
from ad_core.errors import BadDataError
from ad_core.runs import Run, load_npz

#: Normal test samples whose maps set a run's colour scale.
CALIBRATION_N = 8
#: The percentile of |attribution| over them that maps to 1.
CALIBRATION_Q = 99.0
#: Training normals kept for the nearest-normal reference.
POOL_N = 1000
REFERENCE_NAME = {"mean": "the mean training normal", "nearest": "the nearest training normal"}
AGNOSTIC_LABEL = {"occlusion": "score drop when the patch is replaced by {ref}'s",
                  "ablation": "score drop when the feature is replaced by {ref}'s value"}
COLOUR_MEANING = ("Colour = the score change when this part is replaced by the run's normal "
                  "training data, in units of the strongest effects on the run's normal samples "
                  "(their 99th percentile = 1): red raises the anomaly score, blue lowers it, "
                  "0 = no effect; same scale for every sample of this run.")

_lock = threading.Lock()
_memo: dict[tuple[str, str], object] = {}


@dataclass(frozen=True)
class SampleMap:
    """One attribution map of one sample by one run."""

    method: str          # "occlusion" / "ablation" (model-agnostic) or "native"
    label: str           # what it measures
    values: np.ndarray   # raw map, shaped like the input, score units (native: the method's)
    scale: float         # the run's calibration scale for this method

    @property
    def calibrated(self) -> np.ndarray:
        """``values / scale``: 1 = the run's normal samples' strongest effects."""
        return (np.asarray(self.values, dtype=np.float64) / self.scale).astype(np.float32)


def _key(r: Run, what: str) -> tuple[str, str]:
    p = r.path / "detector" / "detector.json"
    return str(r.path), f"{what}:{p.stat().st_mtime if p.exists() else 0.0}"


def run_reference(r: Run) -> dict[str, np.ndarray]:
    """The run's training normals summarised: ``mean`` (the default attribution reference),
    ``lo`` and ``hi`` (their 5th and 95th percentiles) per input element, and ``pool`` (up to
    :data:`POOL_N` of them, evenly spread: the nearest-normal references); rebuilt from the run's
    task spec (same seed → same split) once, then cached in ``cache/attribution_reference.npz``."""
    key = _key(r, "reference")
    with _lock:
        if key in _memo:
            return _memo[key]  # type: ignore[return-value]

    def compute() -> dict[str, np.ndarray]:
        from ad_core.experiment import ExperimentSpec, build_experiment_task

        x = build_experiment_task(ExperimentSpec.from_record(r.config)).train_x.numpy()
        x = x.astype(np.float32)
        pick = np.unique(np.linspace(0, len(x) - 1, min(POOL_N, len(x))).round().astype(int))
        return {"mean": x.mean(0), "lo": np.percentile(x, 5, axis=0).astype(np.float32),
                "hi": np.percentile(x, 95, axis=0).astype(np.float32), "pool": x[pick]}

    ref = r.cached_arrays("attribution_reference", compute)
    if "pool" not in ref:  # cached before the nearest-normal reference existed
        ref = compute()
        r.store_arrays("attribution_reference", ref)
    with _lock:
        _memo[key] = ref
    return ref


def reference_kind(r: Run, det: Detector | None = None) -> str:
    """``"mean"`` when the detector scores the run's mean training normal at or below its own
    threshold (the mean is a normal input to it), else ``"nearest"`` (module docstring). Decided
    once per run and kept in ``cache/attribution_reference_kind.txt``; ``det`` (the run's
    detector) is loaded only when that is missing."""
    key = _key(r, "reference_kind")
    with _lock:
        if key in _memo:
            return str(_memo[key])
    path = r.path / "cache" / "attribution_reference_kind.txt"
    kind = path.read_text().strip() if path.exists() else ""
    if kind not in REFERENCE_NAME:
        det = det if det is not None else r.detector()
        mean = run_reference(r)["mean"]
        score = float(det.decision_function(np.asarray(mean, np.float32)[None])[0])
        kind = "mean" if score <= float(det.threshold_) else "nearest"
        with contextlib.suppress(OSError):
            tmp = r.cache_path(f"attribution_reference_kind.{os.getpid()}-"
                               f"{threading.get_ident()}.tmp")
            tmp.write_text(kind)
            os.replace(tmp, path)
    with _lock:
        _memo[key] = kind
    return kind


def references(r: Run, det: Detector, x: np.ndarray) -> np.ndarray:
    """The reference of every sample of ``x`` (``[N, *shape]``) under :func:`reference_kind`:
    the mean training normal, or each sample's nearest training normal."""
    ref = run_reference(r)
    x = np.asarray(x, dtype=np.float32)
    if reference_kind(r, det) == "mean":
        return np.broadcast_to(ref["mean"], x.shape).copy()
    pool = np.asarray(ref["pool"], np.float32).reshape(len(ref["pool"]), -1)
    flat = x.reshape(len(x), -1)
    d2 = (flat ** 2).sum(1)[:, None] - 2.0 * flat @ pool.T + (pool ** 2).sum(1)[None]
    return np.asarray(ref["pool"])[np.argmin(d2, axis=1)].astype(np.float32)


def agnostic_label(r: Run, det: Detector, method: str) -> str:
    """What the model-agnostic map of ``method`` measures on this run, naming its reference."""
    return AGNOSTIC_LABEL[method].format(ref=REFERENCE_NAME[reference_kind(r, det)])


def methods_of(det: Detector) -> list[str]:
    """The maps a run shows: the model-agnostic one, and ``native`` where the method has one."""
    agnostic = "occlusion" if len(det.input_shape_) == 3 else "ablation"
    return [agnostic, "native"] if det.native_map else [agnostic]


def normal_samples(r: Run, n: int = CALIBRATION_N) -> np.ndarray:
    """Up to ``n`` of the run's normal test samples, evenly spread over them (deterministic)."""
    x = r.test_x()
    y = r.scores.get("test_y")
    if not len(x) or y is None:
        raise BadDataError(f"Run {r.run_id} stored no test inputs, so its maps cannot be "
                           "calibrated. Train it again.")
    idx = np.flatnonzero(np.asarray(y)[:len(x)] == 0)
    if not len(idx):
        raise BadDataError(f"Run {r.run_id} has no normal test sample to calibrate its maps on.")
    pick = idx[np.unique(np.linspace(0, len(idx) - 1, min(n, len(idx))).round().astype(int))]
    return x[pick]


def run_scales(r: Run, det: Detector) -> dict[str, float]:
    """The run's calibration scale per method (:data:`CALIBRATION_Q`-th percentile of |map| over
    its normal samples), cached in ``cache/attribution_scale.json``."""
    key = _key(r, "scale")
    with _lock:
        if key in _memo:
            return dict(_memo[key])  # type: ignore[call-overload]
    path = r.path / "cache" / "attribution_scale.json"
    want = methods_of(det)
    kind = reference_kind(r, det)
    scales: dict[str, float] = {}
    if path.exists():
        with contextlib.suppress(OSError, ValueError, TypeError):
            saved = json.loads(path.read_text())
            if saved.pop("reference", "mean") == kind:  # scales of another reference are stale
                scales = {k: float(v) for k, v in saved.items()}
    if not all(m in scales for m in want):
        xs = normal_samples(r)
        ref = references(r, det, xs)
        for m in want:
            if m not in scales:
                scales[m] = calibration_scale(det.attribute(xs, method=m, reference=ref),
                                              CALIBRATION_Q)
        with contextlib.suppress(OSError):
            tmp = r.cache_path(f"attribution_scale.{os.getpid()}-{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps({**scales, "reference": kind}))
            os.replace(tmp, path)
    with _lock:
        _memo[key] = dict(scales)
    return scales


def sample_maps(r: Run, det: Detector, x1: np.ndarray) -> list[SampleMap]:
    """Every map of one input ``x1`` (one sample, the run's input shape) by run ``r``,
    calibrated on the run."""
    x = np.asarray(x1, dtype=np.float32)[None]
    ref = references(r, det, x)
    scales = run_scales(r, det)
    out = []
    for m in methods_of(det):
        values = det.attribute(x, method=m, reference=ref)[0]
        label = det.native_map if m == "native" else agnostic_label(r, det, m)
        out.append(SampleMap(m, label, values, scales[m]))
    return out


def flagged_drivers(r: Run, det: Detector | None = None, limit: int = 40
                    ) -> dict[str, np.ndarray] | None:
    """For a table run: which features drive the samples its threshold flags — the mean
    |calibrated attribution| per feature over up to ``limit`` flagged test samples (the highest
    scored first), with the mean of the normal samples' maps beside it. None for image runs or
    when nothing is flagged. Cached in ``cache/attribution_flagged_<limit>.npz``; ``det`` (the
    run's detector) is loaded only when the cache is missing."""
    x = r.test_x()
    if x.ndim != 2:
        return None
    name = f"attribution_flagged_{limit}_{reference_kind(r, det)}"
    path = r.path / "cache" / f"{name}.npz"
    if path.exists():
        return load_npz(path)
    det = det if det is not None else r.detector()
    sc = r.scores
    if not len(x) or "test" not in sc:
        raise BadDataError(f"Run {r.run_id} stored no test inputs or scores.")
    s = np.asarray(sc["test"], dtype=float)[:len(x)]
    flagged = np.flatnonzero(s > float(det.threshold_))
    if not len(flagged):
        return None
    top = flagged[np.argsort(-s[flagged], kind="stable")][:limit]
    scale = run_scales(r, det)["ablation"]
    xn = normal_samples(r)
    a = np.abs(det.attribute(x[top], method="ablation", reference=references(r, det, x[top])))
    b = np.abs(det.attribute(xn, method="ablation", reference=references(r, det, xn)))
    a, b = a / scale, b / scale
    out = {"flagged": a.mean(0).astype(np.float32), "normal": b.mean(0).astype(np.float32),
           "n_flagged": np.asarray(len(top)), "n_all_flagged": np.asarray(len(flagged))}
    r.store_arrays(name, out)
    return out


def gallery_maps(r: Run, rows: np.ndarray) -> np.ndarray:
    """Calibrated model-agnostic maps of test rows ``rows`` of an image run, channels summed
    (``[k, H, W]``), for the galleries' overlay; each row's map is cached in
    ``cache/attribution_rows.npz`` so a gallery is attributed once."""
    path = r.path / "cache" / "attribution_rows.npz"
    kind = reference_kind(r)
    cached = load_npz(path) if path.exists() else {}
    if str(cached.get("reference", "mean")) != kind:  # maps against another reference
        cached = {}
    todo = [int(i) for i in rows if f"r{int(i)}" not in cached]
    if todo:
        det = r.detector()
        x = r.test_x()[todo]
        scale = run_scales(r, det)[methods_of(det)[0]]
        maps = det.attribute(x, reference=references(r, det, x)) / scale
        cached = {**cached, **{f"r{i}": m.sum(0).astype(np.float32) for i, m in zip(todo, maps)},
                  "reference": np.asarray(kind)}
        r.store_arrays("attribution_rows", cached)
    return np.stack([cached[f"r{int(i)}"] for i in rows])
