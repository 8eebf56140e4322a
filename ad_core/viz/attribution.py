"""Figures of attribution maps (issue 20): calibrated maps over an image, a table row's top
features beside their normal range, the features that drive a run's flagged samples, and a PNG
of the maps for the command line (no browser or kaleido needed).

Every figure takes *calibrated* maps (a run's map divided by the run's scale: 1 = the strongest
effects on its normal samples) and draws them on a fixed diverging scale from −:data:`VMAX` to
+:data:`VMAX` — never the image's own min-max — and says on the figure what the colour means.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

#: The colour scale runs from −VMAX to +VMAX (calibrated units); beyond is clipped.
VMAX = 3.0
COLOUR_NOTE = ("colour: score change when the part is replaced by normal training data, "
               "1 = the strongest effects on this run's normal samples; red raises the anomaly "
               "score, blue lowers it, white = no effect; same scale on every sample")
SCALE = [[0.0, "#2166ac"], [0.35, "#92c5de"], [0.5, "#ffffff"], [0.65, "#f4a582"],
         [1.0, "#b2182b"]]


def _plane(a: np.ndarray) -> np.ndarray:
    """A [C, H, W] map or image as one [H, W] plane (channels summed for maps)."""
    a = np.asarray(a, dtype=np.float64)
    return a.sum(0) if a.ndim == 3 else a


def attribution_maps(image: np.ndarray, maps: Sequence[tuple[str, np.ndarray]], *,
                     title: str = "Why this score", vmax: float = VMAX,
                     note: str = COLOUR_NOTE, height: int = 230) -> go.Figure:
    """The input beside each calibrated map (``(title, [C, H, W])``), the digit's outline drawn
    over every map; one shared colour bar from −``vmax`` to +``vmax``."""
    img = np.asarray(image, dtype=np.float64)
    grey = img.mean(0) if img.ndim == 3 else img
    n = 1 + len(maps)
    fig = make_subplots(1, n, subplot_titles=["input", *[t for t, _ in maps]],
                        horizontal_spacing=0.03)
    fig.add_trace(go.Heatmap(z=grey[::-1], colorscale="gray", showscale=False, zmin=0, zmax=1,
                             hoverinfo="skip"), 1, 1)
    for j, (_, m) in enumerate(maps, start=2):
        fig.add_trace(go.Heatmap(z=np.clip(_plane(m), -vmax, vmax)[::-1], colorscale=SCALE,
                                 zmin=-vmax, zmax=vmax, showscale=j == 2,
                                 colorbar={"title": {"text": "×normal", "side": "right"},
                                           "thickness": 10, "len": 0.9},
                                 hovertemplate="x %{x}, y %{y}: %{z:.2f}<extra></extra>"), 1, j)
        fig.add_trace(go.Contour(z=grey[::-1], showscale=False, contours={
            "start": 0.5, "end": 0.5, "size": 1, "coloring": "none"},
            line={"color": "rgba(0,0,0,0.45)", "width": 1}, hoverinfo="skip"), 1, j)
    for k in range(1, n + 1):
        fig.update_xaxes(visible=False, row=1, col=k)
        fig.update_yaxes(visible=False, scaleanchor=f"x{k if k > 1 else ''}", row=1, col=k)
    fig.update_layout(title={"text": title, "font": {"size": 13}}, height=height,
                      margin={"l": 5, "r": 5, "t": 45, "b": 45})
    fig.add_annotation(text=_wrap(note, 90), xref="paper", yref="paper", x=0, y=-0.02,
                       xanchor="left", yanchor="top", showarrow=False, font={"size": 9},
                       align="left")
    return fig


def _wrap(text: str, width: int) -> str:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if len(cur) + len(w) + 1 > width and cur:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    return "<br>".join([*lines, cur])


def top_features(calibrated: np.ndarray, k: int = 8) -> np.ndarray:
    """Indices of the ``k`` features with the largest |calibrated attribution|, largest first."""
    a = np.abs(np.asarray(calibrated, dtype=np.float64))
    return np.argsort(-a, kind="stable")[:k]


def feature_attribution_bars(calibrated: np.ndarray, values: np.ndarray, lo: np.ndarray,
                             hi: np.ndarray, names: Sequence[str] | None = None, *, k: int = 8,
                             title: str = "Top features", note: str = COLOUR_NOTE) -> go.Figure:
    """A table row's ``k`` most-attributed features as horizontal bars (calibrated units),
    each labelled with the row's value and the normal range (5th–95th percentile of the
    training normals); red bars raise the score, blue ones lower it."""
    a = np.asarray(calibrated, dtype=np.float64)
    names = list(names) if names is not None else [f"f{i}" for i in range(len(a))]
    idx = top_features(a, k)[::-1]
    labels = [f"{names[i]} = {float(values[i]):.3g}  (normal {float(lo[i]):.3g}–"
              f"{float(hi[i]):.3g})" for i in idx]
    colours = ["#b2182b" if a[i] > 0 else "#2166ac" for i in idx]
    fig = go.Figure(go.Bar(x=a[idx], y=labels, orientation="h", marker_color=colours,
                           hovertemplate="%{y}: %{x:.2f}×normal<extra></extra>"))
    fig.update_layout(title={"text": title, "font": {"size": 13}}, height=90 + 26 * len(idx),
                      margin={"l": 5, "r": 5, "t": 40, "b": 60},
                      xaxis_title="effect on the score (×normal)")
    fig.add_annotation(text=_wrap(note, 80), xref="paper", yref="paper", x=0, y=-0.25,
                       xanchor="left", yanchor="top", showarrow=False, font={"size": 9},
                       align="left")
    return fig


def feature_drivers(flagged: np.ndarray, normal: np.ndarray, names: Sequence[str] | None = None,
                    *, k: int = 12, n_flagged: int | None = None) -> go.Figure:
    """Which features drive the flagged samples: mean |calibrated attribution| over them, the
    normal samples' mean beside it, the ``k`` largest."""
    f, nm = np.asarray(flagged, dtype=float), np.asarray(normal, dtype=float)
    names = list(names) if names is not None else [f"f{i}" for i in range(len(f))]
    idx = np.argsort(-f, kind="stable")[:k][::-1]
    fig = go.Figure([
        go.Bar(x=f[idx], y=[names[i] for i in idx], orientation="h", name="flagged samples",
               marker_color="#b2182b"),
        go.Bar(x=nm[idx], y=[names[i] for i in idx], orientation="h", name="normal samples",
               marker_color="#92c5de")])
    who = f"{n_flagged} flagged samples" if n_flagged else "the flagged samples"
    fig.update_layout(barmode="group", height=120 + 30 * len(idx),
                      title={"text": f"Features that drive {who} (mean |attribution|)",
                             "font": {"size": 13}},
                      xaxis_title="mean |score change| when the feature is replaced by its "
                                  "normal value (×normal)",
                      margin={"l": 5, "r": 5, "t": 40, "b": 40})
    return fig


