"""Scatter plots of 2-D projections (PCA / t-SNE / UMAP) of a run's embedded test samples.

Each point carries its test-row index as ``customdata`` so a lasso/box selection maps back to
samples. Categorical colourings use one WebGL trace per group (legend entries toggle groups).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

COLOR_BY = ("label", "kind", "score")
NORMAL_COLOR, ANOMALY_COLOR = "#2e86c1", "#c0392b"
_PALETTE = ("#c0392b", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#f1c40f", "#2c3e50",
            "#27ae60", "#e84393", "#6c5ce7", "#00b894", "#b8860b")


def embedding_scatter(xy: np.ndarray, index: Sequence[int], *, labels: Sequence[int],
                      kinds: Sequence[str], scores: Sequence[float], color_by: str = "label",
                      method: str = "PCA", title: str | None = None,
                      marker_size: int = 5) -> go.Figure:
    """Projection ``xy [N, 2]`` of test rows ``index``; colour by ``label`` (normal/anomaly),
    ``kind`` (normal, each anomaly class or generator) or ``score`` (anomaly score)."""
    xy = np.asarray(xy, dtype=float)
    idx = np.asarray(index)
    lab = np.asarray(labels).astype(int)
    kind = np.asarray(kinds).astype(str)
    sc = np.asarray(scores, dtype=float)
    hover = ("row %{customdata}<br>" + "score %{text}<extra>%{fullData.name}</extra>")
    text = [f"{s:.4g}" for s in sc]
    fig = go.Figure()
    if color_by == "score":
        fig.add_trace(go.Scattergl(
            x=xy[:, 0], y=xy[:, 1], mode="markers", name="test samples", customdata=idx,
            text=text, hovertemplate=hover,
            marker={"size": marker_size, "color": sc, "colorscale": "Viridis", "opacity": 0.85,
                    "colorbar": {"title": {"text": "anomaly score"}}}))
    else:
        if color_by == "label":
            groups = [("normal", lab == 0, NORMAL_COLOR), ("anomaly", lab == 1, ANOMALY_COLOR)]
        else:
            others = sorted(set(kind.tolist()) - {"normal"})
            groups = [("normal", kind == "normal", NORMAL_COLOR)] + [
                (k, kind == k, _PALETTE[i % len(_PALETTE)]) for i, k in enumerate(others)]
        # Normals are usually the minority (100 of 1,000 in one-vs-rest): draw them last, on
        # top and a little larger, while the legend keeps them first.
        for rank, (name, sel, color) in reversed(list(enumerate(groups))):
            if not sel.any():
                continue
            is_normal = name == "normal"
            fig.add_trace(go.Scattergl(
                x=xy[sel, 0], y=xy[sel, 1], mode="markers", name=f"{name} ({int(sel.sum())})",
                customdata=idx[sel], text=[t for t, s in zip(text, sel) if s],
                hovertemplate=hover, legendrank=rank + 1,
                marker={"size": marker_size + (2 if is_normal else 0), "color": color,
                        "opacity": 0.9 if is_normal else 0.6}))
    fig.update_layout(
        title=title or f"{method} of the detector's representation of {len(xy)} test samples",
        xaxis_title=f"{method} 1", yaxis_title=f"{method} 2", height=560, dragmode="lasso",
        legend={"title": {"text": {"label": "label", "kind": "anomaly kind"}.get(color_by, "")}},
        margin={"l": 60, "r": 20, "t": 60, "b": 50})
    return fig
