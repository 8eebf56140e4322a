"""The small facade the app's pages call: datasets, detectors, jobs, runs, results (docs/ARCHITECTURE.md,
floor 9).

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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ad_core import augment, jobs, teaching
from ad_core import metrics as M
from ad_core import projection as projections
from ad_core.bench import RESULTS_DIR  # where the generated results live (docs/results)
from ad_core.contracts import Explanation, FitReport, ParamSpec, Task
from ad_core.data import data_root, dataset_info, list_datasets, load_dataset
from ad_core.data.base import Dataset
from ad_core.data.user import dataset_display_name
from ad_core.detectors import available_detectors, get_detector_class, make_detector
from ad_core.detectors.base import Detector
from ad_core.errors import BadDataError, UnknownNameError, UserError, did_you_mean
from ad_core.experiment import ExperimentSpec
from ad_core.jobs import CANCELLED, DONE, FAILED, INTERRUPTED, QUEUED, RUNNING, JobSnapshot
from ad_core.reference import Reference, references_for
from ad_core.runs import Run, delete_run, list_runs, load_run
from ad_core.tasks import TASK_KINDS, TESTBED_GENERATORS, build_task

__all__ = ["CANCELLED", "DONE", "FAILED", "INTERRUPTED", "QUEUED", "RUNNING", "TASK_KINDS",
           "TESTBED_GENERATORS", "Explanation", "FitReport", "JobSnapshot", "ParamSpec", "Reference", "Run",
           "references_for"]

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
        """``mnist5k · normal 8 · one-vs-rest · seed 0``; an upload by the file name the user gave
        (``heldout-wine.csv (your upload) · …``), never its path on the server."""
        from ad_core.data.user import dataset_display_name

        extra = ""
        if self.task == "negatives":
            extra = f" · negatives {'+'.join(self.negatives) or 'default'}"
        elif self.task == "testbed":
            extra = f" · {', '.join(self.generators)}"
        return (f"{dataset_display_name(self.dataset, mine=True)} · normal "
                f"{'+'.join(self.normal)} · {self.task}{extra} · seed {self.seed}")

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
        """``name — modality, offline|yours|files found|files needed`` (an upload by file name)."""
        mark = "offline" if self.embedded else ("yours" if self.uploaded else
                                                 ("files found" if self.available else
                                                  "files needed"))
        return f"{self.display_name} — {self.modality}, {mark}"

    @property
    def display_name(self) -> str:
        """The registry name, or an upload's original file name (without the stored path)."""
        from ad_core.data.user import dataset_display_name

        if not self.uploaded:
            return self.name
        return dataset_display_name(self.name).removesuffix(" (upload)")


def dataset_catalogue(uploads: list[str] | None = None, owner: str | None = None
                      ) -> list[DatasetEntry]:
    """Registered datasets (embedded first) plus this session's ``uploads``.

    With ``owner`` (the browser session's token) only uploads that session made are listed, so
    another session's upload never shows even if its name got into ``uploads``. An upload whose
    file was cleaned up is listed as not available, its description saying so. The first listing
    in a server process also removes day-old uploads that no run uses
    (:func:`ad_core.data.user.clean_uploads_once`).
    """
    from ad_core.data import user as U

    U.clean_uploads_once()
    root = data_root()
    out = []
    for info in list_datasets():
        try:
            ok = bool(info.available(root))
        except Exception:  # a broken availability check means "not here"
            ok = False
        out.append(DatasetEntry(info.name, info.modality, info.description, info.embedded, ok,
                                info.files_hint, info.class_names, False))
    for name in dict.fromkeys(uploads or []):
        if owner is not None and U.upload_path(name) is not None and not U.owns_upload(name, owner):
            continue
        try:
            ds = load(name, owner)
        except UserError as e:
            out.append(DatasetEntry(name, "image" if name.startswith("images:") else "tabular",
                                    str(e), False, False, "", None, True))
            continue
        out.append(DatasetEntry(name, ds.modality, ds.description or f"uploaded ({len(ds.y)} samples)",
                                False, True, "", tuple(ds.class_names), True))
    return out


