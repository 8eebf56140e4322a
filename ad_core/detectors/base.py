"""The detector API (DESIGN.md §2): PyOD's vocabulary with scikit-learn's habits.

``__init__`` only stores parameters; ``fit`` validates them (raising :class:`UserError`), trains,
and sets fitted attributes ending in ``_``: ``decision_scores_`` (training-normal scores),
``threshold_`` (the (1 − contamination) quantile of validation-normal scores), ``history_``
(training curves) and ``fit_seconds_``. ``decision_function`` returns anomaly scores, higher = more
anomalous. ``save``/``load`` use safetensors + JSON, never pickle.

A subclass declares ``name``, ``title``, ``paper``, ``modalities``, ``params`` (a tuple of
:class:`ParamSpec`) and ``presets``; implements ``_fit``, ``_score``, and optionally ``_embed``,
``_explain``; and serialises its fitted state via ``_state_tensors``/``_state_json`` and
``_restore``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import torch

from ad_core.errors import BadDataError, BadParameterError, UnknownNameError, did_you_mean


class TrainingMonitor(Protocol):
    """Receives training progress; the CLI draws a bar, the app's jobs keep a snapshot."""

    def on_start(self, total: int) -> None: ...
    def on_step(self, step: int, loss: float, **metrics: float) -> None: ...
    def should_stop(self) -> bool: ...
    def on_end(self) -> None: ...


class NullMonitor:
    """A monitor that ignores everything and never asks to stop."""

    def on_start(self, total: int) -> None:
        pass

    def on_step(self, step: int, loss: float, **metrics: float) -> None:
        pass

    def should_stop(self) -> bool:
        return False

    def on_end(self) -> None:
        pass


