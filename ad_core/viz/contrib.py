"""Contribution views: how each transformation (or term) adds up to the anomaly score.

- per-term bars for one sample with the dominant term highlighted;
- a heatmap of the terms over the explained test samples, sorted by score;
- the simplex projection of three chosen terms, normalised to sum 1, coloured by label, opacity
  by score magnitude (NeuTraL AD appendix Figure 10);
- GeoTrans's K×K softmax matrix: row i = the classifier's softmax on T_i(x);
- a stacked split of the terms per group (Toll: reconstruction vs β·latent norm).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ad_core.errors import BadDataError
from ad_core.viz.scores import ANOMALY_COLOR, NORMAL_COLOR, group_colors

DOMINANT_COLOR = ANOMALY_COLOR
OTHER_COLOR = "#9ecae1"


def _check_terms(terms: np.ndarray, names: Sequence[str]) -> np.ndarray:
    t = np.asarray(terms, dtype=float)
    if t.shape[-1] != len(names):
        raise BadDataError(f"{t.shape[-1]} score terms but {len(names)} term names.")
    return t


def term_bars(terms: np.ndarray, names: Sequence[str], *, aggregation: str = "sum",
              title: str = "Contribution of each transformation to the score") -> go.Figure:
    """Bars of one sample's per-term contributions ``[T]``; the largest (dominant) is highlighted.

    ``aggregation`` ("sum" or "mean") is how the terms combine into the anomaly score; the total
    is shown in the title.
    """
    t = _check_terms(np.ravel(terms), names)
    dom = int(np.argmax(t))
    total = float(t.sum() if aggregation == "sum" else t.mean())
    is_dom = np.arange(len(t)) == dom
    fig = go.Figure()
    for sel, label, color in ((~is_dom, "other terms", OTHER_COLOR),
                              (is_dom, f"dominant: {names[dom]}", DOMINANT_COLOR)):
        fig.add_trace(go.Bar(x=[str(n) for n, s in zip(names, sel) if s], y=t[sel], name=label,
                             marker_color=color,
                             hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    fig.update_layout(
        title=f"{title} (score = {aggregation} of terms = {total:.4g})",
        xaxis_title="transformation / term", yaxis_title="contribution to anomaly score",
        xaxis={"categoryorder": "array", "categoryarray": [str(n) for n in names]},
        barmode="overlay", legend_title="term", height=380)
    return fig


def contributions_heatmap(terms: np.ndarray, names: Sequence[str], scores: np.ndarray,
                          row_labels: Sequence[str], *,
                          title: str = "Contributions over the explained test samples") -> go.Figure:
    """Heatmap of ``[N, T]`` terms, rows sorted by anomaly score (most anomalous on top)."""
    t = _check_terms(terms, names)
    s = np.asarray(scores, dtype=float)
    if not len(t) == len(s) == len(row_labels):
        raise BadDataError("Terms, scores and row labels must describe the same samples.")
    order = np.argsort(-s, kind="stable")
    labels = [f"{r + 1}. {row_labels[i]}" for r, i in enumerate(order)]
    fig = go.Figure(go.Heatmap(
        z=t[order], x=[str(n) for n in names], y=labels, colorscale="Viridis", name="terms",
        customdata=np.repeat(s[order][:, None], t.shape[1], axis=1),
        colorbar={"title": {"text": "contribution"}, "thickness": 12},
        hovertemplate="%{y}<br>%{x}: %{z:.4g}<br>score %{customdata:.4g}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="transformation / term",
                      yaxis_title="test samples, sorted by anomaly score (highest on top)",
                      yaxis={"autorange": "reversed", "showticklabels": len(order) <= 60,
                             "tickfont": {"size": 8}},
                      height=min(900, 220 + 9 * len(order)))
    return fig


def simplex_points(terms3: np.ndarray) -> np.ndarray:
    """Three terms per sample as barycentric coordinates (rows sum to 1).

    Terms are made non-negative first (shifted by the smallest value if any is negative; NeuTraL's
    DCL summands are already ≥ 0), then divided by their row sum; an all-zero row maps to the
    centre of the simplex.
    """
    t = np.asarray(terms3, dtype=float)
    if t.ndim != 2 or t.shape[1] != 3:
        raise BadDataError(f"The simplex needs three terms per sample; got shape {t.shape}.")
    if len(t) and t.min() < 0:
        t = t - t.min()
    s = t.sum(1, keepdims=True)
    return np.where(s > 0, t / np.where(s > 0, s, 1.0), 1.0 / 3.0)


def simplex_figure(terms3: np.ndarray, names: Sequence[str], labels: np.ndarray,
                   scores: np.ndarray, *, hover: Sequence[str] | None = None,
                   title: str = "Simplex of three transformations' contributions") -> go.Figure:
    """Ternary scatter of three chosen terms normalised to sum 1 (NeuTraL appendix Figure 10):
    colour = label (normal / anomaly), opacity = anomaly score magnitude (min–max scaled)."""
    p = simplex_points(terms3)
    if len(names) != 3:
        raise BadDataError("Choose exactly three transformations for the simplex.")
    y = np.asarray(labels).astype(int)
    s = np.asarray(scores, dtype=float)
    if not len(p) == len(y) == len(s):
        raise BadDataError("Terms, labels and scores must describe the same samples.")
    span = float(np.ptp(s)) if len(s) else 0.0
    alpha = 0.15 + 0.85 * ((s - s.min()) / span if span > 0 else np.ones_like(s))
    h = np.asarray(list(hover) if hover is not None else [f"#{i}" for i in range(len(p))])
    fig = go.Figure()
    for lab, name, color in ((0, "normal", NORMAL_COLOR), (1, "anomaly", ANOMALY_COLOR)):
        sel = y == lab
        fig.add_trace(go.Scatterternary(
            a=p[sel, 0], b=p[sel, 1], c=p[sel, 2], mode="markers", name=f"{name} ({sel.sum()})",
            text=h[sel], customdata=s[sel],
            marker={"color": color, "size": 8, "opacity": alpha[sel].tolist(),
                    "line": {"width": 0}},
            hovertemplate="%{text}<br>score %{customdata:.4g}<extra></extra>"))
    fig.update_layout(
        title=title + " (opacity = score)", legend_title="label", height=520,
        ternary={"sum": 1, "aaxis": {"title": {"text": str(names[0])}},
                 "baxis": {"title": {"text": str(names[1])}},
                 "caxis": {"title": {"text": str(names[2])}}})
    return fig


def softmax_matrix(softmax: np.ndarray, names: Sequence[str], *,
                   title: str = "GeoTrans: classifier softmax per transformed view") -> go.Figure:
    """The ``[K, K]`` matrix whose row i is the classifier's softmax on T_i(x); a perfectly
    "normal" sample has a bright diagonal (every transformation recognised)."""
    m = np.asarray(softmax, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(names):
        raise BadDataError(f"Expected a [K, K] softmax with K names; got {m.shape}.")
    labels = [str(n) for n in names]
    fig = go.Figure(go.Heatmap(
        z=m, x=labels, y=labels, colorscale="Viridis", zmin=0, zmax=1, name="softmax",
        colorbar={"title": {"text": "probability"}, "thickness": 12},
        hovertemplate="applied %{y}<br>predicted %{x}: %{z:.3f}<extra></extra>"))
    small = len(labels) <= 16
    fig.update_layout(title=title, xaxis_title="predicted transformation label j",
                      yaxis_title="applied transformation T_i",
                      xaxis={"showticklabels": small, "tickangle": -45, "showgrid": False,
                             "constrain": "domain"},
                      yaxis={"autorange": "reversed", "showticklabels": small,
                             "scaleanchor": "x", "showgrid": False, "constrain": "domain"},
                      height=560 if small else 680)
    return fig


def term_split(terms: np.ndarray, names: Sequence[str], groups: np.ndarray, *,
               title: str = "Score split by term (mean per kind)") -> go.Figure:
    """Stacked bars of each term's mean contribution per group (Toll: reconstruction vs
    β·latent norm for normals and each anomaly kind)."""
    t = _check_terms(terms, names)
    g = np.asarray(groups).astype(str)
    if len(g) != len(t):
        raise BadDataError("Terms and groups must describe the same samples.")
    order = (["normal"] if "normal" in set(g) else []) + sorted(set(g) - {"normal"})
    colors = list(group_colors(["_", *[str(n) for n in names]]).values())[1:]
    fig = go.Figure()
    for j, n in enumerate(names):
        fig.add_trace(go.Bar(x=order, y=[float(t[g == o, j].mean()) for o in order],
                             name=str(n), marker_color=colors[j]))
    fig.update_layout(title=title, barmode="relative", xaxis_title="test kind",
                      yaxis_title="mean contribution to anomaly score", legend_title="term",
                      height=380)
    return fig
