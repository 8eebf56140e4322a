"""Score views: histograms by kind, ROC and PR curves, confusion matrix, per-kind AUROC bars,
and the test rows behind the galleries (most anomalous, most normal, false positives/negatives).

Scores follow the project's convention: higher = more anomalous; anomaly = positive class.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from ad_core import metrics as M
from ad_core.errors import BadDataError

NORMAL_COLOR = "#1f77b4"
ANOMALY_COLOR = "#d62728"
#: Colours for further groups (anomaly kinds, augmented samples …), in order.
PALETTE = ("#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a")
SCORE_AXIS = "anomaly score (higher = more anomalous)"


def group_colors(names: list[str]) -> dict[str, str]:
    """A stable colour per group: blue for "normal", then the palette in order."""
    out: dict[str, str] = {}
    i = 0
    for n in names:
        if n == "normal":
            out[n] = NORMAL_COLOR
        else:
            out[n] = PALETTE[i % len(PALETTE)]
            i += 1
    return out


def groups_by_label(scores: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Split scores into ``{"normal": …, "anomaly": …}`` by the 0/1 test labels."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels).astype(int)
    return {"normal": s[y == 0], "anomaly": s[y == 1]}


def groups_by_kind(scores: np.ndarray, kinds: np.ndarray) -> dict[str, np.ndarray]:
    """Split scores by test kind ("normal" first, then each anomaly kind in sorted order)."""
    s, k = np.asarray(scores, dtype=float), np.asarray(kinds).astype(str)
    names = (["normal"] if "normal" in set(k) else []) + sorted(set(k) - {"normal"})
    return {n: s[k == n] for n in names}


def score_histogram(groups: Mapping[str, np.ndarray], *, threshold: float | None = None,
                    title: str = "Anomaly scores", xaxis_title: str = SCORE_AXIS,
                    nbins: int = 40, density: bool = True) -> go.Figure:
    """Overlaid histograms of scores, one per group (normal, anomaly kinds, augmented …).

    All groups share the same bins; ``density`` scales each to unit area so groups of very
    different sizes stay comparable. ``threshold`` draws the decision threshold as a dashed line.
    """
    groups = {k: np.asarray(v, dtype=float).ravel() for k, v in groups.items() if len(v)}
    fig = go.Figure()
    if groups:
        allv = np.concatenate(list(groups.values()))
        allv = allv[np.isfinite(allv)]
        lo, hi = (float(allv.min()), float(allv.max())) if len(allv) else (0.0, 1.0)
        size = (hi - lo) / max(1, nbins) or 1.0
        colors = group_colors(list(groups))
        for name, v in groups.items():
            fig.add_trace(go.Histogram(
                x=v, name=f"{name} ({len(v)})", opacity=0.6, marker_color=colors[name],
                xbins={"start": lo, "end": hi + size, "size": size},
                histnorm="probability density" if density else None))
    if threshold is not None and np.isfinite(threshold):
        fig.add_vline(x=float(threshold), line_dash="dash", line_color="black",
                      annotation_text=f"threshold {threshold:.3g}", annotation_position="top")
    fig.update_layout(title=title, barmode="overlay", xaxis_title=xaxis_title,
                      yaxis_title="density" if density else "count", legend_title="group",
                      height=380, margin={"t": 60})
    return fig


def roc_figure(labels: np.ndarray, scores: np.ndarray, *, threshold: float | None = None,
               title: str = "ROC curve") -> go.Figure:
    """ROC curve (anomaly = positive) with its AUROC, the chance diagonal and the point of the
    chosen threshold."""
    roc = M.roc_curve(labels, scores)
    auc = M.auroc(labels, scores)
    fig = go.Figure([
        go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name=f"detector (AUROC {auc:.3f})",
                   line={"color": ANOMALY_COLOR}),
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance (AUROC 0.5)",
                   line={"dash": "dot", "color": "grey"})])
    if threshold is not None:
        c = M.confusion_at(labels, scores, threshold)
        fpr = c["fp"] / max(1, c["fp"] + c["tn"])
        fig.add_trace(go.Scatter(x=[fpr], y=[c["recall"]], mode="markers", name="threshold",
                                 marker={"size": 11, "color": "black", "symbol": "x"}))
    fig.update_layout(title=title, xaxis_title="false positive rate (normals flagged)",
                      yaxis_title="true positive rate (anomalies caught)", height=380,
                      xaxis={"range": [0, 1]}, yaxis={"range": [0, 1.02]}, legend_title="curve")
    return fig


def pr_figure(labels: np.ndarray, scores: np.ndarray, *, threshold: float | None = None,
              title: str = "Precision–recall curve") -> go.Figure:
    """Precision–recall curve (anomaly = positive) with AUPR, the no-skill line at the anomaly
    fraction, and the point of the chosen threshold."""
    pr = M.pr_curve(labels, scores)
    ap = M.aupr(labels, scores)
    base = float(np.mean(np.asarray(labels).astype(int)))
    fig = go.Figure([
        go.Scatter(x=pr["recall"], y=pr["precision"], mode="lines",
                   name=f"detector (AUPR {ap:.3f})", line={"color": ANOMALY_COLOR, "shape": "hv"}),
        go.Scatter(x=[0, 1], y=[base, base], mode="lines", name=f"no skill ({base:.2f})",
                   line={"dash": "dot", "color": "grey"})])
    if threshold is not None:
        c = M.confusion_at(labels, scores, threshold)
        if c["tp"] + c["fp"]:
            fig.add_trace(go.Scatter(x=[c["recall"]], y=[c["precision"]], mode="markers",
                                     name="threshold",
                                     marker={"size": 11, "color": "black", "symbol": "x"}))
    fig.update_layout(title=title, xaxis_title="recall (anomalies caught)",
                      yaxis_title="precision (flagged that are anomalies)", height=380,
                      xaxis={"range": [0, 1]}, yaxis={"range": [0, 1.02]}, legend_title="curve")
    return fig


def confusion_figure(counts: Mapping[str, float], *, title: str = "Confusion matrix") -> go.Figure:
    """2×2 confusion matrix from ``{"tn", "fp", "fn", "tp"}`` counts (e.g. ``confusion_at``)."""
    z = np.array([[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]], dtype=float)
    names = [["true negatives", "false positives"], ["false negatives", "true positives"]]
    text = [[f"{names[i][j]}<br>{int(z[i, j])}" for j in range(2)] for i in range(2)]
    fig = go.Figure(go.Heatmap(
        z=z, x=["predicted normal", "predicted anomaly"], y=["actual normal", "actual anomaly"],
        text=text, texttemplate="%{text}", colorscale="Blues", name="count",
        colorbar={"title": {"text": "count"}, "thickness": 12},
        hovertemplate="%{y}, %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="prediction (score > threshold)",
                      yaxis_title="truth", yaxis={"autorange": "reversed"}, height=330)
    return fig


def auroc_bars(aurocs: Mapping[str, float], *, title: str = "AUROC per anomaly kind",
               xaxis_title: str = "anomaly kind") -> go.Figure:
    """Bars of AUROC per anomaly kind (or per other class), with the 0.5 chance line."""
    names = list(aurocs)
    vals = [float(aurocs[k]) for k in names]
    fig = go.Figure(go.Bar(x=names, y=vals, name="AUROC", marker_color=ANOMALY_COLOR,
                           text=[f"{v:.3f}" for v in vals], textposition="outside"))
    fig.add_hline(y=0.5, line_dash="dot", line_color="grey", annotation_text="chance 0.5",
                  annotation_position="bottom right")
    fig.update_layout(title=title, xaxis_title=xaxis_title, yaxis_title="AUROC",
                      yaxis={"range": [0, 1.15]}, height=340, showlegend=True)
    return fig


GALLERIES = ("most anomalous", "most normal", "false positives", "false negatives")


def gallery_rows(scores: np.ndarray, labels: np.ndarray, threshold: float,
                 n: int = 16) -> dict[str, np.ndarray]:
    """Test rows for each gallery, at most ``n`` each.

    most anomalous / most normal: highest / lowest scores; false positives: normals flagged
    (score > threshold), most confident first; false negatives: anomalies missed, lowest first.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(int)
    if len(s) != len(y):
        raise BadDataError(f"{len(s)} scores but {len(y)} labels.")
    order = np.argsort(-s, kind="stable")
    flagged = s > threshold
    fp = order[(y[order] == 0) & flagged[order]]
    fn = order[::-1][(y[order[::-1]] == 1) & ~flagged[order[::-1]]]
    return {"most anomalous": order[:n], "most normal": order[::-1][:n],
            "false positives": fp[:n], "false negatives": fn[:n]}
