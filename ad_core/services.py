"""The small facade the app's pages call (DESIGN.md §1): datasets, detectors, jobs, runs, results.

Pages hold widgets and layout; everything they need to *know* or *do* goes through here, so the
page files stay thin and the same calls are usable from tests and benchmarks. Pages import only
this module, :mod:`ad_core.viz` and :mod:`ad_core.errors` (``tests/unit/test_layers.py`` checks
it): metrics, explanations, job states, projections and the teaching demos are reached from here.
Nothing here imports streamlit. Owners are the app's per-browser-session tokens (see
:mod:`ad_core.jobs`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ad_core import augment, embed, jobs, teaching
from ad_core import metrics as M
from ad_core.contracts import Explanation, FitReport, ParamSpec, Task
from ad_core.data import data_root, dataset_info, list_datasets, load_dataset
from ad_core.data.base import REPO_ROOT, Dataset
from ad_core.detectors import available_detectors, get_detector_class, make_detector
from ad_core.detectors.base import Detector
from ad_core.errors import UnknownNameError, UserError, did_you_mean
from ad_core.experiment import ExperimentSpec
from ad_core.jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobSnapshot
from ad_core.reference import Reference, references_for
from ad_core.runs import Run, delete_run, list_runs, load_run
from ad_core.tasks import TASK_KINDS, TESTBED_GENERATORS, build_task

__all__ = ["CANCELLED", "DONE", "FAILED", "QUEUED", "RUNNING", "TASK_KINDS", "TESTBED_GENERATORS",
           "Explanation", "FitReport", "JobSnapshot", "ParamSpec", "Reference", "Run",
           "references_for"]

RESULTS_DIR = REPO_ROOT / "docs" / "results"
TASK_TITLES = {"one-vs-rest": "One class vs the rest",
               "testbed": "Controlled testbed (generated anomalies)",
               "negatives": "Negative-data split (LIS-AE)"}
#: Quick-start candidates, best first: (detector, preset).
QUICKSTART_ORDER = (("toll", "quick"), ("dae", "quick"), ("iforest", "quick"))
QUICKSTART_DATASET, QUICKSTART_NORMAL = "mnist5k", "8"


# --------------------------------------------------------------------------- choices (Data page)
@dataclass
class DataChoice:
    """What the Data page chose and the Train page trains on: dataset, normal class(es), task."""

    dataset: str = "mnist5k"
    normal: list[str] = field(default_factory=lambda: ["0"])
    task: str = "one-vs-rest"
    seed: int = 0
    negatives: list[str] = field(default_factory=list)
    generators: list[str] = field(default_factory=lambda: list(TESTBED_GENERATORS))

    def task_options(self) -> dict[str, Any]:
        """Keyword options for :func:`ad_core.tasks.build_task` of this task kind."""
        if self.task == "negatives" and self.negatives:
            return {"negatives": list(self.negatives)}
        if self.task == "testbed":
            return {"generators": list(self.generators)}
        return {}

    def describe(self) -> str:
        """``mnist5k · normal 8 · one-vs-rest · seed 0``."""
        extra = ""
        if self.task == "negatives":
            extra = f" · negatives {'+'.join(self.negatives) or 'default'}"
        elif self.task == "testbed":
            extra = f" · {', '.join(self.generators)}"
        return (f"{self.dataset} · normal {'+'.join(self.normal)} · {self.task}{extra} · "
                f"seed {self.seed}")

    def spec(self, detector: str, preset: str = "quick", params: dict[str, Any] | None = None
             ) -> ExperimentSpec:
        """The experiment that trains ``detector`` on this choice."""
        return ExperimentSpec(dataset=self.dataset, normal=list(self.normal), detector=detector,
                              preset=preset, params=dict(params or {}), task=self.task,
                              seed=int(self.seed), task_options=self.task_options())


# --------------------------------------------------------------------------- datasets
@dataclass(frozen=True)
class DatasetEntry:
    """A dataset as the Data page lists it."""

    name: str
    modality: str
    description: str
    embedded: bool
    available: bool
    files_hint: str
    class_names: tuple[str, ...] | None
    uploaded: bool = False

    @property
    def label(self) -> str:
        mark = "offline" if self.embedded else ("yours" if self.uploaded else
                                                 ("files found" if self.available else
                                                  "files needed"))
        return f"{self.display_name} — {self.modality}, {mark}"

    @property
    def display_name(self) -> str:
        """The registry name, or an upload's original file name (without the stored path)."""
        if not self.uploaded:
            return self.name
        stored = Path(self.name.split(":", 1)[-1]).name
        return stored.split("-", 1)[-1] if "-" in stored else stored


