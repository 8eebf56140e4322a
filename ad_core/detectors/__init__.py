"""Detector registry: name → class, written out explicitly (no import-time self-registration).

Modules are imported on first use, so ``python -m ad_core datasets`` does not pay for torch models.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from ad_core.contracts import NullMonitor, ParamSpec, TrainingMonitor
from ad_core.detectors.base import Detector
from ad_core.errors import UnknownNameError, did_you_mean

#: name → (module, class), in the app's order.
REGISTRY: dict[str, tuple[str, str]] = {
    "ae": ("ae", "AEDetector"),
    "dae": ("dae", "DAEDetector"),
    "toll": ("toll", "TollDetector"),
    "lisae": ("lisae", "LISAEDetector"),
    "geotrans": ("geotrans", "GeoTransDetector"),
    "neutral": ("neutral", "NeuTraLADDetector"),
    "iforest": ("classical", "IsolationForestDetector"),
    "ocsvm": ("classical", "OCSVMDetector"),
    "lof": ("classical", "LOFDetector"),
    "kde": ("classical", "KDEDetector"),
    "cae_ocsvm": ("cae_ocsvm", "CAEOCSVMDetector"),
}


def available_detectors() -> dict[str, type[Detector]]:
    """Every registered detector, by name, in the app's order."""
    return {n: getattr(importlib.import_module(f"ad_core.detectors.{m}"), c)
            for n, (m, c) in REGISTRY.items()}


def get_detector_class(name: str) -> type[Detector]:
    """The detector class registered as ``name``, or the adapter class of an external name
    (``pyod:ECOD``, ``sklearn:IsolationForest``, ``module.path:ClassName``:
    :func:`ad_core.detectors.external.external_class`); :class:`UnknownNameError` otherwise."""
    if isinstance(name, str) and ":" in name:
        from ad_core.detectors.external import external_class

        return external_class(name)
    if name not in REGISTRY:
        raise UnknownNameError(f"Unknown detector {name!r}. {did_you_mean(name, list(REGISTRY))} "
                               "Or an external one: pyod:Name, sklearn:Name, module.path:ClassName.")
    m, c = REGISTRY[name]
    return getattr(importlib.import_module(f"ad_core.detectors.{m}"), c)


def load_detector(directory: str | Path) -> Detector:
    """A saved detector (``Detector.save``), of the class its ``detector.json`` names; an external
    estimator is refitted and checked (:func:`ad_core.detectors.external.load_external`)."""
    meta = json.loads((Path(directory) / "detector.json").read_text())
    if ":" in str(meta.get("detector", "")):
        from ad_core.detectors.external import load_external

        return load_external(directory)
    return get_detector_class(meta["detector"]).load(directory)


def detector_problem(directory: str | Path) -> str:
    """Why the detector saved in ``directory`` cannot be rebuilt here, in one sentence, without
    rebuilding it (``""`` when nothing says so): no saved detector, or an external estimator whose
    package or class is missing or changed."""
    try:
        meta = json.loads((Path(directory) / "detector.json").read_text())
    except (OSError, ValueError):
        return "This run saved no trained detector; its saved scores still show."
    if ":" not in str(meta.get("detector", "")):
        return ""
    from ad_core.detectors.external import restore_problem

    return restore_problem(meta)


def check_detector(name: str, preset: str = "quick", params: dict | None = None
                   ) -> type[Detector]:
    """The class of detector ``name`` after checking, without building anything, that ``preset``
    exists and that every parameter in ``params`` is one of its parameters with a valid value;
    a clear :class:`UnknownNameError` / :class:`~ad_core.errors.UserError` otherwise."""
    cls = get_detector_class(name)
    cls.preset_params(preset)  # unknown preset → clear error now
    for k, v in (params or {}).items():
        spec = cls.param_spec(k)  # unknown parameter → clear error now
        if v is not None:  # None: the preset's value
            spec.coerce(v)  # a value out of range or of the wrong type → clear error now
    return cls


def make_detector(name: str, preset: str = "quick", **params) -> Detector:
    """Instantiate a detector by name (checked by :func:`check_detector` first)."""
    return check_detector(name, preset, params)(preset=preset, **params)


__all__ = ["REGISTRY", "Detector", "NullMonitor", "ParamSpec", "TrainingMonitor",
           "available_detectors", "check_detector", "get_detector_class", "load_detector",
           "make_detector"]
