"""Scores: how the detector's anomaly scores separate normals from anomalies.

Histograms by kind, ROC/PR curves, a threshold slider driving a live confusion matrix, galleries
of the most anomalous / most normal / false positives / false negatives, per-kind AUROC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ad_core import page_data, run_attribution
from ad_core.viz import scores as V
from ad_core.viz.attribution import feature_drivers, map_tiles
from ui.common import require_run, user_errors
from ui.replay import replay_section
from ui.views import (
    is_image,
    open_sample,
    page_header,
    show_figure,
    test_image_gallery,
)

run = require_run("the Scores view")
page_header("Scores", run)

with user_errors():
    sc = run.scores
    if "test" not in sc or "test_y" not in sc:
        st.warning("This run stored no test scores, so there is nothing to plot. Train it again.")
        st.stop()
    s = sc["test"].astype(float)
    y = sc["test_y"].astype(int)
    kind = run.test_kinds()
    met = page_data.run_metrics(run)
    note = page_data.score_note(run)
    if note:
        st.info(note)

    m1, m2, m3, m4 = st.columns(4)
    m1.metric("AUROC", f"{met['auroc']:.3f}")
    m2.metric("AUPR", f"{met['aupr']:.3f}")
    m3.metric("F1 at contamination", f"{met['f1']:.3f}")
    m4.metric("Test samples (anomalies)", f"{len(s)} ({int(y.sum())})")
    replay_section(run, "scores")

    lo, hi = float(s.min()), float(s.max())
    default_t = float(met.get("threshold", np.quantile(s, 1 - y.mean())) or 0.0)
    step = (hi - lo) / 400 or 1e-6
    t = st.slider("Threshold: scores above it are flagged as anomalies", lo - step,
                  hi + step, float(np.clip(default_t, lo - step, hi + step)), step,
                  format="%.4g", key="scores-threshold",
                  help="Starts at the run's threshold: the (1 − contamination) quantile of the "
                       "validation normals' scores.")

    st.subheader("Score distributions")
    kinds_present = sorted(set(kind))
    opts = ["normal vs anomaly"] + (["by kind"] if len(kinds_present) > 2 else [])
    c1, c2 = st.columns([2, 3])
    group_mode = c1.radio("Group", opts, horizontal=True, key="scores-group")
    extras = {"training normals": sc.get("train"),
              "augmented training samples (DAE)": sc.get("extra_augmented"),
              "negatives (LIS-AE)": sc.get("extra_negatives")}
    extras = {k: v for k, v in extras.items() if v is not None and len(v)}
    add = c2.multiselect("Also show", list(extras), default=[k for k in extras if "augmented"
                                                               in k], key="scores-extra")
    groups = V.groups_by_label(s, y) if group_mode == "normal vs anomaly" else \
        V.groups_by_kind(s, kind)
    groups.update({k: extras[k] for k in add})
    show_figure(V.score_histogram(groups, threshold=t, title="Anomaly scores on the test set"),
                "histogram", run)

    st.subheader("Curves and the chosen threshold")
    c1, c2 = st.columns(2)
    with c1:
        show_figure(V.roc_figure(y, s, threshold=t), "roc", run)
    with c2:
        show_figure(V.pr_figure(y, s, threshold=t), "pr", run)
    conf = page_data.confusion_at(run, t)
    c1, c2 = st.columns([3, 2])
    with c1:
        show_figure(V.confusion_figure(conf, title=f"Confusion matrix at threshold {t:.4g}"),
                    "confusion", run)
    with c2:
        st.metric("Precision", f"{conf['precision']:.3f}",
                  help="Of the flagged samples, the fraction that are anomalies.")
        st.metric("Recall", f"{conf['recall']:.3f}",
                  help="Of the anomalies, the fraction flagged.")
        st.metric("F1", f"{conf['f1']:.3f}")
        st.caption(f"{conf['tp'] + conf['fp']} of {len(s)} test samples flagged.")

    st.subheader("Galleries")
    n_show = st.slider("Samples per gallery", 4, 48, 16, 4, key="scores-gallery-n")
    gal = V.gallery_rows(s, y, t, n_show)
    # Only the open tab is built and sent: four image grids per page made ten sessions opening
    # the same finished run wait for each other's charts.
    tabs = st.tabs([f"{g} ({len(gal[g])})" for g in V.GALLERIES], key="scores-gallery-tab",
                   on_change="rerun")
    x = run.test_x()
    feature_names = run.config.get("feature_names")
    for tab, g in zip(tabs, V.GALLERIES):
        if not tab.open:
            continue
        with tab:
            rows = gal[g]
            if not len(rows):
                st.caption(f"No {g} at this threshold.")
            elif len(x) != len(s):
                st.caption("This run stored no test inputs, so only the rows are listed.")
                st.dataframe(pd.DataFrame({"test row": rows, "kind": kind[rows],
                                           "score": s[rows]}), hide_index=True)
            elif is_image(run):
                test_image_gallery(run, rows, f"{g.capitalize()} (kind · score)",
                                   f"gallery-{g}")
                if not run.detector_problem() and st.toggle(
                        "Overlay attribution maps", key=f"scores-overlay-{g}",
                        help="Which parts of each image raise the score: the score drop when a "
                             "patch is replaced by normal training data (the mean training "
                             "normal, or the nearest one where the detector rejects the mean), "
                             "on the run's calibrated scale."):
                    with st.spinner("Attributing the gallery's scores (once per image)…"):
                        maps = run_attribution.gallery_maps(run, rows)
                    show_figure(map_tiles(x[rows], maps, [f"#{int(r)}" for r in rows],
                                          title=f"{g.capitalize()}: attribution maps"),
                                f"gallery-maps-{g}", run)
            else:
                cols = feature_names or [f"f{i}" for i in range(x.shape[1])]
                df = pd.DataFrame(x[rows], columns=cols)
                df.insert(0, "score", s[rows])
                df.insert(0, "kind", kind[rows])
                df.insert(0, "test row", rows)
                picked = st.dataframe(df, hide_index=True, key=f"gallery-table-{g}",
                                      on_select="rerun", selection_mode="single-row")
                st.caption("Select a row to see that sample on the **Sample** page.")
                if picked.selection.rows:
                    open_sample(run.run_id, int(rows[picked.selection.rows[0]]))

    if len(x) == len(s) and not is_image(run) and not run.detector_problem():
        st.subheader("Which features drive the flagged samples")
        with st.spinner("Attributing the flagged samples' scores to their features…"):
            drivers = run_attribution.flagged_drivers(run)
        if drivers is None:
            st.caption("The run's threshold flags no test sample.")
        else:
            show_figure(feature_drivers(drivers["flagged"], drivers["normal"], feature_names,
                                        n_flagged=int(drivers["n_flagged"])), "drivers", run)
            st.caption("Each feature of a flagged sample is replaced by its normal value (that "
                       "of the mean training normal, or of the nearest training normal where "
                       "the detector rejects the mean) and the drop of the score is measured; "
                       "bars are "
                       "the mean over the highest-scored flagged samples, in units of the "
                       "strongest effects on the run's normal samples, normal samples beside.")

    st.subheader("AUROC per anomaly kind")
    per_kind = met["per_kind_auroc"]
    auc_fmt = {"AUROC": st.column_config.NumberColumn(format="%.3f")}
    c1, c2 = st.columns([2, 3])
    c1.dataframe(pd.DataFrame({"anomaly kind": list(per_kind),
                               "AUROC": [float(v) for v in per_kind.values()]}),
                 hide_index=True, column_config=auc_fmt)
    with c2:
        show_figure(V.auroc_bars(per_kind), "per-kind", run)
    ovo = met.get("one_vs_one_auroc")
    if ovo and {str(k): round(float(v), 6) for k, v in ovo.items()} != \
            {str(k): round(float(v), 6) for k, v in per_kind.items()}:
        st.markdown("**One-vs-one AUROC** — the normal class against each other class alone:")
        st.dataframe(pd.DataFrame({"other class": list(ovo),
                                   "AUROC": [float(v) for v in ovo.values()]}),
                     hide_index=True, column_config=auc_fmt)
    elif ovo:
        st.caption("Here each anomaly kind is one class, so these are also the one-vs-one "
                   "AUROCs (the normal class against each other class alone).")

    table = pd.DataFrame({"test_row": np.arange(len(s)), "kind": kind, "label": y, "score": s,
                          "flagged": (s > t).astype(int)})
    if "test_index" in sc:
        table.insert(1, "dataset_row", sc["test_index"])
    st.download_button("Download test scores (CSV)", table.to_csv(index=False),
                       file_name=f"{run.run_id}-scores.csv", mime="text/csv",
                       key="scores-csv", on_click="ignore", icon=":material/download:")
