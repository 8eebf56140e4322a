"""One experiment end to end: dataset → task → fit → score → metrics → saved run (docs/ARCHITECTURE.md,
"Data flow of one run").

The CLI, the app's background jobs and the benchmarks all call :func:`run_experiment`, so a run
looks the same whichever door it came through.
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch

from ad_core import metrics as M
from ad_core.contracts import Task, TrainingMonitor
from ad_core.data import load_dataset
from ad_core.detectors import make_detector
from ad_core.detectors.base import Detector
from ad_core.errors import BadParameterError
from ad_core.runkey import array_fingerprint, content_key, key_parts, method_fingerprint
from ad_core.runs import new_run_id, save_run
from ad_core.tasks import build_task, resolve_negatives


@dataclass
class ExperimentSpec:
    """What to run: the dataset, normal class(es), task protocol, detector, preset and params."""

    dataset: str
    normal: list[str]
    detector: str
    preset: str = "quick"
    params: dict[str, Any] = field(default_factory=dict)
    task: str = "one-vs-rest"
    seed: int = 0
    task_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    explain_n: int = 160
    embed_n: int = 5000

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ExperimentSpec:
        """The spec stored in a run's ``config.json`` or a job's journal record (fields this
        version does not know are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in names})


@dataclass
class ExperimentResult:
    """A finished experiment: its saved run id (if saved), metrics, the fitted detector and task."""

    run_id: str | None
    metrics: dict[str, Any]
    detector: Detector
    task: Task
    scores: np.ndarray
    negatives: torch.Tensor | None = None


def machine_info() -> dict[str, Any]:
    """Where a number was measured: CPU count, torch threads, device, platform."""
    from ad_core.device import default_device

    dev = default_device()
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "cpus": __import__("os").cpu_count(),
            "torch_threads": torch.get_num_threads(), "device": str(dev)}
    if dev.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def build_experiment_task(spec: ExperimentSpec) -> Task:
    """Load the dataset and build the task the spec names (deterministic in ``spec.seed``)."""
    ds = load_dataset(spec.dataset, **spec.dataset_options)
    return build_task(ds, spec.task, spec.normal, spec.seed, **spec.task_options)


def fit_arguments(det: Detector, task: Task) -> dict[str, Any]:
    """Adapt a :class:`Task` to the estimator call ``det.fit(**fit_arguments(det, task))``: the
    normals, the validation normals, the negatives the detector asks for
    (:meth:`Detector.negatives_request`, resolved here from the task, never inside the detector),
    and the dataset's name and statistics for dataset-specific presets."""
    request = det.negatives_request()
    negatives, source = resolve_negatives(task, request) if request else (None, None)
    return {"X": task.train_x, "X_val": task.val_x, "negatives": negatives,
            "negatives_source": source, "dataset": task.dataset,
            "dataset_stats": task.dataset_stats}


def fit_task(det: Detector, task: Task, monitor: TrainingMonitor | None = None) -> Detector:
    """Fit ``det`` on ``task`` (see :func:`fit_arguments`); returns the fitted detector."""
    return det.fit(**fit_arguments(det, task), monitor=monitor)