def dataset_catalogue(uploads: list[str] | None = None) -> list[DatasetEntry]:
    """Registered datasets (embedded first) plus this session's ``uploads``; others' uploads are
    hidden."""
    root = data_root()
    out = []
    for info in list_datasets():
        try:
            ok = bool(info.available(root))
        except Exception:  # a broken availability check means "not here"
            ok = False
        out.append(DatasetEntry(info.name, info.modality, info.description, info.embedded, ok,
                                info.files_hint, info.class_names, False))
    for name in uploads or []:
        ds = load_dataset(name)
        out.append(DatasetEntry(name, ds.modality, ds.description or f"uploaded ({len(ds.y)} samples)",
                                False, True, "", tuple(ds.class_names), True))
    return out


def unavailable_message(name: str) -> str:
    """The one clear sentence on where to put which files for a dataset that is not here."""
    info = dataset_info(name)
    hint = info.files_hint or "its files"
    return (f"{name} is not on this machine. Put {hint} under {data_root() / name} "
            f"(or set ANOMALY_LAB_DATA), then reload this page.")


def load(name: str) -> Dataset:
    """Load a dataset by name (cached per process)."""
    return load_dataset(name)


def class_samples(ds: Dataset, per_class: int = 8, seed: int = 0,
                  classes: list[str] | None = None) -> tuple[np.ndarray, list[str], list[int]]:
    """A seeded sample of ``per_class`` rows of each class: ``(x, titles, rows)``."""
    rng = np.random.default_rng(seed)
    y = ds.y.numpy()
    ids = range(ds.n_classes) if not classes else [ds.class_id(c) for c in classes]
    rows: list[int] = []
    titles: list[str] = []
    for c in ids:
        members = np.flatnonzero(y == c)
        take = np.sort(rng.choice(members, size=min(per_class, len(members)), replace=False))
        rows += take.tolist()
        titles += [f"class {ds.class_names[c]}"] * len(take)
    return ds.x[rows].numpy(), titles, rows


def build_choice_task(choice: DataChoice) -> Task:
    """The task the choice describes (clear :class:`UserError` when it cannot be built)."""
    return build_task(load(choice.dataset), choice.task, choice.normal, choice.seed,
                      **choice.task_options())


def kind_samples(task: Task, per_kind: int = 8) -> tuple[np.ndarray, list[str]]:
    """The first ``per_kind`` test items of each kind (normal, each class or generator)."""
    xs, titles = [], []
    kinds = ["normal"] + sorted(set(task.test_kind.tolist()) - {"normal"})
    for k in kinds:
        rows = np.flatnonzero(task.test_kind == k)[:per_kind]
        xs.append(task.test_x[rows].numpy())
        titles += [k] * len(rows)
    return np.concatenate(xs), titles


def upload_dataset(filename: str, data: bytes) -> str:
    """Validate and store an uploaded CSV or image zip; returns its dataset name.

    The name is ``csv:PATH`` or ``images:PATH`` of the stored copy under the data folder's
    ``uploads/`` (the same file uploaded twice gets the same path), so background jobs, saved
    runs and the CLI can reload it after a restart. Size and format checks live in
    :func:`ad_core.data.user.load_uploaded`.
    """
    from ad_core.data.user import load_uploaded

    return load_uploaded(filename, data).name


# --------------------------------------------------------------------------- detectors
def detector_catalogue(modality: str | None = None) -> dict[str, type[Detector]]:
    """Available detectors (optionally only those that handle ``modality``), in the app's order."""
    return {n: c for n, c in available_detectors().items()
            if modality is None or modality in c.modalities}


