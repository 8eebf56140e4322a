"""Image grids: many small images (or error maps) tiled into one Plotly figure.

All tiles are packed into a single mosaic trace (a ``go.Heatmap`` for one-channel images, a
``go.Image`` for RGB), separated by a one-pixel gap, with each tile's title written above it.
One trace instead of one subplot per image keeps a 64-image grid fast to build and to send to
the browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.colors as _c
import plotly.graph_objects as go

from ad_core.errors import BadDataError

#: Colour scale for error maps (x̂ − x)²: dark = well reconstructed, bright = large error.
#: Explicit ``rgb()`` colour lists: Streamlit's chart theme rewrites some hex colours (Inferno's
#: first colour ``#000004`` is one of its placeholders) and swaps named scales for its own.
ERROR_COLORSCALE: list = [[i / (len(_c.sequential.Inferno) - 1), _c.hex_to_rgb(c)]
                          for i, c in enumerate(_c.sequential.Inferno)]
ERROR_COLORSCALE = [[v, f"rgb{tuple(c)}"] for v, c in ERROR_COLORSCALE]
#: Colour scale for grey images (black = 0, white = 1).
GREY_COLORSCALE: list = [[0.0, "rgb(0,0,0)"], [1.0, "rgb(255,255,255)"]]
TILE_PX = 84
TITLE_PX = 18


def as_nchw(images: np.ndarray) -> np.ndarray:
    """Images as a float array ``[N, C, H, W]`` (accepts ``[H, W]``, ``[N, H, W]`` or NCHW)."""
    a = np.asarray(images, dtype=np.float64)
    if a.ndim == 2:
        a = a[None, None]
    elif a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4:
        raise BadDataError(f"Expected images shaped [N, C, H, W]; got an array of shape {a.shape}.")
    if a.shape[1] not in (1, 3):
        raise BadDataError(f"Images need 1 (grey) or 3 (RGB) channels, not {a.shape[1]}.")
    return a


def normalise_images(images: np.ndarray, *, per_image: bool = False, zmin: float | None = None,
                     zmax: float | None = None) -> tuple[np.ndarray, float, float]:
    """Map images to [0, 1] for display and return ``(images, zmin, zmax)`` of the mapping.

    ``per_image``: every image is stretched from its own minimum to its own maximum (details of
    faint error maps become visible, but brightness is no longer comparable between tiles).
    Otherwise one global range is used: ``zmin``/``zmax`` if given, else the data's min/max.
    """
    a = as_nchw(images)
    if a.shape[0] == 0:
        return a, 0.0, 1.0
    finite = np.where(np.isfinite(a), a, np.nan)
    if per_image:
        lo = np.nanmin(finite, axis=(1, 2, 3), keepdims=True)
        hi = np.nanmax(finite, axis=(1, 2, 3), keepdims=True)
        span = np.where(hi - lo > 0, hi - lo, 1.0)
        return np.clip((finite - lo) / span, 0.0, 1.0), 0.0, 1.0
    lo = float(np.nanmin(finite)) if zmin is None else float(zmin)
    hi = float(np.nanmax(finite)) if zmax is None else float(zmax)
    if not hi > lo:
        hi = lo + 1.0
    return np.clip((finite - lo) / (hi - lo), 0.0, 1.0), lo, hi


def mosaic(images: np.ndarray, ncols: int, gap: int = 1, row_gap: int | None = None,
           fill: float = np.nan) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Tile ``[N, C, H, W]`` images row by row into one array of shape
    ``[rows·(H+row_gap) − row_gap, cols·(W+gap) − gap, C]``; gaps hold ``fill``.

    Returns the mosaic and the top-left ``(row, col)`` pixel of every tile.
    """
    a = as_nchw(images)
    n, c, h, w = a.shape
    rg = gap if row_gap is None else row_gap
    cols = max(1, min(int(ncols), n))
    rows = max(1, -(-n // cols))
    out = np.full((rows * (h + rg) - rg, cols * (w + gap) - gap, c), fill, dtype=np.float64)
    corners: list[tuple[int, int]] = []
    for i in range(n):
        r0, c0 = (i // cols) * (h + rg), (i % cols) * (w + gap)
        out[r0:r0 + h, c0:c0 + w] = a[i].transpose(1, 2, 0)
        corners.append((r0, c0))
    return out, corners


def _with_title_band(m: np.ndarray, corners: list[tuple[int, int]], band: int,
                     fill: float) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Add ``band`` empty pixel rows on top of a mosaic so the first row's titles fit."""
    top = np.full((band, *m.shape[1:]), fill, dtype=m.dtype)
    return np.concatenate([top, m]), [(r + band, c) for r, c in corners]


def _tile_labels(shape: tuple[int, int], corners: list[tuple[int, int]], h: int, w: int,
                 titles: Sequence[str]) -> np.ndarray:
    """Per-pixel hover text: the title of the tile the pixel belongs to."""
    text = np.full(shape, "", dtype=object)
    for (r0, c0), t in zip(corners, titles):
        text[r0:r0 + h, c0:c0 + w] = t
    return text


def _mosaic_trace(m: np.ndarray, text: np.ndarray, *, lo: float, hi: float, per_image: bool,
                  colorscale: str | list, colorbar_title: str | None, name: str, x0: float = 0.0,
                  colorbar_x: float | None = None) -> go.BaseTraceType:
    """One trace drawing a display mosaic ``[H', W', C]`` in [0, 1] (NaN = gap) at column ``x0``.

    Grey mosaics become a ``go.Heatmap`` whose values are back in data units (``lo``..``hi``),
    RGB mosaics a ``go.Image``.
    """
    if m.shape[-1] == 3:
        rgb = np.round(np.nan_to_num(m, nan=1.0) * 255).astype(np.uint8)
        return go.Image(z=rgb, text=text, name=name, x0=x0, dx=1, y0=0, dy=1,
                        hovertemplate="%{text}<br>rgb %{z}<extra></extra>")
    z = m[..., 0]
    real = z if per_image else z * (hi - lo) + lo
    value = "value (stretched per image)" if per_image else "value"
    bar: dict = {"title": {"text": colorbar_title or ""}, "thickness": 12}
    if colorbar_x is not None:
        bar["x"] = colorbar_x
    return go.Heatmap(z=real, x0=x0, dx=1, y0=0, dy=1, zmin=0.0 if per_image else lo,
                      zmax=1.0 if per_image else hi, colorscale=colorscale, text=text, name=name,
                      hoverongaps=False, showscale=colorbar_title is not None, colorbar=bar,
                      hovertemplate=f"%{{text}}<br>{value} %{{z:.3g}}<extra></extra>")


def _empty_figure(title: str, message: str = "No images to show.") -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, height=140, xaxis={"visible": False}, yaxis={"visible": False},
                      annotations=[{"text": message, "showarrow": False, "xref": "paper",
                                    "yref": "paper", "x": 0.5, "y": 0.5}])
    return fig


def _image_axes(fig: go.Figure, *, title: str, height: int, xtitle: str, left: int = 10,
                xticks: tuple[list[float], list[str]] | None = None,
                yticks: tuple[list[float], list[str]] | None = None) -> None:
    """Square pixels, y pointing down, no grid; optional tick labels naming columns and rows."""
    xaxis: dict = {"title": {"text": xtitle}, "showgrid": False, "zeroline": False,
                   "constrain": "domain", "showticklabels": xticks is not None}
    if xticks is not None:
        xaxis.update(tickvals=xticks[0], ticktext=xticks[1], side="top", ticks="")
    yaxis: dict = {"title": {"text": ""}, "showgrid": False, "zeroline": False,
                   "autorange": "reversed", "scaleanchor": "x", "constrain": "domain",
                   "showticklabels": yticks is not None}
    if yticks is not None:
        yaxis.update(tickvals=yticks[0], ticktext=yticks[1], ticks="")
    fig.update_layout(title=title, height=max(int(height), 160), showlegend=False,
                      margin={"l": left, "r": 10, "t": 90 if xticks else 60, "b": 40},
                      xaxis=xaxis, yaxis=yaxis, plot_bgcolor="white")


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, ncols: int = 8, *,
               zmin: float | None = 0.0, zmax: float | None = 1.0, per_image: bool = False,
               colorscale: str | list = GREY_COLORSCALE, title: str = "Images",
               colorbar_title: str | None = None, tile_px: int = TILE_PX) -> go.Figure:
    """A grid of images in one figure.

    ``images``: ``[N, C, H, W]`` (C = 1 or 3), by default in [0, 1] (``zmin=0, zmax=1``). Pass
    ``zmin=None, zmax=None`` for one range from the data (e.g. error maps on a shared scale), or
    ``per_image=True`` to stretch every tile to its own range. ``colorscale`` applies to one-channel
    images (``ERROR_COLORSCALE`` for error maps); with ``colorbar_title`` a colour bar is drawn
    with the real values on it. Each tile gets its title above it (e.g. ``"#12 · score 3.1"``).
    """
    a = as_nchw(images)
    n, c, h, w = a.shape
    if n == 0:
        return _empty_figure(title)
    titles = [str(t) for t in titles] if titles is not None else [f"#{i}" for i in range(n)]
    if len(titles) != n:
        raise BadDataError(f"{n} images but {len(titles)} titles.")
    shown, lo, hi = normalise_images(a, per_image=per_image, zmin=zmin, zmax=zmax)
    cols = max(1, min(int(ncols), n))
    rows = -(-n // cols)
    px_per_pixel = tile_px / max(h, w)
    row_gap = max(1, int(np.ceil(TITLE_PX / px_per_pixel)))
    m, corners = _with_title_band(*mosaic(shown, cols, row_gap=row_gap), row_gap, np.nan)
    text = _tile_labels(m.shape[:2], corners, h, w, titles)
    fig = go.Figure(_mosaic_trace(m, text, lo=lo, hi=hi, per_image=per_image,
                                  colorscale=colorscale, colorbar_title=colorbar_title,
                                  name="images"))
    for (r0, c0), t in zip(corners, titles):
        fig.add_annotation(x=c0 + (w - 1) / 2, y=r0 - 0.5, text=t, showarrow=False,
                           yanchor="bottom", font={"size": 10}, xref="x", yref="y")
    _image_axes(fig, title=title, height=rows * (h + row_gap) * px_per_pixel + 90,
                xtitle=f"{n} image{'s' if n != 1 else ''}, {h}×{w} px each")
    return fig


@dataclass
class ImageColumn:
    """One column of :func:`image_table`: the same N samples shown one way (input, x̂, error …).

    ``zmin``/``zmax`` fix the display range (``None`` = the column's data range); ``per_image``
    stretches every tile to its own range; ``colorbar_title`` draws a colour bar for the column;
    ``titles`` (optional, one per row) are written above the tiles, e.g. a confidence.
    """

    header: str
    images: np.ndarray
    colorscale: str | list = field(default_factory=lambda: GREY_COLORSCALE)
    zmin: float | None = 0.0
    zmax: float | None = 1.0
    per_image: bool = False
    colorbar_title: str | None = None
    titles: Sequence[str] | None = None


def image_table(columns: Sequence[ImageColumn], row_titles: Sequence[str], *,
                title: str = "Images", tile_px: int = TILE_PX) -> go.Figure:
    """Samples as rows, ways of showing them as columns (e.g. input | reconstruction | error).

    Every column is one mosaic trace with its own colour scale and range, placed side by side on
    shared axes; column headers are the top tick labels, row titles the left tick labels.
    """
    cols = [ImageColumn(**{**c.__dict__, "images": as_nchw(c.images)}) for c in columns]
    if not cols or cols[0].images.shape[0] == 0:
        return _empty_figure(title)
    n, _, h, w = cols[0].images.shape
    for c in cols:
        if c.images.shape[0] != n or c.images.shape[2:] != (h, w):
            raise BadDataError(f"Column {c.header!r} holds images of shape "
                               f"{tuple(c.images.shape)}, not {n} images of {h}×{w} px.")
    rows_t = [str(t) for t in row_titles]
    if len(rows_t) != n:
        raise BadDataError(f"{n} image rows but {len(rows_t)} row titles.")
    px_per_pixel = tile_px / max(h, w)
    has_titles = any(c.titles is not None for c in cols)
    row_gap = max(1, int(np.ceil(TITLE_PX / px_per_pixel))) if has_titles else max(1, h // 10)
    col_gap = max(1, w // 6)
    fig = go.Figure()
    bars = 0
    for j, c in enumerate(cols):
        shown, lo, hi = normalise_images(c.images, per_image=c.per_image, zmin=c.zmin,
                                         zmax=c.zmax)
        m, corners = mosaic(shown, 1, row_gap=row_gap)
        if has_titles:
            m, corners = _with_title_band(m, corners, row_gap, np.nan)
        tile_t = [str(t) for t in c.titles] if c.titles is not None else [""] * n
        hover = [f"{r} · {c.header}" + (f" · {t}" if t else "") for r, t in zip(rows_t, tile_t)]
        x0 = j * (w + col_gap)
        fig.add_trace(_mosaic_trace(m, _tile_labels(m.shape[:2], corners, h, w, hover), lo=lo,
                                    hi=hi, per_image=c.per_image, colorscale=c.colorscale,
                                    colorbar_title=c.colorbar_title, name=c.header, x0=x0,
                                    colorbar_x=1.02 + 0.12 * bars))
        bars += c.colorbar_title is not None
        if c.titles is not None:
            for (r0, _), t in zip(corners, tile_t):
                fig.add_annotation(x=x0 + (w - 1) / 2, y=r0 - 0.5, text=t, showarrow=False,
                                   yanchor="bottom", font={"size": 10}, xref="x", yref="y")
    band = row_gap if has_titles else 0
    xt = [j * (w + col_gap) + (w - 1) / 2 for j in range(len(cols))]
    yt = [band + i * (h + row_gap) + (h - 1) / 2 for i in range(n)]
    left = min(200, 20 + 6 * max(len(t) for t in rows_t))
    _image_axes(fig, title=title, height=(n * (h + row_gap) + band) * px_per_pixel + 120,
                xtitle=f"{n} sample{'s' if n != 1 else ''}, {h}×{w} px each", left=left,
                xticks=(xt, [c.header for c in cols]), yticks=(yt, rows_t))
    fig.update_layout(margin={"r": 10 + 60 * bars})
    return fig