def unavailable_message(name: str) -> str:
    """The one clear sentence on where to put which files for a dataset that is not here (for an
    upload whose file was cleaned up: that it is gone, by file name, never the server path)."""
    from ad_core.data import user as U

    if U.upload_path(name) is not None:
        return U.gone_message(name)
    info = dataset_info(name)
    hint = info.files_hint or "its files"
    return (f"{name} is not on this machine. Put {hint} under {data_root() / name} "
            f"(or set ANOMALY_LAB_DATA), then reload this page.")


def load(name: str, owner: str | None = None) -> Dataset:
    """Load a dataset by name (cached per process).

    ``owner`` (a browser session's token) loads on that session's behalf: a ``csv:``/``images:``
    name must then be one of its own uploads — another session's upload raises
    :class:`~ad_core.data.user.UploadElsewhereError`, any other file on the server is refused.
    An upload whose file was cleaned up raises :class:`~ad_core.data.user.UploadGoneError` (even
    while a copy is cached: training reads the file). Jobs, runs and the CLI load without owner.
    """
    from ad_core.data import user as U

    if owner is not None and name.startswith(("csv:", "images:")):
        U.check_upload_owner(name, owner)
        if U.upload_path(name) is None:
            raise UnknownNameError(
                f"The app opens the datasets it lists and your own uploads; "
                f"{U.dataset_display_name(name)} is neither. Upload the file on the Data page.")
    U.check_upload_present(name)
    U.touch_upload(name)
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


def upload_dataset(filename: str, data: bytes, owner: str | None = None) -> str:
    """Validate and store an uploaded CSV or image zip for the browser session ``owner``;
    returns its dataset name.

    The name is ``csv:PATH`` or ``images:PATH`` of the stored copy under the data folder's
    ``uploads/<owner folder>/`` (the same file uploaded twice gets the same path), so background
    jobs, saved runs and the CLI can reload it after a restart, while other sessions cannot list
    or load it (:func:`load` with their owner). Show it with
    :func:`ad_core.data.user.dataset_display_name`, never as is. Storing keeps the uploads folder
    within its budget (``ANOMALY_LAB_UPLOAD_BUDGET_MB``, :func:`ad_core.data.user.clean_uploads`);
    size and format checks live in :func:`ad_core.data.user.load_uploaded`.
    """
    from ad_core.data.user import load_uploaded

    return load_uploaded(filename, data, owner=owner).name


# --------------------------------------------------------------------------- detectors
def detector_catalogue(modality: str | None = None) -> dict[str, type[Detector]]:
    """Available detectors (optionally only those that handle ``modality``), in the app's order."""
    return {n: c for n, c in available_detectors().items()
            if modality is None or modality in c.modalities}


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
    from ad_core.device import set_threads

    set_threads(SERVER_TORCH_THREADS)


def warm_up() -> None:
    """Start a server's background helpers once, without waiting: the training process (torch
    imported, the quick-start data loaded) and the quick start's content key (this process's
    copy of its data and fingerprint: a first click waited 4.4 s for it on a cold, loaded
    server) now; the projection worker compiling UMAP once training is idle
    (:func:`_when_training_idle`)."""
    jobs.get_manager().prestart()
    _key_quickstart_once()
    if _deferred_done:
        projections.warm_up()  # idempotent; retries a failed warm-up at most once a minute
    else:
        _when_training_idle(projections.warm_up, _preload_quickstart_data)


def _preload_quickstart_data() -> None:
    """Load the quick start's dataset in this process too (the Data page reads it; its first
    load took 5 s on a busy server). Runs in :func:`_when_training_idle`'s thread."""
    load_dataset(QUICKSTART_DATASET)


_keyed_quickstart = False


def _key_quickstart_once() -> None:
    """Compute the quick start's content key in a background thread, once per server."""
    global _keyed_quickstart
    if _keyed_quickstart:
        return
    _keyed_quickstart = True

    def key() -> None:
        with contextlib.suppress(Exception):  # the job's own keying reports any real problem
            jobs.get_manager().key_of(quickstart_spec())

    threading.Thread(target=key, name="quick-start-key", daemon=True).start()


#: Seconds between checks of whether the background warm-ups may start.
IDLE_POLL_S = 0.5
#: ... and once it has been idle this long (not while a finished quick start opens its page).
IDLE_QUIET_S = 3.0
#: The warm-ups start after this many seconds even if training never went idle.
IDLE_WAIT_MAX_S = 300.0
_deferred_started = False
_deferred_done = False


