"""Training replays: animated figures of what a detector made of a fixed set of test samples
while it learned (the snapshots ``ad_core.snapshots`` records), and one offline HTML file of them.

Every animated figure has one Plotly frame per snapshot (the last one is the final, fitted model),
a step slider and Play/Pause buttons, and axis and colour ranges fixed over all frames, so that
what changes between two steps moves instead of being rescaled away.

The builders take any object shaped like ``ad_core.snapshots.Replay`` (:class:`ReplayLike`:
arrays only); figures never see a model or a run.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from ad_core.viz.images import ERROR_COLORSCALE, GREY_COLORSCALE, image_grid
from ad_core.viz.scores import ANOMALY_COLOR, NORMAL_COLOR, SCORE_AXIS

#: Milliseconds per frame when playing, and of the move between two frames.
FRAME_MS = 700
MOVE_MS = 350
#: The view keys a replay can draw, in the order the pages offer them.
VIEW_ORDER = ("reconstruction", "error_map", "views", "softmax", "probs", "score_terms",
              "latent_norm")
VIEW_TITLES = {"reconstruction": "reconstructions x̂", "error_map": "error maps (x̂ − x)²",
               "views": "learned views", "softmax": "softmax over transformations",
               "probs": "probabilities", "score_terms": "score terms",
               "latent_norm": "latent norms ‖z‖"}


if TYPE_CHECKING:  # the figures read a replay's fields; only the type comes from there
    from ad_core.snapshots import Replay as ReplayLike


# --------------------------------------------------------------------------- animation plumbing
def _go_to(name: str) -> list:
    return [[name], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                     "transition": {"duration": 0}}]


def _animate(fig: go.Figure, frames: list[go.Frame], labels: Sequence[str], *, redraw: bool,
             below: int = 0, prefix: str = "Snapshot: ") -> go.Figure:
    """Give ``fig`` its frames (named ``f0``, ``f1`` …), a slider with one step per frame and
    Play/Pause buttons, ``below`` extra pixels under the x axis (long tick labels). Every move
    redraws (a frame's title only shows on a redraw); ``redraw=False`` lets bars and points glide
    between two frames, images and heatmaps (``redraw=True``) jump."""
    fig.frames = frames
    move = 0 if redraw else MOVE_MS
    play = [None, {"frame": {"duration": FRAME_MS, "redraw": True}, "fromcurrent": True,
                   "mode": "immediate", "transition": {"duration": move, "easing": "cubic-in-out"}}]
    pause = [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate",
                      "transition": {"duration": 0}}]
    fig.update_layout(
        updatemenus=[{"type": "buttons", "direction": "left", "showactive": False,
                      "x": 0.0, "y": 0.0, "xanchor": "left", "yanchor": "top",
                      "pad": {"t": 75 + below, "r": 10},
                      "buttons": [{"label": "▶ Play", "method": "animate", "args": play},
                                  {"label": "❚❚ Pause", "method": "animate", "args": pause}]}],
        sliders=[{"active": 0, "x": 0.17, "len": 0.83, "y": 0.0, "yanchor": "top",
                  "pad": {"t": 60 + below}, "currentvalue": {"prefix": prefix,
                                                              "font": {"size": 12}},
                  "transition": {"duration": 0},
                  "steps": [{"label": str(lab), "method": "animate",
                             "args": _go_to(f.name)} for f, lab in zip(frames, labels)]}])
    fig.update_layout(margin={"b": 150 + below})
    fig.update_layout(height=(fig.layout.height or 420) + 90 + below)
    return fig


def _frame_title(replay: ReplayLike, i: int, what: str) -> str:
    lab = replay.labels()[i]
    auc = float(replay.auroc[i])
    auc_s = f"AUROC {auc:.3f}" if np.isfinite(auc) else "AUROC n/a"
    return f"{what} · {lab} · {auc_s}" + (" (the fitted model)" if bool(replay.final[i]) else "")


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, height=160, xaxis={"visible": False},
                      yaxis={"visible": False},
                      annotations=[{"text": message, "showarrow": False, "xref": "paper",
                                    "yref": "paper", "x": 0.5, "y": 0.5}])
    return fig


def _pad(lo: float, hi: float, frac: float = 0.05) -> list[float]:
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return [lo - frac * span, hi + frac * span]


# --------------------------------------------------------------------------- scores
def score_scale(scores: np.ndarray) -> str:
    """How :func:`score_replay` puts the snapshots' scores ``[S, n]`` on one axis: ``"raw"``
    (their own units), ``"log"`` (all positive with a long tail: log-spaced bins) or
    ``"standardised"`` (each step centred on its normals' median and divided by their spread,
    when the scale changes so much during training that the final model's scores would span
    less than 15 % of the axis, e.g. GeoTrans's early scores of millions)."""
    s = np.asarray(scores, dtype=float)
    fin = s[np.isfinite(s)]
    if fin.size < 2:
        return "raw"
    if fin.min() > 0 and np.quantile(fin, 0.995) / np.median(fin) > 20:
        return "log"
    lo, hi = np.quantile(fin, [0.005, 0.995])
    last = s[-1][np.isfinite(s[-1])]
    span = np.ptp(np.quantile(last, [0.005, 0.995])) if last.size >= 2 else 0.0
    return "standardised" if hi > lo and span < 0.15 * (hi - lo) else "raw"


def _scaled(scores: np.ndarray, y: np.ndarray, scale: str) -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    if scale == "log":
        return np.log10(np.where(s > 0, s, np.nan))
    if scale != "standardised":
        return s
    out = np.empty_like(s)
    for i, r in enumerate(s):
        ref = r[(y == 0) & np.isfinite(r)]
        ref = ref if ref.size else r[np.isfinite(r)]
        med = float(np.median(ref)) if ref.size else 0.0
        q1, q3 = (np.quantile(ref, [0.25, 0.75]) if ref.size else (0.0, 1.0))
        spread = float(q3 - q1) or float(np.std(ref)) or 1.0
        out[i] = (r - med) / spread
    return out


def score_replay(replay: ReplayLike, *, nbins: int = 30, scale: str = "auto",
                 title: str = "Scores") -> go.Figure:
    """The score histogram of the normals and the anomalies of the replay's test subsample at
    every snapshot, on bins fixed over all frames (the outer 0.5 % of all scores fall in the edge
    bins), the frame title giving the step and its AUROC. ``scale``: ``"auto"``
    (:func:`score_scale`), ``"raw"``, ``"log"`` or ``"standardised"``; ``title`` starts every
    frame's title."""
    y = np.asarray(replay.y).astype(int)
    scale = score_scale(replay.scores) if scale == "auto" else scale
    s = _scaled(replay.scores, y, scale)
    fin = s[np.isfinite(s)]
    if not len(replay) or fin.size == 0:
        return _empty(title, "No finite scores were recorded.")
    lo, hi = (float(v) for v in np.quantile(fin, [0.005, 0.995]))
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, nbins + 1)
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    groups = [("normal", y == 0, NORMAL_COLOR), ("anomaly", y == 1, ANOMALY_COLOR)]

    def shares(row: np.ndarray, sel: np.ndarray) -> np.ndarray:
        v = row[sel & np.isfinite(row)]
        counts = np.histogram(np.clip(v, lo, hi), edges)[0]
        return counts / max(1, len(v))

    hist = [[shares(row, sel) for _, sel, _ in groups] for row in s]
    ymax = max(float(np.max(h)) for frame in hist for h in frame) if hist else 1.0
    x = 10 ** centres if scale == "log" else centres
    w = (10 ** edges[1:] - 10 ** edges[:-1]) if scale == "log" else np.full(nbins, width)

    def bars(frame: list[np.ndarray]) -> list[go.Bar]:
        return [go.Bar(x=x, y=h, width=w, name=f"{name} ({int(sel.sum())})", marker_color=c,
                       opacity=0.6, hovertemplate="score ≈ %{x:.4g}<br>%{y:.1%} of the group"
                       f"<extra>{name}</extra>")
                for h, (name, sel, c) in zip(frame, groups)]

    what = title
    frames = [go.Frame(data=bars(h), name=f"f{i}", traces=[0, 1],
                       layout={"title": {"text": _frame_title(replay, i, what)}})
              for i, h in enumerate(hist)]
    fig = go.Figure(bars(hist[0]))
    axis_title = {"raw": SCORE_AXIS, "log": SCORE_AXIS + ", log scale",
                  "standardised": "score, standardised per step: (score − normals' median) / "
                                  "normals' IQR"}[scale]
    xaxis: dict = {"title": {"text": axis_title}}
    if scale == "log":
        xaxis.update(type="log", range=_pad(lo, hi, 0.02))
    else:
        xaxis.update(range=_pad(lo, hi, 0.02))
    fig.update_layout(title=_frame_title(replay, 0, what), barmode="overlay", bargap=0,
                      xaxis=xaxis, yaxis={"title": {"text": "share of the group"},
                                          "range": [0, ymax * 1.08], "tickformat": ".0%"},
                      legend_title="group", height=400, meta={"scale": scale})
    return _animate(fig, frames, replay.labels(), redraw=False)


def auroc_curve(replay: ReplayLike, title: str = "AUROC while it learns") -> go.Figure:
    """The running AUROC of the subsample at every training snapshot against the step, the final
    (fitted) model — the selected checkpoint — marked, and where each training phase starts."""
    step = np.asarray(replay.step, dtype=float)
    auc = np.asarray(replay.auroc, dtype=float)
    fin = np.asarray(replay.final, dtype=bool)
    fig = go.Figure()
    if (~fin).any():
        fig.add_trace(go.Scatter(x=step[~fin], y=auc[~fin], mode="lines+markers",
                                 name="during training", line={"color": ANOMALY_COLOR},
                                 hovertemplate="step %{x}: AUROC %{y:.3f}<extra></extra>"))
    if fin.any():
        fig.add_trace(go.Scatter(
            x=step[fin], y=auc[fin], mode="markers", name="final model (selected checkpoint)",
            marker={"symbol": "star", "size": 16, "color": "black"},
            hovertemplate="final model, step %{x}: AUROC %{y:.3f}<extra></extra>"))
    fig.add_hline(y=0.5, line_dash="dot", line_color="grey", annotation_text="chance 0.5",
                  annotation_position="bottom right")
    for k, off in enumerate(replay.meta.get("phase_offsets", [])[1:], start=2):
        fig.add_vline(x=float(off), line_dash="dash", line_color="grey",
                      annotation_text=f"phase {k} starts", annotation_position="top left")
    n = int(replay.meta.get("n_samples", replay.scores.shape[-1] if replay.scores.ndim else 0))
    fig.update_layout(title=title, xaxis_title="training step",
                      yaxis_title=f"AUROC ({n} test samples)", yaxis={"range": [0, 1.02]},
                      height=300, legend={"orientation": "h", "y": -0.3},
                      margin={"l": 60, "r": 20, "t": 50, "b": 40})
    return fig


# --------------------------------------------------------------------------- embedding
def pca_once(codes: np.ndarray) -> np.ndarray:
    """``codes [S, m, d]`` projected on the two principal axes of all snapshots' codes stacked
    (one projection for every step, so points move between frames): ``[S, m, 2]``."""
    c = np.asarray(codes, dtype=np.float64)
    s, m = c.shape[:2]
    flat = np.nan_to_num(c.reshape(s * m, -1), nan=0.0, posinf=0.0, neginf=0.0)
    flat = flat - flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat, full_matrices=False)
    axes = vt[:2]
    if len(axes) < 2:
        axes = np.vstack([axes, np.zeros((2 - len(axes), flat.shape[1]))])
    # sign: largest loading positive, so the picture does not flip between versions
    axes = axes * np.where(axes[np.arange(2), np.abs(axes).argmax(1)] < 0, -1.0, 1.0)[:, None]
    return (flat @ axes.T).reshape(s, m, 2)