def detector_params(name: str, advanced: bool | None = None) -> tuple[ParamSpec, ...]:
    """A detector's hyperparameters (``advanced=False``: the main ones only)."""
    ps = get_detector_class(name).params
    return tuple(p for p in ps if advanced is None or p.advanced == advanced)


def preset_values(name: str, preset: str, dataset: str | None = None) -> dict[str, Any]:
    """The parameter values a preset resolves to (defaults overlaid with the preset)."""
    shape = None
    if dataset:
        try:
            shape = load(dataset).input_shape
        except UserError:
            shape = None
    return get_detector_class(name).preset_params(preset, dataset, shape)


def changed_params(name: str, preset: str, values: dict[str, Any],
                   dataset: str | None = None) -> dict[str, Any]:
    """Only the values that differ from the preset (what the user really changed), validated."""
    base = preset_values(name, preset, dataset)
    cls = get_detector_class(name)
    out = {}
    for k, v in values.items():
        v = cls.param_spec(k).coerce(v)
        if k not in base or base[k] != v:
            out[k] = v
    return out


# --------------------------------------------------------------------------- server warm-up
#: Torch intra-op threads of the server process. It never trains an app job (the training
#: process does); its own small torch work (the teaching toys, explanations) is fastest on one
#: thread: with two, OpenMP spin-waits on the core a training needs made a toy 5× slower (3.9 s
#: vs 21.6 s for Toll's contour toy on a busy 2-core machine).
SERVER_TORCH_THREADS = 1


def limit_server_threads() -> None:
    """Run the server's own torch work on :data:`SERVER_TORCH_THREADS` threads (idempotent)."""
    import torch

    if torch.get_num_threads() != SERVER_TORCH_THREADS:
        torch.set_num_threads(SERVER_TORCH_THREADS)


def warm_up() -> None:
    """Start a server's background helpers once, without waiting: the training process (torch
    imported, the quick-start data loaded) and the projection worker compiling UMAP."""
    jobs.get_manager().prestart()
    embed.warm_up()
    _preload_quickstart_data()


_preloaded = False


def _preload_quickstart_data() -> None:
    """Load the quick start's dataset in this process too, in the background (the Data page
    and the run pages read it; its first load is a few seconds)."""
    global _preloaded
    if _preloaded:
        return
    _preloaded = True

    def load_quietly() -> None:
        with contextlib.suppress(UserError):
            load_dataset(QUICKSTART_DATASET)

    threading.Thread(target=load_quietly, name="preload-quickstart-data", daemon=True).start()


# --------------------------------------------------------------------------- jobs
def quickstart_spec() -> ExperimentSpec:
    """Quick start: Toll's quick preset on mnist5k normal 8 (else DAE, else Isolation Forest).

    ``ANOMALY_LAB_QUICKSTART=<detector>[:<preset>]`` overrides the choice (slow machines, tests).
    """
    dets = available_detectors()
    forced = os.environ.get("ANOMALY_LAB_QUICKSTART", "").strip()
    order = ((tuple(forced.split(":", 1)) if ":" in forced else (forced, "quick")),
             *QUICKSTART_ORDER) if forced else QUICKSTART_ORDER
    det, preset = next(((d, p) for d, p in order if d in dets), ("iforest", "quick"))
    return ExperimentSpec(dataset=QUICKSTART_DATASET, normal=[QUICKSTART_NORMAL], detector=det,
                          preset=preset)


def start_training(spec: ExperimentSpec, owner: str, label: str | None = None) -> str:
    """Queue a training job for ``owner``; returns the job id (checks names before queueing)."""
    make_detector(spec.detector, spec.preset, **spec.params)  # unknown names → clear error now
    if spec.task not in TASK_KINDS:
        raise UnknownNameError(f"Unknown task {spec.task!r}. {did_you_mean(spec.task, TASK_KINDS)}")
    if not spec.dataset.startswith(("csv:", "images:")):
        dataset_info(spec.dataset)
    return jobs.get_manager().submit(spec, owner, label)


def start_quickstart(owner: str) -> str:
    """Queue the quick-start training for ``owner``; returns the job id."""
    spec = quickstart_spec()
    return start_training(spec, owner, label=f"Quick start: {jobs.describe_spec(spec)}")


