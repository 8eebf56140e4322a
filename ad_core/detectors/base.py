"""The detector API: a scikit-learn estimator in PyOD's vocabulary (docs/ARCHITECTURE.md, floor 4;
docs/methods.md §1).

``__init__`` only stores parameters, one attribute per :class:`ParamSpec` of the class (``None`` =
the preset's value) plus ``preset``, so ``get_params``/``set_params`` and ``sklearn.base.clone``
work. ``fit(X, y=None, *, X_val=None, negatives=None, monitor=None)`` validates them (raising
:class:`UserError`), trains, and sets fitted attributes ending in ``_``: ``decision_scores_``
(training-normal scores), ``threshold_`` (the (1 − contamination) quantile of validation-normal
scores), ``labels_``, ``history_`` (the flat training record), ``report_`` (a
:class:`~ad_core.contracts.FitReport`) and ``fit_seconds_``. ``decision_function`` returns
anomaly scores, higher = more anomalous; ``predict`` and ``predict_proba`` (PyOD's ``linear`` and
``unify``) follow from it. ``save``/``load`` use safetensors + JSON, never pickle.

A subclass declares ``name``, ``title``, ``paper``, ``modalities``, ``params`` (a tuple of
:class:`ParamSpec`) and ``presets``; implements ``_fit(data, monitor)`` (``data`` is a
:class:`~ad_core.contracts.FitData`), ``_score``, and optionally ``_embed``, ``_explain``; and
serialises its fitted state via ``_state_tensors``/``_state_json`` and ``_restore``. Detectors
never load datasets: what ``fit`` needs beyond the normals comes in through its arguments
(:meth:`Detector.negatives_request` tells the experiment what to pass as ``negatives``).
"""

from __future__ import annotations

import inspect
import json
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator

from ad_core.contracts import (
    Explanation,
    FitData,
    FitReport,
    NegativesRequest,
    NullMonitor,
    ParamSpec,
    Task,
    TrainingMonitor,
    jsonable,
)
from ad_core.errors import BadDataError, BadParameterError, UnknownNameError, did_you_mean

__all__ = ["Detector", "NullMonitor", "ParamSpec", "Task", "TrainingMonitor", "check_input"]


def _estimator_init(names: tuple[str, ...], aliases: dict[str, ParamSpec]) -> Callable[..., None]:
    """An ``__init__`` storing ``preset`` and each parameter as an attribute of the same name, with
    a real signature (keyword-only, default ``None`` = the preset's value) for scikit-learn.

    Older parameter names (``ParamSpec.aliases``: ``{older name: spec}``) are accepted and stored
    under the current name, by the same rule as :meth:`Detector.canonical_params`.
    """

    def __init__(self: Detector, preset: str = "quick", **params: Any) -> None:
        for old, spec in aliases.items():
            if old in params:
                value = params.pop(old)
                if spec.name not in params or spec.older_value_decides(value):
                    params[spec.name] = value
        unknown = [k for k in params if k not in names]
        if unknown:
            raise UnknownNameError(f"{type(self).name} has no parameter {unknown[0]!r}. "
                                   f"{did_you_mean(unknown[0], list(names))}")
        self.preset = preset
        for n in names:
            setattr(self, n, params.get(n))

    sig = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
           inspect.Parameter("preset", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="quick")]
    sig += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None) for n in names]
    __init__.__signature__ = inspect.Signature(sig)  # type: ignore[attr-defined]
    return __init__