def embedding_replay(replay: ReplayLike, title: str | None = None) -> go.Figure:
    """The latent codes of the replay's first test samples at every snapshot, projected with ONE
    PCA fitted on all snapshots' codes (:func:`pca_once`; the title says so), coloured normal /
    anomaly; points glide between steps (each keeps its ``ids``) on axes fixed over all frames."""
    if replay.codes is None or not len(replay):
        return _empty(title or "Latent codes while it learns",
                      "This run's snapshots kept no latent codes.")
    xy = pca_once(replay.codes)
    m = xy.shape[1]
    y = np.asarray(replay.y).astype(int)[:m]
    rows = np.asarray(replay.index)[:m]
    kind = np.asarray(replay.kind).astype(str)[:m]
    scores = np.asarray(replay.scores, dtype=float)[:, :m]
    groups = [("normal", y == 0, NORMAL_COLOR, 7), ("anomaly", y == 1, ANOMALY_COLOR, 6)]
    what = title or "Latent codes, one PCA fitted on all steps"

    def points(i: int) -> list[go.Scatter]:
        return [go.Scatter(
            x=xy[i, sel, 0], y=xy[i, sel, 1], mode="markers", name=f"{name} ({int(sel.sum())})",
            ids=[str(r) for r in rows[sel]], marker={"color": c, "size": size, "opacity": 0.7},
            customdata=np.stack([rows[sel], scores[i, sel]], 1), text=kind[sel],
            hovertemplate="row %{customdata[0]} · %{text}<br>score %{customdata[1]:.4g}"
                          f"<extra>{name}</extra>")
                for name, sel, c, size in groups]

    frames = [go.Frame(data=points(i), name=f"f{i}", traces=[0, 1],
                       layout={"title": {"text": _frame_title(replay, i, what)}})
              for i in range(len(replay))]
    fig = go.Figure(points(0))
    finite = xy[np.isfinite(xy).all(-1)]
    lo, hi = (finite.min(0), finite.max(0)) if len(finite) else (np.zeros(2), np.ones(2))
    fig.update_layout(title={"text": _frame_title(replay, 0, what)},
                      xaxis={"title": {"text": f"PC 1 of all {len(replay)} snapshots' codes"},
                             "range": _pad(lo[0], hi[0])},
                      yaxis={"title": {"text": "PC 2 (same axes at every step)"},
                             "range": _pad(lo[1], hi[1])},
                      height=520, legend_title="label")
    return _animate(fig, frames, replay.labels(), redraw=False)


