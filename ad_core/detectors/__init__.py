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
    """The detector class registered as ``name``; :class:`UnknownNameError` otherwise."""
    if name not in REGISTRY:
        raise UnknownNameError(f"Unknown detector {name!r}. {did_you_mean(name, list(REGISTRY))}")
    m, c = REGISTRY[name]
    return getattr(importlib.import_module(f"ad_core.detectors.{m}"), c)


def load_detector(directory: str | Path) -> Detector:
    """A saved detector (``Detector.save``), of the class its ``detector.json`` names."""
    meta = json.loads((Path(directory) / "detector.json").read_text())
    return get_detector_class(meta["detector"]).load(directory)


def make_detector(name: str, preset: str = "quick", **params) -> Detector:
    """Instantiate a detector by name (parameters are validated in ``fit``)."""
    cls = get_detector_class(name)
    cls.preset_params(preset)  # unknown preset → clear error now
    for k in params:
        cls.param_spec(k)  # unknown parameter → clear error now
    return cls(preset=preset, **params)


__all__ = ["REGISTRY", "Detector", "NullMonitor", "ParamSpec", "TrainingMonitor",
           "available_detectors", "get_detector_class", "load_detector", "make_detector"]
