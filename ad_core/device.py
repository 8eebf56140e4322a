"""Device selection (cuda > mps > cpu, chosen once), the mixed-precision policy and torch's
thread count (:func:`set_threads`)."""

from __future__ import annotations

import contextlib
import functools
import os

import torch


@functools.lru_cache(maxsize=1)
def default_device() -> torch.device:
    """The best available device, chosen once per process.

    ``ANOMALY_LAB_DEVICE`` (``cpu``, ``cuda``, ``mps``) overrides the choice.
    """
    forced = os.environ.get("ANOMALY_LAB_DEVICE")
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def autocast(device: torch.device, enabled: bool = True) -> contextlib.AbstractContextManager:
    """bf16 autocast for conv nets on CUDA; a no-op elsewhere."""
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op thread count to ``n`` (at least 1; default: ``ANOMALY_LAB_THREADS`` or
    the cores) and return the count it had before, so a caller can restore it. The one place that
    sets it: the training process, the server, sweep cells and the benchmarks' timings all call
    this. Setting the count it already has does nothing."""
    if n is None:
        n = int(os.environ.get("ANOMALY_LAB_THREADS", "0")) or (os.cpu_count() or 1)
    before = torch.get_num_threads()
    if before != max(1, int(n)):
        torch.set_num_threads(max(1, int(n)))
    return before
