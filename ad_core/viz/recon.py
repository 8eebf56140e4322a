"""Reconstruction views for the autoencoders (AE, DAE, Toll, LIS-AE).

- input | reconstruction x̂ | error map (x̂ − x)² for chosen samples, images or table rows;
- Toll: the reconstruction term against the β·latent-norm term, and ‖z‖ histograms;
- LIS-AE: the same inputs through the phase-1 model and after the latent-shaping phase, and the
  score histograms before and after.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ad_core.errors import BadDataError
from ad_core.viz.images import ERROR_COLORSCALE, ImageColumn, image_table
from ad_core.viz.scores import group_colors, score_histogram


def recon_table(inputs: np.ndarray, reconstructions: np.ndarray, errors: np.ndarray,
                row_titles: Sequence[str], *, per_image: bool = False,
                title: str = "Input | reconstruction | error map") -> go.Figure:
    """Rows of input x, reconstruction x̂ and error map (x̂ − x)² for image samples.

    Global normalisation (default) puts every error map on one colour scale (0 to the largest
    error shown), so tiles are comparable; ``per_image`` stretches each tile to its own range.
    """
    emax = float(np.nanmax(errors)) if np.size(errors) else 1.0
    err_t = [f"Σ={v:.3g}" for v in np.asarray(errors, dtype=float).reshape(len(errors), -1)
             .sum(1)]
    return image_table([
        ImageColumn("input x", inputs, per_image=per_image),
        ImageColumn("reconstruction x̂", reconstructions, per_image=per_image),
        ImageColumn("error (x̂ − x)²", errors, ERROR_COLORSCALE, 0.0, emax or 1.0, per_image,
                    colorbar_title=None if per_image else "(x̂ − x)²", titles=err_t),
    ], row_titles, title=title)


def before_after_table(inputs: np.ndarray, recon_before: np.ndarray, recon_after: np.ndarray,
                       err_before: np.ndarray, err_after: np.ndarray,
                       row_titles: Sequence[str], *, per_image: bool = False,
                       title: str = "LIS-AE: before vs after latent shaping") -> go.Figure:
    """LIS-AE's phase-1 model (feature extraction) against the final model (after the
    latent-shaping phase) on the same inputs; both error columns share one colour scale."""
    emax = float(np.nanmax([np.nanmax(err_before), np.nanmax(err_after)])) or 1.0

    def sums(e: np.ndarray) -> list[str]:
        return [f"Σ={v:.3g}" for v in np.asarray(e, dtype=float).reshape(len(e), -1).sum(1)]

    return image_table([
        ImageColumn("input x", inputs, per_image=per_image),
        ImageColumn("x̂ phase 1", recon_before, per_image=per_image),
        ImageColumn("x̂ after shaping", recon_after, per_image=per_image),
        ImageColumn("error phase 1", err_before, ERROR_COLORSCALE, 0.0, emax, per_image,
                    titles=sums(err_before)),
        ImageColumn("error after shaping", err_after, ERROR_COLORSCALE, 0.0, emax, per_image,
                    colorbar_title=None if per_image else "(x̂ − x)²", titles=sums(err_after)),
    ], row_titles, title=title)


def feature_recon_bars(x: np.ndarray, x_hat: np.ndarray, error: np.ndarray,
                       feature_names: Sequence[str] | None = None, *,
                       title: str = "Input vs reconstruction per feature") -> go.Figure:
    """For one table row: x and x̂ per feature (bars, top) and the squared error (bars, bottom)."""
    x, x_hat, error = (np.asarray(a, dtype=float).ravel() for a in (x, x_hat, error))
    if not len(x) == len(x_hat) == len(error):
        raise BadDataError("Input, reconstruction and error must have the same length.")
    names = list(feature_names) if feature_names is not None else [f"f{i}" for i in range(len(x))]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.62, 0.38])
    fig.add_trace(go.Bar(x=names, y=x, name="input x", marker_color="#1f77b4"), 1, 1)
    fig.add_trace(go.Bar(x=names, y=x_hat, name="reconstruction x̂", marker_color="#ff7f0e"), 1, 1)
    fig.add_trace(go.Bar(x=names, y=error, name="error (x̂ − x)²", marker_color="#d62728"), 2, 1)
    fig.update_layout(title=title, barmode="group", height=460, legend_title="series")
    fig.update_yaxes(title_text="value", row=1, col=1)
    fig.update_yaxes(title_text="(x̂ − x)²", row=2, col=1)
    fig.update_xaxes(title_text="feature", row=2, col=1)
    return fig


def term_scatter(x: np.ndarray, y: np.ndarray, kinds: np.ndarray, *, x_title: str,
                 y_title: str, hover: Sequence[str] | None = None,
                 title: str = "Reconstruction term vs latent-norm term") -> go.Figure:
    """Scatter of two score terms (Toll: reconstruction vs β·‖z‖), one colour per test kind."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    k = np.asarray(kinds).astype(str)
    if not len(x) == len(y) == len(k):
        raise BadDataError("Both terms and the kinds must have the same length.")
    names = (["normal"] if "normal" in set(k) else []) + sorted(set(k) - {"normal"})
    colors = group_colors(names)
    h = np.asarray(list(hover) if hover is not None else [f"#{i}" for i in range(len(x))])
    fig = go.Figure()
    for n in names:
        sel = k == n
        fig.add_trace(go.Scatter(x=x[sel], y=y[sel], mode="markers", name=f"{n} ({sel.sum()})",
                                 text=h[sel], marker={"color": colors[n], "size": 7,
                                                      "opacity": 0.75},
                                 hovertemplate="%{text}<br>%{x:.3g}, %{y:.3g}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, legend_title="kind",
                      height=420)
    return fig


def latent_norm_histogram(groups: Mapping[str, np.ndarray], *, p_label: str = "‖z‖",
                          title: str = "Latent norms: normal vs anomalous") -> go.Figure:
    """Histograms of the latent-code norm ‖z‖ per group (Toll pushes normals' norms down)."""
    return score_histogram(groups, title=title, xaxis_title=f"latent norm {p_label}")


def before_after_histograms(before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray],
                            *, title: str = "Scores before vs after latent shaping",
                            nbins: int = 30) -> go.Figure:
    """Two panels of score histograms by group: phase-1 model (left) and final model (right)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("phase 1 (feature extraction)",
                                                        "after latent shaping"))
    names = list(dict.fromkeys([*before, *after]))
    colors = group_colors(names)
    for col, groups in ((1, before), (2, after)):
        for n, v in groups.items():
            v = np.asarray(v, dtype=float)
            if not len(v):
                continue
            fig.add_trace(go.Histogram(x=v, name=n, legendgroup=n, showlegend=col == 1,
                                       nbinsx=nbins, opacity=0.6, marker_color=colors[n],
                                       histnorm="probability density"), 1, col)
        fig.update_xaxes(title_text="anomaly score (reconstruction error)", row=1, col=col)
    fig.update_yaxes(title_text="density", row=1, col=1)
    fig.update_layout(title=title, barmode="overlay", legend_title="group", height=400)
    return fig