# --------------------------------------------------------------------------- PNG (CLI)


def _rgb(cal: np.ndarray, vmax: float) -> np.ndarray:
    """Calibrated values → RGB (white at 0, red positive, blue negative), uint8 [H, W, 3]."""
    t = np.clip(np.asarray(cal, dtype=np.float64) / vmax, -1.0, 1.0)[..., None]
    red, blue, white = (np.array(c, dtype=np.float64) for c in
                        ((178, 24, 43), (33, 102, 172), (255, 255, 255)))
    out = np.where(t >= 0, white + t * (red - white), white + (-t) * (blue - white))
    return out.round().astype(np.uint8)


def save_maps_png(path: str | Path, image: np.ndarray | None,
                  maps: Sequence[tuple[str, np.ndarray]], *, caption: str = "",
                  vmax: float = VMAX, zoom: int = 8) -> Path:
    """The input (grey) beside each calibrated map, scaled up ``zoom`` times, titles above and
    the colour's meaning below, as a PNG (images). A table row: one bar per feature instead."""
    from PIL import Image, ImageDraw

    tiles, titles = [], []
    if image is not None and np.ndim(image) == 3:
        g = np.clip(np.asarray(image, dtype=np.float64).mean(0), 0, 1)
        tiles.append(np.repeat((g * 255).round().astype(np.uint8)[..., None], 3, -1))
        titles.append("input")
        for t, m in maps:
            tiles.append(_rgb(_plane(m), vmax))
            titles.append(t)
        tiles = [np.kron(t, np.ones((zoom, zoom, 1), dtype=np.uint8)) for t in tiles]
        h, w = tiles[0].shape[:2]
        canvas = Image.new("RGB", ((w + 10) * len(tiles) + 10, h + 85), "white")
        draw = ImageDraw.Draw(canvas)
        for i, (t, name) in enumerate(zip(tiles, titles)):
            canvas.paste(Image.fromarray(t), (10 + i * (w + 10), 25))
            draw.text((10 + i * (w + 10), 5), name[:40], fill="black")
    else:
        vals = [np.asarray(m, dtype=np.float64).ravel() for _, m in maps]
        n = len(vals[0]) if vals else 0
        canvas = Image.new("RGB", (40 + 260 * len(vals), 40 + 14 * n + 40), "white")
        draw = ImageDraw.Draw(canvas)
        for j, (v, (name, _)) in enumerate(zip(vals, maps)):
            x0 = 40 + j * 260 + 120
            draw.text((x0 - 110, 5), name[:40], fill="black")
            for i, a in enumerate(v):
                y = 30 + 14 * i
                length = int(np.clip(a / vmax, -1, 1) * 100)
                draw.rectangle([min(x0, x0 + length), y, max(x0, x0 + length), y + 10],
                               fill=tuple(int(c) for c in _rgb(np.array([[a]]), vmax)[0, 0]))
                draw.text((x0 - 118, y), f"f{i}", fill="black")
    return _save_with_caption(canvas, draw, path, caption, x=10, width=110)


