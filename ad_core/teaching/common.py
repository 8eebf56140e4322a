"""What the teaching demos share: toy Gaussian data and the cached results under
``docs/results/<name>.json`` (written by ``bench.write_results``)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ad_core.errors import BadParameterError


def results_path(name: str) -> Path:
    """Where a cached teaching result lives: ``docs/results/<name>.json``."""
    from ad_core.bench import RESULTS_DIR

    return RESULTS_DIR / f"{name}.json"


def load_results(name: str, path: Path | None = None) -> dict[str, Any] | None:
    """The ``{"meta", "rows"}`` JSON written by :func:`ad_core.bench.write_results`, or ``None``
    when it has not been generated (or is unreadable)."""
    p = Path(path) if path is not None else results_path(name)
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("rows"), list) else None


def results_meta(title: str, command: str, **extra: Any) -> dict[str, Any]:
    from ad_core.experiment import machine_info

    return {"title": title, "command": command, "date": time.strftime("%Y-%m-%d %H:%M"),
            "machine": machine_info(), **extra}


def gaussian_samples(n: int, variances: Sequence[float], seed: int = 0) -> np.ndarray:
    """``n`` samples of a zero-mean Gaussian with a diagonal covariance ``variances``."""
    if n < 2:
        raise BadParameterError("At least two samples are needed.")
    if any(v <= 0 for v in variances):
        raise BadParameterError("Variances must be positive.")
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, len(variances))) * np.sqrt(variances)).astype(np.float32)
