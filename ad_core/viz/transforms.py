"""Transformation views: what GeoTrans's fixed and NeuTraL AD's learned transformations do.

- images: each sample's K views T_k(x) in a row (GeoTrans: with the classifier's confidence in
  the right transformation label above each view);
- tables: per-feature bars of each transformation's mask σ(M_k(x)) or output T_k(x);
- the DAE's augmentation previews: a few inputs under each augmentation of the catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ad_core.errors import BadDataError
from ad_core.viz.images import GREY_COLORSCALE, ImageColumn, as_nchw, image_table


def views_table(views: np.ndarray, view_names: Sequence[str], row_titles: Sequence[str], *,
                originals: np.ndarray | None = None, confidence: np.ndarray | None = None,
                per_image: bool = False, colorscale: str | list = GREY_COLORSCALE,
                title: str = "Transformed views T_k(x)") -> go.Figure:
    """Samples as rows, the original (if given, same size) and the K views T_k(x) as columns.

    ``views``: ``[N, K, C, H, W]``. All views share one display range (their joint min/max) so
    that a darker view really is darker, unless ``per_image``. ``confidence`` ``[N, K]``: the
    classifier's softmax probability of the right label, written above each view.
    """
    v = np.asarray(views, dtype=float)
    if v.ndim != 5:
        raise BadDataError(f"Views must be shaped [N, K, C, H, W]; got {v.shape}.")
    n, k = v.shape[:2]
    if len(view_names) != k:
        raise BadDataError(f"{k} views but {len(view_names)} view names.")
    lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
    cols: list[ImageColumn] = []
    if originals is not None:
        o = as_nchw(originals)
        if o.shape[2:] == v.shape[3:]:
            cols.append(ImageColumn("original x", o, colorscale, float(min(lo, o.min())),
                                    float(max(hi, o.max())), per_image))
    conf = None if confidence is None else np.asarray(confidence, dtype=float)
    for j, name in enumerate(view_names):
        titles = None if conf is None else [f"p={conf[i, j]:.2f}" for i in range(n)]
        cols.append(ImageColumn(str(name), v[:, j], colorscale, lo, hi, per_image,
                                titles=titles))
    return image_table(cols, row_titles, title=title)


def feature_bars(rows: np.ndarray, row_names: Sequence[str],
                 feature_names: Sequence[str] | None = None, *, original: np.ndarray | None = None,
                 value_title: str = "mask σ(M_k(x))",
                 title: str = "Per-feature values of each transformation") -> go.Figure:
    """One bar panel per transformation (rows ``[K, D]``: masks or outputs), features on x;
    the original row x (``original`` ``[D]``) as the first panel when given (appendix Figure 9)."""
    r = np.asarray(rows, dtype=float)
    if r.ndim != 2 or len(row_names) != r.shape[0]:
        raise BadDataError(f"Expected [K, D] values with K names; got {r.shape} and "
                           f"{len(row_names)} names.")
    d = r.shape[1]
    names = list(feature_names) if feature_names is not None else [f"f{i}" for i in range(d)]
    panels: list[tuple[str, np.ndarray, str]] = []
    if original is not None:
        panels.append(("original x", np.asarray(original, dtype=float).ravel(), "#7f7f7f"))
    panels += [(str(n), r[i], "#1f77b4") for i, n in enumerate(row_names)]
    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.012,
                        row_titles=[p[0] for p in panels])
    for i, (name, vals, color) in enumerate(panels, start=1):
        fig.add_trace(go.Bar(x=names, y=vals, name=name, marker_color=color,
                             showlegend=i <= (2 if original is not None else 1),
                             legendgroup="x" if name == "original x" else "t",
                             hovertemplate=f"{name}<br>%{{x}}: %{{y:.3g}}<extra></extra>"),
                      i, 1)
    if original is not None and len(panels) > 1:
        fig.data[1].name = "transformations"
    elif panels:
        fig.data[0].name = "transformations"
    fig.update_xaxes(title_text="feature", row=len(panels), col=1)
    fig.update_yaxes(title_text="", tickfont={"size": 8})
    mid = (len(panels) + 1) // 2
    fig.update_yaxes(title_text=value_title, row=mid, col=1)
    fig.update_annotations(font_size=11, textangle=0, xanchor="left")
    fig.update_layout(title=title, height=120 + 70 * len(panels), legend_title="panel",
                      margin={"r": 150}, bargap=0.15)
    return fig


def augmentation_table(originals: np.ndarray, previews: Mapping[str, np.ndarray],
                       row_titles: Sequence[str], *,
                       title: str = "Augmentation previews") -> go.Figure:
    """Samples as rows, the original and each augmentation of the catalogue as columns."""
    cols = [ImageColumn("original", as_nchw(originals))]
    cols += [ImageColumn(str(name), as_nchw(imgs)) for name, imgs in previews.items()]
    return image_table(cols, row_titles, title=title)
