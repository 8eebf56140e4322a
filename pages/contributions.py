"""Contributions: how each transformation (or term) adds up to a sample's anomaly score.

Per-term bars with the dominant term highlighted, a heatmap over the explained test samples, the
simplex of three chosen terms (NeuTraL AD appendix Figure 10), GeoTrans's K×K softmax matrix and
Toll's reconstruction / latent-norm split.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ad_core.viz import contrib as C
from ui.common import require_run, user_errors
from ui.views import (
    explained_rows,
    missing,
    page_header,
    sample_button,
    show_figure,
    test_labels,
)

run = require_run("the Contributions view")
page_header("Contributions", run)

with user_errors():
    ex = run.explanation()
    if not ex.has("score_terms"):
        missing(run, "per-term score contributions", "score_terms")
        st.stop()
    terms = ex["score_terms"].astype(float)
    names = [str(n) for n in ex.get("score_term_names", [f"term {j}" for j in
                                                          range(terms.shape[1])])]
    agg = str(ex.get("score_aggregation", "sum"))
    rows = explained_rows(run)
    sc = run.scores
    scores = sc["test"][rows] if "test" in sc else terms.sum(1)
    y = sc["test_y"][rows].astype(int) if "test_y" in sc else np.zeros(len(rows), int)
    kinds = run.test_kinds()[rows] if len(run.test_kinds()) else np.full(len(rows), "?")
    labels = test_labels(run, rows)
    st.caption(f"{len(names)} terms; the anomaly score is their **{agg}**. "
               f"{len(rows)} explained test samples.")

    st.subheader("One sample")
    order = np.argsort(-scores, kind="stable")
    p = st.selectbox("Sample (sorted by score, most anomalous first)", list(order),
                     format_func=lambda i: labels[i], key="co-row")
    show_figure(C.term_bars(terms[p], names, aggregation=agg,
                            title=f"Contributions · {labels[p]}"), "bars", run)
    sample_button(run, rows[p], "co-open-sample")
    if "softmax" in ex:
        vnames = [str(n) for n in ex.get("view_names", names)]
        st.markdown("**GeoTrans softmax matrix** of this sample: row i is the classifier's "
                    "prediction on T_i(x); a bright diagonal means every transformation was "
                    "recognised (normal-looking).")
        show_figure(C.softmax_matrix(ex["softmax"][p], vnames,
                                     title=f"Softmax per transformed view · {labels[p]}"),
                    "softmax", run)

    st.subheader("All explained samples")
    show_figure(C.contributions_heatmap(terms, names, scores, labels), "heatmap", run)

    norm_terms = [j for j, n in enumerate(names) if "norm" in n]
    if norm_terms and len(names) <= 4:
        st.subheader("Toll: reconstruction vs latent-norm split")
        show_figure(C.term_split(terms, names, kinds), "split", run)

    st.subheader("Simplex of three transformations")
    if len(names) < 3:
        st.caption("The simplex needs at least three terms; this detector has "
                   f"{len(names)}.")
    else:
        default = [names[j] for j in np.argsort(-terms.mean(0), kind="stable")[:3]]
        three = st.multiselect("Three transformations", names, default=default,
                               max_selections=3, key="co-three")
        if len(three) == 3:
            idx = [names.index(n) for n in three]
            show_figure(C.simplex_figure(terms[:, idx], three, y, scores, hover=labels),
                        "simplex", run)
        else:
            st.caption("Choose exactly three.")
