"""The Teaching page's training replays (layout only; the runs and their data come from
``ad_core.teaching.replay``, the figures from ``ad_core.viz.replay``): Toll's targeted collapse
(β = 0 and β > 0, same seed, side by side) and NeuTraL AD's learned views, each from real runs
that the page trains as ordinary jobs when they do not exist yet."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ad_core import page_data, services
from ad_core.teaching import replay as T
from ad_core.viz import replay as V
from ui.common import guarded, live_training, owner, queue_text, user_errors, watch_job


def _runs_or_train(specs: tuple[Any, ...], key: str, what: str) -> list[Any] | None:
    """The saved runs of ``specs``; otherwise a button that submits them (and, while they
    train, their live progress, polled until all are done). None until all exist."""
    with user_errors():
        runs = T.existing_runs(specs)
    if all(r is not None for r in runs):
        return runs
    jids = st.session_state.get(key)
    if not jids:
        if st.button(f"Train {what}", key=f"{key}-go", icon=":material/play_arrow:",
                     help="Quick preset, mnist5k, normal class 8, seed 0 — ordinary jobs: they "
                          "appear on Train and in the sidebar, and every later visitor opens "
                          "the same runs."):
            with user_errors():
                jids = [services.start_training(s, owner()) for s in specs]
                for j in jids:
                    watch_job(j)
                st.session_state[key] = jids
                st.rerun()
        return None

    @st.fragment(run_every=2.0)
    @guarded("the teaching replay's trainings")
    def progress() -> None:
        snaps = [services.job(j, owner()) for j in jids]
        if not any(s.active for s in snaps):
            st.session_state.pop(key, None)
            bad = [s for s in snaps if not s.saved]
            if bad:
                st.error(f"A training did not finish: {bad[0].error or bad[0].status}")
                return
            st.rerun(scope="app")
        for s in snaps:
            st.progress(s.fraction, text=queue_text(s) if s.active else f"{s.label}: done")
            live_training(s)

    progress()
    return None


def toll_collapse() -> None:
    """Toll's β‖z‖ term at work: latent-norm histograms of the same network trained with β = 0
    and with the preset's β, from the same seed, replayed side by side."""
    st.markdown(
        "**Watch the collapse happen (real runs).** The same Toll network on mnist5k (normal "
        "class 8), trained twice from the same seed: with β = 0 (a plain auto-encoder) and with "
        "the quick preset's β. The histograms show ‖z‖, the norm of the latent code, for fixed "
        "test normals and anomalies at every snapshot of training. With β > 0 the normals' codes "
        "are pulled towards the origin while the anomalies — never seen in training — keep "
        "larger codes; with β = 0 nothing pulls them. Press ▶ under each chart.")
    runs = _runs_or_train(T.TOLL_PAIR, "teach-toll-jobs", "both Toll runs (about 2 × 15 s)")
    if runs is None:
        return
    reps = [T.latent_norm_replay(page_data.run_replay(r)) for r in runs]
    if any(rp is None or len(rp) < 2 for rp in reps):
        st.caption("These runs were trained without snapshots (or kept no latent codes): train "
                   "them again from the Train page to watch the collapse.")
        return
    figs = [V.score_replay(rp, scale="raw", title=f"‖z‖, β = "
                                                  f"{T.beta_of(r):g}")
            for rp, r in zip(reps, runs)]
    for f in figs:
        f.update_xaxes(title_text="latent norm ‖z‖")
    cols = st.columns(2)
    for c, f, r in zip(cols, figs, runs):
        with c:
            st.plotly_chart(f, key=f"teach-toll-{r.run_id}")
            st.caption(f"Run `{r.run_id}`, AUROC of its score {r.metrics['auroc']:.3f}.")
    st.caption("Frame titles give the AUROC of ‖z‖ alone as a score. Runs: "
               + ", ".join(f"`{r.run_id}`" for r in runs) + " (open them in the sidebar to "
               "replay their scores, embeddings and reconstructions).")


def neutral_views() -> None:
    """NeuTraL AD's K learned transformations of one test sample, replayed step by step."""
    st.markdown(
        "**Watch the views become diverse (a real run).** NeuTraL AD on mnist5k (normal class "
        "8), quick preset: its K learned transformations of one fixed test sample at every "
        "snapshot of training. At first the views are near-copies of the input; the DCL makes "
        "them distinct from each other yet still recognisable as this digit.")
    runs = _runs_or_train((T.NEUTRAL_RUN,), "teach-neutral-jobs", "the NeuTraL AD run "
                                                                 "(about 30 s)")
    if runs is None:
        return
    run = runs[0]
    rp = page_data.run_replay(run)
    if rp is None or "views" not in rp.views:
        st.caption("This run was trained without snapshots: train it again from the Train page "
                   "to watch its views.")
        return
    labels = V.sample_labels(rp)
    sample = int(st.selectbox("Sample", range(len(labels)), format_func=labels.__getitem__,
                              key="teach-neutral-sample"))
    names = run.explain.get("view_names")
    fig = V.views_replay(rp, "views", sample,
                         names=[str(n) for n in names] if names is not None else None)
    st.plotly_chart(fig, key="teach-neutral-views")
    st.caption(f"Run `{run.run_id}` (AUROC {run.metrics['auroc']:.3f}); its other pages replay "
               "its scores and embeddings too.")
