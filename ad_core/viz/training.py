"""Training curves: the loss a detector minimised, step by step (live from a job or from a run)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go


def _smooth(y: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average (same length as ``y``)."""
    if window <= 1 or len(y) < 3:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    out = np.empty_like(y)
    for i in range(len(y)):
        lo = max(0, i + 1 - window)
        out[i] = (c[i + 1] - c[lo]) / (i + 1 - lo)
    return out


def loss_curve(steps: Sequence[float], losses: Sequence[float], *, title: str = "Training loss",
               val_steps: Sequence[float] | None = None, val: Sequence[float] | None = None,
               log_y: bool | None = None) -> go.Figure:
    """Loss per step (thin), its moving average (thick) and, if given, the validation criterion.

    ``log_y=None`` picks a log axis when the positive loss spans more than two decades.
    """
    x = np.asarray(steps, dtype=float)
    y = np.asarray(losses, dtype=float)
    fig = go.Figure()
    if len(y):
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="loss per step",
                                 line={"width": 1, "color": "rgba(192,57,43,0.35)"}))
        fig.add_trace(go.Scatter(x=x, y=_smooth(y, max(1, len(y) // 25)), mode="lines",
                                 name="moving average", line={"width": 2.5, "color": "#c0392b"}))
    if val_steps is not None and val is not None and len(val):
        fig.add_trace(go.Scatter(x=list(val_steps), y=list(val), mode="lines+markers",
                                 name="validation (normals)", line={"color": "#2c3e50"}))
    if log_y is None:
        pos = y[np.isfinite(y) & (y > 0)]
        log_y = bool(len(pos) == len(y) and len(pos) > 1 and pos.max() / pos.min() > 100)
    fig.update_layout(title=title, xaxis_title="training step", yaxis_title="loss",
                      yaxis_type="log" if log_y else "linear", height=320,
                      margin={"l": 60, "r": 20, "t": 50, "b": 45},
                      legend={"orientation": "h", "y": -0.25})
    if not len(y):
        fig.add_annotation(text="No training steps yet.", showarrow=False, xref="paper",
                           yref="paper", x=0.5, y=0.5)
    return fig


def history_curves(history: Mapping[str, Sequence], title: str = "Training curves") -> go.Figure:
    """Every loss in a detector's ``history_`` (``<phase>_loss`` against ``<phase>_step``; LIS-AE
    has two phases) with validation values where recorded, steps counted across phases."""
    fig = go.Figure()
    offset = 0.0
    phases = [k[: -len("loss")] for k in history if k.endswith("loss") and not k.startswith("val")]
    for pre in phases:
        loss = np.asarray(history.get(pre + "loss", []), dtype=float)
        if not len(loss):
            continue
        steps = np.asarray(history.get(pre + "step", np.arange(1, len(loss) + 1)), dtype=float)
        if len(steps) != len(loss):
            steps = np.arange(1, len(loss) + 1, dtype=float)
        name = pre.rstrip("_") or "training"
        fig.add_trace(go.Scatter(x=steps + offset, y=loss, mode="lines", name=f"{name} loss",
                                 line={"width": 1.2}))
        val = history.get(pre + "val") or []
        vs = history.get(pre + "val_step") or []
        if len(val) and len(vs) == len(val):
            fig.add_trace(go.Scatter(x=np.asarray(vs, float) + offset, y=val,
                                     mode="lines+markers", name=f"{name} validation"))
        offset += float(steps.max())
    fig.update_layout(title=title, xaxis_title="training step", yaxis_title="loss", height=320,
                      margin={"l": 60, "r": 20, "t": 50, "b": 45},
                      legend={"orientation": "h", "y": -0.25})
    if not fig.data:
        fig.add_annotation(text="This detector has no iterative training curve (fitted in one "
                           "step).", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


def live_histogram(live: Mapping[str, Any]) -> go.Figure:
    """The latest training snapshot of a running job (:mod:`ad_core.snapshots`): the score
    histogram of a fixed, class-balanced test subsample (normals vs anomalies) and its AUROC at
    that step — what the detector makes of the test set so far."""
    from ad_core.viz.scores import groups_by_label, score_histogram

    scores = np.asarray(live.get("scores", ()), dtype=float)
    labels = np.asarray(live.get("labels", ()), dtype=int)
    auroc = live.get("auroc")
    auc = f" · AUROC {auroc:.3f}" if auroc is not None and np.isfinite(auroc) else ""
    total = live.get("total")
    at = f"step {live.get('step', 0)}" + (f" of {total}" if total else "")
    fig = score_histogram(groups_by_label(scores, labels), nbins=30,
                          title=f"Test scores at {at}{auc}")
    fig.update_layout(height=320, margin={"l": 60, "r": 20, "t": 50, "b": 45},
                      legend={"orientation": "h", "y": -0.25})
    return fig
