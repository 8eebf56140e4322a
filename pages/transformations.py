"""Transformations: what GeoTrans's fixed and NeuTraL AD's learned transformations do to inputs,
and previews of the DAE's training augmentations on the run's own test images.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ad_core import page_data
from ad_core.viz import transforms as T
from ui.common import require_run, user_errors
from ui.replay import replay_section
from ui.views import (
    explained_rows,
    is_image,
    missing,
    page_header,
    pick_explained,
    show_figure,
    test_labels,
)

MAX_VIEWS = 16

run = require_run("the Transformations view")
page_header("Transformations", run)


with user_errors():
    ex = run.explanation()
    previews = page_data.run_previews(run)
    rows = explained_rows(run)
    x_all = run.test_x()
    if ex.has("views") or ex.has("softmax"):
        replay_section(run, "transformations")
    if ex.has("views"):
        views = ex["views"]
        names = [str(n) for n in ex.get("view_names", [f"T{k}" for k in range(views.shape[1])])]
        st.subheader("GeoTrans: transformed views" if "view_confidence" in ex else
                     "NeuTraL AD: learned transformations")
        if "view_confidence" in ex:
            st.caption("Above each view: the classifier's softmax probability of the *right* "
                       "transformation label. Normal images get high confidences; anomalies "
                       "confuse the classifier.")
        show = names
        if len(names) > MAX_VIEWS:
            show = st.multiselect(f"Transformations to show (at most {MAX_VIEWS})", names,
                                  default=names[:8], max_selections=MAX_VIEWS, key="tr-views")
        cols = [names.index(n) for n in show]
        what = "transformed views T_k(x)"
        if "masks" in ex:
            what = st.radio("Show", ["transformed views T_k(x)", "masks σ(M_k(x))"],
                            horizontal=True, key="tr-what")
        arr = ex["masks"] if what.startswith("masks") else views
        if is_image(run):
            pos = pick_explained(run, "tr")
            if len(pos) and cols:
                conf = ex["view_confidence"][pos][:, cols] if "view_confidence" in ex else None
                per_image = st.toggle("Normalise each image separately", False, key="tr-per-img")
                show_figure(T.views_table(
                    arr[pos][:, cols], show, test_labels(run, rows[pos]),
                    originals=x_all[rows[pos]] if len(x_all) else None, confidence=conf,
                    per_image=per_image, title=f"{what[0].upper()}{what[1:]} of chosen samples"),
                    "views", run)
            else:
                st.caption("Pick at least one sample and one transformation.")
        else:
            labels = test_labels(run, rows)
            p = st.selectbox("Sample", range(len(rows)), format_func=lambda i: labels[i],
                             key="tr-row")
            original = x_all[rows[p]] if len(x_all) else None
            show_figure(T.feature_bars(arr[p][cols], show, run.config.get("feature_names"),
                                       original=original, value_title=what,
                                       title=f"{what[0].upper()}{what[1:]} per feature · {labels[p]}"),
                        "feature-bars", run)
    elif "augmentations" not in previews:
        missing(run, "transformations", "views")

    if "augmentations" in previews and is_image(run):
        st.subheader("DAE: augmentation previews")
        st.caption("The catalogue's augmentations applied to a few of this run's test images "
                   "(seeded, so the same seed gives the same preview).")
        catalogue = page_data.augmentation_names("image")
        trained = [n for n in page_data.run_augmentations(run) if n in catalogue]
        c1, c2, c3 = st.columns([4, 1, 1])
        chosen = c1.multiselect("Augmentations", catalogue, default=trained or catalogue[:4],
                                key="tr-aug")
        n = int(c2.number_input("Images", 1, 12, 6, key="tr-aug-n"))
        seed = int(c3.number_input("Seed", 0, 10_000, 0, key="tr-aug-seed"))
        if chosen and len(x_all):
            pick = np.linspace(0, len(x_all) - 1, n).round().astype(int)
            originals, prev = page_data.augmentation_preview(x_all[pick], chosen, n, seed)
            show_figure(T.augmentation_table(originals, prev, test_labels(run, pick)),
                        "augment-preview", run)