def list_jobs(owner: str, active_only: bool = False) -> list[JobSnapshot]:
    """``owner``'s jobs, oldest first."""
    return jobs.get_manager().list(owner, active_only)


def job(job_id: str, owner: str) -> JobSnapshot:
    """One of ``owner``'s jobs."""
    return jobs.get_manager().snapshot(job_id, owner)


def cancel_job(job_id: str, owner: str) -> JobSnapshot:
    """Stop one of ``owner``'s jobs (queued: dropped; running: stops at the next step)."""
    return jobs.get_manager().cancel(job_id, owner)


def forget_job(job_id: str, owner: str) -> None:
    """Hide a finished job from ``owner``'s list."""
    jobs.get_manager().forget(job_id, owner)


def adopt_jobs(job_ids: list[str], owner: str) -> list[str]:
    """Re-attach jobs named in the URL after a reload; returns the ids that still exist."""
    m = jobs.get_manager()
    return [j for j in job_ids if re.fullmatch(r"[0-9a-f]{24}", j) and m.adopt(j, owner)]


def queue_position(job_id: str) -> int | None:
    """Place of a queued job in the shared queue (0 = next)."""
    return jobs.get_manager().queue_position(job_id)


# --------------------------------------------------------------------------- runs
def runs() -> list[Run]:
    """Every saved run, newest first."""
    return list_runs()


def run(run_id: str) -> Run:
    """Open a saved run."""
    return load_run(run_id)


def remove_run(run_id: str) -> None:
    """Delete a saved run folder."""
    delete_run(run_id)


def run_row(r: Run) -> dict[str, Any]:
    """One row of the runs table: what was trained on what, and how well."""
    c, m = r.config, r.metrics
    return {"run": r.run_id, "detector": c.get("detector"), "preset": c.get("preset"),
            "dataset": c.get("dataset"), "normal": "+".join(map(str, c.get("normal", []))),
            "task": c.get("task"), "seed": c.get("seed"), "status": c.get("status", "done"),
            "AUROC": m.get("auroc"), "AUPR": m.get("aupr"), "F1": m.get("f1"),
            "fit s": m.get("fit_seconds"), "score s": m.get("score_seconds"),
            "n train": m.get("n_train"), "n test": m.get("n_test"),
            "params": json.dumps(c.get("params") or {}), "created": c.get("created")}


def run_history(r: Run) -> dict[str, list]:
    """The detector's training curves (the flat ``history_`` record) stored with the run."""
    return dict(r.fit_report().history)


def run_fit_report(r: Run) -> FitReport:
    """The run's typed training record (phases, losses per step/epoch, cancelled, checkpoint)."""
    return r.fit_report()


def run_explanation(r: Run) -> Explanation:
    """The run's stored ``explain()`` artefacts; ask it what exists (``has``/``available``)."""
    return r.explanation()


def run_metrics(r: Run) -> dict[str, Any]:
    """The run's metrics; AUROC/AUPR/F1/per-kind AUROC computed from its scores when an older run
    did not store them."""
    met = dict(r.metrics)
    sc = r.scores
    if "test" not in sc or "test_y" not in sc:
        return met
    s, y = sc["test"].astype(float), sc["test_y"].astype(int)
    met.setdefault("auroc", M.auroc(y, s))
    met.setdefault("aupr", M.aupr(y, s))
    met.setdefault("f1", M.f1_at_contamination(y, s))
    if not met.get("per_kind_auroc"):
        kind = sc["test_kind"].astype(str) if "test_kind" in sc else np.where(y == 1, "anomaly",
                                                                              "normal")
        met["per_kind_auroc"] = M.per_kind_auroc(kind, s)
    return met


def confusion_at(r: Run, threshold: float) -> dict[str, Any]:
    """Confusion counts, precision, recall and F1 of the run's test scores at ``threshold``."""
    sc = r.scores
    return M.confusion_at(sc["test_y"].astype(int), sc["test"].astype(float), threshold)


def score_note(r: Run) -> str:
    """What the run's detector says about its score's sign/meaning (e.g. GeoTrans's negated
    normality); ``""`` when nothing needs saying."""
    try:
        return get_detector_class(str(r.config.get("detector"))).score_note
    except UserError:
        return ""


