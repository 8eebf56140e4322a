"""The "Watch it learn" section of the look-inside pages (Scores, Embeddings, Reconstructions,
Transformations): the run's training replay as animated figures, and one offline HTML file of
them. Layout only: the snapshots come from ``ad_core.page_data``, the figures from
``ad_core.viz.replay``.

The section is a closed expander that builds its figures only when opened; a run trained without
snapshots gets one caption instead.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ad_core import page_data
from ad_core.runs import Run
from ad_core.viz import replay as V

LABEL = "Watch it learn (training replay)"
#: The method views each page replays, in the order it offers them.
PAGE_KEYS = {"reconstruction": ("reconstruction", "error_map", "latent_norm", "score_terms"),
             "transformations": ("softmax", "probs", "views", "score_terms")}
INTRO = {
    "scores": "How the scores of {n} fixed test samples (half of them anomalies) moved while the "
              "detector learned, one frame per snapshot: press ▶ Play or drag the slider. The "
              "last frame is the final model (the selected checkpoint); the bins stay fixed, so "
              "you see the two groups drift apart.",
    "embedding": "Where the detector put the latent codes of {m} fixed test samples while it "
                 "learned. One PCA is fitted on the codes of every snapshot together, so the "
                 "axes never change and each point moves as its code moves.",
    "reconstruction": "What the detector made of 8 fixed test samples (4 normal, 4 anomalies) "
                      "while it learned, on one colour scale for every step.",
    "transformations": "How the detector's own view of one of 8 fixed test samples changed "
                       "while it learned.",
}
_log = logging.getLogger("anomaly_lab")


@st.cache_data(show_spinner=False, max_entries=16)
def _replay(_run: Run, path: str, stamp: float) -> Any:
    # ``path`` and ``stamp`` (the file's mtime) are the key: a retrained run is read again.
    return page_data.run_replay(_run)


def _names(run: Run, key: str, size: int) -> list[str] | None:
    """Labels for the bars or tiles of ``key``: the run's score-term, view or feature names."""
    field = {"score_terms": "score_term_names", "views": "view_names"}.get(key)
    names = run.explain.get(field) if field else run.config.get("feature_names")
    if names is None or len(names) != size:
        return None
    return [str(n) for n in names]


@st.cache_data(show_spinner=False, max_entries=32)
def _figures(_run: Run, _replay_obj: Any, path: str, stamp: float, what: str,
             sample: int) -> dict[str, go.Figure]:
    """The section's figures by name (built once per run, page and sample)."""
    rp = _replay_obj
    if what == "scores":
        return {"scores": V.score_replay(rp), "auroc": V.auroc_curve(rp)}
    if what == "embedding":
        return {"embedding": V.embedding_replay(rp)}
    inputs = page_data.replay_inputs(_run, rp.view_index)
    out = {}
    for k in _keys(rp, what):
        size = rp.views[k].shape[2] if rp.views[k].ndim > 2 else 0
        out[k] = V.views_replay(rp, k, sample, inputs=inputs, names=_names(_run, k, size))
    out["auroc"] = V.auroc_curve(rp)
    return out


def _keys(rp: Any, what: str) -> list[str]:
    shown = V.view_keys(rp)
    return [k for k in PAGE_KEYS[what] if k in shown]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def replay_section(run: Run, what: str) -> None:
    """The "Watch it learn" section for page ``what`` (``"scores"``, ``"embedding"``,
    ``"reconstruction"`` or ``"transformations"``)."""
    stamp = page_data.replay_stamp(run)
    if stamp is None:
        st.caption("**Watch it learn:** this run was trained without snapshots — train it again "
                   "to watch it learn.")
        return
    exp = st.expander(LABEL, icon=":material/play_circle:", key=f"replay-{what}",
                      on_change="rerun")
    if not exp.open:
        return
    with exp:
        try:
            rp = _replay(run, str(run.path), stamp)
        except Exception:
            _log.exception("reading the training snapshots of %s", run.run_id)
            rp = None
        if rp is None or not len(rp):
            st.caption("This run's training snapshots could not be read; train it again to "
                       "watch it learn.")
            return
        _draw(run, rp, what, stamp)


def _draw(run: Run, rp: Any, what: str, stamp: float) -> None:
    if len(rp) < 2:
        st.caption("This detector is fitted in one step: there is no training to watch, only the "
                   "final model.")
        return
    if what == "embedding" and rp.codes is None:
        st.caption("This run's snapshots kept no latent codes.")
        return
    keys = _keys(rp, what) if what in PAGE_KEYS else []
    if what in PAGE_KEYS and not keys:
        st.caption("This run's snapshots kept none of this page's views (they are thinned to "
                   "keep the file small).")
        return
    n, m = rp.scores.shape[-1], 0 if rp.codes is None else rp.codes.shape[1]
    st.caption(INTRO[what].format(n=n, m=m))
    sample, key = 0, ""
    if keys:
        c1, c2 = st.columns([3, 2])
        key = c1.segmented_control("Show", keys, default=keys[0], required=True,
                                   format_func=lambda k: V.VIEW_TITLES.get(k, k),
                                   key=f"replay-{what}-key") or keys[0]
        if V.per_sample(rp, key):
            labels = V.sample_labels(rp)
            sample = int(c2.selectbox("Sample", range(len(labels)), format_func=labels.__getitem__,
                                      key=f"replay-{what}-sample"))
    figs = _figures(run, rp, str(run.path), stamp, what, sample)
    for name, fig in figs.items():
        if keys and name not in (key, "auroc"):
            continue
        st.plotly_chart(fig, key=f"replay-{what}-{name}")
    if what == "scores" and figs["scores"].layout.meta:
        scale = figs["scores"].layout.meta.get("scale")
        if scale == "standardised":
            st.caption("The scores' scale changes by orders of magnitude while this detector "
                       "learns, so each step is shown relative to its own normals (median 0, "
                       "interquartile range 1).")
        elif scale == "log":
            st.caption("These scores span several decades: the bins are log-spaced.")
    title = f"Watch it learn: {run.title}"
    st.download_button("Download replay (HTML)", data=lambda: V.replay_html(list(figs.values()),
                                                                           title),
                       file_name=f"{_slug(run.run_id)}-replay-{what}.html", mime="text/html",
                       key=f"replay-{what}-dl", on_click="ignore", icon=":material/download:",
                       help="Every figure of this section in one file that plays offline.")
