"""Shared by the Sample page's tests (issue 11): a drawn "3" as the canvas returns it, and small
real runs of three detector families on digits plus one tabular run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

#: Three detector families, their quick presets shortened to a few seconds on digits.
FAMILIES = {"toll": {"iterations": 30, "eval_every": 10}, "neutral": {"epochs": 3},
            "iforest": {}}


def canvas_three(size: int = 280, width: int = 22) -> np.ndarray:
    """An RGBA canvas as streamlit-drawable-canvas returns it: a white "3" on black."""
    pts = np.array([(95, 70), (175, 52), (200, 80), (150, 135), (200, 170), (205, 205),
                    (135, 245), (90, 230)], float) * size / 280
    yy, xx = np.mgrid[:size, :size]
    ink = np.zeros((size, size), bool)
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
        for t in np.linspace(0, 1, 40):
            cx, cy = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            ink |= (xx - cx) ** 2 + (yy - cy) ** 2 <= (width / 2) ** 2
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[ink, :3] = 255
    return rgba


def train_sample_runs(root: Path) -> dict[str, str]:
    """Digits (normal 0, seed 0) runs of :data:`FAMILIES` and an Isolation Forest on breast
    cancer (``"tabular"``), saved under ``root`` by the real pipeline; ``{name: run id}``."""
    from ad_core.experiment import ExperimentSpec, run_experiment

    ids = {det: run_experiment(ExperimentSpec("digits", ["0"], det, params=params, explain_n=20,
                                              embed_n=100), root=root).run_id
           for det, params in FAMILIES.items()}
    ids["tabular"] = run_experiment(ExperimentSpec("breast_cancer", ["benign"], "iforest",
                                                   explain_n=10, embed_n=50), root=root).run_id
    return ids



@contextlib.contextmanager
def sample_runs(tmp_path_factory) -> Iterator[dict[str, str]]:
    """:func:`train_sample_runs` in a fresh folder with ``ANOMALY_LAB_RUNS`` pointing at it while
    the ``with`` block lasts (a module-scoped fixture's body)."""
    import pytest

    root = tmp_path_factory.mktemp("sample-runs")
    run_ids = train_sample_runs(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANOMALY_LAB_RUNS", str(root))
        yield run_ids