@dataclass(frozen=True)
class ParamSpec:
    """One hyperparameter: its type, range or choices, default and a help line from the paper.

    ``kind`` is ``int``, ``float``, ``bool``, ``choice`` or ``str``; ``low``/``high`` bound numbers
    (inclusive); ``log`` suggests a log-scale widget; ``choices`` lists allowed values.
    """

    name: str
    kind: str
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    log: bool = False
    advanced: bool = False

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` (maybe a CLI string) to this type and check the range."""
        try:
            if self.kind == "int":
                v: Any = int(float(value)) if isinstance(value, str) else int(value)
                if isinstance(value, float) and not float(value).is_integer():
                    raise ValueError
            elif self.kind == "float":
                v = float(value)
                if math.isnan(v):
                    raise ValueError
            elif self.kind == "bool":
                if isinstance(value, str):
                    low = value.strip().lower()
                    if low not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError
                    v = low in ("true", "1", "yes")
                else:
                    v = bool(value)
            elif self.kind == "choice":
                v = value
                if self.choices is not None:
                    names = [str(c) for c in self.choices]
                    if str(value) not in names:
                        raise BadParameterError(
                            f"{self.name}={value!r} is not allowed. "
                            f"{did_you_mean(str(value), names)}")
                    v = self.choices[names.index(str(value))]
            else:
                v = str(value)
        except (TypeError, ValueError):
            raise BadParameterError(f"{self.name} must be a{'n' if self.kind == 'int' else ''} "
                                    f"{self.kind}, got {value!r}.") from None
        if self.kind in ("int", "float") and (
                self.low is not None and v < self.low or self.high is not None and v > self.high):
            raise BadParameterError(f"{self.name}={v} is out of range: it must lie between "
                                    f"{self.low} and {self.high}. {self.help}".strip())
        return v


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


class Detector:
    """Base class of every anomaly detector. Subclasses document their parameters once, here."""

    name: ClassVar[str] = "base"
    title: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    modalities: ClassVar[tuple[str, ...]] = ("image", "tabular")
    params: ClassVar[tuple[ParamSpec, ...]] = ()
    presets: ClassVar[dict[str, dict[str, Any]]] = {"quick": {}, "paper": {}}
    # Keys of ``explain`` output (documentation for the app).
    explains: ClassVar[tuple[str, ...]] = ()

    def __init__(self, preset: str = "quick", **params: Any) -> None:
        self.preset = preset
        self.user_params = dict(params)

    # ----------------------------------------------------------------- parameters
    @classmethod
    def param_spec(cls, name: str) -> ParamSpec:
        for p in cls.params:
            if p.name == name:
                return p
        raise UnknownNameError(f"{cls.name} has no parameter {name!r}. "
                               f"{did_you_mean(name, [p.name for p in cls.params])}")

    @classmethod
    def preset_params(cls, preset: str, dataset: str | None = None,
                      input_shape: tuple[int, ...] | None = None) -> dict[str, Any]:
        """Defaults overlaid with the preset (some paper presets depend on the dataset)."""
        if preset not in cls.presets:
            raise UnknownNameError(f"{cls.name} has no preset {preset!r}. "
                                   f"{did_you_mean(preset, list(cls.presets))}")
        out = {p.name: p.default for p in cls.params}
        out.update(cls.presets[preset])
        out.update(cls.dataset_preset(preset, dataset, input_shape))
        return out

    @classmethod
    def dataset_preset(cls, preset: str, dataset: str | None,
                       input_shape: tuple[int, ...] | None) -> dict[str, Any]:
        """Dataset-specific overrides of a preset (e.g. Toll's per-dataset β); none by default."""
        return {}

    def resolve_params(self, dataset: str | None = None,
                       input_shape: tuple[int, ...] | None = None) -> dict[str, Any]:
        """Validated parameters: preset defaults overlaid with the user's values."""
        out = self.preset_params(self.preset, dataset, input_shape)
        for k, v in self.user_params.items():
            out[k] = self.param_spec(k).coerce(v)
        for k, v in list(out.items()):
            out[k] = self.param_spec(k).coerce(v)
        self.check_params(out)
        return out

    def check_params(self, p: dict[str, Any]) -> None:
        """Cross-parameter checks; raise :class:`BadParameterError`."""

    def get_params(self) -> dict[str, Any]:
        return {"preset": self.preset, **self.user_params}

    # ----------------------------------------------------------------- API
    def fit(self, task: Any, monitor: TrainingMonitor | None = None) -> Detector:
        """Train on ``task.train_x`` (normals only); calibrate the threshold on ``task.val_x``."""
        if task.modality not in self.modalities:
            raise BadParameterError(f"{self.title or self.name} works on "
                                    f"{' or '.join(self.modalities)} data, not {task.modality}.")
        check_input(task.train_x, None, "training data")
        self.params_ = self.resolve_params(task.dataset, tuple(task.train_x.shape[1:]))
        self.input_shape_ = tuple(int(s) for s in task.train_x.shape[1:])
        self.modality_ = task.modality
        self.contamination_ = float(self.params_.get("contamination", 0.1))
        monitor = monitor or NullMonitor()
        t0 = time.perf_counter()
        self.history_: dict[str, list] = {}
        self._fit(task, monitor)
        self.fit_seconds_ = time.perf_counter() - t0
        self.decision_scores_ = self.decision_function(task.train_x)
        val_scores = self.decision_function(task.val_x)
        self.threshold_ = float(np.quantile(val_scores, 1.0 - self.contamination_))
        return self

    def decision_function(self, x: torch.Tensor | np.ndarray) -> np.ndarray:
        """Anomaly score per sample, higher = more anomalous."""
        self._check_fitted()
        x = check_input(x, self.input_shape_, "input")
        s = np.asarray(self._score(x), dtype=np.float64)
        return s

    def predict(self, x: torch.Tensor | np.ndarray) -> np.ndarray:
        """1 = anomaly (score above ``threshold_``), 0 = normal."""
        return (self.decision_function(x) > self.threshold_).astype(np.int64)

    def embed(self, x: torch.Tensor | np.ndarray) -> np.ndarray:
        """The representation the embedding view projects (flattened input by default)."""
        self._check_fitted()
        x = check_input(x, self.input_shape_, "input")
        return np.asarray(self._embed(x), dtype=np.float32)

    def explain(self, x: torch.Tensor | np.ndarray) -> dict[str, Any]:
        """Per-sample artefacts for the views: see DESIGN.md §2 for the keys."""
        self._check_fitted()
        x = check_input(x, self.input_shape_, "input")
        return self._explain(x)

    # ----------------------------------------------------------------- to override
    def _fit(self, task: Any, monitor: TrainingMonitor) -> None:
        raise NotImplementedError

    def _score(self, x: torch.Tensor) -> np.ndarray:
        raise NotImplementedError

    def _embed(self, x: torch.Tensor) -> np.ndarray:
        return x.reshape(len(x), -1).numpy()

    def _explain(self, x: torch.Tensor) -> dict[str, Any]:
        return {}

    def extra_scores(self, task: Any) -> dict[str, np.ndarray]:
        """Extra score arrays a run stores beside the test scores, e.g. the DAE's scores of
        augmented training images (``augmented``) or LIS-AE's phase-1 test scores
        (``phase1_test``). Keys become ``extra_<key>`` in ``scores.npz``."""
        return {}

    def _state_tensors(self) -> dict[str, torch.Tensor]:
        """Fitted tensors to store in ``weights.safetensors``."""
        return {}

    def _state_json(self) -> dict[str, Any]:
        """Fitted scalars/lists to store in ``config.json``."""
        return {}

    def _restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Rebuild the fitted model from what ``_state_tensors``/``_state_json`` returned."""
        raise NotImplementedError

    # ----------------------------------------------------------------- persistence
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise BadParameterError(f"This {self.name} detector is not trained yet: call fit first.")

    def save(self, directory: str | Path) -> None:
        """Write ``detector.json`` (config + fitted scalars) and ``weights.safetensors``."""
        from safetensors.torch import save_file

        self._check_fitted()
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().cpu().contiguous() for k, v in self._state_tensors().items()}
        save_file(tensors, str(d / "weights.safetensors"))
        meta = {
            "detector": self.name, "preset": self.preset, "user_params": self.user_params,
            "params": self.params_, "input_shape": list(self.input_shape_),
            "modality": self.modality_, "threshold": self.threshold_,
            "contamination": self.contamination_, "fit_seconds": self.fit_seconds_,
            "history": self.history_, "state": self._state_json(),
        }
        (d / "detector.json").write_text(json.dumps(_jsonable(meta), indent=1))

    @classmethod
    def load(cls, directory: str | Path) -> Detector:
        """Rebuild a saved detector; it returns exactly the scores it returned before saving."""
        from safetensors.torch import load_file

        d = Path(directory)
        meta = json.loads((d / "detector.json").read_text())
        if cls is Detector:
            from ad_core.detectors import get_detector_class

            cls = get_detector_class(meta["detector"])
        det = cls(preset=meta["preset"], **meta["user_params"])
        det.params_ = {k: (float(v) if v in ("inf", "-inf") else v) for k, v in meta["params"].items()}
        det.input_shape_ = tuple(meta["input_shape"])
        det.modality_ = meta["modality"]
        det.threshold_ = float(meta["threshold"])
        det.contamination_ = float(meta["contamination"])
        det.fit_seconds_ = float(meta["fit_seconds"])
        det.history_ = meta["history"]
        tensors = load_file(str(d / "weights.safetensors"))
        det._restore(tensors, meta["state"])
        return det


def check_input(x: torch.Tensor | np.ndarray, shape: tuple[int, ...] | None, what: str
                ) -> torch.Tensor:
    """A float32 CPU tensor of the expected per-sample shape, finite; clear errors otherwise."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise BadDataError(f"The {what} must be an array or tensor, not {type(x).__name__}.")
    x = x.detach().to("cpu", torch.float32)
    if len(x) == 0:
        raise BadDataError(f"The {what} is empty.")
    if shape is not None and tuple(x.shape[1:]) != tuple(shape):
        raise BadDataError(f"The {what} has per-sample shape {tuple(x.shape[1:])}, but the detector "
                           f"was trained on {tuple(shape)}.")
    if not torch.isfinite(x).all():
        raise BadDataError(f"The {what} contains NaN or infinite values.")
    return x


def batched(fn: Callable[[torch.Tensor], Any], x: torch.Tensor, batch_size: int = 512) -> list:
    """Apply ``fn`` to consecutive batches of ``x`` (inference helper)."""
    return [fn(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
