"""Comparing runs and benchmark sweeps: tables and the relative-AUROC chart.

The relative-AUROC chart is the augmentation study's main figure: for every variant (a detector,
or a detector with particular parameters such as an augmentation), the pseudomedian
(Hodges–Lehmann estimate) over tasks of AUROC(variant) / AUROC(baseline) with its exact 95 %
confidence interval, and the **one-sided** paired Wilcoxon signed-rank p-value
(``ad_core.metrics.wilcoxon_paired``, alternative: the variant is better), read both ways:
p < 0.05 → the variant helps, p > 0.95 → it hurts.

Tasks, not seeds: a task is one (dataset, normal class); its seeds are averaged before the test,
so n counts tasks. The fidelity table (:func:`fidelity_frame`) lays the papers' claims beside
our reruns (``docs/results/fidelity.json``, written by ``python -m ad_core.benchmarks.fidelity``).
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
    """Runs-table rows (``page_data.run_row``) as a frame, metrics rounded for reading."""
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
    """Per variant ≠ ``baseline``: the one-sided Wilcoxon statistics of its AUROC ratio over
    **tasks** — a task is one (dataset, normal class, task kind); runs are paired with the
    baseline by seed and a task's seeds are averaged first, so n counts tasks, never seeds ×
    tasks — with the pseudomedian, its exact confidence interval, p (alternative: the variant is
    better), the verdict, ``n_seeds`` (most seeds per task) and ``statistic`` (the test named
    with its n). Variants with no pairs are left out; sorted by pseudomedian, best first."""
    from ad_core.metrics import statistic_label

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
        tasks = sorted({p[:-1] for p in common})
        a = [float(np.mean([vals[p] for p in common if p[:-1] == t])) for t in tasks]
        b = [float(np.mean([base[p] for p in common if p[:-1] == t])) for t in tasks]
        st = wilcoxon_paired(a, b, alternative="greater")
        out.append({"variant": v, **st, "n_seeds": max(sum(p[:-1] == t for p in common)
                                                       for t in tasks),
                    "statistic": statistic_label(st["n"], st["method"])})
    return sorted(out, key=lambda s: -s["pseudomedian"])


VERDICT_COLOURS = {"helps": "#27ae60", "hurts": "#c0392b", "no significant change": "#7f8c8d"}


def relative_auroc_chart(stats: Sequence[dict[str, Any]], baseline: str,
                         title: str | None = None) -> go.Figure:
    """Horizontal dot-and-interval chart of :func:`relative_auroc`: dot = pseudomedian, bar = its
    confidence interval (95 %; for n ≤ 5 the widest attainable one, its coverage in the label),
    1 = as good as the baseline; each label carries the one-sided p and the number of paired
    tasks; green = helps (p < 0.05), red = hurts (p > 0.95), grey = no significant change."""
    fig = go.Figure()
    if stats:
        y = [f"{s['variant']}  (one-sided p={s['pvalue']:.3g}, n={s['n']} tasks"
             + ("" if s["ci_attained"] else f", {100 * s['ci_coverage']:.1f} % CI") + ")"
             for s in stats]
        med = np.array([s["pseudomedian"] for s in stats])
        lo = np.array([s["ci_low"] for s in stats])
        hi = np.array([s["ci_high"] for s in stats])
        for verdict, colour in VERDICT_COLOURS.items():
            idx = [i for i, s in enumerate(stats) if s["verdict"] == verdict]
            if not idx:
                continue
            fig.add_trace(go.Scatter(
                x=med[idx], y=[y[i] for i in idx], mode="markers",
                name=f"{verdict} (pseudomedian, CI)", marker={"size": 11, "color": colour},
                error_x={"type": "data", "symmetric": False, "array": (hi - med)[idx],
                         "arrayminus": (med - lo)[idx], "thickness": 1.5},
                hovertemplate="%{y}<br>pseudomedian %{x:.3f}<extra></extra>"))
    fig.add_vline(x=1.0, line_dash="dash", line_color="#2c3e50",
                  annotation_text=f"baseline: {baseline}", annotation_position="top")
    fig.update_layout(
        title=title or f"AUROC relative to {baseline}: Hodges–Lehmann pseudomedian over tasks "
                       "with exact 95 % CI; one-sided Wilcoxon signed-rank p (exact)",
        xaxis_title=f"AUROC / AUROC of {baseline}", yaxis_title="variant", showlegend=True,
        legend={"orientation": "h", "y": -0.2}, height=max(260, 60 + 38 * len(stats)),
        yaxis={"categoryorder": "array", "categoryarray": (y[::-1] if stats else [])},
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


FIDELITY_COLUMNS = ("paper", "claim", "kind", "paper figure", "ours", "effect", "p",
                    "tasks", "seeds", "verdict", "counted", "reason", "statistic", "setting",
                    "cells")


def fidelity_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The fidelity report's claims (``fidelity.json`` rows) as a table: the paper's figure
    beside ours, the effect in its own unit (each kind of claim has its own: a difference, a
    relative AUROC, a rank, a trend…), the one-sided signed-rank p over n tasks with the test
    named, the verdict (reproduced / direction only / not reproduced; checks are listed but not
    counted), its reason, the setting and the cells behind it."""
    def text(v: Any) -> str:
        if isinstance(v, dict):
            return ", ".join(f"{k}={x}" for k, x in v.items())
        if isinstance(v, (list, tuple)):
            return ", ".join(str(x) for x in v)
        return "" if v is None else str(v)

    def cells(t: Any) -> str:
        if not isinstance(t, dict) or not t.get("cells"):
            return ""
        return (f"{t['cells']} cells, code {', '.join(t.get('code') or [])}, "
                f"{t.get('computed_from')} – {t.get('computed_to')}, "
                f"{float(t.get('compute_seconds') or 0):.0f} s")

    out = [{"paper": text(r.get("paper")), "claim": text(r.get("claim")),
            "kind": text(r.get("kind")), "paper figure": text(r.get("paper_figure")),
            "ours": text(r.get("ours")), "effect": text(r.get("effect_text")),
            "p": "–" if r.get("pvalue") is None else f"{float(r['pvalue']):.3g}",
            "tasks": r.get("n_tasks"), "seeds": r.get("n_seeds"),
            "verdict": text(r.get("verdict")), "counted": bool(r.get("counted", True)),
            "reason": text(r.get("reason")), "statistic": text(r.get("statistic")),
            "setting": text(r.get("setting")), "cells": cells(r.get("trace"))}
           for r in rows if isinstance(r, dict)]
    return pd.DataFrame(out, columns=list(FIDELITY_COLUMNS))
