"""What the app offers to train: the datasets (with a browser session's own uploads), the Data
page's choice of normal class(es) and task, the detectors with their presets and parameters, and the
quick start's experiment.

Nothing here imports streamlit. An ``owner`` is a browser session's token (:mod:`ad_core.jobs`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ad_core.contracts import Task
from ad_core.data import data_root, dataset_info, list_datasets, load_dataset
from ad_core.data.base import Dataset
from ad_core.data.user import dataset_display_name
from ad_core.detectors import available_detectors, get_detector_class
from ad_core.detectors.base import Detector
from ad_core.errors import UnknownNameError, UserError
from ad_core.experiment import ExperimentSpec
from ad_core.tasks import TESTBED_GENERATORS, build_task

TASK_TITLES = {"one-vs-rest": "One class vs the rest",
               "testbed": "Controlled testbed (generated anomalies)",
               "negatives": "Negative-data split (LIS-AE)"}


#: Quick-start candidates, best first: (detector, preset).
QUICKSTART_ORDER = (("toll", "quick"), ("dae", "quick"), ("iforest", "quick"))


QUICKSTART_DATASET, QUICKSTART_NORMAL = "mnist5k", "8"


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


def detector_catalogue(modality: str | None = None) -> dict[str, type[Detector]]:
    """Available detectors (optionally only those that handle ``modality``), in the app's order."""
    return {n: c for n, c in available_detectors().items()
            if modality is None or modality in c.modalities}


def detector_class(name: str) -> type[Detector]:
    """The class of any detector name: a registered one, ``pyod:NAME``, ``sklearn:NAME`` or your
    own ``module.path:ClassName`` (:mod:`ad_core.detectors.external`); a clear
    :class:`~ad_core.errors.UserError` otherwise (the nearest name, or the line of your class
    that failed to import)."""
    return get_detector_class(name)


def more_detectors() -> Any:
    """The estimators from outside this project that are installed: PyOD's detectors and
    scikit-learn's outlier estimators, each with its parameters read from its signature
    (:func:`ad_core.detectors.external.external_catalogue`; the first call imports every PyOD
    model, a few seconds, then it is cached)."""
    from ad_core.detectors.external import external_catalogue

    return external_catalogue()


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
