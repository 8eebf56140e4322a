"""Reconstructions: what the autoencoders (AE, DAE, Toll, LIS-AE) rebuild, and where they fail.

Input | reconstruction | error map for chosen samples; Toll's reconstruction vs latent-norm terms;
LIS-AE before vs after the latent-shaping phase.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ad_core import run_attribution
from ad_core.viz import recon as R
from ad_core.viz.attribution import map_tiles
from ad_core.viz.scores import groups_by_kind, groups_by_label
from ui.common import require_run, user_errors
from ui.replay import replay_section
from ui.views import (
    clickable_gallery,
    explained_rows,
    is_image,
    missing,
    page_header,
    pick_explained,
    sample_button,
    show_figure,
    test_labels,
)

run = require_run("the Reconstructions view")
page_header("Reconstructions", run)

with user_errors():
    ex = run.explanation()
    if not ex.has("reconstruction", "error_map"):
        missing(run, "reconstructions", "reconstruction")
        st.stop()
    rows = explained_rows(run)
    kinds = run.test_kinds()
    x_all = run.test_x()
    inputs = x_all[rows] if len(x_all) else ex["reconstruction"] * np.nan
    st.caption(f"{len(rows)} test samples were explained when the run finished (the most and "
               "least anomalous plus a sample of every kind).")
    replay_section(run, "reconstruction")

    st.subheader("Input | reconstruction | error map")
    pos = pick_explained(run, "recon")
    if not len(pos):
        st.caption("Pick at least one kind or sample above.")
    elif is_image(run):
        per_image = st.toggle("Normalise each image separately", False, key="recon-per-image",
                              help="Off: every error map shares one colour scale, so brightness "
                                   "is comparable. On: each tile uses its own range, showing "
                                   "where even a small error sits.")
        clickable_gallery(R.recon_table(inputs[pos], ex["reconstruction"][pos],
                                        ex["error_map"][pos], test_labels(run, rows[pos]),
                                        per_image=per_image),
                          rows[pos], run, "recon-table", hover=test_labels(run, rows[pos]))
        if len(x_all) and not run.detector_problem() and st.toggle(
                "Overlay attribution maps", False, key="recon-overlay",
                help="Beside the error map, the model-agnostic view: the score drop when a patch "
                     "is replaced by normal training data (the mean training normal, or the "
                     "nearest one where the detector rejects the mean), on the run's calibrated "
                     "scale."):
            with st.spinner("Attributing these samples' scores (once per image)…"):
                maps = run_attribution.gallery_maps(run, rows[pos])
            show_figure(map_tiles(inputs[pos], maps, [f"#{int(r)}" for r in rows[pos]],
                                  title="Attribution maps (occlusion)"), "recon-maps", run)
    else:
        labels = test_labels(run, rows[pos])
        pick = st.selectbox("Sample", range(len(pos)), format_func=lambda i: labels[i],
                            key="recon-row")
        p = pos[pick]
        show_figure(R.feature_recon_bars(inputs[p], ex["reconstruction"][p], ex["error_map"][p],
                                         run.config.get("feature_names"),
                                         title=f"Input vs reconstruction · {labels[pick]}"),
                    "recon-bars", run)
        sample_button(run, rows[p], "recon-open-sample")

    st.subheader("Latent norms ‖z‖")
    if "latent_norm" in ex:
        # Up to three anomaly kinds (the testbed) stay apart; nine digit classes would crowd the
        # chart, so one-vs-rest shows normal vs anomaly as the paper does.
        kinds_here = kinds[rows]
        groups = (groups_by_kind(ex["latent_norm"], kinds_here)
                  if len(set(kinds_here.tolist()) - {"normal"}) <= 3
                  else groups_by_label(ex["latent_norm"], (kinds_here != "normal").astype(int)))
        show_figure(R.latent_norm_histogram(groups), "latent-norms", run)
    else:
        missing(run, "latent norms", "latent_norm")

    names = [str(n) for n in ex.get("score_term_names", [])]
    if "score_terms" in ex and len(names) >= 2 and any("norm" in n for n in names):
        st.subheader("Toll: reconstruction term vs latent-norm term")
        terms = ex["score_terms"]
        j_rec = next((i for i, n in enumerate(names) if "recon" in n), 0)
        j_norm = next((i for i, n in enumerate(names) if "norm" in n), 1)
        show_figure(R.term_scatter(terms[:, j_rec], terms[:, j_norm], kinds[rows],
                                   x_title=f"{names[j_rec]} term", y_title=f"{names[j_norm]} term",
                                   hover=test_labels(run, rows)), "toll-terms", run)

    st.subheader("LIS-AE: before vs after latent shaping")
    if ex.has("reconstruction_phase1", "error_map_phase1"):
        if is_image(run):
            pos2 = pos if len(pos) else np.arange(min(6, len(rows)))
            per_image2 = st.toggle("Normalise each image separately", False,
                                   key="lisae-per-image")
            show_figure(R.before_after_table(
                inputs[pos2], ex["reconstruction_phase1"][pos2], ex["reconstruction"][pos2],
                ex["error_map_phase1"][pos2], ex["error_map"][pos2], test_labels(run, rows[pos2]),
                per_image=per_image2), "lisae-table", run)
        else:
            st.caption("Before/after tiles are drawn for image runs; see the histograms below.")
    sc = run.scores
    if "extra_phase1_test" in sc and "test_y" in sc:
        before = groups_by_label(sc["extra_phase1_test"], sc["test_y"])
        after = groups_by_label(sc["test"], sc["test_y"])
        if "extra_negatives" in sc:
            after["negatives"] = sc["extra_negatives"]
        show_figure(R.before_after_histograms(before, after), "lisae-hist", run)
    elif "reconstruction_phase1" not in ex:
        missing(run, "latent-shaping phase", "phase1")