def _when_training_idle(*tasks: Any) -> None:
    """Run ``tasks`` (once per server) as soon as the training process is ready and no job has
    been queued or running for :data:`IDLE_QUIET_S`. On 2 cores the UMAP warm-up and the data
    preload, run beside a cold server's first quick start, slowed its fit to 12–13 s (11 s
    deferred); started the moment it finished, they slowed the Scores page opening."""
    global _deferred_started
    if _deferred_started:
        return
    _deferred_started = True
    manager = jobs.get_manager()

    def wait_then_run() -> None:
        global _deferred_done
        give_up = time.monotonic() + IDLE_WAIT_MAX_S
        quiet_since = None
        while time.monotonic() < give_up:
            if not manager.trainer_ready() or manager.busy():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= IDLE_QUIET_S:
                break
            time.sleep(IDLE_POLL_S)
        for task in tasks:
            with contextlib.suppress(Exception):  # a failed warm-up is retried by its own rule
                task()
        _deferred_done = True

    threading.Thread(target=wait_then_run, name="warm-up-when-idle", daemon=True).start()


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


def start_training(spec: ExperimentSpec, owner: str, label: str | None = None, *,
                   reuse: bool = True) -> str:
    """Queue a training job for ``owner``; returns the job id (checks names before queueing).

    ``reuse=True`` (the app's default): an experiment whose run already exists opens that run,
    one that is queued or running is joined; ``reuse=False`` (*Train again*) trains afresh."""
    make_detector(spec.detector, spec.preset, **spec.params)  # unknown names → clear error now
    if spec.task not in TASK_KINDS:
        raise UnknownNameError(f"Unknown task {spec.task!r}. {did_you_mean(spec.task, TASK_KINDS)}")
    if not spec.dataset.startswith(("csv:", "images:")):
        dataset_info(spec.dataset)
    return jobs.get_manager().submit(spec, owner, label, reuse=reuse)


def start_quickstart(owner: str) -> str:
    """Queue (or join, or reopen) the quick-start training for ``owner``; returns the job id."""
    spec = quickstart_spec()
    return start_training(spec, owner, label=f"Quick start: {jobs.describe_spec(spec)}")


def train_again(job_id: str, owner: str) -> str:
    """Train the experiment of one of ``owner``'s jobs afresh (no reuse, no joining)."""
    s = jobs.get_manager().snapshot(job_id, owner)
    return start_training(s.spec, owner, s.label, reuse=False)


def resubmit_job(job_id: str, owner: str) -> str:
    """Submit an interrupted job of ``owner`` again (joining or reusing where it can)."""
    return jobs.get_manager().resubmit(job_id, owner)


def list_jobs(owner: str, active_only: bool = False) -> list[JobSnapshot]:
    """``owner``'s jobs, oldest first."""
    return jobs.get_manager().list(owner, active_only)


def job(job_id: str, owner: str) -> JobSnapshot:
    """One of ``owner``'s jobs."""
    return jobs.get_manager().snapshot(job_id, owner)


def cancel_job(job_id: str, owner: str) -> JobSnapshot:
    """Stop one of ``owner``'s jobs (queued: dropped; running: stops at the next step; shared
    with other sessions: only this session leaves it)."""
    return jobs.get_manager().cancel(job_id, owner)


def forget_job(job_id: str, owner: str) -> None:
    """Hide a finished job from ``owner``'s list."""
    jobs.get_manager().forget(job_id, owner)


def adopt_jobs(job_ids: list[str], owner: str) -> list[str]:
    """Re-attach jobs named in the URL after a reload; returns the ids that still exist."""
    m = jobs.get_manager()
    return [j for j in job_ids if re.fullmatch(r"[0-9a-f]{24}", j) and m.adopt(j, owner)]


def queue_position(job_id: str) -> int | None:
    """Place of a queued job in the shared serving order (0 = next)."""
    return jobs.get_manager().queue_position(job_id)


def queue_info(job_id: str) -> jobs.QueueInfo | None:
    """Place, queue length and estimated wait of a queued job (``None`` if not queued)."""
    return jobs.get_manager().queue_info(job_id)


