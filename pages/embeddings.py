"""Embeddings: PCA, t-SNE or UMAP of what the detector 'sees', coloured by label, kind or score;
lasso or box-select points to see those samples with their scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ad_core import projection
from ad_core.errors import UserError
from ad_core.viz.embedding import embedding_scatter
from ui.common import chart, download_csv, require_run
from ui.replay import replay_section
from ui.views import clickable_gallery, open_sample

st.title("Embeddings")
run = require_run("the embedding view")
st.caption(run.title)
replay_section(run, "embedding")
if "features" not in run.embedding:
    st.info("This run stored no embedding (it was trained with embedding turned off). Train it "
            "again on the **Train** page to see this view.")
    st.stop()

n = len(run.embedding["index"])
dim = int(np.prod(run.embedding["features"].shape[1:]))
st.markdown(f"Each point is one of {n} test samples, placed by a 2-D projection of the "
            f"detector's {dim}-dimensional representation (`embed()`; the latent code for deep "
            "detectors, the standardised input for classical ones).")
c1, c2 = st.columns(2)
method = c1.segmented_control("Projection", list(tuple(projection.METHODS)), default="pca", required=True,
                              format_func=projection.METHOD_TITLES.get, key="emb_method",
                              help="PCA is instant; t-SNE and UMAP take seconds the first time "
                                   "and are cached with the run.") or "pca"
color_by = c2.segmented_control("Colour by", ["label", "kind", "score"], default="label",
                                required=True, key="emb_color",
                                format_func={"label": "normal / anomaly", "kind": "anomaly kind",
                                             "score": "anomaly score"}.get) or "label"
if not projection.ready(method):
    st.caption("UMAP is still compiling in the background (first use after the server starts); "
               "this projection may take a little longer.")

try:
    with st.spinner(f"Computing the {projection.METHOD_TITLES[method]} projection of {n} points "
                    "(once per run; cached afterwards)…"):
        proj = projection.run_projection(run, method)
except UserError as e:
    st.error(str(e))
    st.stop()
idx = proj["index"]
sc = run.scores
fig = embedding_scatter(proj["xy"], idx, labels=sc["test_y"][idx], kinds=sc["test_kind"][idx],
                        scores=sc["test"][idx], color_by=color_by,
                        method=projection.METHOD_TITLES[method])
if not proj["cached"]:
    st.caption(f"Computed in {proj['seconds']:.1f} s and cached in the run folder.")
event = chart(fig, key=f"emb-{run.run_id}-{method}-{color_by}",
              filename=f"{run.run_id}-{method}", on_select="rerun",
              selection_mode=("lasso", "box"))
coords = pd.DataFrame({"test_row": idx, "x": proj["xy"][:, 0], "y": proj["xy"][:, 1],
                       "label": sc["test_y"][idx], "kind": sc["test_kind"][idx],
                       "score": sc["test"][idx]})
download_csv(coords, f"{run.run_id}-{method}-projection", "Download projection + scores (CSV)",
             key=f"emb-csv-{method}")

st.subheader("Selected samples")
points = (event.selection.points if event is not None and event.selection else []) or []
rows = sorted({int(p["customdata"]) for p in points if p.get("customdata") is not None})
if not rows:
    st.info("Draw a lasso or a box around points in the chart (the lasso is the default tool) "
            "to see those samples here with their scores.")
    st.stop()
scores = sc["test"][rows]
order = np.argsort(-scores)
rows_sorted = [rows[i] for i in order]
st.markdown(f"**{len(rows)}** samples selected: {int(sc['test_y'][rows].sum())} anomalies, "
            f"mean score {scores.mean():.4g}. Most anomalous first.")
limit = 64
if run.config.get("modality") == "image":
    from ad_core.viz.images import image_grid

    x = run.test_x()[rows_sorted[:limit]]
    titles = [f"#{r} {sc['test_kind'][r]} {sc['test'][r]:.3g}" for r in rows_sorted[:limit]]
    clickable_gallery(image_grid(x, titles, ncols=8,
                                 title=f"Selected samples (first {min(limit, len(rows))} of "
                                       f"{len(rows)}), titled row · kind · score"),
                      rows_sorted[:limit], run, f"emb-sel-{method}", hover=titles)
else:
    x = run.test_x()[rows_sorted]
    names = run.config.get("feature_names") or [f"f{i}" for i in range(x.shape[1])]
    df = pd.DataFrame(x, columns=names)
    df.insert(0, "score", sc["test"][rows_sorted])
    df.insert(0, "kind", sc["test_kind"][rows_sorted])
    df.insert(0, "test_row", rows_sorted)
    picked = st.dataframe(df, hide_index=True, key=f"emb-sel-table-{method}", on_select="rerun",
                          selection_mode="single-row")
    st.caption("Select a row to see that sample on the **Sample** page.")
    if picked.selection.rows:
        open_sample(run.run_id, int(rows_sorted[picked.selection.rows[0]]))