# --------------------------------------------------------------------------- method views
def view_keys(replay: ReplayLike, changing: bool = True) -> list[str]:
    """The method views this replay can animate, in display order; with ``changing`` only those
    that change during training (GeoTrans's transformed views T_k(x) do not: they are fixed)."""
    out = []
    for k in VIEW_ORDER:
        a = replay.views.get(k)
        if a is None or a.ndim < 2 or not len(a):
            continue
        if changing and np.allclose(np.asarray(a[0], float), np.asarray(a, float), equal_nan=True):
            continue
        out.append(k)
    return out


def per_sample(replay: ReplayLike, key: str) -> bool:
    """Whether :func:`views_replay` draws ``key`` for one chosen sample (else all 8 at once)."""
    per = replay.views[key].shape[2:]
    return len(per) >= 1 and not (len(per) == 3 and per[0] in (1, 3))


def sample_labels(replay: ReplayLike) -> list[str]:
    """``"#row · kind"`` for each of the replay's view samples."""
    where = {int(r): i for i, r in enumerate(np.asarray(replay.index))}
    kinds = np.asarray(replay.kind).astype(str)
    return [f"#{int(r)} · {kinds[where[int(r)]] if int(r) in where else '?'}"
            for r in np.asarray(replay.view_index)]


def _fixed_range(a: np.ndarray, key: str) -> tuple[float, float]:
    fin = a[np.isfinite(a)]
    if not fin.size:
        return 0.0, 1.0
    if key == "error_map":
        return 0.0, float(np.quantile(fin, 0.995)) or 1.0
    if key in ("softmax", "probs"):
        return 0.0, 1.0
    lo, hi = float(fin.min()), float(fin.max())
    if key == "reconstruction" and lo >= -0.05 and hi <= 1.05:
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _image_frames(replay: ReplayLike, stack: np.ndarray, titles: list[str], key: str,
                  what: str, ncols: int, top: np.ndarray | None = None) -> go.Figure:
    """One mosaic per snapshot of ``stack [S, N, C, H, W]`` (``top``: fixed images first)."""
    lo, hi = _fixed_range(stack, key)
    error = key == "error_map"
    scale = ERROR_COLORSCALE if error else GREY_COLORSCALE
    grids = []
    for frame in stack:
        imgs = frame if top is None else np.concatenate([top, np.clip(frame, lo, hi)])
        grids.append(image_grid(imgs, titles, ncols=ncols, zmin=lo, zmax=hi, colorscale=scale,
                                colorbar_title="(x̂ − x)²" if error else None,
                                title=_frame_title(replay, 0, what)))
    fig = grids[0]
    frames = [go.Frame(data=[type(g.data[0])(z=g.data[0].z)], name=f"f{i}", traces=[0],
                       layout={"title": {"text": _frame_title(replay, i, what)}})
              for i, g in enumerate(grids)]
    return _animate(fig, frames, replay.labels(), redraw=True)