def journal_problem() -> str:
    """A sentence when the job journal of the previous server could not be read, else ""."""
    return jobs.get_manager().journal_problem


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
            "dataset": dataset_display_name(str(c.get("dataset"))),
            "normal": "+".join(map(str, c.get("normal", []))),
            "task": c.get("task"), "seed": c.get("seed"), "status": c.get("status", "done"),
            "AUROC": m.get("auroc"), "AUPR": m.get("aupr"), "F1": m.get("f1"),
            "fit s": m.get("fit_seconds"), "score s": m.get("score_seconds"),
            "n train": m.get("n_train"), "n test": m.get("n_test"),
            "params": json.dumps(c.get("params") or {}), "created": c.get("created")}


def run_history(r: Run) -> dict[str, list]:
    """The detector's training curves (the flat ``history_`` record) stored with the run."""
    return dict(r.fit_report().history)


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
        met["per_kind_auroc"] = M.per_kind_auroc(r.test_kinds(), s)
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
    return projections.run_projection(r, method, seed)


#: Projection methods, in the page's order, and their titles.
PROJECTIONS: tuple[str, ...] = tuple(projections.METHODS)
PROJECTION_TITLES: dict[str, str] = dict(projections.METHOD_TITLES)


def projection_warm(method: str) -> bool:
    """Whether ``method`` answers without a warm-up wait (UMAP compiles once per server)."""
    return method != "umap" or projections.is_warm()


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


# --------------------------------------------------------------------------- one sample (issue 11)
# The Sample page: one input — a test sample of a run, a drawing, an uploaded image or CSV row —
# scored and explained by every finished run that can take it, side by side. Each run's own
# ``decision_function`` and ``explain`` do the work; nothing here re-implements a score.

class EmptyDrawingError(BadDataError):
    """The canvas (or uploaded image) holds nothing to score."""


#: Canvas pixels darker than this (0..1) are background, not ink.
INK_LEVEL = 0.05


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
    same = [o for o in runs() if _finished(o) and o.run_id != r.run_id
            and (o.config.get("dataset"), sorted(map(str, o.config.get("normal") or []))) == key]
    return [r, *same]


def input_run_groups() -> dict[tuple[int, ...], list[Run]]:
    """Finished runs by per-sample input shape (newest first in each): the runs a drawn or
    uploaded input of that shape can be scored by."""
    out: dict[tuple[int, ...], list[Run]] = {}
    for r in runs():
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


def canvas_to_image(rgba: np.ndarray, shape: tuple[int, ...] = (1, 28, 28)) -> np.ndarray:
    """A drawing (``[H, W, 4]`` RGBA or ``[H, W, 3]``, light ink on a dark or transparent
    background, as ``streamlit-drawable-canvas`` returns it) as an image of ``shape`` the way
    MNIST was made: the ink's bounding box scaled to fit 20×20 (of 28×28, proportionally for
    other sizes), pasted so its centre of mass sits in the middle. Raises
    :class:`EmptyDrawingError` when nothing is drawn."""
    import torch
    import torch.nn.functional as F

    a = np.asarray(rgba, dtype=np.float64)
    if a.ndim != 3 or a.shape[-1] not in (3, 4):
        raise BadDataError(f"A drawing must be an RGBA image [H, W, 4]; got shape {a.shape}.")
    if len(shape) != 3:
        raise BadDataError(f"A drawing can only be scored by image runs, not by runs on "
                           f"{shape[0]} table features.")
    if np.nanmax(a) > 1.0:
        a = a / 255.0
    a = np.nan_to_num(a)
    ink = a[..., :3].mean(-1) * (a[..., 3] if a.shape[-1] == 4 else 1.0)
    on = ink > INK_LEVEL
    if not on.any():
        raise EmptyDrawingError("The drawing is empty: draw a digit on the canvas (light ink on "
                                "the dark background, as in MNIST) and it is scored at once.")
    ys, xs = np.flatnonzero(on.any(1)), np.flatnonzero(on.any(0))
    crop = ink[ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1]
    c, h, w = (int(s) for s in shape)
    box = max(1, round(min(h, w) * 20 / 28))
    scale = box / max(crop.shape)
    ch, cw = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    small = F.interpolate(torch.from_numpy(crop)[None, None], size=(ch, cw), mode="area")[0, 0]
    small = small.numpy()
    small = small / small.max() if small.max() > 0 else small
    total = small.sum()
    cy = (small.sum(1) * np.arange(ch)).sum() / total
    cx = (small.sum(0) * np.arange(cw)).sum() / total
    top = int(np.clip(round((h - 1) / 2 - cy), 0, h - ch))
    left = int(np.clip(round((w - 1) / 2 - cx), 0, w - cw))
    out = np.zeros((h, w), np.float32)
    out[top:top + ch, left:left + cw] = small
    return np.repeat(out[None], c, axis=0)