def producers(field: str) -> str:
    """Which detectors produce ``field`` of an explanation (or a preview such as
    ``augmentations``), as a phrase for "try …" hints: read from each class's ``explains`` and
    ``previews``, so no page names detectors."""
    titles = [c.title or n for n, c in available_detectors().items()
              if any(e == field or e.startswith(field + "_") or e.endswith("_" + field)
                     for e in (*c.explains, *c.previews))]
    if not titles:
        return "another detector"
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " or " + titles[-1]


def run_previews(r: Run) -> tuple[str, ...]:
    """Previews the run's detector offers beyond its explanation (the DAE: ``augmentations``)."""
    try:
        return tuple(get_detector_class(str(r.config.get("detector"))).previews)
    except UserError:
        return ()


def run_augmentations(r: Run) -> list[str]:
    """The augmentation names the run's detector was trained with (DAE), if recorded."""
    params = r.config.get("params_resolved") or r.config.get("params") or {}
    for k, v in params.items():
        if "augment" in k and v and not isinstance(v, dict):
            names = v.split(",") if isinstance(v, str) else list(v)
            return [str(n).strip() for n in names if str(n).strip() and str(n) != "none"]
    return []


def augmentation_names(modality: str = "image") -> list[str]:
    """The augmentation catalogue's names that apply to ``modality``."""
    return list(augment.available(modality))


def augmentation_preview(x: np.ndarray, names: list[str], n: int, seed: int
                         ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Seeded previews of ``names`` applied to the first ``n`` of ``x``: (originals, views)."""
    import torch

    prev = augment.preview(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), names,
                           n, seed)
    originals = prev.pop("original").numpy()
    return originals, {k: v.numpy() for k, v in prev.items()}


def task_key(r: Run) -> str:
    """Runs with equal keys were evaluated on the same task protocol (any seed)."""
    c = r.config
    return (f"{c.get('dataset')} · normal {'+'.join(map(str, c.get('normal', [])))} · "
            f"{c.get('task')}" + (f" {json.dumps(c.get('task_options'), sort_keys=True)}"
                                  if c.get("task_options") else ""))


def projection(r: Run, method: str, seed: int = 0) -> dict[str, Any]:
    """The run's 2-D projection (PCA / t-SNE / UMAP), cached in the run folder."""
    return embed.run_projection(r, method, seed)


#: Projection methods, in the page's order, and their titles.
PROJECTIONS: tuple[str, ...] = tuple(embed.METHODS)
PROJECTION_TITLES: dict[str, str] = dict(embed.METHOD_TITLES)


def projection_warm(method: str) -> bool:
    """Whether ``method`` answers without a warm-up wait (UMAP compiles once per server)."""
    return method != "umap" or embed.is_warm()


# --------------------------------------------------------------------------- benchmark results
@dataclass(frozen=True)
class ResultFile:
    """A benchmark's JSON under ``docs/results/`` with per-task rows."""

    name: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]]


def benchmark_results(directory: Path | None = None) -> list[ResultFile]:
    """Benchmark JSON files whose rows carry dataset/normal/detector/seed/auroc."""
    d = Path(directory) if directory else RESULTS_DIR
    out = []
    for p in sorted(d.glob("*.json")) if d.exists() else []:
        try:
            obj = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        rows = obj.get("rows") if isinstance(obj, dict) else None
        need = {"dataset", "normal", "detector", "seed", "auroc"}
        if isinstance(rows, list) and rows and all(isinstance(r, dict) and need <= set(r)
                                                   for r in rows):
            out.append(ResultFile(p.stem, obj.get("meta") or {}, rows))
    return out


# --------------------------------------------------------------------------- teaching demos
# Computations live in :mod:`ad_core.teaching` (one module per paper), the papers' numbers in
# :mod:`ad_core.reference`; the Teaching page reaches both through these calls.
NEUTRAL_APPENDIX = teaching.NEUTRAL_APPENDIX
GEOTRANS_INTUITION_PAPER = teaching.GEOTRANS_PAPER
AUGMENTATION_PAPER = teaching.AUGMENTATION_PAPER
AUGMENTATION_RESULTS = teaching.AUGMENTATION_RESULTS


