"""Compare: runs on the same task, benchmark sweeps per class, relative AUROC against a baseline
(pseudomedian, 95 % CI, one-sided Wilcoxon p), the papers' published numbers beside ours, and
the fidelity report (each paper's claim, its figure, ours and a verdict)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ad_core import page_data, results
from ad_core.reference import references_for
from ad_core.runs import list_runs
from ad_core.viz.compare import (
    fidelity_frame,
    metric_bars,
    per_class_table,
    reference_table,
    relative_auroc,
    relative_auroc_chart,
    runs_frame,
    variant,
)
from ui.common import chart, current_run, download_csv

st.title("Compare")
tab_runs, tab_bench, tab_fid = st.tabs(["Runs on the same task", "Benchmark sweeps",
                                        "Papers' claims (fidelity)"])

# ----------------------------------------------------------------------------- saved runs
with tab_runs:
    runs = list_runs()
    if not runs:
        st.info("No saved runs yet. Train a few detectors on the same task on the **Train** page "
                "to compare them here.")
    else:
        groups: dict[str, list] = {}
        for r in runs:
            groups.setdefault(page_data.task_key(r), []).append(r)
        cur = current_run()
        keys = sorted(groups, key=lambda k: -len(groups[k]))
        default = page_data.task_key(cur) if cur is not None else keys[0]
        key = st.selectbox("Task", keys, index=keys.index(default) if default in keys else 0,
                           format_func=lambda k: f"{k} — {len(groups[k])} run(s)")
        df = runs_frame([page_data.run_row(r) for r in groups[key]])
        cols = ["run", "detector", "preset", "seed", "status", "AUROC", "AUPR", "F1", "fit s",
                "score s", "n train", "n test", "params"]
        st.dataframe(df[cols], hide_index=True)
        download_csv(df, "runs-same-task", key="cmp-runs-csv")
        metric = st.segmented_control("Metric", ["AUROC", "AUPR", "F1"], default="AUROC",
                                      required=True, key="cmp_metric") or "AUROC"
        chart(metric_bars(df, metric, title=f"{metric} of each run — {key}"),
              key=f"cmp-bars-{metric}", filename="runs-same-task")
        dataset = groups[key][0].config.get("dataset", "")
        normal = groups[key][0].config.get("normal", [])
        refs = [ref for d in df["detector"].unique() for ref in references_for(dataset, d)]
        if refs:
            st.markdown("**Papers' numbers for these detectors** (AUROC %, one-vs-rest)")
            ref_df = pd.DataFrame([{
                "detector": ref.detector, "source": f"{ref.paper} · {ref.dataset}",
                f"normal {'+'.join(normal)}": (ref.per_class.get(normal[0]) if len(normal) == 1
                                               else None),
                "average over classes": ref.average} for ref in refs])
            ours = df.groupby("detector")["AUROC"].mean() * 100
            ref_df.insert(2, "ours (this task, %)", ref_df["detector"].map(ours).round(1))
            st.dataframe(ref_df, hide_index=True)
            notes = sorted({ref.note for ref in refs if ref.note})
            for n in notes:
                st.caption(n)

# ----------------------------------------------------------------------------- fidelity report
with tab_fid:
    fid = results.fidelity_report()
    fid_rows = fid.get("rows") if fid else None
    if not fid_rows:
        st.info("No fidelity report yet. Generate it with `python -m ad_core.benchmarks.fidelity "
                "--seeds 3 --workers 2 --keep-cells` (`--quick` for a smoke run of a few "
                "minutes); it reruns every paper claim the app states and writes "
                "`docs/results/fidelity.json` and `.md`, which appear here.")
    else:
        fmeta = fid.get("meta") or {}
        st.markdown("**Every paper claim the app states, rerun here** — the paper's figure (only "
                    "where the paper has one for the compared setting) beside ours, the effect "
                    "in the claim's own unit (a difference, a relative AUROC, a rank, a trend…), "
                    "the one-sided Wilcoxon signed-rank p over n **tasks** (one per dataset and "
                    "class, seeds averaged), and a verdict by the rule of the claim's kind "
                    "(written in `docs/results/fidelity.md`). Implementation checks and "
                    "Teaching toys are listed but not counted.")
        if fmeta:
            st.caption(f"`{fmeta.get('command', '')}` · {fmeta.get('date', '')} · seeds "
                       f"{fmeta.get('seeds', '')} · {fmeta.get('cells', '?')} cells, code "
                       f"{fmeta.get('cell_code', '?')}" + (" · **quick smoke run: verdicts are "
                                                         "weak**" if fmeta.get("quick") else ""))
        fdf = fidelity_frame(fid_rows)
        counted = fdf[fdf["counted"]]
        verdicts = counted["verdict"].value_counts()
        cols_v = st.columns(3)
        for col, v in zip(cols_v, ("reproduced", "direction only", "not reproduced")):
            col.metric(v, int(verdicts.get(v, 0)))
        st.dataframe(fdf, hide_index=True, key="fidelity_table")
        stats = sorted({s for s in fdf["statistic"] if s})
        for s_ in stats:
            st.caption(f"p: {s_}.")
        download_csv(fdf, "fidelity", key="fidelity-csv")

# ----------------------------------------------------------------------------- benchmark sweeps
with tab_bench:
    sweeps = results.list_sweeps()
    if not sweeps:
        st.info("No benchmark sweeps yet. Run one such as `python -m ad_core bench --dataset "
                "digits --detector iforest --detector ocsvm --seeds 3` (add `--engine ray` to run "
                "its cells as Ray tasks); it writes `docs/results/*.json`, which appear here while "
                "it runs.")
        st.stop()
    names = {s.name: s for s in sweeps}
    fname = st.selectbox("Sweep", list(names), format_func=lambda n: names[n].label,
                         key="sweep_pick")
    res = names[fname]
    meta = res.meta
    st.caption(f"`{meta.get('command', '')}` · {meta.get('date', '')} · seeds "
               f"{meta.get('seeds', '')} · {meta.get('data', '')}")
    status = res.status
    if status:
        failed = status.get("failed") or []
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("cells done", f"{status.get('done', 0)} / {status.get('cells', 0)}")
        c2.metric("failed", len(failed))
        c3.metric("engine", str(status.get("engine", "local")))
        c4.metric("wall time", f"{float(status.get('wall_seconds') or 0):.0f} s")
        if failed:
            st.warning(f"{len(failed)} cell(s) failed; the table has the others. Rerun the "
                       "command to retry only these:\n\n" + "\n".join(
                           f"- {f.get('cell', '')}: {f.get('error', '')}" for f in failed))
        elif not status.get("complete"):
            st.info("This sweep has not finished: it is still running, or it was interrupted "
                    "(rerun its command to resume; finished cells are not recomputed). Reload "
                    "the page to see new cells.")
    rows = res.rows
    if not rows:
        st.info("No cell of this sweep has finished yet.")
        st.stop()
    datasets = sorted({str(r["dataset"]) for r in rows})
    if len(datasets) > 1:
        ds_pick = st.selectbox("Dataset", datasets, key="bench_ds")
        rows = [r for r in rows if str(r["dataset"]) == ds_pick]
    table = per_class_table(rows)
    st.markdown("**AUROC (%) per normal class** — mean over seeds")
    st.dataframe(table, key="bench_table")
    download_csv(table.reset_index(), f"{fname}-per-class", key="bench-csv")

    variants = list(dict.fromkeys(variant(r) for r in rows))
    if len(variants) > 1:
        st.markdown("**Relative AUROC against a baseline** — the augmentation study's summary: "
                    "for each variant, AUROC ÷ the baseline's AUROC on the same task (class, "
                    "seed); dot = pseudomedian (Hodges–Lehmann), bar = its exact 95 % confidence "
                    "interval (with ≤ 5 tasks the widest attainable one, coverage shown), p = "
                    "**one-sided** Wilcoxon signed-rank test (exact) over n **tasks** (one per "
                    "dataset, class and task kind; the seeds of a task are averaged first; "
                    "alternative: the variant is better), read both ways: p < 0.05 helps, "
                    "p > 0.95 hurts.")
        base = st.selectbox("Baseline", variants, key="bench_base")
        stats = relative_auroc(rows, base)
        chart(relative_auroc_chart(stats, base), key=f"rel-{fname}-{base}",
              filename=f"{fname}-relative-auroc")
        if stats:
            sdf = pd.DataFrame(stats)[["variant", "pseudomedian", "ci_low", "ci_high",
                                       "ci_coverage", "pvalue", "verdict", "n",
                                       "n_seeds"]].rename(columns={
                "ci_low": "CI low", "ci_high": "CI high", "ci_coverage": "CI coverage",
                "pvalue": "one-sided Wilcoxon p", "n": "tasks", "n_seeds": "seeds per task"})
            st.dataframe(sdf.round(4), hide_index=True)
            for stat in dict.fromkeys(s_["statistic"] for s_ in stats):
                st.caption(f"p: {stat}.")
    else:
        st.caption("This sweep has one variant; a relative-AUROC chart needs two or more.")

    ds_name = str(rows[0]["dataset"]) if rows else ""
    ref_blocks = []
    for v in variants:
        det = next(r["detector"] for r in rows if variant(r) == v)
        refs = references_for(ds_name, det)
        if refs and v in table.columns:
            ref_blocks.append((v, reference_table(table[v], refs)))
    if ref_blocks:
        st.markdown("**Papers' numbers beside ours** (AUROC %)")
        for v, t in ref_blocks:
            st.markdown(f"*{v}*")
            st.dataframe(t)
        for note in sorted({r.note for v, _ in ref_blocks for r in references_for(ds_name)
                            if r.note}):
            st.caption(note)
