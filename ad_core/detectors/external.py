"""Bring your own detector (issue 22): any PyOD detector, any scikit-learn outlier estimator, or
your own class, behind the project's estimator contract (:class:`~ad_core.detectors.base.Detector`).

Names (accepted wherever a registered name is: :func:`ad_core.detectors.get_detector_class`,
``make_detector``, the CLI's ``train``/``bench``, ``ExperimentSpec.detector``):

- ``pyod:ECOD``, ``pyod:DeepSVDD``, … — a PyOD detector (the optional extra: ``pip install
  anomaly-lab[pyod]``); its ``decision_function`` is already higher = more anomalous;
- ``sklearn:IsolationForest``, ``sklearn:LocalOutlierFactor`` (always ``novelty=True``),
  ``sklearn:OneClassSVM``, ``sklearn:SGDOneClassSVM``, ``sklearn:EllipticEnvelope`` — score =
  ``-score_samples`` (scikit-learn scores normality);
- ``module.path:ClassName`` — your own class with ``fit(X)`` and ``decision_function(X)``
  (docs/own_detector.md). The module is imported from ``sys.path`` with the current working
  directory appended, so ``python -m ad_core train --detector examples.my_detector:MyDetector`` run
  from the clone finds ``examples/my_detector.py``.

:func:`external_class` turns a name into a :class:`ExternalDetector` subclass whose ``params``
(:class:`~ad_core.contracts.ParamSpec`) are read from the estimator's ``__init__`` signature and
defaults (numbers, integers, booleans, choices — from scikit-learn's parameter constraints, a
``Literal`` annotation or a ``{'a', 'b'}`` set in the docstring — and anything else as text that the
estimator validates; :mod:`ad_core.detectors.external_params`); :func:`external_catalogue` lists
what is installed. Names are parsed and classes found by :mod:`ad_core.detectors.external_names`.

The adapter flattens images (unless the class says ``takes_images = True``), standardises table
columns (``preprocess``, as the classical baselines), passes our ``seed`` as ``random_state`` and our
``contamination`` through, makes the score higher = more anomalous, calibrates ``threshold_`` on
validation normals like every native detector (``Detector.fit``), embeds = the input features
(or your class's own ``embed(X)``) and explains nothing (an empty
:class:`~ad_core.contracts.Explanation`; ``score_note`` and ``cannot_show`` say so). An estimator
whose score of a row depends on the other rows of the batch (PyOD's ECOD and COPOD recompute their
ECDFs on training data + batch) is detected after ``fit`` and asked one row at a time
(``per_row_``), so every score is the score of that input alone.

Saving never pickles: training inputs and scores go to safetensors, the configuration to JSON;
loading refits with the recorded seed and checks the saved training scores are reproduced, else
raises :class:`~ad_core.errors.DetectorUnavailableError` (the run's saved scores still open;
:meth:`ad_core.runs.Run.detector_problem` says why before any refit). Anything an external
estimator raises becomes one :class:`~ad_core.errors.ExternalDetectorError` line naming the file
and line that raised (your own file's line for your class), never a traceback.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import random
import re
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ad_core.contracts import FitData, TrainingMonitor
from ad_core.detectors.base import Detector
from ad_core.detectors.external_names import (
    PYOD_HINT,
    SKLEARN_OUTLIERS,
    ExternalName,
    code_identity,
    estimator_class,
    guarded,
    is_external,
    parse_name,
    pyod_index,
    pyod_installed,
    require_pyod,
)
from ad_core.detectors.external_params import (
    DATA_ARGS,
    Plan,
    check_usable,
    plan_for,
    score_rule_of,
    text_value,
)
from ad_core.errors import DetectorUnavailableError, ExternalDetectorError, UserError

#: Largest |refit − saved| training-score difference, relative to the scores' scale, at which a
#: refitted estimator counts as the saved one (float sums may reorder across thread counts).
RESTORE_RTOL = 1e-4


# --------------------------------------------------------------------------- the adapter
class ExternalDetector(Detector):
    """The adapter's base: one subclass per external name, made by :func:`external_class`."""

    name = "external"
    modalities = ("image", "tabular")
    explains: ClassVar[tuple[str, ...]] = ()
    presets: ClassVar = {"quick": {}, "paper": {}}
    #: ``pyod``, ``sklearn`` or ``user``
    source: ClassVar[str] = ""
    estimator: ClassVar[type | None] = None
    #: see :func:`_score_rule`
    score_rule: ClassVar[str] = "decision_function"
    #: the estimator takes ``[N, C, H, W]`` images as they are (class attribute ``takes_images``)
    takes_images: ClassVar[bool] = False
    plan: ClassVar[Plan] = Plan((), ())
    #: :func:`code_identity` when the class was made
    identity: ClassVar[str] = ""
    #: True for every external detector (the views' way to say "an outside estimator")
    external: ClassVar[bool] = True
    #: What the views cannot show for it, in one sentence.
    cannot_show: ClassVar[str] = ("An external estimator gives a score only: no reconstructions, "
                                  "error maps, score terms or latent space; the embedding is its "
                                  "input features.")

    def _roots(self) -> set[str]:
        cls = type(self).estimator
        if type(self).source == "user":
            with contextlib.suppress(TypeError, OSError):
                return {os.path.realpath(inspect.getsourcefile(cls) or "")}
            return set()
        mod = sys.modules.get(type(self).source)
        return {os.path.dirname(os.path.realpath(mod.__file__))} if mod and mod.__file__ else set()

    def _guard(self, what: str) -> contextlib.AbstractContextManager[None]:
        return guarded(self.name, what, self._roots())

    # ---------------------------------------------------------------- estimator
    def estimator_kwargs(self, p: dict[str, Any], features: np.ndarray) -> dict[str, Any]:
        """The keyword arguments the estimator is built with, from resolved parameters ``p``."""
        plan = type(self).plan
        kw: dict[str, Any] = {}
        for n in plan.passed:
            v = p[n]
            kw[n] = text_value(v) if self.param_spec(n).kind == "str" else v
        for ours, theirs in plan.mapped.items():
            kw[theirs] = p[ours]
        for n in plan.data_args:
            kw[n] = DATA_ARGS[n](features)
        kw.update(plan.fixed)
        return kw

    def _new_estimator(self, features: np.ndarray) -> Any:
        kw = self.estimator_kwargs(self.params_, features)
        with self._guard("being constructed with " + ", ".join(f"{k}={v!r}" for k, v in kw.items())):
            return type(self).estimator(**kw)

    @contextlib.contextmanager
    def _seeded(self) -> Iterator[None]:
        """Global numpy/random/torch generators seeded for the call (for classes that draw from
        them without a ``random_state``), restored afterwards."""
        seed = int(self.params_.get("seed", 0))
        np_state, py_state, t_state = np.random.get_state(), random.getstate(), torch.get_rng_state()
        np.random.seed(seed % 2**32)
        random.seed(seed)
        torch.manual_seed(seed)
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)
            torch.set_rng_state(t_state)

    def _features(self, x: torch.Tensor) -> np.ndarray:
        if type(self).takes_images and x.ndim == 4:
            return x.numpy().astype(np.float32)
        f = x.reshape(len(x), -1).numpy().astype(np.float64)
        return (f - self.mean_) / self.scale_

    def _fit_estimator(self, train_x: torch.Tensor) -> None:
        p = self.params_
        f = train_x.reshape(len(train_x), -1).numpy().astype(np.float64)
        std = p["preprocess"] == "features" or (p["preprocess"] == "auto"
                                                and train_x.ndim == 2)
        sd = f.std(0)
        self.mean_ = f.mean(0) if std else np.zeros(f.shape[1])
        self.scale_ = np.where(sd > 1e-8, sd, 1.0) if std else np.ones(f.shape[1])
        feats = self._features(train_x)
        est = self._new_estimator(feats.reshape(len(feats), -1))
        with self._seeded(), self._guard("fitting"):
            out = est.fit(feats)
        self.estimator_ = out if out is not None and hasattr(out, "fit") else est
        self.train_x_ = train_x
        self._probe(feats)

    def _probe(self, feats: np.ndarray) -> None:
        """How to score an input on its own. ``per_row_``: the estimator scores a row differently
        alone than in a batch (PyOD's ECOD/COPOD recompute ECDFs on training data + batch), so it
        is asked one row at a time and the threshold, saved test scores and the Sample page's one
        input stay comparable. ``pad_``: a training row appended to a single row for one that
        fails on a single row but scores batches consistently (PyOD's AE1SVM). One that can do
        neither (PyOD's COF scores a batch among itself) is refused: ExternalDetectorError."""
        self.per_row_, self.pad_ = False, None
        probe = feats[: min(64, len(feats))]
        k = min(4, len(probe))
        batch = self._raw(probe)[:k]

        def same(a: np.ndarray) -> bool:
            return bool(np.allclose(a, batch, rtol=1e-6, atol=1e-9 * (1.0 + np.abs(batch).max())))

        def alone() -> np.ndarray:
            return np.concatenate([self._raw(probe[i:i + 1]) for i in range(k)])

        refuse = (f"{self.name} cannot score an input on its own: its score of a row depends on "
                  "the other rows scored with it ({}); Anomaly Lab scores every input against "
                  "the training normals only")
        try:
            single = alone()
        except ExternalDetectorError as e:
            if len(feats) < 2:
                raise
            self.pad_ = feats[-1:]
            try:
                padded = alone()
            except ExternalDetectorError:
                padded = np.full(k, np.nan)
            if not same(padded):
                raise ExternalDetectorError(refuse.format(f"and one row alone fails: {e}")) from None
            return
        if same(single):
            return
        if np.ptp(single) == 0 and np.ptp(batch) > 0:
            raise ExternalDetectorError(refuse.format("alone, every input gets the same score"))
        self.per_row_ = True

    def _fit(self, data: FitData, monitor: TrainingMonitor) -> None:
        monitor.on_start(1)
        try:
            self._fit_estimator(data.train_x)
            monitor.on_step(1, 0.0)
        finally:
            monitor.on_end()

    def _raw(self, f: np.ndarray) -> np.ndarray:
        """The estimator's own scores of features ``f`` (one call per row when
        ``per_row_``), checked: one finite number per row."""
        method = type(self).score_rule.lstrip("-")
        score = getattr(self.estimator_, method)
        pad = getattr(self, "pad_", None)

        def fn(rows: np.ndarray) -> np.ndarray:
            if pad is not None and len(rows) < 2:
                return np.asarray(score(np.concatenate([rows, pad])), np.float64).reshape(-1)[:1]
            return np.asarray(score(rows), np.float64).reshape(-1)

        with self._seeded(), self._guard(f"scoring ({method})"):
            raw = (np.concatenate([fn(f[i:i + 1]) for i in range(len(f))])
                   if getattr(self, "per_row_", False) else fn(f))
        s = np.asarray(raw, dtype=np.float64).reshape(-1)
        if s.shape != (len(f),):
            raise ExternalDetectorError(f"{self.name}'s {method} returned {s.size} scores for "
                                        f"{len(f)} inputs; it must return one number per input.")
        if not np.isfinite(s).all():
            raise ExternalDetectorError(f"{self.name}'s {method} returned NaN or infinite scores "
                                        f"for {int((~np.isfinite(s)).sum())} of {len(f)} inputs.")
        return s

    def _score(self, x: torch.Tensor) -> np.ndarray:
        s = self._raw(self._features(x))
        return -s if type(self).score_rule.startswith("-") else s

    def _embed(self, x: torch.Tensor) -> np.ndarray:
        fn = getattr(self.estimator_, "embed", None) if type(self).source == "user" else None
        if callable(fn):  # your class's own representation
            with self._seeded(), self._guard("embedding"):
                return np.asarray(fn(self._features(x)), dtype=np.float32).reshape(len(x), -1)
        return self._features(x).reshape(len(x), -1).astype(np.float32)

    def _explain(self, x: torch.Tensor) -> dict[str, Any]:
        return {}

    # ---------------------------------------------------------------- persistence
    def _state_tensors(self) -> dict[str, torch.Tensor]:
        return {"train_x": self.train_x_.contiguous(), "mean": torch.from_numpy(self.mean_),
                "scale": torch.from_numpy(self.scale_),
                "train_scores": torch.from_numpy(np.asarray(self.decision_scores_, np.float64))}

    def _state_json(self) -> dict[str, Any]:
        est = type(self).estimator
        return {"estimator": f"{est.__module__}:{est.__qualname__}", "source": type(self).source,
                "identity": type(self).identity, "score_rule": type(self).score_rule,
                "takes_images": type(self).takes_images, "per_row": bool(self.per_row_),
                "pad": self.pad_ is not None,
                "restore": "refit"}

    def _restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Refit on the saved training inputs with the saved parameters and seed; the refit must
        reproduce the saved training scores."""
        self.decision_scores_ = tensors["train_scores"].numpy()
        train_x = tensors["train_x"]
        self._fit_estimator(train_x)
        self.mean_ = tensors["mean"].numpy()  # the saved ones (equal, unless the data drifted)
        self.scale_ = tensors["scale"].numpy()
        again = self._score(train_x)
        saved = self.decision_scores_
        scale = float(np.abs(saved).max()) if saved.size else 0.0
        gap = float(np.abs(again - saved).max()) if saved.size else 0.0
        if gap > RESTORE_RTOL * (1.0 + scale):
            raise DetectorUnavailableError(
                f"refitting {self.name} did not reproduce the saved training scores (largest "
                f"difference {gap:.3g} on scores up to {scale:.3g}): the estimator is not "
                "deterministic under its seed, or its code or package version changed")
        self.restored_gap_ = gap


# --------------------------------------------------------------------------- classes
_CLASSES: dict[tuple[str, str], type[ExternalDetector]] = {}


def _title(cls: type, n: ExternalName) -> tuple[str, str, str]:
    """(title, summary, paper) for the app."""
    doc = inspect.getdoc(cls) or ""
    first = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    paper = ""
    if n.source == "pyod":
        with contextlib.suppress(Exception):
            kb = Path(require_pyod()) / "utils" / "knowledge" / "algorithms.json"
            info = json.loads(kb.read_text()).get(n.cls, {})
            first = info.get("full_name") or first
            paper = str((info.get("paper") or {}).get("short") or "")
        return f"{n.cls} (PyOD)", first[:200], paper
    if n.source == "sklearn":
        return f"{n.cls} (scikit-learn)", first[:200], paper
    return f"{n.cls} (your class, {n.module})", first[:200], paper


def external_class(name: str) -> type[ExternalDetector]:
    """The :class:`ExternalDetector` subclass for ``name`` (made once per name and, for your own
    class, per version of its source file). Raises :class:`UnknownNameError` (with the nearest
    names), :class:`DetectorUnavailableError` (package missing, with how to add it),
    :class:`BadParameterError` (unusable class) or :class:`ExternalDetectorError` (its module
    raised on import)."""
    est, n = estimator_class(name)
    identity = code_identity(n.name)
    key = (n.name, identity)
    if key in _CLASSES and _CLASSES[key].estimator is est:
        return _CLASSES[key]
    check_usable(est, n.name)
    plan = plan_for(est, n.name)
    rule = score_rule_of(est, n.source)
    title, summary, paper = _title(est, n)
    verbose = next((s for s in plan.specs if s.name == "verbose"), None)
    quiet = {"verbose": False if verbose.kind == "bool" else 0} if verbose and verbose.kind in (
        "int", "bool") else {}
    how = {"decision_function": "its decision_function as it is",
           "-decision_function": "its decision_function negated (it scores normality)",
           "score_samples": "its score_samples as it is",
           "-score_samples": "its score_samples negated (scikit-learn scores normality)"}[rule]
    note = (f"{n.name} ({identity}): the score is {how}, higher = more anomalous. "
            + ExternalDetector.cannot_show)
    safe = re.sub(r"\W", "_", n.name)
    ns = {"name": n.name, "title": title, "summary": summary, "paper": paper,
          "params": plan.specs, "presets": {"quick": dict(quiet), "paper": dict(quiet)},
          "source": n.source, "estimator": est, "score_rule": rule,
          "takes_images": bool(getattr(est, "takes_images", False)), "plan": plan,
          "identity": identity, "score_note": note, "__module__": __name__,
          "__qualname__": f"External_{safe}",
          "__doc__": f"{title}: {summary} (adapter made by ad_core.detectors.external)."}
    made = type(f"External_{safe}", (ExternalDetector,), ns)
    _CLASSES[key] = made
    return made


# --------------------------------------------------------------------------- loading runs
def restore_problem(meta: dict[str, Any]) -> str:
    """Why the external detector a run saved (its ``detector.json``) cannot be rebuilt here, in
    one sentence, read without refitting or running its code: package missing, your module
    missing or its source changed since training. ``""`` when nothing says so (the refit on load
    may still find that the scores differ)."""
    name = str(meta.get("detector", ""))
    state = meta.get("state") or {}
    try:
        n = parse_name(name)
        now = code_identity(name)
    except UserError as e:
        return f"The estimator {name} of this run is not available here: {e}"
    if n.source == "pyod" and not pyod_installed():
        return f"PyOD, which trained this run's {name}, is not installed here: {PYOD_HINT}."
    then = str(state.get("identity", ""))
    if n.source == "user" and then and then != now:
        return (f"The source of {name} changed since this run was trained ({then.split()[-1]} → "
                f"{now.split()[-1]}), so its estimator is not rebuilt; the saved scores show.")
    return ""


def load_external(directory: str | Path) -> ExternalDetector:
    """A saved external detector, refitted and checked (:meth:`ExternalDetector._restore`);
    :class:`DetectorUnavailableError` with the reason when that is not possible."""
    from safetensors.torch import load_file

    d = Path(directory)
    meta = json.loads((d / "detector.json").read_text())
    name = str(meta.get("detector"))
    problem = restore_problem(meta)
    if problem:
        raise DetectorUnavailableError(problem)
    try:
        cls = external_class(name)
        return typing.cast(ExternalDetector,
                           cls.from_state(meta, load_file(str(d / "weights.safetensors"))))
    except DetectorUnavailableError as e:
        raise DetectorUnavailableError(f"This run's estimator {name} cannot be restored: {e}. "
                                       "Its saved scores, metrics and inputs still show.") from None
    except UserError as e:
        raise DetectorUnavailableError(f"This run's estimator {name} cannot be restored ({e}); "
                                       "its saved scores, metrics and inputs still show.") from None


# --------------------------------------------------------------------------- the catalogue
#: The listing's type of each ParamSpec kind.
PARAM_TYPES = {"float": "number", "int": "int", "bool": "bool", "choice": "choice", "str": "text"}


@dataclass(frozen=True)
class ExternalParam:
    """One parameter as the Train page's "More detectors" section shows it. ``type`` is
    ``number``, ``int``, ``bool``, ``choice`` or ``text`` (text: a Python literal or a plain
    string, validated by the estimator when it is built)."""

    name: str
    type: str
    default: Any
    help: str = ""
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    advanced: bool = False


@dataclass(frozen=True)
class ExternalInfo:
    """One installed external detector: its name for ``--detector``, where it comes from, its
    title and one line about it, and its parameters (from its signature and defaults)."""

    name: str
    source: str
    title: str
    summary: str
    package: str
    params: tuple[ExternalParam, ...]
    score_note: str = ""


@dataclass(frozen=True)
class ExternalCatalogue:
    """:func:`external_catalogue`'s answer: what can be trained (``detectors``), what was found
    but cannot be (``unavailable``: name → why, e.g. a missing package), and whether PyOD is
    installed (``install_hint`` says how to add it)."""

    detectors: dict[str, ExternalInfo]
    unavailable: dict[str, str]
    pyod_installed: bool
    install_hint: str = PYOD_HINT


def describe_params(cls: type[Detector]) -> tuple[ExternalParam, ...]:
    """A detector class's parameters in the listing's terms (works for native ones too)."""
    return tuple(ExternalParam(p.name, PARAM_TYPES.get(p.kind, "text"), p.default, p.help,
                               p.choices, p.low, p.high, p.advanced) for p in cls.params)


def _info(cls: type[ExternalDetector]) -> ExternalInfo:
    return ExternalInfo(cls.name, cls.source, cls.title, cls.summary, cls.identity,
                        describe_params(cls), cls.score_note)


@lru_cache(maxsize=1)
def _catalogue() -> ExternalCatalogue:
    names = [f"sklearn:{c}" for c in SKLEARN_OUTLIERS]
    have_pyod = pyod_installed()
    if have_pyod:
        names += [f"pyod:{c}" for c in pyod_index()]
    found: dict[str, ExternalInfo] = {}
    missing: dict[str, str] = {}
    for n in names:
        try:
            found[n] = _info(external_class(n))
        except UserError as e:
            missing[n] = str(e)
    return ExternalCatalogue(found, missing, have_pyod)


def external_catalogue(refresh: bool = False) -> ExternalCatalogue:
    """Every installed external detector (scikit-learn's outlier estimators, then PyOD's tabular
    ones) with its parameters read from the signature and defaults. Imports each PyOD model once
    (about 2 s), then cached per process (``refresh=True`` looks again). Not your own classes."""
    if refresh:
        _catalogue.cache_clear()
        pyod_index.cache_clear()
    return _catalogue()


__all__ = ["PARAM_TYPES", "PYOD_HINT", "SKLEARN_OUTLIERS", "ExternalCatalogue", "ExternalDetector",
           "ExternalInfo", "ExternalName", "ExternalParam", "code_identity", "describe_params",
           "estimator_class", "external_catalogue", "external_class", "is_external",
           "load_external", "parse_name", "pyod_index", "pyod_installed", "restore_problem",
           "text_value"]
