"""Figures of the teaching demos (arrays from :mod:`ad_core.teaching` in, ``go.Figure`` out).

Each builder draws one paper intuition: Toll's score contours and gradient-flow collapse, LIS-AE's
iso-score cylinders and phase histograms, GeoTrans's AUROCs and gradient-ascent morph, NeuTraL's
edge-case DCL and toy transformations, and the augmentation study's relative AUROC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

OURS = "#1f77b4"
PAPER = "#ff7f0e"
NORMAL = "#2ca02c"
ANOMALY = "#d62728"
VIEW_COLOURS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
                "#7f7f7f")


def _samples_trace(x: np.ndarray, name: str = "normal samples", colour: str = "white",
                   showlegend: bool = False) -> go.Scatter:
    return go.Scatter(x=x[:, 0], y=x[:, 1], mode="markers", name=name, showlegend=showlegend,
                      marker={"size": 3, "color": colour, "opacity": 0.7,
                              "line": {"width": 0.3, "color": "black"}})


def toll_contour_figure(panels: Sequence[dict[str, Any]], height: int = 430) -> go.Figure:
    """Contours of Toll's score ‖x̂ − x‖ + β‖z‖ over the plane, one panel per trained β.

    Each panel dict comes from :func:`ad_core.teaching.toll_contours`.
    """
    fig = make_subplots(rows=1, cols=len(panels), horizontal_spacing=0.08,
                        subplot_titles=[f"β = {p['beta']:g}" + (" (plain AE)" if p["beta"] == 0
                                                                 else "") for p in panels])
    for i, p in enumerate(panels, start=1):
        fig.add_trace(go.Contour(x=p["x1"], y=p["x2"], z=p["score"], colorscale="Viridis",
                                 ncontours=18, showscale=i == len(panels), line={"width": 0.5},
                                 colorbar={"title": "score"},
                                 hovertemplate="x₁=%{x:.2f}<br>x₂=%{y:.2f}<br>score=%{z:.3f}"
                                               "<extra></extra>"), row=1, col=i)
        fig.add_trace(_samples_trace(p["samples"]), row=1, col=i)
        lim = [float(p["x1"][0]), float(p["x1"][-1])]
        fig.update_xaxes(title_text="x₁ (variance 4)", range=lim, row=1, col=i)
        fig.update_yaxes(title_text="x₂ (variance 1)" if i == 1 else None, range=lim, row=1,
                         col=i)
    fig.update_layout(height=height, margin={"l": 40, "r": 10, "t": 40, "b": 40})
    return fig


def gradient_flow_figure(flow: dict[str, Any], height: int = 460) -> go.Figure:
    """Theorem 1 animated: the latent cloud Z(t) shrinking, one Plotly frame per time t."""
    z, times = flow["latents"], flow["times"]
    lim = float(np.abs(z[0]).max()) * 1.05

    def trace(i: int) -> go.Scatter:
        return go.Scatter(x=z[i][:, 0], y=z[i][:, 1], mode="markers", name="Z(t)",
                          marker={"size": 4, "color": OURS, "opacity": 0.6})

    frames = [go.Frame(data=[trace(i)], name=f"{t:.2f}") for i, t in enumerate(times)]
    steps = [{"args": [[f.name], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
              "label": f.name, "method": "animate"} for f in frames]
    fig = go.Figure(data=[trace(0)], frames=frames)
    fig.update_layout(
        height=height, margin={"l": 40, "r": 10, "t": 30, "b": 130},
        xaxis={"range": [-lim, lim], "title": "z₁ (along x₁, λ ≈ 4)"},
        yaxis={"range": [-lim, lim], "title": "z₂ (along x₂, λ ≈ 1)", "scaleanchor": "x"},
        updatemenus=[{"type": "buttons", "showactive": False, "x": 0.0, "y": -0.32,
                      "xanchor": "left", "yanchor": "top", "direction": "right", "buttons": [
                          {"label": "▶ play", "method": "animate",
                           "args": [None, {"frame": {"duration": 120, "redraw": False},
                                           "fromcurrent": True, "transition": {"duration": 0}}]},
                          {"label": "❚❚ pause", "method": "animate",
                           "args": [[None], {"frame": {"duration": 0}, "mode": "immediate"}]}]}],
        sliders=[{"active": 0, "steps": steps, "x": 0.25, "len": 0.75, "y": -0.22,
                  "yanchor": "top", "currentvalue": {"prefix": "t = "}}])
    return fig


def collapse_curve_figure(flow: dict[str, Any], height: int = 460) -> go.Figure:
    """Relative spread of Z(t) along each eigen-direction against exp(−λt): largest λ first."""
    fig = go.Figure()
    t = flow["times"]
    for j, lam in enumerate(flow["eigenvalues"]):
        c = VIEW_COLOURS[j % len(VIEW_COLOURS)]
        fig.add_trace(go.Scatter(x=t, y=flow["relative"][:, j], mode="markers",
                                 name=f"measured, eigen-direction {j + 1} (λ = {lam:.2f})",
                                 marker={"color": c, "size": 6}))
        fig.add_trace(go.Scatter(x=t, y=np.exp(-lam * t), mode="lines", line={"color": c},
                                 name=f"exp(−{lam:.2f}·t)"))
    fig.update_layout(height=height, xaxis_title="t", yaxis_title="spread(t) / spread(0)",
                      legend={"orientation": "h", "y": -0.25, "yanchor": "top"},
                      margin={"l": 40, "r": 10, "t": 20, "b": 40})
    return fig


def lisae_isosurface_figure(d: dict[str, Any], height: int = 520) -> go.Figure:
    """LIS-AE §4.2: the iso-score surface of PCA (circular cylinder) and of the latent-shaped
    encoder (elliptic cylinder squashed along z), at the same score level, with the samples."""
    fig = go.Figure()
    for key, name, colour in (("pca_grid", "PCA / linear AE (r = 1)", "#aec7e8"),
                              ("lisae_grid", f"LIS-AE, γ = {d['gamma']:g}", ANOMALY)):
        fig.add_trace(go.Isosurface(
            x=d["grid_x"], y=d["grid_y"], z=d["grid_z"], value=d[key], isomin=d["level"],
            isomax=d["level"], surface_count=1, opacity=0.35, showscale=False, name=name,
            showlegend=True, colorscale=[[0, colour], [1, colour]], caps={"x_show": False,
                                                                         "y_show": False,
                                                                         "z_show": False}))
    for pts, name, colour in ((d["samples"][:200], "normal x⁺", NORMAL),
                              (d["anomalies"][:200], "anomalies (y, z ≠ 0)", "black")):
        fig.add_trace(go.Scatter3d(x=pts[:, 0], y=pts[:, 1], z=pts[:, 2], mode="markers",
                                   name=name, marker={"size": 2, "color": colour, "opacity": 0.6}))
    fig.update_layout(height=height, margin={"l": 0, "r": 0, "t": 10, "b": 0},
                      legend={"x": 0, "y": 1},
                      scene={"xaxis_title": "x", "yaxis_title": "y", "zaxis_title": "z",
                             "aspectmode": "data",
                             "camera": {"eye": {"x": 0.5, "y": -2.0, "z": 0.9}}})
    return fig


def lisae_cross_section_figure(d: dict[str, Any], height: int = 360) -> go.Figure:
    """The (y, z) cross-section: iso-score circle (PCA) vs squashed ellipse (LIS-AE)."""
    a = np.linspace(0, 2 * np.pi, 200)
    r = np.sqrt(d["level"])
    g = d["gamma"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=r * np.cos(a), y=r * np.sin(a), mode="lines",
                             name="PCA: y² + z² = c", line={"color": "#1f77b4"}))
    fig.add_trace(go.Scatter(x=r * np.cos(a), y=r * np.sin(a) / np.sqrt(1 + g * g), mode="lines",
                             name="LIS-AE: y² + (1+γ²)z² = c", line={"color": ANOMALY}))
    for pts, name, colour in ((d["samples"], "normal", NORMAL), (d["anomalies"], "anomalies",
                                                                 "black")):
        fig.add_trace(go.Scatter(x=pts[:, 1], y=pts[:, 2], mode="markers", name=name,
                                 marker={"size": 3, "color": colour, "opacity": 0.5}))
    fig.update_layout(height=height, xaxis_title="y", yaxis_title="z",
                      yaxis={"scaleanchor": "x"}, margin={"l": 40, "r": 10, "t": 20, "b": 40})
    return fig


def phase_histograms_figure(ph: dict[str, Any], height: int = 340) -> go.Figure:
    """LIS-AE on a saved run: error histograms before (phase 1) and after (phase 2) latent shaping."""
    y = ph["labels"].astype(bool)
    fig = make_subplots(rows=1, cols=2, subplot_titles=[
        f"phase 1 (feature extraction) · AUROC {ph['auroc_phase1']:.3f}",
        f"phase 2 (latent shaping) · AUROC {ph['auroc_phase2']:.3f}"])
    for col, key in ((1, "phase1"), (2, "phase2")):
        s = ph[key]
        for mask, name, colour in ((~y, "normal", NORMAL), (y, "anomaly", ANOMALY)):
            fig.add_trace(go.Histogram(x=s[mask], name=name, marker_color=colour, opacity=0.6,
                                       nbinsx=40, showlegend=col == 1, legendgroup=name),
                          row=1, col=col)
        fig.update_xaxes(title_text="reconstruction error", row=1, col=col)
    fig.update_layout(barmode="overlay", height=height, margin={"l": 40, "r": 10, "t": 40, "b": 40})
    return fig


def paper_comparison_figure(labels: Sequence[str], ours: Sequence[float | None],
                            paper: Sequence[float | None], yaxis: str = "AUROC",
                            height: int = 340) -> go.Figure:
    """Grouped bars: our measurement beside the paper's number for each experiment."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=list(labels), y=[np.nan if v is None else v for v in ours],
                         name="ours", marker_color=OURS,
                         text=["—" if v is None else f"{v:.3f}" for v in ours],
                         textposition="outside"))
    fig.add_trace(go.Bar(x=list(labels), y=[np.nan if v is None else v for v in paper],
                         name="paper", marker_color=PAPER,
                         text=["—" if v is None else f"{v:.3f}" for v in paper],
                         textposition="outside"))
    fig.add_hline(y=0.5, line_dash="dot", annotation_text="chance", line_color="grey")
    fig.update_layout(barmode="group", height=height, yaxis={"range": [0, 1.1], "title": yaxis},
                      margin={"l": 40, "r": 10, "t": 20, "b": 40})
    return fig


