"""Detector registry: name → class. Each module defines one or more :class:`Detector` subclasses."""

from __future__ import annotations

import importlib

from ad_core.detectors.base import Detector, NullMonitor, ParamSpec, TrainingMonitor
from ad_core.errors import UnknownNameError, did_you_mean

# module → detector names it defines (the order is the app's order)
_MODULES = {
    "ae": ("ae",),
    "dae": ("dae",),
    "toll": ("toll",),
    "lisae": ("lisae",),
    "geotrans": ("geotrans",),
    "neutral": ("neutral",),
    "classical": ("iforest", "ocsvm", "lof", "kde"),
    "cae_ocsvm": ("cae_ocsvm",),
}


def available_detectors() -> dict[str, type[Detector]]:
    """Every detector whose module is present, by name, in the app's order."""
    out: dict[str, type[Detector]] = {}
    for mod, names in _MODULES.items():
        try:
            m = importlib.import_module(f"ad_core.detectors.{mod}")
        except ModuleNotFoundError as e:
            if e.name == f"ad_core.detectors.{mod}":
                continue
            raise
        for n in names:
            cls = getattr(m, "DETECTORS", {}).get(n)
            if cls is not None:
                out[n] = cls
    return out


def get_detector_class(name: str) -> type[Detector]:
    """The detector class registered as ``name``; :class:`UnknownNameError` otherwise."""
    dets = available_detectors()
    if name not in dets:
        raise UnknownNameError(f"Unknown detector {name!r}. {did_you_mean(name, list(dets))}")
    return dets[name]


def make_detector(name: str, preset: str = "quick", **params) -> Detector:
    """Instantiate a detector by name (parameters are validated in ``fit``)."""
    cls = get_detector_class(name)
    cls.preset_params(preset)  # unknown preset → clear error now
    for k in params:
        cls.param_spec(k)  # unknown parameter → clear error now
    return cls(preset=preset, **params)


__all__ = ["Detector", "NullMonitor", "ParamSpec", "TrainingMonitor", "available_detectors",
           "get_detector_class", "make_detector"]