class Detector(BaseEstimator):
    """Base class of every anomaly detector. Subclasses document their parameters once, there."""

    name: ClassVar[str] = "base"
    title: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    modalities: ClassVar[tuple[str, ...]] = ("image", "tabular")
    params: ClassVar[tuple[ParamSpec, ...]] = ()
    presets: ClassVar[dict[str, dict[str, Any]]] = {"quick": {}, "paper": {}}
    # Fields of the ``explain`` output (documentation for the app).
    explains: ClassVar[tuple[str, ...]] = ()
    #: A sentence the Scores page shows about the score's meaning ("" = nothing to say).
    score_note: ClassVar[str] = ""
    #: Previews the app can draw beyond ``explain`` (the DAE: ``("augmentations",)``).
    previews: ClassVar[tuple[str, ...]] = ()
    #: What ``attribute(X, method="native")`` shows ("" = no native map; issue 20).
    native_map: ClassVar[str] = ""

    def __init__(self, preset: str = "quick") -> None:
        self.preset = preset

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:
            aliases = {a: p for p in cls.params for a in p.aliases}
            cls.__init__ = _estimator_init(tuple(p.name for p in cls.params), aliases)

    # ----------------------------------------------------------------- parameters
    @classmethod
    def param_spec(cls, name: str) -> ParamSpec:
        for p in cls.params:
            if p.name == name or name in p.aliases:
                return p
        raise UnknownNameError(f"{cls.name} has no parameter {name!r}. "
                               f"{did_you_mean(name, [p.name for p in cls.params])}")

    @classmethod
    def canonical_params(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` with older parameter names and values (a saved run's config) under today's
        (``ParamSpec.aliases``/``value_aliases``). Where an older name is stored beside today's,
        today's wins unless :meth:`~ad_core.contracts.ParamSpec.older_value_decides`."""
        out: dict[str, Any] = {}
        older: dict[str, tuple[ParamSpec, Any]] = {}
        for k, v in values.items():
            try:
                spec = cls.param_spec(k)
            except UnknownNameError:
                out[k] = v
                continue
            if spec.name == k:
                out[k] = spec.canonical_value(v)
            else:
                older[spec.name] = (spec, v)
        for name, (spec, v) in older.items():
            if name not in out or spec.older_value_decides(v):
                out[name] = spec.canonical_value(v)
        return out

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

    @property
    def user_params(self) -> dict[str, Any]:
        """The parameters set explicitly (not ``None``), i.e. what overrides the preset."""
        return {p.name: getattr(self, p.name) for p in self.params
                if getattr(self, p.name, None) is not None}

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

    def preview_params(self, *names: str) -> dict[str, Any]:
        """Parameters as ``fit`` will resolve them, read before ``fit`` (for those that do not
        depend on the dataset, e.g. ``seed``)."""
        base = self.preset_params(self.preset)
        user = self.user_params
        return {n: self.param_spec(n).coerce(user[n]) if n in user else base[n] for n in names}

    def negatives_request(self) -> NegativesRequest | None:
        """What ``fit`` wants as ``negatives`` (LIS-AE's D⁻, Toll's labelled anomalies), or None.

        Read from the current parameters (before ``fit``); the experiment resolves it.
        """
        return None

    # ----------------------------------------------------------------- API
    def fit(self, X: torch.Tensor | np.ndarray, y: Any = None, *,
            X_val: torch.Tensor | np.ndarray | None = None,
            negatives: torch.Tensor | np.ndarray | None = None,
            monitor: TrainingMonitor | None = None, dataset: str | None = None,
            negatives_source: str | None = None, dataset_stats: dict | None = None) -> Detector:
        """Train on the normals ``X``; calibrate the threshold on the normals ``X_val``.

        ``y`` is ignored (unsupervised, as in PyOD). ``X_val`` defaults to ``X``. ``negatives``
        are the extra samples :meth:`negatives_request` asks for. ``dataset`` selects
        dataset-specific paper presets, ``dataset_stats`` the dataset's training-split pixel
        statistics (Toll), ``negatives_source`` a label recorded with the negatives.
        """
        train_x = check_input(X, None, "training data")
        val_x = train_x if X_val is None else check_input(X_val, tuple(train_x.shape[1:]),
                                                          "validation data")
        neg = None if negatives is None else check_input(negatives, None, "negative data")
        modality = "image" if train_x.ndim == 4 else "tabular"
        if train_x.ndim not in (2, 4):
            raise BadDataError("Inputs must be images [N, C, H, W] or tables [N, D], not "
                               f"shape {tuple(train_x.shape)}.")
        if modality not in self.modalities:
            raise BadParameterError(f"{self.title or self.name} works on "
                                    f"{' or '.join(self.modalities)} data, not {modality}.")
        data = FitData(train_x, val_x, modality, dataset, neg, negatives_source, dataset_stats)
        self.params_ = self.resolve_params(dataset, tuple(train_x.shape[1:]))
        self.input_shape_ = tuple(int(s) for s in train_x.shape[1:])
        self.modality_ = modality
        self.contamination_ = float(self.params_.get("contamination", 0.1))
        monitor = monitor or NullMonitor()
        t0 = time.perf_counter()
        self.history_: dict[str, list] = {}
        self._fit(data, monitor)
        self.fit_seconds_ = time.perf_counter() - t0
        self.report_ = FitReport.from_history(self.history_)
        self.decision_scores_ = self.decision_function(train_x)
        val_scores = self.decision_function(val_x)
        self.threshold_ = float(np.quantile(val_scores, 1.0 - self.contamination_))
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)
        self.reference_ = train_x.mean(0).numpy()  # attribute()'s default reference (not saved)
        return self

    def decision_function(self, X: torch.Tensor | np.ndarray) -> np.ndarray:
        """Anomaly score per sample, higher = more anomalous."""
        self._check_fitted()
        x = check_input(X, self.input_shape_, "input")
        return np.asarray(self._score(x), dtype=np.float64)

    def predict(self, X: torch.Tensor | np.ndarray) -> np.ndarray:
        """1 = anomaly (score above ``threshold_``), 0 = normal."""
        return (self.decision_function(X) > self.threshold_).astype(np.int64)

    def predict_proba(self, X: torch.Tensor | np.ndarray, method: str = "linear") -> np.ndarray:
        """``[N, 2]`` probabilities of (normal, anomaly), as PyOD computes them from the training
        scores ``decision_scores_``: ``linear`` = min-max scaling clipped to [0, 1]; ``unify`` =
        erf of the standardised score, clipped to [0, 1] (Kriegel et al. 2011)."""
        from scipy.special import erf

        s = self.decision_function(X)
        train = np.asarray(self.decision_scores_, dtype=np.float64)
        if method == "linear":
            lo, hi = float(train.min()), float(train.max())
            p = (s - lo) / (hi - lo) if hi > lo else np.zeros_like(s)
        elif method == "unify":
            sd = float(train.std())
            p = erf((s - float(train.mean())) / ((sd if sd > 0 else 1.0) * np.sqrt(2)))
        else:
            raise BadParameterError(f"predict_proba method must be 'linear' or 'unify', not "
                                    f"{method!r}.")
        p = np.clip(p, 0.0, 1.0)
        return np.stack([1.0 - p, p], axis=1)

    def embed(self, X: torch.Tensor | np.ndarray) -> np.ndarray:
        """The representation the embedding view projects (flattened input by default)."""
        self._check_fitted()
        x = check_input(X, self.input_shape_, "input")
        return np.asarray(self._embed(x), dtype=np.float32)

    def explain(self, X: torch.Tensor | np.ndarray) -> Explanation:
        """Per-sample artefacts for the views (an :class:`~ad_core.contracts.Explanation`)."""
        self._check_fitted()
        x = check_input(X, self.input_shape_, "input")
        return Explanation.from_arrays(self._explain(x))

    def attribute(self, X: torch.Tensor | np.ndarray, method: str = "auto",
                  reference: torch.Tensor | np.ndarray | None = None, *,
                  window: int | None = None, stride: int | None = None) -> np.ndarray:
        """Why each sample scores as it does: a map shaped like ``X`` (float32), in score units.

        ``auto``/``occlusion``/``ablation``: the drop of ``decision_function`` when an image patch
        (``window`` px, sliding by ``stride``) or a feature is replaced by ``reference`` (one
        input, or one per sample; default the mean training normal ``reference_``) — works for
        every detector. ``native``: the method's own map (``native_map`` says which), or a
        :class:`BadParameterError`. See :mod:`ad_core.detectors.attribution`."""
        from ad_core.detectors.attribution import attribute

        self._check_fitted()
        x = check_input(X, self.input_shape_, "input")
        return attribute(self, x, method, reference, window=window, stride=stride)

    # ----------------------------------------------------------------- to override
    def _fit(self, data: FitData, monitor: TrainingMonitor) -> None:
        raise NotImplementedError

    def _score(self, x: torch.Tensor) -> np.ndarray:
        raise NotImplementedError

    def _embed(self, x: torch.Tensor) -> np.ndarray:
        return x.reshape(len(x), -1).numpy()

    def _explain(self, x: torch.Tensor) -> dict[str, Any]:
        return {}

    def _interim_state(self, train_x: torch.Tensor) -> list[str]:
        """Give a detector *in the middle of training* the fitted state its ``_score`` reads but
        ``_fit`` only builds after training, made from ``train_x`` (a small sample of training
        normals) the way ``_fit`` makes it; returns the attribute names added, which the caller
        removes again (training snapshots, :mod:`ad_core.snapshots`). Nothing by default."""
        return []

    def _native_attribution(self, x: torch.Tensor, ref: torch.Tensor | None) -> np.ndarray | None:
        """The method's own map ``[N, *shape]`` (``native_map`` names it), or None."""
        return None

    def extra_scores(self, task: Task, negatives: torch.Tensor | None = None
                     ) -> dict[str, np.ndarray]:
        """Extra score arrays a run stores beside the test scores, e.g. the DAE's scores of
        augmented training images (``augmented``) or LIS-AE's phase-1 test scores
        (``phase1_test``). Keys become ``extra_<key>`` in ``scores.npz``. ``negatives`` are the
        ones ``fit`` received."""
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

    def state_meta(self) -> dict[str, Any]:
        """The JSON half of :meth:`save` (config and fitted scalars)."""
        self._check_fitted()
        return jsonable({
            "detector": self.name, "preset": self.preset, "user_params": self.user_params,
            "params": self.params_, "input_shape": list(self.input_shape_),
            "modality": self.modality_, "threshold": self.threshold_,
            "contamination": self.contamination_, "fit_seconds": self.fit_seconds_,
            "history": self.history_, "state": self._state_json(),
        })

    def save(self, directory: str | Path) -> None:
        """Write ``detector.json`` (config + fitted scalars) and ``weights.safetensors``."""
        from safetensors.torch import save_file

        meta = self.state_meta()
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        save_file(self.state_tensors(), str(d / "weights.safetensors"))
        (d / "detector.json").write_text(json.dumps(meta, indent=1))

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The tensor half of :meth:`save`: fitted weights, detached, on the CPU."""
        self._check_fitted()
        return {k: v.detach().cpu().contiguous() for k, v in self._state_tensors().items()}

    @classmethod
    def from_state(cls, meta: Mapping[str, Any], tensors: dict[str, torch.Tensor]) -> Detector:
        """A fitted detector from :meth:`state_meta` and :meth:`_state_tensors` output (runs
        written by earlier versions too: older parameter names are read as today's)."""
        det = cls(preset=meta["preset"], **cls.canonical_params(meta.get("user_params") or {}))
        params = {k: (float(v) if v in ("inf", "-inf") else v) for k, v in meta["params"].items()}
        det.params_ = {**cls.preset_params(meta["preset"]), **cls.canonical_params(params)}
        det.input_shape_ = tuple(meta["input_shape"])
        det.modality_ = meta["modality"]
        det.threshold_ = float(meta.get("threshold", math.nan))
        det.contamination_ = float(meta.get("contamination", 0.1))
        det.fit_seconds_ = float(meta.get("fit_seconds", 0.0))
        det.history_ = dict(meta.get("history") or {})
        det.report_ = FitReport.from_history(det.history_)
        det._restore(tensors, dict(meta.get("state") or {}))
        return det

    @classmethod
    def load(cls, directory: str | Path) -> Detector:
        """Rebuild a saved detector; it returns exactly the scores it returned before saving."""
        from safetensors.torch import load_file

        d = Path(directory)
        meta = json.loads((d / "detector.json").read_text())
        if cls is Detector:  # the class named in detector.json (its module is imported)
            cls = _subclass_named(meta["detector"])
        return cls.from_state(meta, load_file(str(d / "weights.safetensors")))


def _subclass_named(name: str) -> type[Detector]:
    todo, seen = list(Detector.__subclasses__()), set()
    while todo:
        c = todo.pop()
        if c in seen:
            continue
        seen.add(c)
        if c.name == name and "name" in c.__dict__:
            return c
        todo += c.__subclasses__()
    raise UnknownNameError(f"No detector class {name!r} is loaded: use "
                           "ad_core.detectors.load_detector(path), which imports it.")


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
