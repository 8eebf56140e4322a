"""Home: what Anomaly Lab is, the detectors with their papers, and the Quick start button."""

from __future__ import annotations

import streamlit as st

from ad_core import catalogue, services
from ui.common import open_job, owner, user_errors

st.title("Anomaly Lab")
st.markdown(
    "See **inside** deep anomaly detectors. Each detector learns what *normal* looks like from "
    "normal examples only, then scores new samples: the higher the score, the more anomalous. "
    "Anomaly Lab trains them on small datasets on your laptop and shows what they compute — "
    "score distributions, reconstructions, learned transformations, per-term contributions and "
    "the geometry of their representations.")

spec = catalogue.quickstart_spec()
left, right = st.columns([3, 2], vertical_alignment="center")
with left:
    st.subheader("Quick start")
    st.markdown(f"Train **{spec.detector}** (*{spec.preset}* preset) on **{spec.dataset}** with "
                f"digit **{spec.normal[0]}** as the normal class, in the background, then open "
                "its results.")
with right:
    clicked = st.button("Quick start", type="primary", icon=":material/rocket_launch:",
                        key="quickstart", width="stretch")
if clicked:
    with user_errors():
        # the click's own script run switches to the Scores page, which shows the job's
        # progress and then its charts (or opens the run at once if it already exists)
        open_job(services.start_quickstart(owner()))

st.divider()
st.subheader("How to use it")
st.markdown(
    "1. **Data** — pick a dataset, the normal class(es) and the task (one class against the rest, "
    "a controlled testbed with generated anomalies, or a split with negative examples). Or upload "
    "your own CSV or image zip.\n"
    "2. **Train** — pick detectors and a preset (or set hyperparameters); training runs in the "
    "background with a live loss curve.\n"
    "3. **Look inside a run** — Scores, Reconstructions, Transformations, Contributions and "
    "Embeddings all show the run selected in the sidebar.\n"
    "4. **Compare** — runs on the same task side by side, benchmark sweeps, and the papers' "
    "numbers beside ours.")

st.subheader("The detectors")
dets = catalogue.detector_catalogue()
cols = st.columns(2)
for i, (name, cls) in enumerate(dets.items()):
    with cols[i % 2].container(border=True):
        st.markdown(f"**{cls.title or name}** · `{name}`")
        st.markdown(cls.summary or (cls.__doc__ or "").strip().split("\n")[0])
        st.caption(f"Paper: {cls.paper or '—'} · data: {', '.join(cls.modalities)} · presets: "
                   f"{', '.join(cls.presets)}")
if not dets:
    st.info("No detector is installed; check the installation.")
