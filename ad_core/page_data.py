"""What the pages that look inside a run show, derived from the saved run: its row in the runs
table, its metrics (recomputed from scores for older runs), the confusion at a threshold, what its
detector says about its score, which detectors produce a view, its augmentations and their
previews, the key of its task protocol, and its training replay (the snapshots of "Watch it
learn").

Nothing here imports streamlit or re-implements a score.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ad_core import augment
from ad_core import metrics as M
from ad_core.data.user import dataset_display_name
from ad_core.detectors import available_detectors, get_detector_class
from ad_core.errors import UserError
from ad_core.runs import Run


def run_row(r: Run) -> dict[str, Any]:
    """One row of the runs table: what was trained on what, and how well."""
    c, m = r.config, r.metrics
    return {"run": r.run_id, "detector": c.get("detector"), "preset": c.get("preset"),
            "dataset": dataset_display_name(str(c.get("dataset"))),
            "normal": "+".join(map(str, c.get("normal", []))),
            "task": c.get("task"), "seed": c.get("seed"), "status": c.get("status", "done"),
            "AUROC": m.get("auroc"), "AUPR": m.get("aupr"), "F1": m.get("f1"),
            "fit s": m.get("fit_seconds"), "score s": m.get("score_seconds"),
            "n train": m.get("n_train"), "n test": m.get("n_test"),
            "params": json.dumps(c.get("params") or {}), "created": c.get("created")}


def run_metrics(r: Run) -> dict[str, Any]:
    """The run's metrics; AUROC/AUPR/F1/per-kind AUROC computed from its scores when an older run
    did not store them."""
    met = dict(r.metrics)
    sc = r.scores
    if "test" not in sc or "test_y" not in sc:
        return met
    s, y = sc["test"].astype(float), sc["test_y"].astype(int)
    met.setdefault("auroc", M.auroc(y, s))
    met.setdefault("aupr", M.aupr(y, s))
    met.setdefault("f1", M.f1_at_contamination(y, s))
    if not met.get("per_kind_auroc"):
        met["per_kind_auroc"] = M.per_kind_auroc(r.test_kinds(), s)
    return met


def confusion_at(r: Run, threshold: float) -> dict[str, Any]:
    """Confusion counts, precision, recall and F1 of the run's test scores at ``threshold``."""
    sc = r.scores
    return M.confusion_at(sc["test_y"].astype(int), sc["test"].astype(float), threshold)


def score_note(r: Run) -> str:
    """What the run's detector says about its score's sign/meaning (e.g. GeoTrans's negated
    normality); ``""`` when nothing needs saying."""
    try:
        return get_detector_class(str(r.config.get("detector"))).score_note
    except UserError:
        return ""


def producers(field: str) -> str:
    """Which detectors produce ``field`` of an explanation (or a preview such as
    ``augmentations``), as a phrase for "try …" hints: read from each class's ``explains`` and
    ``previews``, so no page names detectors."""
    titles = [c.title or n for n, c in available_detectors().items()
              if any(e == field or e.startswith(field + "_") or e.endswith("_" + field)
                     for e in (*c.explains, *c.previews))]
    if not titles:
        return "another detector"
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " or " + titles[-1]


def run_previews(r: Run) -> tuple[str, ...]:
    """Previews the run's detector offers beyond its explanation (the DAE: ``augmentations``)."""
    try:
        return tuple(get_detector_class(str(r.config.get("detector"))).previews)
    except UserError:
        return ()


def run_augmentations(r: Run) -> list[str]:
    """The augmentation names the run's detector was trained with (DAE), if recorded."""
    params = r.config.get("params_resolved") or r.config.get("params") or {}
    for k, v in params.items():
        if "augment" in k and v and not isinstance(v, dict):
            names = v.split(",") if isinstance(v, str) else list(v)
            return [str(n).strip() for n in names if str(n).strip() and str(n) != "none"]
    return []


def augmentation_names(modality: str = "image") -> list[str]:
    """The augmentation catalogue's names that apply to ``modality``."""
    return list(augment.available(modality))


def augmentation_preview(x: np.ndarray, names: list[str], n: int, seed: int
                         ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Seeded previews of ``names`` applied to the first ``n`` of ``x``: (originals, views)."""
    import torch

    prev = augment.preview(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), names,
                           n, seed)
    originals = prev.pop("original").numpy()
    return originals, {k: v.numpy() for k, v in prev.items()}


def task_key(r: Run) -> str:
    """Runs with equal keys were evaluated on the same task protocol (any seed)."""
    c = r.config
    return (f"{c.get('dataset')} · normal {'+'.join(map(str, c.get('normal', [])))} · "
            f"{c.get('task')}" + (f" {json.dumps(c.get('task_options'), sort_keys=True)}"
                                  if c.get("task_options") else ""))


def replay_stamp(r: Run) -> float | None:
    """When the run's training snapshots were written (a cache key: a retrained run changes it),
    or ``None`` for a run saved without them (older runs, ``--no-snapshots``)."""
    from ad_core.snapshots import FILE

    try:
        return (r.path / FILE).stat().st_mtime
    except OSError:
        return None


def run_replay(r: Run) -> Any:  # -> ad_core.snapshots.Replay | None
    """The run's training snapshots read back (:func:`ad_core.snapshots.load_replay`), or
    ``None`` for a run saved without them."""
    from ad_core.snapshots import load_replay

    return load_replay(r.path)


def replay_inputs(r: Run, rows: np.ndarray) -> np.ndarray | None:
    """The run's stored test inputs of ``rows`` (a replay's view samples), or ``None`` when the
    run stored no inputs (or not one per test row)."""
    x = r.test_x()
    rows = np.asarray(rows, dtype=int)
    n_test = len(r.scores.get("test", x))
    if not len(x) or len(x) != n_test or not len(rows) or rows.max() >= len(x):
        return None
    return x[rows]
