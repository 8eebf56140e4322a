"""The ground floor (docs/ARCHITECTURE.md, floor 0): the records every other layer agrees on.

- :class:`ParamSpec` — one hyperparameter of a detector or an augmentation;
- :class:`TrainingMonitor` (and :class:`NullMonitor`) — how the training loop reports progress;
- :class:`Task` — one train/validation/test split (built by :mod:`ad_core.tasks`);
- :class:`NegativesRequest` — which negative / labelled-anomaly data a detector's ``fit`` wants
  (resolved by :mod:`ad_core.experiment`, never by the detector);
- :class:`Explanation` — what ``Detector.explain`` returns, each field optional;
- :class:`FitReport` — what training produced: losses per step and epoch, phases, cancellation,
  the selected checkpoint.

This module imports nothing from ``ad_core`` but :mod:`ad_core.errors`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:  # annotations only: the ground floor does not import torch
    import torch

from ad_core.errors import BadParameterError, did_you_mean

# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class ParamSpec:
    """One hyperparameter: its type, range or choices, default and a help line from the paper.

    ``kind`` is ``int``, ``float``, ``bool``, ``choice`` or ``str``; ``low``/``high`` bound numbers
    (inclusive); ``log`` suggests a log-scale widget; ``choices`` lists allowed values;
    ``aliases`` are older names of the same parameter that saved runs and configs may still use,
    ``value_aliases`` older spellings of its values (``(("standard", "features"),)``): the one
    mechanism by which a renamed parameter's old runs still load (read by
    :meth:`ad_core.detectors.base.Detector.canonical_params` and the estimators' ``__init__``).
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
    aliases: tuple[str, ...] = ()
    value_aliases: tuple[tuple[str, str], ...] = ()

    def canonical_value(self, value: Any) -> Any:
        """``value`` with an older spelling (``value_aliases``) replaced by today's."""
        return dict(self.value_aliases).get(value, value) if isinstance(value, str) else value

    def older_value_decides(self, value: Any) -> bool:
        """Whether ``value``, stored under an older name, overrides the value stored under
        today's name beside it. Both appear together only where two older parameters became this
        one (Toll's ``select`` best/last and ``selection`` val_loss/labelled_val): the older one
        decides unless it means this parameter's default, which says nothing today's name does
        not (``selection=val_loss`` beside ``select=last`` is ``last``)."""
        return self.canonical_value(value) != self.default

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` (maybe a CLI string) to this type and check the range."""
        value = self.canonical_value(value)
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


def jsonable(v: Any) -> Any:
    """``v`` with numpy scalars, infinities, tuples and non-string keys made JSON-safe."""
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    return v


# --------------------------------------------------------------------------- training progress


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


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Task:
    """One train/validation/test split for anomaly detection (built by :mod:`ad_core.tasks`).

    ``train_x`` holds normals only, ``val_x`` held-out normals; ``test_y`` is 1 for anomalies;
    ``test_kind`` names each test item's kind ("normal", the anomaly's class name, or the anomaly
    generator's name); ``test_index`` is the item's row in the dataset (or the row of the normal
    image it was generated from); ``test_class`` its class id. ``negatives_x`` are LIS-AE's
    negatives when the protocol has them; ``dataset_stats`` the dataset's training-split pixel
    statistics (Toll's standardisation).
    """

    kind: str
    dataset: str
    modality: str
    normal: tuple[str, ...]
    train_x: torch.Tensor
    val_x: torch.Tensor
    test_x: torch.Tensor
    test_y: np.ndarray
    test_kind: np.ndarray
    test_index: np.ndarray
    test_class: np.ndarray
    seed: int
    description: str
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] | None = None
    negatives_x: torch.Tensor | None = None
    negatives_source: str | None = None
    train_index: np.ndarray | None = None
    options: dict = field(default_factory=dict)
    dataset_stats: dict | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train_x.shape[1:])

    @property
    def contamination(self) -> float:
        """Fraction of anomalies in the test set."""
        return float(np.mean(self.test_y))

    def spec(self) -> dict:
        """JSON-able description sufficient to rebuild this task with ``tasks.build_task``."""
        return {"kind": self.kind, "dataset": self.dataset, "normal": list(self.normal),
                "seed": self.seed, "options": dict(self.options)}


#: What :class:`NegativesRequest.kind` may ask for.
NEGATIVE_KINDS = ("task-or-strokes", "strokes", "augmented-normals", "labelled-anomalies")


@dataclass(frozen=True)
class NegativesRequest:
    """The extra data a detector's ``fit(..., negatives=...)`` needs, as the experiment resolves it.

    ``task-or-strokes``: the task's negatives, else the generated stroke/glyph set (LIS-AE);
    ``strokes``: always the stroke/glyph set; ``augmented-normals``: heavily augmented copies of
    the normals; ``labelled-anomalies``: ``n`` labelled anomalies from the dataset's training
    split, never the test set (Toll's ``labelled_val`` checkpoint selection). ``seed`` makes the
    draw deterministic.
    """

    kind: str
    seed: int = 0
    n: int = 0


@dataclass(frozen=True)
class FitData:
    """What a detector's ``fit`` received, as the detector's private training code reads it."""

    train_x: torch.Tensor
    val_x: torch.Tensor
    modality: str
    dataset: str | None = None
    negatives_x: torch.Tensor | None = None
    negatives_source: str | None = None
    dataset_stats: dict | None = None


# --------------------------------------------------------------------------- explanations


@dataclass
class Explanation:
    """Per-sample artefacts of ``Detector.explain(x)`` (docs/ARTIFACTS.md); every field is optional.

    Pages ask :meth:`has` / :meth:`available` what exists instead of branching on detector names.
    ``score_terms`` ``[N, T]`` aggregate to ``decision_function`` by ``score_aggregation``
    (``sum`` or ``mean``); ``extra`` holds detector-specific arrays (LIS-AE's phase-1
    reconstructions). It reads like a mapping (``ex["latent"]``, ``"views" in ex``) and is
    stored in a run's ``explain.npz`` as its :meth:`to_arrays`.
    """

    reconstruction: np.ndarray | None = None
    error_map: np.ndarray | None = None
    latent: np.ndarray | None = None
    latent_norm: np.ndarray | None = None
    score_terms: np.ndarray | None = None
    score_term_names: np.ndarray | None = None
    score_aggregation: np.ndarray | None = None
    views: np.ndarray | None = None
    view_names: np.ndarray | None = None
    view_confidence: np.ndarray | None = None
    masks: np.ndarray | None = None
    softmax: np.ndarray | None = None
    embeddings: np.ndarray | None = None
    index: np.ndarray | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "extra")

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any]) -> Explanation:
        """Rebuild from a dict of arrays (``explain()`` output or a run's ``explain.npz``)."""
        known = set(cls.field_names())
        kw = {k: v for k, v in arrays.items() if k in known}
        return cls(**kw, extra={k: v for k, v in arrays.items() if k not in known})

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every present field (and ``extra``) by name."""
        out = {k: getattr(self, k) for k in self.field_names() if getattr(self, k) is not None}
        out.update(self.extra)
        return out

    def available(self) -> tuple[str, ...]:
        """Names of the fields that are present."""
        return tuple(self.to_arrays())

    def has(self, *names: str) -> bool:
        """Whether every one of ``names`` is present."""
        present = self.available()
        return all(n in present for n in names)

    @property
    def aggregation(self) -> str:
        """How ``score_terms`` combine into the score: ``sum`` or ``mean``."""
        return str(self.score_aggregation) if self.score_aggregation is not None else "sum"

    def aggregated_terms(self) -> np.ndarray:
        """The documented aggregation of ``score_terms``: equals ``decision_function``."""
        if self.score_terms is None:
            raise BadParameterError("This explanation has no score terms.")
        t = np.asarray(self.score_terms, dtype=np.float64)
        return t.mean(1) if self.aggregation == "mean" else t.sum(1)

    # mapping-style reading, so callers can write ex["latent"], "views" in ex, ex.get(...)
    def __getitem__(self, key: str) -> np.ndarray:
        arrays = self.to_arrays()
        if key not in arrays:
            raise KeyError(key)
        return arrays[key]

    def __contains__(self, key: object) -> bool:
        return key in self.to_arrays()

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_arrays())

    def __len__(self) -> int:
        return len(self.to_arrays())

    def keys(self):
        return self.to_arrays().keys()

    def items(self):
        return self.to_arrays().items()

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_arrays().get(key, default)


# --------------------------------------------------------------------------- training reports


@dataclass(frozen=True)
class PhaseReport:
    """One training phase (``""`` for single-phase detectors, ``phase1``/``phase2`` for LIS-AE)."""

    name: str
    steps: tuple[int, ...] = ()
    losses: tuple[float, ...] = ()
    val_steps: tuple[int, ...] = ()
    val: tuple[float, ...] = ()
    best_step: int | None = None
    cancelled: bool = False
    steps_per_epoch: int | None = None
    curves: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def epoch_losses(self) -> tuple[float, ...]:
        """Mean training loss per epoch (needs ``steps_per_epoch``; empty otherwise)."""
        if not self.steps_per_epoch or not self.losses:
            return ()
        k = int(self.steps_per_epoch)
        return tuple(float(np.mean(self.losses[i:i + k])) for i in range(0, len(self.losses), k))


_LOOP_KEYS = ("step", "loss", "val_step", "val", "best_step", "cancelled", "steps_per_epoch")


@dataclass(frozen=True)
class FitReport:
    """What training produced, read from the detector's flat ``history_`` record.

    ``phases`` in training order, ``select`` the checkpoint rule where the detector records one
    (Toll: ``best``, ``last`` or ``labelled_val``; runs older than issue 19 recorded it as
    ``selection`` and their rule is in their parameters); ``cancelled`` is True when any phase was
    stopped.
    ``history`` is the flat record itself (``<phase>_loss`` … keys), as saved in runs.
    """

    phases: tuple[PhaseReport, ...] = ()
    select: str | None = None
    history: dict[str, list] = field(default_factory=dict)

    @property
    def cancelled(self) -> bool:
        return any(p.cancelled for p in self.phases)

    @property
    def selected_step(self) -> int | None:
        """The checkpoint kept by the last phase (its step number)."""
        return self.phases[-1].best_step if self.phases else None

    def phase(self, name: str) -> PhaseReport:
        for p in self.phases:
            if p.name == name:
                return p
        raise KeyError(name)

    @classmethod
    def from_history(cls, history: Mapping[str, Any] | None) -> FitReport:
        """Parse a flat history (``loss``, ``phase1_loss``, ``val_step`` …; old runs too)."""
        h = dict(history or {})
        prefixes = sorted({k[:-len("loss")] for k in h if k.endswith("loss") and
                           (k == "loss" or k.endswith("_loss"))
                           and f"{k[:-len('loss')]}step" in h},
                          key=lambda p: (p != "", p))
        phases = []
        for pre in prefixes:
            def get(key: str, pre: str = pre) -> list:
                v = h.get(pre + key)
                return list(v) if isinstance(v, (list, tuple)) else []
            best = get("best_step")
            spe = get("steps_per_epoch")
            curves = {k[len(pre):]: tuple(float(x) for x in v) for k, v in h.items()
                      if k.startswith(pre) and k[len(pre):] not in _LOOP_KEYS
                      and not any(k.startswith(q) for q in prefixes if len(q) > len(pre))
                      and isinstance(v, list) and v and all(isinstance(x, (int, float))
                                                             and not isinstance(x, bool) for x in v)}
            phases.append(PhaseReport(
                name=pre[:-1] if pre else "", steps=tuple(int(s) for s in get("step")),
                losses=tuple(float(x) for x in get("loss")),
                val_steps=tuple(int(s) for s in get("val_step")),
                val=tuple(float(x) for x in get("val")),
                best_step=int(best[-1]) if best else None,
                cancelled=bool(get("cancelled") and get("cancelled")[-1] is True),
                steps_per_epoch=int(spe[-1]) if spe else None, curves=curves))
        sel = h.get("select")
        return cls(tuple(phases), str(sel[-1]) if isinstance(sel, list) and sel else None, h)