def views_replay(replay: ReplayLike, key: str, sample: int = 0, *,
                 inputs: np.ndarray | None = None, names: Sequence[str] | None = None,
                 title: str | None = None) -> go.Figure:
    """The method's own view of its 8 view samples at every snapshot, on fixed colour/axis ranges.

    - ``reconstruction`` / ``error_map`` of images ``[S, 8, C, H, W]``: the 8 samples side by
      side (``inputs [8, C, H, W]`` given: the inputs above the reconstructions);
    - ``views`` ``[S, 8, K, C, H, W]`` (NeuTraL AD, GeoTrans): the K views of sample ``sample``;
    - ``softmax`` / ``probs`` ``[S, 8, T, T]`` (GeoTrans): a T×T heatmap of sample ``sample``,
      row = the transformation applied, column = the one the classifier predicts;
    - per-sample vectors ``[S, 8, F]`` (score terms, a table's reconstruction): bars of sample
      ``sample`` (``names``: one per bar; ``inputs [8, F]``: the input as fixed bars beside);
    - per-sample numbers ``[S, 8]`` (latent norms): one bar per sample.
    """
    if key not in replay.views or not len(replay):
        return _empty(title or "Method view", f"This run's snapshots kept no {key!r}.")
    a = np.asarray(replay.views[key], dtype=np.float64)
    labels = sample_labels(replay)
    sample = int(np.clip(sample, 0, a.shape[1] - 1))
    what = f"{VIEW_TITLES.get(key, key).capitalize()}"
    per = a.shape[2:]
    if len(per) == 3 and per[0] in (1, 3):
        titles = [lab.split(" · ")[-1] + " " + lab.split(" · ")[0] for lab in labels]
        top = None
        if inputs is not None and key == "reconstruction" and len(inputs) == a.shape[1]:
            top = np.asarray(inputs, dtype=np.float64).reshape(a.shape[1:])
            titles = [*titles, *["x̂"] * a.shape[1]]
            what += " (top: input, bottom: x̂)"
        fig = _image_frames(replay, a, titles, key, what, ncols=a.shape[1], top=top)
    elif len(per) == 4 and per[1] in (1, 3):
        k = per[0]
        vnames = list(names) if names is not None and len(names) == k else \
            [f"T{j}" for j in range(k)]
        what = f"{what} of {labels[sample]}"
        fig = _image_frames(replay, a[:, sample], vnames, key, what, ncols=min(k, 8))
    elif len(per) == 2 and per[0] == per[1]:
        what = f"{what} of {labels[sample]}"
        z = a[:, sample]
        lo, hi = _fixed_range(z, key)
        fig = go.Figure(go.Heatmap(z=z[0], zmin=lo, zmax=hi, colorscale="Blues",
                                   colorbar={"title": {"text": "probability"}},
                                   hovertemplate="applied T%{y}, predicted T%{x}: "
                                                 "%{z:.3f}<extra></extra>"))
        fig.update_layout(title=_frame_title(replay, 0, what), height=480,
                          xaxis={"title": {"text": "predicted transformation"},
                                 "constrain": "domain"},
                          yaxis={"title": {"text": "applied transformation"},
                                 "autorange": "reversed", "scaleanchor": "x"})
        frames = [go.Frame(data=[go.Heatmap(z=z[i])], name=f"f{i}", traces=[0],
                           layout={"title": {"text": _frame_title(replay, i, what)}})
                  for i in range(len(replay))]
        fig = _animate(fig, frames, replay.labels(), redraw=True)
    elif len(per) <= 1:
        fig = _bars(replay, a, key, sample, labels, names, inputs, what)
    else:
        return _empty(title or what, f"{key!r} of shape {a.shape[1:]} has no replay view.")
    if title:
        fig.update_layout(title=title)
    return fig