def explain_indices(scores: np.ndarray, kinds: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Test rows to store explain() artefacts for: the most anomalous and most normal items, then
    a seeded sample stratified by kind, so every view has normals and each anomaly kind."""
    n = min(n, len(scores))
    order = np.argsort(scores)
    k = max(1, n // 8)
    chosen: list[int] = list(order[-k:]) + list(order[:k])
    rng = np.random.default_rng(seed)
    uniq = sorted(set(kinds.tolist()))
    per = max(1, (n - len(chosen)) // max(1, len(uniq)))
    for u in uniq:
        rows = np.flatnonzero(kinds == u)
        chosen += list(rng.choice(rows, size=min(per, len(rows)), replace=False))
    out = np.unique(np.asarray(chosen, dtype=np.int64))
    if len(out) < n:
        rest = np.setdiff1d(np.arange(len(scores)), out)
        out = np.union1d(out, rng.choice(rest, size=min(n - len(out), len(rest)), replace=False))
    return np.sort(out[:n] if len(out) > n else out)


def _pack_inputs(x: torch.Tensor, modality: str) -> np.ndarray:
    if modality == "image":
        return (x.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return x.numpy().astype(np.float32)


def build_detector(spec: ExperimentSpec) -> Detector:
    """The spec's detector, built once: its preset and parameters, seeded with the spec's seed
    unless the parameters name one."""
    params = dict(spec.params)
    det = make_detector(spec.detector, spec.preset, **params)
    if "seed" in det.get_params() and det.get_params()["seed"] is None:
        det.set_params(seed=spec.seed)
    return det


#: dataset key → (fingerprint of its inputs and labels, input shape), per process
_DATA_FACTS: dict[str, tuple[str, tuple[int, ...]]] = {}


def _data_key(spec: ExperimentSpec) -> str:
    return f"{spec.dataset}|{sorted(spec.dataset_options.items())!r}"


def _data_facts(spec: ExperimentSpec) -> tuple[str, tuple[int, ...]]:
    key = _data_key(spec)
    if key not in _DATA_FACTS:
        ds = load_dataset(spec.dataset, **spec.dataset_options)
        _DATA_FACTS[key] = (array_fingerprint(ds.x, ds.y),
                            tuple(int(s) for s in ds.x.shape[1:]))
    return _DATA_FACTS[key]


def data_fingerprint(spec: ExperimentSpec) -> str:
    """A fingerprint of the spec's dataset as loaded (inputs and labels), cached per process
    (loaded datasets are immutable and cached too)."""
    return _data_facts(spec)[0]


def remember_data(dataset: str, fingerprint: str, input_shape: tuple[int, ...]) -> None:
    """Take the fingerprint and input shape of ``dataset`` (default options) from a process that
    loaded it (the app's training process), so keying a job here need not load it again."""
    _DATA_FACTS.setdefault(_data_key(ExperimentSpec(dataset, [], "")),
                           (fingerprint, tuple(input_shape)))


def run_key(spec: ExperimentSpec) -> tuple[str, dict[str, Any]]:
    """The content key of the run ``spec`` would make, and the parts it hashes: the dataset and
    a fingerprint of its data, the task and its classes, the detector, its fully resolved
    parameters (preset overlaid with the user's values, for this dataset's input shape), the
    seed, and the fingerprint of the method's code (:mod:`ad_core.runkey`). Two specs with the
    same key train the same model; what only changes the saved artefacts (``explain_n``,
    ``embed_n``) is part of the key too, so a reused run shows what was asked for."""
    fingerprint, shape = data_fingerprint(spec), _data_facts(spec)[1]
    det = build_detector(spec)
    params = det.resolve_params(spec.dataset, shape)
    parts = key_parts(dataset=spec.dataset, data_fingerprint=fingerprint,
                      task=spec.task, normal=spec.normal,
                      task_options={**spec.task_options, "dataset_options": spec.dataset_options},
                      detector=spec.detector, params=params, seed=spec.seed,
                      code=method_fingerprint(spec.detector),
                      extra={"explain_n": spec.explain_n, "embed_n": spec.embed_n})
    return content_key(parts), parts


def run_experiment(spec: ExperimentSpec, monitor: TrainingMonitor | None = None, *,
                   save: bool = True, root: Any = None, run_id: str | None = None,
                   artifacts: bool = True) -> ExperimentResult:
    """Run ``spec`` and (by default) save it as a run; returns metrics and the fitted detector.

    A ``monitor`` with an ``observe(detector, task)`` method is shown the detector and its task
    before training, so it can score the test set while the model learns (training snapshots)."""
    if spec.explain_n < 0 or spec.embed_n < 0:
        raise BadParameterError("explain_n and embed_n must be non-negative.")
    t_start = time.time()
    task = build_experiment_task(spec)
    det = build_detector(spec)
    fit_args = fit_arguments(det, task)
    observe = getattr(monitor, "observe", None)
    if callable(observe):  # a training observer (ad_core.snapshots) watches this model learn
        observe(det, task)
    det.fit(**fit_args, monitor=monitor)
    negatives = fit_args["negatives"]
    t0 = time.perf_counter()
    scores = det.decision_function(task.test_x)
    score_seconds = time.perf_counter() - t0
    met: dict[str, Any] = M.summary(task.test_y, scores, task.test_kind)
    if len(task.normal) == 1 and task.kind != "testbed" and task.modality == "image":
        normal_id = list(task.class_names).index(task.normal[0])
        met["one_vs_one_auroc"] = M.one_vs_one_auroc(task.test_class, scores, normal_id,
                                                     task.class_names)
    met.update({"fit_seconds": det.fit_seconds_, "score_seconds": score_seconds,
                "n_train": len(task.train_x), "n_val": len(task.val_x), "n_test": len(task.test_x),
                "threshold": det.threshold_, "cancelled": det.report_.cancelled})
    rid = None
    if save:
        rid = run_id or new_run_id(spec.detector)
        key, parts = run_key(spec)
        config = {**asdict(spec), "run_id": rid, "run_key": key, "key_parts": parts,
                  "created": t_start, "finished": time.time(),
                  "params_resolved": det.params_, "task_description": task.description,
                  "task_spec": task.spec(), "modality": task.modality,
                  "class_names": list(task.class_names),
                  "negatives_source": fit_args["negatives_source"] or task.negatives_source,
                  "feature_names": list(task.feature_names) if task.feature_names else None,
                  "input_shape": list(task.input_shape), "machine": machine_info(),
                  "status": "cancelled" if met["cancelled"] else "done",
                  "detector_title": det.title}
        score_arrays: dict[str, Any] = {
            "test": scores, "test_y": task.test_y, "test_kind": task.test_kind,
            "test_index": task.test_index, "test_class": task.test_class,
            "train": det.decision_scores_, "val": det.decision_function(task.val_x)}
        inputs: dict[str, Any] = {}
        explain: dict[str, Any] = {}
        embedding: dict[str, Any] = {}
        if artifacts:
            for k, v in det.extra_scores(task, negatives).items():
                score_arrays[f"extra_{k}"] = v
            inputs = {"test_x": _pack_inputs(task.test_x, task.modality)}
            if task.negatives_x is not None:
                inputs["negatives_x"] = _pack_inputs(task.negatives_x[:64], task.modality)
            if spec.explain_n:
                idx = explain_indices(scores, task.test_kind, spec.explain_n, spec.seed)
                explain = {"index": idx,
                           **det.explain(task.test_x[torch.from_numpy(idx)]).to_arrays()}
            if spec.embed_n:
                rng = np.random.default_rng(spec.seed)
                eidx = np.sort(rng.choice(len(scores), size=min(spec.embed_n, len(scores)),
                                          replace=False))
                embedding = {"index": eidx,
                             "features": det.embed(task.test_x[torch.from_numpy(eidx)])}
        save_run(rid, config=config, metrics=met, detector=det, scores=score_arrays,
                 inputs=inputs, explain=explain, embedding=embedding, root=root)
    return ExperimentResult(rid, met, det, task, scores, negatives)
