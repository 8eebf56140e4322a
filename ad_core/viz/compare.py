"""Comparing runs and benchmark sweeps: tables and the relative-AUROC chart.

The relative-AUROC chart is the augmentation study's main figure: for every variant (a detector,
or a detector with particular parameters such as an augmentation), the median over tasks of
AUROC(variant) / AUROC(baseline), a 95 % interval of those ratios, and the paired Wilcoxon
signed-rank p-value (``ad_core.metrics.wilcoxon_paired``) against the baseline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ad_core.metrics import wilcoxon_paired

PAIR_KEYS = ("dataset", "normal", "task", "seed")


def variant(row: dict[str, Any]) -> str:
    """The name a benchmark row is grouped under: ``row["variant"]`` if present, else the
    detector with its non-default parameters (``dae augment=cutout``)."""
    if row.get("variant"):
        return str(row["variant"])
    params = row.get("params") or {}
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            params = {}
    extra = " ".join(f"{k}={v}" for k, v in sorted(params.items()))
    return f"{row['detector']} {extra}".strip()


def runs_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Runs-table rows (``services.run_row``) as a frame, metrics rounded for reading."""
    df = pd.DataFrame(list(rows))
    for c in ("AUROC", "AUPR", "F1"):
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce").round(4)
    for c in ("fit s", "score s"):
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce").round(2)
    if "created" in df:
        df["created"] = pd.to_datetime(df["created"], unit="s").dt.strftime("%Y-%m-%d %H:%M")
    return df


def per_class_table(rows: Sequence[dict[str, Any]], key: str = "auroc",
                    percent: bool = True) -> pd.DataFrame:
    """Normal class × variant table of ``key`` (mean over seeds), with an ``average`` row."""
    df = pd.DataFrame([{"normal": str(r["normal"]), "variant": variant(r),
                        "value": float(r[key])} for r in rows])
    if df.empty:
        return df
    t = df.pivot_table(index="normal", columns="variant", values="value", aggfunc="mean",
                       sort=False)
    t.loc["average"] = t.mean(axis=0)
    return (t * 100).round(1) if percent else t


def relative_auroc(rows: Sequence[dict[str, Any]], baseline: str, key: str = "auroc"
                   ) -> list[dict[str, Any]]:
    """Per variant ≠ ``baseline``: median AUROC ratio, its 95 % interval and the Wilcoxon p over
    tasks paired by (dataset, normal class, task, seed). Variants with no pairs are left out."""
    table: dict[str, dict[tuple, float]] = {}
    for r in rows:
        pair = tuple(str(r.get(k, "")) for k in PAIR_KEYS)
        table.setdefault(variant(r), {})[pair] = float(r[key])
    base = table.get(baseline, {})
    out = []
    for v, vals in table.items():
        if v == baseline:
            continue
        common = sorted(set(vals) & set(base))
        if not common:
            continue
        st = wilcoxon_paired([vals[p] for p in common], [base[p] for p in common])
        out.append({"variant": v, **st})
    return sorted(out, key=lambda s: -s["median_ratio"])


def relative_auroc_chart(stats: Sequence[dict[str, Any]], baseline: str,
                         title: str | None = None) -> go.Figure:
    """Horizontal dot-and-interval chart of :func:`relative_auroc`: 1 = as good as the baseline;
    each label carries the Wilcoxon p-value and the number of paired tasks."""
    fig = go.Figure()
    if stats:
        y = [f"{s['variant']}  (p={s['pvalue']:.3g}, n={s['n']})" for s in stats]
        med = np.array([s["median_ratio"] for s in stats])
        lo = np.array([s["ratio_lo"] for s in stats])
        hi = np.array([s["ratio_hi"] for s in stats])
        colors = ["#27ae60" if s["pvalue"] < 0.05 and s["median_ratio"] > 1 else
                  "#c0392b" if s["pvalue"] < 0.05 else "#7f8c8d" for s in stats]
        fig.add_trace(go.Scatter(
            x=med, y=y, mode="markers", name="median ratio (95 % interval)",
            marker={"size": 11, "color": colors},
            error_x={"type": "data", "symmetric": False, "array": hi - med,
                     "arrayminus": med - lo, "thickness": 1.5},
            hovertemplate="%{y}<br>median %{x:.3f}<extra></extra>"))
    fig.add_vline(x=1.0, line_dash="dash", line_color="#2c3e50",
                  annotation_text=f"baseline: {baseline}", annotation_position="top")
    fig.update_layout(
        title=title or f"AUROC relative to {baseline} (median over tasks, 95 % interval, "
                       "Wilcoxon p)",
        xaxis_title=f"AUROC / AUROC of {baseline}", yaxis_title="variant", showlegend=True,
        legend={"orientation": "h", "y": -0.2}, height=max(260, 60 + 38 * len(stats)),
        margin={"l": 20, "r": 20, "t": 60, "b": 60})
    if not stats:
        fig.add_annotation(text="No variant shares tasks with the baseline.", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


def reference_table(ours: pd.Series | None, refs: Sequence[Any]) -> pd.DataFrame:
    """Papers' numbers (``ad_core.reference.Reference``) beside ours: one column per source,
    rows = classes + ``average``; ``ours`` is a per-class series in % (with ``average``)."""
    cols: dict[str, pd.Series] = {}
    if ours is not None:
        cols["ours"] = ours
    for r in refs:
        s = pd.Series({**r.per_class, "average": r.average}, dtype=float)
        cols[f"{r.paper} · {r.dataset}"] = s
    return pd.DataFrame(cols)


def metric_bars(df: pd.DataFrame, metric: str = "AUROC", title: str | None = None) -> go.Figure:
    """One bar per run (``runs_frame`` rows) of ``metric``, grouped by detector colour."""
    fig = go.Figure()
    for det, sub in df.groupby("detector", sort=False):
        fig.add_trace(go.Bar(x=sub["run"], y=sub[metric], name=str(det),
                             hovertemplate="%{x}<br>" + metric + " %{y:.4f}<extra>%{fullData.name}"
                                           "</extra>"))
    fig.update_layout(title=title or f"{metric} of each run on this task", xaxis_title="run",
                      yaxis_title=metric, legend_title_text="detector", height=360,
                      showlegend=True, bargap=0.4,
                      margin={"l": 60, "r": 20, "t": 60, "b": 120})
    if metric in ("AUROC", "AUPR", "F1"):
        fig.update_yaxes(range=[0.0, 1.0])
        if metric == "AUROC":
            fig.add_hline(y=0.5, line_dash="dot", line_color="#7f8c8d",
                          annotation_text="chance (0.5)", annotation_position="bottom right")
    return fig
