"""Attribution maps of one run, calibrated on the run (issue 20): what the Sample page, the
Scores page and ``python -m ad_core explain`` show.

A run's maps come from its detector's ``attribute`` (:mod:`ad_core.detectors.attribution`): the
model-agnostic one (occlusion / feature ablation against the run's mean training normal) and the
method's native map where it has one. **Calibration**: every map of a run is divided by one
number per run and method, the 99th percentile of |attribution| over the maps of up to
``CALIBRATION_N`` of the run's normal test samples — never by the image's own min-max. So 0 = no
effect, 1 = as strong as the strongest effects seen on normal samples of this run, the same on
every sample; a normal sample's map stays mostly below 1, an anomaly's goes beyond. The reference
(mean, 5th and 95th percentile of the training normals: a table's "normal range") and the scales
are cached in the run folder.
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
AGNOSTIC_LABEL = {"occlusion": "score drop when the patch is replaced by normal training data",
                  "ablation": "score drop when the feature is replaced by its normal value"}
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
    """The run's training normals summarised: ``mean`` (the attribution reference), ``lo`` and
    ``hi`` (their 5th and 95th percentiles) per input element; rebuilt from the run's task spec
    (same seed → same split) once, then cached in ``cache/attribution_reference.npz``."""
    key = _key(r, "reference")
    with _lock:
        if key in _memo:
            return _memo[key]  # type: ignore[return-value]

    def compute() -> dict[str, np.ndarray]:
        from ad_core.experiment import ExperimentSpec, build_experiment_task

        x = build_experiment_task(ExperimentSpec.from_record(r.config)).train_x.numpy()
        x = x.astype(np.float32)
        return {"mean": x.mean(0), "lo": np.percentile(x, 5, axis=0).astype(np.float32),
                "hi": np.percentile(x, 95, axis=0).astype(np.float32)}

    ref = r.cached_arrays("attribution_reference", compute)
    with _lock:
        _memo[key] = ref
    return ref


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
    scales: dict[str, float] = {}
    if path.exists():
        with contextlib.suppress(OSError, ValueError):
            scales = {k: float(v) for k, v in json.loads(path.read_text()).items()}
    if not all(m in scales for m in want):
        xs = normal_samples(r)
        ref = run_reference(r)["mean"]
        for m in want:
            if m not in scales:
                scales[m] = calibration_scale(det.attribute(xs, method=m, reference=ref),
                                              CALIBRATION_Q)
        with contextlib.suppress(OSError):
            tmp = r.cache_path(f"attribution_scale.{os.getpid()}-{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(scales))
            os.replace(tmp, path)
    with _lock:
        _memo[key] = dict(scales)
    return scales


def sample_maps(r: Run, det: Detector, x1: np.ndarray) -> list[SampleMap]:
    """Every map of one input ``x1`` (one sample, the run's input shape) by run ``r``,
    calibrated on the run."""
    ref = run_reference(r)["mean"]
    scales = run_scales(r, det)
    out = []
    for m in methods_of(det):
        values = det.attribute(np.asarray(x1, dtype=np.float32)[None], method=m, reference=ref)[0]
        label = det.native_map if m == "native" else AGNOSTIC_LABEL[m]
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
    path = r.path / "cache" / f"attribution_flagged_{limit}.npz"
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
    ref = run_reference(r)["mean"]
    scale = run_scales(r, det)["ablation"]
    a = np.abs(det.attribute(x[top], method="ablation", reference=ref)) / scale
    b = np.abs(det.attribute(normal_samples(r), method="ablation", reference=ref)) / scale
    out = {"flagged": a.mean(0).astype(np.float32), "normal": b.mean(0).astype(np.float32),
           "n_flagged": np.asarray(len(top)), "n_all_flagged": np.asarray(len(flagged))}
    r.store_arrays(f"attribution_flagged_{limit}", out)
    return out


def gallery_maps(r: Run, rows: np.ndarray) -> np.ndarray:
    """Calibrated model-agnostic maps of test rows ``rows`` of an image run, channels summed
    (``[k, H, W]``), for the galleries' overlay; each row's map is cached in
    ``cache/attribution_rows.npz`` so a gallery is attributed once."""
    path = r.path / "cache" / "attribution_rows.npz"
    cached = load_npz(path) if path.exists() else {}
    todo = [int(i) for i in rows if f"r{int(i)}" not in cached]
    if todo:
        det = r.detector()
        x = r.test_x()
        ref = run_reference(r)["mean"]
        scale = run_scales(r, det)[methods_of(det)[0]]
        maps = det.attribute(x[todo], reference=ref) / scale
        cached = {**cached, **{f"r{i}": m.sum(0).astype(np.float32) for i, m in zip(todo, maps)}}
        r.store_arrays("attribution_rows", cached)
    return np.stack([cached[f"r{int(i)}"] for i in rows])