def decode_image(data: bytes) -> np.ndarray:
    """An uploaded image file (PNG, JPEG …) as a uint8 array ``[H, W]``, ``[H, W, 3]`` or
    ``[H, W, 4]``; a clear error when it is not an image (the uploads' decoder,
    :func:`ad_core.data.user.decode_image`, with its size limits)."""
    from ad_core.data.user import decode_image as decode

    if len(data) > 10 * 2 ** 20:
        raise BadDataError("The image is larger than 10 MB; upload a smaller one.")
    return decode(data, "the uploaded file", keep_mode=True)


def image_to_input(img: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, list[str]]:
    """An uploaded image (``[H, W]``, ``[H, W, 3|4]`` uint8 or [0, 1]) as a model input of
    ``shape`` ``(C, H, W)``: resized with area averaging, a transparent background read as
    black, a dark-on-light picture inverted (the datasets are light-on-dark). Returns the input
    and what was done to it. A colour picture for grey runs (or the reverse) is refused."""
    import torch
    import torch.nn.functional as F

    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3, 4):
        a = a.transpose(1, 2, 0)  # CHW → HWC
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3, 4) or min(a.shape[:2]) < 2:
        raise BadDataError(f"An image must be [height, width] or [height, width, channels]; got "
                           f"shape {tuple(np.shape(img))}.")
    if len(shape) != 3:
        raise BadDataError(f"These runs take a table row of {shape[0]} features, not an image: "
                           "upload a CSV row instead.")
    if not np.isfinite(a).all():
        raise BadDataError("The image contains NaN or infinite values.")
    notes = []
    if a.max() > 1.0:
        a = a / 255.0
    if a.shape[-1] == 4:
        a = a[..., :3] * a[..., 3:]
        if np.asarray(img)[..., 3].min() < 255:
            notes.append("transparent background read as black")
    c, h, w = (int(s) for s in shape)
    if a.shape[-1] == 3 and c == 1:
        if np.abs(a - a.mean(-1, keepdims=True)).max() > 2 / 255:
            raise BadDataError("This is a colour image, but the runs were trained on grey "
                               "(1-channel) images: upload a greyscale picture.")
        a = a[..., :1]
    elif a.shape[-1] == 1 and c == 3:
        raise BadDataError("This is a grey (1-channel) image, but the runs were trained on "
                           "colour (3-channel) images: upload a colour picture.")
    border = np.concatenate([a[0].ravel(), a[-1].ravel(), a[:, 0].ravel(), a[:, -1].ravel()])
    if c == 1 and border.mean() > 0.5:
        a = 1.0 - a
        notes.append("dark-on-light picture inverted (the training images are light on dark)")
    t = torch.from_numpy(a.transpose(2, 0, 1).copy())[None]
    if t.shape[-2:] != (h, w):
        mode = "area" if t.shape[-2] >= h and t.shape[-1] >= w else "bilinear"
        t = F.interpolate(t, size=(h, w), mode=mode,
                          **({} if mode == "area" else {"align_corners": False}))
        notes.append(f"resized from {a.shape[0]}×{a.shape[1]} to {h}×{w}")
    out = t[0].clamp(0, 1).numpy().astype(np.float32)
    if out.max() <= INK_LEVEL:
        raise EmptyDrawingError("The image is blank: there is nothing in it to score.")
    return out, notes