def morph_figure(frames: np.ndarray, scores: Sequence[float], steps: Sequence[int],
                 title: str = "", height: int = 380) -> go.Figure:
    """Gradient-ascent morph of one image: a frame slider over the optimisation steps."""
    fr = np.asarray(frames, dtype=float)
    if fr.ndim == 4:
        fr = fr[:, 0]

    def heat(i: int) -> go.Heatmap:
        return go.Heatmap(z=fr[i][::-1], colorscale="gray", zmin=float(fr.min()),
                          zmax=float(fr.max()), showscale=False)

    frames_ = [go.Frame(data=[heat(i)], name=str(s),
                        layout={"title": {"text": f"{title} · step {s} · normality "
                                                  f"{scores[i]:.3f}"}})
               for i, s in enumerate(steps)]
    fig = go.Figure(data=[heat(0)], frames=frames_)
    slider_steps = [{"args": [[f.name], {"frame": {"duration": 0, "redraw": True},
                                          "mode": "immediate"}],
                     "label": f.name, "method": "animate"} for f in frames_]
    fig.update_layout(
        title=f"{title} · step {steps[0]} · normality {scores[0]:.3f}", height=height,
        width=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
        sliders=[{"active": 0, "steps": slider_steps, "currentvalue": {"prefix": "step "},
                  "y": 0.0}])
    return fig


