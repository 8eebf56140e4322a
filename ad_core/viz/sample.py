"""Figures of the Sample page (one input, every run's eyes) and click targets for galleries.

- :func:`clickable_tiles`: invisible markers on every tile of an :func:`~ad_core.viz.images.
  image_grid` or :func:`~ad_core.viz.images.image_table` figure, carrying each tile's test row as
  ``customdata``, so a click on a thumbnail is a Plotly selection event the page can follow;
- :func:`verdict_bars`: every run's percentile of the sample's score among its normal test
  scores, flagged runs highlighted;
- :func:`tile_grid`: one sample's transformed views, neighbours … as a titled grid.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ad_core.errors import BadDataError
from ad_core.viz.images import image_grid
from ad_core.viz.scores import ANOMALY_COLOR, NORMAL_COLOR

#: Name of the click-target trace (pages read ``customdata`` of its points).
CLICK_TRACE = "open sample"


def tile_centres(fig: go.Figure) -> list[tuple[float, float]]:
    """Centres of the tiles of an image grid or image table, in the order they were drawn
    (grid: row by row; table: sample by sample, first column)."""
    lay = fig.layout
    if lay.yaxis.tickvals is not None and lay.xaxis.tickvals is not None:  # image_table
        return [(float(lay.xaxis.tickvals[0]), float(y)) for y in lay.yaxis.tickvals]
    trace = next((t for t in fig.data if t.type in ("heatmap", "image")), None)
    if trace is None:
        raise BadDataError("This figure has no image tiles to click.")
    # image_grid writes each tile's title centred above it (x = tile centre, y = top − 0.5) and
    # "N images, H×W px each" under the x axis
    m = re.search(r"(\d+)×(\d+) px", str(lay.xaxis.title.text or ""))
    h = int(m.group(1)) if m else 1
    return [(float(a.x), float(a.y) + 0.5 + (h - 1) / 2) for a in lay.annotations]


def clickable_tiles(fig: go.Figure, rows: Sequence[int], *, hover: Sequence[str] | None = None,
                    tile_px: float = 60.0) -> go.Figure:
    """Add a transparent marker on every tile, ``customdata`` = its row in ``rows``, so a click on
    a thumbnail (Streamlit's ``on_select="rerun"``, ``selection_mode="points"``) names the
    sample. The figure is changed in place and returned."""
    centres = tile_centres(fig)
    rows = [int(r) for r in rows]
    if len(centres) != len(rows):
        raise BadDataError(f"{len(centres)} tiles but {len(rows)} rows to attach to them.")
    if not rows:
        return fig
    text = [str(t) for t in hover] if hover is not None else [f"#{r}" for r in rows]
    fig.add_trace(go.Scatter(
        x=[c[0] for c in centres], y=[c[1] for c in centres], mode="markers",
        customdata=rows, text=text, name=CLICK_TRACE, showlegend=False,
        marker={"symbol": "square", "size": tile_px, "color": "rgba(0,0,0,0)",
                "line": {"width": 0}},
        selected={"marker": {"opacity": 1.0}}, unselected={"marker": {"opacity": 1.0}},
        hovertemplate="%{text}<br><b>click to open on the Sample page</b><extra></extra>"))
    fig.update_layout(clickmode="event+select", dragmode=False, hovermode="closest")
    return fig


def verdict_bars(names: Sequence[str], percentiles: Sequence[float],
                 flagged: Sequence[bool], scores: Sequence[float], *,
                 title: str = "Where the sample's score falls among each run's normal test "
                              "scores") -> go.Figure:
    """One horizontal bar per run: the percentile of the sample's score among the run's normal
    test scores (100 = above every normal); red when the run's threshold flags it."""
    p = np.asarray(percentiles, dtype=float)
    if not (len(names) == len(p) == len(flagged) == len(scores)):
        raise BadDataError("One name, percentile, flag and score per run are needed.")
    colors = [ANOMALY_COLOR if f else NORMAL_COLOR for f in flagged]
    text = [f"{v:.0f}% · {'flagged' if f else 'passes as normal'} · score {s:.4g}"
            for v, f, s in zip(p, flagged, scores)]
    fig = go.Figure(go.Bar(x=p, y=[str(n) for n in names], orientation="h", marker_color=colors,
                           text=text, textposition="auto",
                           hovertemplate="%{y}: %{text}<extra></extra>"))
    fig.add_vline(x=90, line_dash="dot", line_color="grey",
                  annotation_text="90% of normals", annotation_position="top")
    fig.update_layout(title=title, xaxis={"title": {"text": "percentile among normal test "
                                                             "scores (%)"}, "range": [0, 100]},
                      yaxis={"autorange": "reversed"}, height=120 + 45 * len(p),
                      margin={"l": 10, "r": 10, "t": 60, "b": 40}, showlegend=False)
    return fig


def tile_grid(images: np.ndarray, titles: Sequence[str], *, title: str, ncols: int = 4,
              tile_px: int = 64) -> go.Figure:
    """A small titled grid (a sample's transformed views, its nearest normals): every tile on one
    shared [0, 1] grey scale."""
    a = np.asarray(images, dtype=float)
    if a.ndim == 5:  # [1, K, C, H, W] → [K, C, H, W]
        a = a[0]
    return image_grid(np.clip(a, 0.0, 1.0), list(titles), ncols=ncols, title=title,
                      tile_px=tile_px)


def recon_strip(x: np.ndarray, reconstruction: np.ndarray, error_map: np.ndarray, *,
                title: str = "Input | reconstruction | error map",
                x_hat: str = "x̂") -> go.Figure:
    """One sample's input, reconstruction and error map side by side, short headers for a narrow
    column (the error map on its own scale, its sum written above it)."""
    from ad_core.viz.images import ERROR_COLORSCALE, ImageColumn, image_table

    err = np.asarray(error_map, dtype=float)
    emax = float(np.nanmax(err)) if err.size else 1.0
    fig = image_table([
        ImageColumn("x", x), ImageColumn(x_hat, reconstruction),
        ImageColumn("(x̂ − x)²", err, ERROR_COLORSCALE, 0.0, emax or 1.0,
                    titles=[f"Σ={v:.3g}" for v in err.reshape(len(err), -1).sum(1)]),
    ], [""] * len(err), title=title, tile_px=72)
    fig.update_layout(xaxis_title_text="")  # it would sit on the title, above the headers
    return fig