def parse_csv_row(data: bytes | str, n_features: int,
                  feature_names: list[str] | tuple[str, ...] | None = None) -> np.ndarray:
    """The first data row of an uploaded CSV (a header naming the features is optional) as a
    float32 vector of ``n_features``; a clear error for a wrong count, text or a missing value."""
    import io

    import pandas as pd

    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else str(data)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise BadDataError("The CSV file is empty: it needs one row of numbers.")
    header = None if all(_is_number(v) for v in lines[0].split(",")) else 0
    try:
        df = pd.read_csv(io.StringIO("\n".join(lines)), header=header, nrows=1)
    except (ValueError, pd.errors.ParserError) as e:
        raise BadDataError(f"The CSV file could not be read: {e}") from None
    if df.empty:
        raise BadDataError("The CSV file has a header but no row of numbers under it.")
    if header == 0 and feature_names and set(map(str, feature_names)) <= set(map(str, df.columns)):
        df = df[[str(n) for n in feature_names]]
    if df.shape[1] != n_features:
        raise BadDataError(f"The row has {df.shape[1]} values, but the runs were trained on "
                           f"{n_features} features"
                           + (f" ({', '.join(map(str, feature_names[:6]))}"
                              f"{' …' if len(feature_names) > 6 else ''})" if feature_names else "")
                           + ".")
    row = pd.to_numeric(df.iloc[0], errors="coerce")
    bad = [str(c) for c, v in row.items() if not np.isfinite(v)]
    if bad:
        raise BadDataError(f"The row has missing or non-numeric values (NaN) in "
                           f"{', '.join(bad[:5])}{' …' if len(bad) > 5 else ''}: every feature "
                           "needs a number.")
    return row.to_numpy(np.float32)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text.strip() == ""  # an empty cell is a missing number, not a header
    return True


#: What :func:`prepare_input` may be told its input is.
INPUT_SOURCES = ("auto", "sample", "canvas", "image")