def _save_with_caption(canvas: Any, draw: Any, path: str | Path, caption: str, *, x: int,
                       width: int) -> Path:
    """Write the colour's meaning (or ``caption``) under a PIL picture (whose last 50 px are kept
    for it; taller when the text needs more) and save it as ``path``."""
    from PIL import Image, ImageDraw

    text = _wrap(caption or COLOUR_NOTE, width).replace("<br>", "\n")
    top = canvas.size[1] - 50
    need = draw.multiline_textbbox((x, top), text)[3] + 8
    if need > canvas.size[1]:
        taller = Image.new("RGB", (canvas.size[0], need), "white")
        taller.paste(canvas, (0, 0))
        canvas, draw = taller, ImageDraw.Draw(taller)
    draw.text((x, top), text, fill="black")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)
    return out


def save_grid_png(path: str | Path, image: np.ndarray,
                  rows: Sequence[tuple[str, Sequence[tuple[str, np.ndarray]]]], *,
                  vmax: float = VMAX, zoom: int = 5, caption: str = "") -> Path:
    """One image's calibrated maps by several runs, one row per run (``(name, [(map title,
    [C, H, W])…])``): the input, then each map, as a PNG (the README's side-by-side picture)."""
    from PIL import Image, ImageDraw

    g = np.clip(np.asarray(image, dtype=np.float64).mean(0), 0, 1)
    h, w = (s * zoom for s in g.shape)
    n_cols = 1 + max((len(m) for _, m in rows), default=0)
    label_w, pad = 110, 8
    canvas = Image.new("RGB", (label_w + n_cols * (w + pad) + pad,
                               30 + len(rows) * (h + 22) + 60), "white")
    draw = ImageDraw.Draw(canvas)
    grey = np.kron(np.repeat((g * 255).round().astype(np.uint8)[..., None], 3, -1),
                   np.ones((zoom, zoom, 1), dtype=np.uint8))
    for i, (name, maps) in enumerate(rows):
        y = 30 + i * (h + 22)
        draw.text((5, y + h // 2), name[:18], fill="black")
        tiles = [("input", grey)] + [(t, np.kron(_rgb(_plane(m), vmax),
                                                 np.ones((zoom, zoom, 1), dtype=np.uint8)))
                                     for t, m in maps]
        for j, (title, tile) in enumerate(tiles):
            x = label_w + j * (w + pad)
            canvas.paste(Image.fromarray(tile), (x, y + 12))
            draw.text((x, y), title[:22], fill="black")
    return _save_with_caption(canvas, draw, path, caption, x=5, width=100)


def map_tiles(images: np.ndarray, maps: np.ndarray, titles: Sequence[str], *, ncols: int = 8,
              vmax: float = VMAX, title: str = "Attribution maps") -> go.Figure:
    """A gallery's calibrated maps (``[k, H, W]``) as tiles on the run's fixed colour scale, each
    image's outline drawn over its map (one heatmap and one contour for the whole grid)."""
    imgs = np.asarray(images, dtype=np.float64)
    grey = imgs.mean(1) if imgs.ndim == 4 else imgs
    k, h, w = grey.shape
    rows = -(-k // ncols)
    big_m = np.full((rows * (h + 1), ncols * (w + 1)), np.nan)
    big_g = np.zeros_like(big_m)
    for i in range(k):
        r, c = divmod(i, ncols)
        big_m[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = np.clip(maps[i], -vmax,
                                                                                 vmax)
        big_g[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = grey[i]
    fig = go.Figure([
        go.Heatmap(z=big_m[::-1], colorscale=SCALE, zmin=-vmax, zmax=vmax,
                   colorbar={"title": {"text": "×normal", "side": "right"}, "thickness": 10},
                   hoverinfo="skip"),
        go.Contour(z=big_g[::-1], showscale=False, hoverinfo="skip", line={
            "color": "rgba(0,0,0,0.45)", "width": 1}, contours={
            "start": 0.5, "end": 0.5, "size": 1, "coloring": "none"})])
    for i, t in enumerate(titles[:k]):
        r, c = divmod(i, ncols)
        fig.add_annotation(x=c * (w + 1) + (w - 1) / 2, y=rows * (h + 1) - r * (h + 1) - 0.5,
                           text=str(t), showarrow=False, font={"size": 9}, yanchor="bottom")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig.update_layout(title={"text": title, "font": {"size": 13}},
                      height=80 + rows * (h + 1) * 5 + 40, margin={"l": 5, "r": 5, "t": 45,
                                                                   "b": 30})
    fig.add_annotation(text=_wrap(COLOUR_NOTE, 120), xref="paper", yref="paper", x=0, y=0,
                       yshift=-25, xanchor="left", yanchor="top", showarrow=False,
                       font={"size": 9}, align="left")
    return fig