def toll_contours(beta: float, steps: int = 400) -> dict[str, Any]:
    return teaching.toll_contours(beta, steps=steps)


def toll_gradient_flow(t_max: float = 1.5) -> dict[str, Any]:
    return teaching.toll_gradient_flow(t_max=t_max)


def lisae_intuition(gamma: float) -> dict[str, Any]:
    return teaching.lisae_intuition(gamma)


def lisae_runs() -> list[Run]:
    """Saved ``lisae`` runs with phase-1 test scores, newest first."""
    return teaching.lisae_runs()


def lisae_phase_scores(r: Run) -> dict[str, Any]:
    return teaching.lisae_phase_scores(r)


def dcl_tau_curves(taus: Any, k: int = 2) -> dict[str, np.ndarray]:
    return teaching.dcl_tau_curves(taus, k)


def dcl_edge_cases(tau: float, k: int = 2) -> dict[str, float]:
    return teaching.dcl_edge_cases(tau, k)


def neutral_toy(k: int, kind: str, steps: int, tau: float) -> dict[str, Any]:
    return teaching.neutral_toy(k, kind, steps=steps, tau=tau)


def geotrans_intuition(seed: int = 0) -> list[dict[str, Any]]:
    return teaching.geotrans_intuition(seed)


def geotrans_verdicts(rows: list[dict[str, Any]]) -> list[str]:
    return teaching.geotrans_verdicts(rows)


def decode_frames(row: dict[str, Any]) -> np.ndarray:
    return teaching.decode_frames(row)


def augmentation_live(augmentations: list[str], widths: list[float], normal: str
                      ) -> dict[str, Any]:
    return teaching.augmentation_live(augmentations, widths, normal)


def relative_auroc(results: dict[str, Any]) -> list[dict[str, Any]]:
    return teaching.relative_auroc(results)


def teaching_results_path(name: str) -> Path:
    """Where a cached teaching result lives (``docs/results/<name>.json``)."""
    from ad_core.teaching import common

    return common.results_path(name)


def teaching_results(name: str) -> dict[str, Any] | None:
    """A cached teaching result, or None when it has not been generated."""
    from ad_core.teaching import common

    return common.load_results(name)


# --------------------------------------------------------------------------- sweeps (issue 12)
@dataclass(frozen=True)
class Sweep:
    """A benchmark sweep's results JSON: its rows so far and ``status`` = ``meta["sweep"]`` as the
    sweep runner writes it (engine, cells, done, failed, complete; ``{}`` for results written
    before the runner kept a status)."""

    name: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]]
    status: dict[str, Any]

    @property
    def label(self) -> str:
        """``digits one-vs-rest: iforest, ae (quick preset) — 40/40 cells, ray``."""
        title = self.meta.get("title", self.name)
        st = self.status
        if not st:
            return title
        cells, done, failed = st.get("cells", 0), st.get("done", 0), len(st.get("failed") or [])
        state = (f"{cells} cells" if st.get("complete") else f"{done}/{cells} cells"
                 + (f", {failed} failed" if failed else ", running or interrupted"))
        return f"{title} — {state}, {st.get('engine', 'local')}"


def list_sweeps(directory: Path | None = None) -> list[Sweep]:
    """Sweeps under ``docs/results/`` (or ``directory``), newest first: every benchmark JSON with
    per-task rows, and sweeps whose cells have all failed or not finished yet."""
    out = {f.name: Sweep(f.name, f.meta, f.rows, dict(f.meta.get("sweep") or {}))
           for f in benchmark_results(directory)}
    d = Path(directory) if directory else RESULTS_DIR
    for p in sorted(d.glob("*.json")) if d.exists() else []:
        if p.stem in out:
            continue
        try:
            obj = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        meta = obj.get("meta") if isinstance(obj, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("sweep"), dict) and not obj.get("rows"):
            out[p.stem] = Sweep(p.stem, meta, [], dict(meta["sweep"]))
    return sorted(out.values(), key=lambda s: str(s.meta.get("date", "")), reverse=True)