def _bars(replay: ReplayLike, a: np.ndarray, key: str, sample: int, labels: list[str],
          names: Sequence[str] | None, inputs: np.ndarray | None, what: str) -> go.Figure:
    """Animated bars: one per sample (``a [S, 8]``) or one per entry of sample ``sample``."""
    if a.ndim == 2:
        vals, x = a, labels
        kinds = [lab.split(" · ")[-1] for lab in labels]
        colors: Any = [NORMAL_COLOR if k == "normal" else ANOMALY_COLOR for k in kinds]
        fixed = None
    else:
        vals = a[:, sample]
        f = vals.shape[1]
        x = [str(n) for n in names] if names is not None and len(names) == f else \
            [str(j) for j in range(f)]
        colors = ANOMALY_COLOR
        what = f"{what} of {labels[sample]}"
        fixed = None
        if inputs is not None and np.ndim(inputs) == 2 and np.shape(inputs)[1] == f:
            fixed = np.asarray(inputs, dtype=float)[sample]
    both = vals.ravel() if fixed is None else np.concatenate([vals.ravel(), fixed])
    lo, hi = _fixed_range(both, key)
    fin = both[np.isfinite(both)]
    # a term that falls by decades while it learns (GeoTrans's early millions): log axis
    log = bool(fin.size and fin.min() > 0 and fin.max() / fin.min() > 1e3)
    traces = [] if fixed is None else [go.Bar(x=x, y=fixed, name="input", marker_color="grey",
                                              opacity=0.5)]

    def bar(i: int) -> go.Bar:
        return go.Bar(x=x, y=vals[i], name=VIEW_TITLES.get(key, key), marker_color=colors,
                      hovertemplate="%{x}: %{y:.4g}<extra></extra>")

    fig = go.Figure([*traces, bar(0)])
    k = len(traces)
    frames = [go.Frame(data=[bar(i)], name=f"f{i}", traces=[k],
                       layout={"title": {"text": _frame_title(replay, i, what)}})
              for i in range(len(replay))]
    yaxis: dict = {"title": {"text": VIEW_TITLES.get(key, key)}}
    if log:
        yaxis.update(type="log", range=[np.log10(fin.min()) - 0.1, np.log10(fin.max()) + 0.1])
    else:
        yaxis.update(range=_pad(min(lo, 0.0), hi))
    longest = max((len(t) for t in x), default=0)
    below = 0 if len(x) * max(longest, 3) < 90 else min(130, 5 * longest)
    fig.update_layout(title=_frame_title(replay, 0, what), barmode="group", height=380,
                      yaxis=yaxis, xaxis={"tickangle": -45 if below else 0},
                      showlegend=fixed is not None)
    return _animate(fig, frames, replay.labels(), redraw=False, below=below)


# --------------------------------------------------------------------------- export
def replay_html(figures: Sequence[go.Figure], title: str) -> str:
    """One self-contained HTML page holding ``figures`` that plays offline: plotly.js is inlined
    once (with the first figure), the others reuse it; no external script is loaded."""
    parts = []
    for i, fig in enumerate(figures):
        parts.append(fig.to_html(include_plotlyjs=i == 0, full_html=False, auto_play=False,
                                 config={"displaylogo": False}))
    if not parts:
        parts.append("<p>No figures.</p>")
    head = html.escape(title)
    body = "\n".join(f'<section class="fig">{p}</section>' for p in parts)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{head}</title>\n<style>body{{font-family:sans-serif;margin:2em;}}"
            "section.fig{margin-bottom:2em;}</style>\n</head>\n<body>\n"
            f"<h1>{head}</h1>\n<p>Press ▶ Play under a figure, or drag its slider, to watch the "
            "detector learn. This file works offline.</p>\n"
            f"{body}\n</body>\n</html>\n")
