"""Sample: one input through every detector's eyes.

*A test sample* (``?run=<id>&sample=<test row>``, opened by clicking a thumbnail on Scores,
Reconstructions, Contributions or the Embeddings gallery): every finished run on the same dataset
and normal class(es), side by side — score, percentile among that run's normal test scores,
flagged or not at its threshold, the detector's own explanation and the nearest training normals
in its embedding. *Your own input*: draw a digit or upload an image or a CSV row; every finished
run whose input shape matches scores it live. ``sample_report.explain_sample`` does the work for both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from ad_core import run_attribution, sample_input, sample_report
from ad_core.errors import UserError
from ad_core.runs import load_run
from ad_core.viz import contrib as C
from ad_core.viz import recon as R
from ad_core.viz.attribution import attribution_maps, feature_attribution_bars
from ad_core.viz.sample import recon_strip, tile_grid, verdict_bars
from ui.common import current_run, require_run, user_errors
from ui.views import show_figure

TEST, OWN = "A test sample", "Your own input"
DRAW, IMAGE, CSV = "Draw a digit", "Upload an image", "Upload a CSV row"
#: Runs shown per row of columns.
PER_ROW = 3
OUTCOME = {(1, True): ("true positive", "an anomaly this run catches"),
           (1, False): ("false negative", "an anomaly this run misses"),
           (0, True): ("false positive", "a normal sample this run flags"),
           (0, False): ("true negative", "a normal sample this run lets pass")}


def small_figure(fig, key: str) -> None:
    """A small picture (the sample, the models' input): no toolbar, no download button."""
    st.plotly_chart(fig, key=f"chart-{key}", config={"displayModeBar": False,
                                                     "staticPlot": True})


def _row_from_url(n: int) -> int | None:
    try:
        row = int(st.query_params.get("sample", ""))
    except ValueError:
        return None
    return row if 0 <= row < n else None


def _views_titles(ex, k: int) -> tuple[list[str], str]:
    names = [str(n) for n in ex.get("view_names", [f"T{i + 1}" for i in range(k)])]
    if "view_confidence" in ex:  # GeoTrans: the classifier's confidence in each true label
        conf = np.asarray(ex["view_confidence"], dtype=float)[0]
        return ([f"{n} p={c:.2f}" for n, c in zip(names, conf)],
                "Views · confidence in the true label")
    if "score_terms" in ex and np.shape(ex["score_terms"])[-1] == k:
        terms = np.asarray(ex["score_terms"], dtype=float)[0]
        return ([f"{n} {t:.3g}" for n, t in zip(names, terms)],
                "Learned views · contribution to the score")
    return names, "Transformed views"


def show_explanation(v, key: str, feature_names: list[str] | None) -> None:
    """The detector's own explanation of the one sample: whatever its ``explain`` returned."""
    ex = v.explanation
    image = v.input.ndim == 3
    x = v.input[None]
    shown = False
    if ex.has("reconstruction", "error_map"):
        if image and ex.has("reconstruction_phase1"):
            st.caption("LIS-AE: after the latent-shaping phase (the score), then before it.")
        if image:
            show_figure(recon_strip(x, ex["reconstruction"], ex["error_map"]), f"{key}-recon")
        else:
            show_figure(R.feature_recon_bars(v.input, ex["reconstruction"][0],
                                             ex["error_map"][0], feature_names,
                                             title="Input vs reconstruction"), f"{key}-recon")
        shown = True
    if ex.has("reconstruction_phase1", "error_map_phase1") and image:
        show_figure(recon_strip(x, ex["reconstruction_phase1"], ex["error_map_phase1"],
                                title="Before latent shaping (phase 1)", x_hat="x̂ phase 1"),
                    f"{key}-lisae")
    if "score_terms" in ex:
        terms = np.asarray(ex["score_terms"], dtype=float)[0]
        names = [str(n) for n in ex.get("score_term_names", [f"term {j}" for j in
                                                              range(len(terms))])]
        show_figure(C.term_bars(terms, names, aggregation=ex.aggregation,
                                title="Score terms"), f"{key}-terms")
        shown = True
    if "views" in ex and image:
        views = np.asarray(ex["views"])
        titles, title = _views_titles(ex, views.shape[1])
        long_titles = max(len(t) for t in titles) > 8
        ncols = (2 if long_titles else 4) if views.shape[1] <= 16 else (4 if long_titles else 8)
        show_figure(tile_grid(views, titles, title=title, ncols=ncols,
                              tile_px=40 if views.shape[1] > 16 else 64), f"{key}-views")
        shown = True
    if not shown:
        st.caption("This detector's explanation is its score: it has no reconstruction, views "
                   "or score terms to show. Its nearest training normals are below.")


def map_title(m) -> str:
    """A map's short name: the model-agnostic one, or what the method's own map is."""
    if m.method != "native":
        return {"occlusion": "occlusion", "ablation": "feature ablation"}[m.method]
    return "native: error map" if "error" in m.label else "native: gradient × input"


def show_maps(v, key: str, feature_names: list[str] | None) -> None:
    """Why this run scores the sample as it does: its attribution maps, calibrated on the run."""
    if not v.maps:
        if v.maps_note:
            st.caption(v.maps_note)
        return
    if v.input.ndim == 3:
        show_figure(attribution_maps(v.input, [(map_title(m), m.calibrated) for m in v.maps],
                                     title="Why this score: attribution maps"), f"{key}-maps")
    else:
        ref = run_attribution.run_reference(load_run(v.run_id))
        for m in v.maps:
            show_figure(feature_attribution_bars(m.calibrated, v.input, ref["lo"], ref["hi"],
                                                 feature_names,
                                                 title=f"Why this score: {map_title(m)}"),
                        f"{key}-maps-{m.method}")
    st.caption(" · ".join(f"**{map_title(m)}**: {m.label}" for m in v.maps))


def show_neighbours(v, key: str, feature_names: list[str] | None) -> None:
    if v.neighbours is None:
        if v.neighbours_note:
            st.caption(v.neighbours_note)
        return
    nb = v.neighbours
    if nb.inputs.ndim == 4:
        show_figure(tile_grid(nb.inputs, [f"d={d:.3g}" for d in nb.distances],
                              title="Nearest training normals (embedding)", ncols=3,
                              tile_px=64), f"{key}-nn")
    else:
        cols = feature_names or [f"f{i}" for i in range(nb.inputs.shape[1])]
        df = pd.DataFrame(nb.inputs, columns=cols)
        df.insert(0, "distance", nb.distances)
        st.markdown("**Nearest training normals in its embedding**")
        st.dataframe(df, hide_index=True, key=f"{key}-nn-table")


def show_verdict(v, truth: int | None, key: str, feature_names: list[str] | None) -> None:
    """One run's column."""
    st.markdown(f"#### {v.detector_title}")
    st.caption(f"`{v.run_id}`")
    m1, m2 = st.columns(2)
    m1.metric("Score", f"{v.score:.4g}", help=f"Threshold {v.threshold:.4g}; higher = more "
                                               "anomalous.")
    m2.metric("Percentile", f"{v.percentile:.0f}%",
              help="The share of this run's normal test samples whose score is at or below "
                   "this one.")
    verdict = (":red[**flagged as an anomaly**]" if v.flagged
               else ":blue[**passes as normal**]")
    st.markdown(f"{verdict} at the run's threshold {v.threshold:.4g}")
    if truth is not None:
        name, meaning = OUTCOME[(int(truth), bool(v.flagged))]
        icon = ":material/check_circle:" if name.startswith("true") else ":material/cancel:"
        st.markdown(f"{icon} **{name}**: {meaning}")
    if v.in_training:
        st.warning("This very image was one of this run's training normals (its split used "
                   "another seed), so a low score here says little.")
    if v.score_note:
        st.caption(v.score_note)
    show_maps(v, key, feature_names)
    show_explanation(v, key, feature_names)
    show_neighbours(v, key, feature_names)


def show_report(report, truth: int | None, key: str) -> None:
    """Every run's verdict: a summary chart, then one column per run."""
    for rid, why in report.skipped.items():
        st.caption(f"Run `{rid}` cannot score this input: {why}")
    if not report.runs:
        return
    vs = report.runs
    show_figure(verdict_bars([f"{v.detector_title} · {v.run_id[-6:]}" for v in vs],
                             [v.percentile for v in vs], [v.flagged for v in vs],
                             [v.score for v in vs]), f"{key}-verdicts")
    features = next((f for f in (load_run(v.run_id).config.get("feature_names")
                                 for v in vs) if f), None)
    for start in range(0, len(vs), PER_ROW):
        cols = st.columns(PER_ROW)  # fixed width per run; only the used ones get a border
        for col, v in zip(cols, vs[start:start + PER_ROW]):
            with col, st.container(border=True):
                show_verdict(v, truth, f"{key}-{v.run_id}", features)


def test_sample_view() -> None:
    run = require_run("the Sample view")
    n = len(run.scores.get("test", []))
    if not n or not len(run.test_x()):
        st.warning("This run stored no test inputs, so there is no sample to show. Train it "
                   "again.")
        return
    url_row = _row_from_url(n)
    row = st.number_input(f"Test sample of this run (0 – {n - 1})", 0, n - 1,
                          0 if url_row is None else url_row,
                          key=f"sample-row-{run.run_id}-{url_row}",
                          help="Clicking a thumbnail on Scores, Reconstructions, Contributions or "
                               "the Embeddings gallery opens that sample here.")
    if url_row != row:
        st.query_params["sample"] = str(int(row))
    facts = sample_report.sample_facts(run, int(row))
    x = sample_report.test_sample(run, int(row))
    truth = facts["label"]
    others = sample_report.sample_runs(run)
    c1, c2 = st.columns([1, 4])
    with c1:
        if x.ndim == 3:
            small_figure(tile_grid(x[None], [f"#{row}"], title="The sample", ncols=1,
                                   tile_px=120), "sample-input")
    with c2:
        label = {1: "an **anomaly**", 0: "a **normal** sample"}.get(truth, "a sample")
        st.markdown(f"Test sample **#{row}** of the current run is {label} "
                    f"(kind **{facts['kind']}**"
                    + (f", dataset row {facts['dataset_row']}" if facts["dataset_row"] is not None
                       else "") + ").")
        st.markdown(f"Seen by **{len(others)}** finished run{'s' if len(others) != 1 else ''} "
                    f"on {run.config.get('dataset')} with normal class "
                    f"{'+'.join(map(str, run.config.get('normal', [])))}: each scores this very "
                    "input with its own detector.")
    with st.spinner("Scoring the sample with every run (the first time loads each model)…"):
        report = sample_report.explain_sample([r.run_id for r in others], x,
                                         dataset_row=facts["dataset_row"], source="sample")
    show_report(report, truth, "test")


def own_input_view() -> None:
    groups = sample_report.input_run_groups()
    if not groups:
        st.info("No finished run yet, so nothing can score your input. Train one on the "
                "**Train** page (or press **Quick start** on **Home**).")
        return
    shapes = list(groups)
    cur = current_run()
    default = sample_report.run_input_shape(cur) if cur is not None else None
    if default not in groups:
        default = next((s for s in shapes if s == (1, 28, 28)), shapes[0])
    shape = st.selectbox("Score it with every finished run on", shapes, index=shapes.index(default),
                         format_func=lambda s: f"{sample_report.shape_label(s, groups[s])} · "
                                               f"{len(groups[s])} run{'s' * (len(groups[s]) > 1)}",
                         key="sample-shape")
    ids = [r.run_id for r in groups[shape]]
    image = len(shape) == 3
    how = st.segmented_control("Input", [DRAW, IMAGE] if image else [CSV], default=DRAW if image
                               else CSV, required=True, key=f"sample-how-{len(shape)}")
    report = None
    try:
        if how == DRAW:
            report = draw_input(ids, shape)
        elif how == IMAGE:
            up = st.file_uploader("An image (PNG, JPEG …): a light digit on a dark background, or "
                                  "dark on light (it is inverted)",
                                  type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                                  key="sample-upload-image")
            if up is None:
                st.info("Upload a picture to score it with every run above.")
                return
            img = sample_input.decode_image(up.getvalue())
            report = sample_report.explain_sample(ids, img, source="image")
            preview(report)
        else:
            names = groups[shape][0].config.get("feature_names")
            up = st.file_uploader(f"A CSV file whose first row holds the {shape[0]} features "
                                  "(a header naming them is optional)", type=["csv", "txt"],
                                  key="sample-upload-csv")
            text = st.text_area("… or paste the row here", key="sample-csv-text",
                                placeholder=",".join(f"{v}" for v in range(min(shape[0], 6)))
                                + (",…" if shape[0] > 6 else ""))
            data = up.getvalue() if up is not None else text
            if not data or not str(data).strip():
                st.info("Upload or paste a row of numbers to score it with every run above.")
                return
            row = sample_input.parse_csv_row(data, shape[0], names)
            report = sample_report.explain_sample(ids, row, source="sample")
    except sample_input.EmptyDrawingError as e:
        st.info(str(e))
        return
    except UserError as e:
        st.error(str(e))
        return
    if report is not None:
        show_report(report, None, "own")


def preview(report) -> None:
    """What the models receive, next to how the input was prepared."""
    if report.input is None or report.input.ndim != 3:
        return
    c1, c2 = st.columns([1, 3])
    with c1:
        small_figure(tile_grid(report.input[None], [""], ncols=1, tile_px=120,
                               title="What the models receive"), "own-preview")
    with c2:
        if report.notes:
            st.caption("Prepared for the models: " + "; ".join(report.notes) + ".")


def draw_input(ids: list[str], shape: tuple[int, ...]):
    c1, c2 = st.columns([2, 3])
    with c1:
        st.markdown("Draw a digit (light ink on black, like MNIST). It is scored when you lift "
                    "the pen; the bin icon clears the canvas.")
        width = st.slider("Pen width", 8, 40, 22, 2, key="sample-pen")
        result = st_canvas(stroke_width=width, stroke_color="#FFFFFF", background_color="#000000",
                           height=280, width=280, drawing_mode="freedraw",
                           return_image_data=True, key="sample-canvas")
    rgba = result.image_data
    if rgba is None:
        with c2:
            st.info("The canvas is empty: draw a digit on it to score it with every run.")
        return None
    report = sample_report.explain_sample(ids, rgba, source="canvas")
    with c2:
        small_figure(tile_grid(report.input[None], [f"{shape[1]}×{shape[2]}"], ncols=1,
                               tile_px=140, title="What the models receive"), "own-preview")
        if report.notes:
            st.caption("Prepared for the models: " + "; ".join(report.notes) + ".")
    return report


st.header("Sample")
st.caption("One sample through every detector's eyes: would another detector agree, and why?")
mode = st.segmented_control("Look at", [TEST, OWN], required=True, key="sample-mode",
                            default=TEST if "sample" in st.query_params or current_run()
                            else OWN)
with user_errors():
    if mode == OWN:
        own_input_view()
    else:
        test_sample_view()