def dcl_tau_figure(curves: dict[str, np.ndarray], tau: float, values: dict[str, float],
                   height: int = 340) -> go.Figure:
    """DCL of each appendix-A edge case against the temperature τ, the chosen τ marked."""
    fig = go.Figure()
    names = sorted((k for k in curves if k != "tau"), key=lambda k: k == "constant")
    for j, name in enumerate(names):  # the constant case last: it lies on the identity line
        c, v = VIEW_COLOURS[j], curves[name]
        fig.add_trace(go.Scatter(x=curves["tau"], y=v, mode="lines", name=name,
                                 line={"color": c, "dash": "dash" if name == "constant" else None,
                                       "width": 2 if name == "constant" else 4}))
        if name in values:
            fig.add_trace(go.Scatter(x=[tau], y=[values[name]], mode="markers+text",
                                     text=[f"{values[name]:.3f}"], textposition="top right",
                                     marker={"color": c, "size": 9}, showlegend=False))
    fig.add_vline(x=tau, line_dash="dot", line_color="grey")
    fig.update_layout(height=height, xaxis={"title": "temperature τ", "type": "log"},
                      yaxis_title="DCL L(x) (unscaled)", margin={"l": 40, "r": 10, "t": 20, "b": 40})
    return fig


def neutral_toy_figure(toy: dict[str, Any], height: int = 460) -> go.Figure:
    """The learned transformations on the 2-D ring: left, each T_k(x); right, the DCL score map."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=[
        f"{toy['k']} learned {toy['kind']} transformations T_k(x)",
        "anomaly score (DCL) over the plane"])
    x = toy["samples"]
    fig.add_trace(go.Scatter(x=x[:, 0], y=x[:, 1], mode="markers", name="x (normal data)",
                             marker={"size": 4, "color": "black"}), row=1, col=1)
    for k, v in enumerate(toy["views"]):
        fig.add_trace(go.Scatter(x=v[:, 0], y=v[:, 1], mode="markers", name=f"T_{k + 1}(x)",
                                 marker={"size": 4, "color": VIEW_COLOURS[k % len(VIEW_COLOURS)],
                                         "opacity": 0.7}), row=1, col=1)
    fig.add_trace(go.Contour(x=toy["x1"], y=toy["x2"], z=np.log10(toy["score"] + 1e-6),
                             colorscale="Viridis", ncontours=16,
                             colorbar={"title": "log₁₀ score", "x": 1.02},
                             hovertemplate="score 10^%{z:.2f}<extra></extra>"), row=1, col=2)
    fig.add_trace(_samples_trace(x), row=1, col=2)
    fig.update_yaxes(scaleanchor="x", row=1, col=1)
    fig.update_yaxes(scaleanchor="x2", row=1, col=2)
    fig.update_layout(height=height, margin={"l": 40, "r": 10, "t": 40, "b": 40},
                      legend={"orientation": "h", "y": -0.12})
    return fig


def relative_auroc_figure(rows: Sequence[dict[str, Any]], height: int | None = None) -> go.Figure:
    """The augmentation study's chart: AUROC_aug / AUROC_none per augmentation (pseudomedian over
    tasks with its 95 % confidence interval, one-sided Wilcoxon p in the hover), one panel per
    anomaly generator; 1.0 = no change."""
    gens = list(dict.fromkeys(r["generator"] for r in rows))
    augs = list(dict.fromkeys(r["augmentation"] for r in rows))
    fig = make_subplots(rows=1, cols=len(gens), shared_yaxes=True, horizontal_spacing=0.03,
                        subplot_titles=[f"anomaly = {g}" for g in gens])
    for j, g in enumerate(gens, start=1):
        rs = [r for r in rows if r["generator"] == g]
        colours = [NORMAL if r["median"] > 1 else ANOMALY for r in rs]
        fig.add_trace(go.Scatter(
            x=[r["median"] for r in rs], y=[r["augmentation"] for r in rs], mode="markers",
            showlegend=False, marker={"size": 10, "color": colours},
            error_x={"type": "data", "symmetric": False, "color": "grey",
                     "array": [r["high"] - r["median"] for r in rs],
                     "arrayminus": [r["median"] - r["low"] for r in rs]},
            customdata=[[r["n"], r.get("pvalue", float("nan"))] for r in rs],
            hovertemplate="%{y}: pseudomedian %{x:.3f} (n=%{customdata[0]}, one-sided "
                          "p=%{customdata[1]:.3f})<extra></extra>"), row=1, col=j)
        fig.add_vline(x=1.0, line_dash="dot", line_color="grey", row=1, col=j)
        fig.update_xaxes(title_text="AUROC_aug / AUROC_none", row=1, col=j)
    fig.update_yaxes(categoryorder="array", categoryarray=augs[::-1])
    fig.update_layout(height=height or 120 + 28 * len(augs),
                      margin={"l": 40, "r": 10, "t": 40, "b": 40})
    return fig


def cutout_sweep_figure(rows: Sequence[dict[str, Any]], height: int = 320) -> go.Figure:
    """Figure 3 of the augmentation study: relative AUROC of CutOut-c against c."""
    fig = go.Figure()
    gens = list(dict.fromkeys(r["generator"] for r in rows))
    for j, g in enumerate(gens):
        rs = sorted((r for r in rows if r["generator"] == g), key=lambda r: r["c"])
        fig.add_trace(go.Scatter(x=[r["c"] for r in rs], y=[r["median"] for r in rs],
                                 mode="lines+markers", name=f"anomaly = {g}",
                                 line={"color": VIEW_COLOURS[j % len(VIEW_COLOURS)]}))
    fig.add_hline(y=1.0, line_dash="dot", line_color="grey")
    fig.add_vrect(x0=0.02, x1=0.33, fillcolor=PAPER, opacity=0.1, line_width=0,
                  annotation_text="generator's CutOut areas", annotation_position="top left")
    fig.update_layout(height=height, xaxis_title="CutOut-c: erased area fraction c",
                      yaxis_title="relative AUROC (pseudomedian)",
                      margin={"l": 40, "r": 10, "t": 20, "b": 40})
    return fig