def prepare_input(x: Any, shape: tuple[int, ...], source: str = "auto"
                  ) -> tuple[np.ndarray, list[str]]:
    """``x`` as one model input of per-sample ``shape``, and what was done to it.

    ``source``: ``sample`` = exactly that shape (a test sample, a CSV row; a leading batch axis
    of 1 is dropped); ``canvas`` = a drawing ``[H, W, 4]`` (see :func:`canvas_to_image`);
    ``image`` = an uploaded picture ``[H, W]`` / ``[H, W, 3|4]`` (see :func:`image_to_input`);
    ``auto`` = the per-sample shape if it matches, else a canvas for ``[H, W, 4]``, else an
    image. Wrong shapes, channels, NaNs and empty drawings raise :class:`BadDataError` with one
    sentence saying what is wrong.
    """
    if source not in INPUT_SOURCES:
        raise UnknownNameError(f"Unknown input source {source!r}. "
                               f"{did_you_mean(source, INPUT_SOURCES)}")
    a = np.asarray(x)
    if a.dtype == object or not np.issubdtype(a.dtype, np.number):
        raise BadDataError("The input must be numbers (an image or a row of features).")
    shape = tuple(int(s) for s in shape)
    if a.ndim == len(shape) + 1 and a.shape[0] == 1 and a.shape[1:] == shape:
        a = a[0]
    if source in ("auto", "sample") and a.shape == shape:
        a = a.astype(np.float32)
        if not np.isfinite(a).all():
            raise BadDataError("The input contains NaN or infinite values: every pixel or "
                               "feature needs a number.")
        return a, []
    if source == "canvas" or (source == "auto" and a.ndim == 3 and a.shape[-1] == 4
                              and a.shape[0] > 4 and len(shape) == 3):
        return canvas_to_image(a, shape), [f"drawing down-sampled to {shape[1]}×{shape[2]}, "
                                           "centred like MNIST"]
    if len(shape) == 1 and source != "image":
        raise BadDataError(f"The input has shape {a.shape}, but these runs take a row of "
                           f"{shape[0]} features.")
    if source in ("auto", "image") and a.ndim in (2, 3):
        return image_to_input(a, shape)
    raise BadDataError(f"The input has shape {a.shape}, but these runs take images of shape "
                       f"{shape} (channels × height × width).")


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
    from dataclasses import fields as dc_fields

    from ad_core.experiment import build_experiment_task
    from ad_core.runs import load_npz, save_npz

    key = _cache_key(r)
    with _detector_lock:
        ref = _reference_cache.get(key)
    if ref is not None:
        return ref
    path = r.path / "cache" / "train_embedding.npz"
    if path.exists():
        ref = load_npz(path)
    else:
        c = r.config
        spec = ExperimentSpec(**{f.name: c[f.name] for f in dc_fields(ExperimentSpec)
                                 if f.name in c})
        task = build_experiment_task(spec)
        x = task.train_x
        rows = (task.train_index if task.train_index is not None
                else np.full(len(x), -1, dtype=np.int64))
        stored = ((x.clamp(0, 1) * 255).round().byte().numpy() if task.modality == "image"
                  else x.numpy().astype(np.float32))
        ref = {"features": det.embed(x).reshape(len(x), -1).astype(np.float32),
               "rows": np.asarray(rows, dtype=np.int64), "inputs": stored}
        with contextlib.suppress(OSError):  # atomic: two sessions may compute it at once
            tmp = r.cache_path(f"train_embedding.{os.getpid()}-{threading.get_ident()}.tmp.npz")
            save_npz(tmp, ref)
            os.replace(tmp, path)
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
                   dataset_row: int | None = None) -> SampleReport:
    """Score and explain one input ``x`` with every run in ``run_ids``: the ONE call behind the
    Sample page, for a run's test sample and for a drawn or uploaded input alike.

    ``x`` is one sample of the runs' input shape, a canvas drawing ``[H, W, 4]`` or an image
    (:func:`prepare_input` makes each run's input; ``source`` says which). Every run scores it
    with its detector's ``decision_function`` and explains it with its ``explain`` (never a copy
    of its scoring);
    the percentile is among the run's normal test scores, ``flagged`` uses the run's
    ``threshold_``. With ``neighbours > 0`` the nearest training normals in the run's
    ``embed`` space are found. ``dataset_row`` (a test sample's row in its dataset) tells which
    runs had that very sample among their training normals. A run that cannot take ``x``
    (another shape, a table for an image) is listed in ``skipped`` with the reason; a bad input
    for all of them raises :class:`BadDataError`.
    """
    report = SampleReport([], {}, [])
    first_error: UserError | None = None
    prepared: dict[tuple[int, ...], tuple[np.ndarray, list[str]] | UserError] = {}
    for rid in run_ids:
        r = run(rid)
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
        det = loaded_detector(r)
        batch = x1[None]
        score = float(det.decision_function(batch)[0])
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
        report.runs.append(verdict)
    if not report.runs and first_error is not None:
        if all(isinstance(p, UserError) and str(p) == str(first_error)
               for p in prepared.values()):
            raise first_error
        raise BadDataError("No run can score this input: " + " ".join(
            sorted({str(p) for p in prepared.values() if isinstance(p, UserError)})))
    return report


# ---- fidelity report (issue 18)
FIDELITY_REPORT = "fidelity"


def fidelity_report(directory: str | Path | None = None) -> dict[str, Any] | None:
    """The fidelity report's JSON (``{"meta", "rows"}``, one row per claim) written by
    ``python -m ad_core.benchmarks.fidelity``; None when it is absent or unreadable. The pages
    show the report's verdicts and figures from here, never from a second cache."""
    p = (Path(directory) if directory else RESULTS_DIR) / f"{FIDELITY_REPORT}.json"
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("rows"), list) else None


def fidelity_claims_shown_in(place: str, report: dict[str, Any] | None = None
                             ) -> list[dict[str, Any]]:
    """The report's claims the app states at ``place`` (e.g. ``"Teaching · GeoTrans"``)."""
    report = fidelity_report() if report is None else report
    rows = (report or {}).get("rows") or []
    return [r for r in rows if isinstance(r, dict) and place in (r.get("shown_in") or [])]


def fidelity_augmentation_summary(report: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The report's relative-AUROC summary of the augmentation study (every augmentation × gen,
    seeds averaged per task) in the shape :func:`relative_auroc` reads; None when absent."""
    report = fidelity_report() if report is None else report
    summary = ((report or {}).get("meta") or {}).get("augmentation_summary")
    return {"meta": {"summary": summary}, "rows": []} if summary else None
