"""Train: pick detectors and presets or hyperparameters, start background jobs, watch them, manage
finished runs. Training itself runs in :mod:`ad_core.jobs` (a fair queue shared by all sessions),
never in this script, so it survives page switches and reloads (``?job=<id>`` in the URL)."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from ad_core import catalogue, page_data, services
from ad_core.contracts import ParamSpec
from ad_core.errors import UserError
from ad_core.runs import delete_run, list_runs, load_run
from ad_core.viz.compare import runs_frame
from ui.common import (
    RESULTS_PAGE,
    chart,
    current_run_id,
    data_choice,
    download_csv,
    fmt_seconds,
    guarded,
    live_training,
    owner,
    queue_text,
    set_current_run,
    unwatch_job,
    user_errors,
    watch_job,
    watched_jobs,
)

st.title("Train")
choice = data_choice()
st.markdown(f"**Task:** {choice.describe()} — change it on the **Data** page.")

try:
    modality = catalogue.load(choice.dataset, owner()).modality
except Exception as e:  # dataset vanished (e.g. an upload from another session)
    st.warning(f"The chosen dataset cannot be loaded ({e}). Pick another one on the Data page.")
    st.stop()

dets = catalogue.detector_catalogue(modality)
default_det = catalogue.quickstart_spec().detector
if "train_detectors" not in st.session_state:
    st.session_state["train_detectors"] = [default_det] if default_det in dets else list(dets)[:1]
st.session_state["train_detectors"] = [d for d in st.session_state["train_detectors"] if d in dets]
chosen = st.multiselect("Detectors", list(dets), key="train_detectors",
                        format_func=lambda n: f"{dets[n].title or n} ({n})",
                        help=f"Detectors that work on {modality} data. Jobs wait in one queue "
                             "shared with every session of this server; sessions take turns.")

with st.expander("More detectors: PyOD, scikit-learn, or your own class"):
    st.caption("Any outlier estimator with `fit` and a score gets this app's views (scores, "
               "thresholds, embeddings, the Sample page, attribution maps, Compare). Images are "
               "flattened; the score is made higher = more anomalous; the threshold comes from "
               "validation normals like every detector here.")
    if st.toggle("List the installed estimators", key="train_more_list",
                 help="Reads every installed PyOD model once per server (a few seconds)."):
        with st.spinner("Reading the installed estimators…"), user_errors():
            more = catalogue.more_detectors()
            if not more.pyod_installed:
                st.info(more.install_hint)
            st.multiselect("Estimators", list(more.detectors), key="train_more",
                           format_func=lambda n: f"{more.detectors[n].title} ({n})",
                           help="Parameters are read from each estimator's signature and "
                                "defaults; set them below under its settings.")
            if more.unavailable:
                st.caption(f"Not offered here ({len(more.unavailable)}): " + "; ".join(
                    f"{n} — {why}" for n, why in sorted(more.unavailable.items())[:12]))
    st.text_input("Your own class (module.path:ClassName)", key="train_own",
                  placeholder="examples.my_detector:MyDetector",
                  help="A class with fit(X) and decision_function(X) (parameters in __init__), "
                       "importable from the folder the app was started in: "
                       "docs/own_detector.md shows one in about 20 lines.")
extra = list(st.session_state.get("train_more") or [])
own = (st.session_state.get("train_own") or "").strip()
if own:
    extra.append(own)
for name in extra:
    if name in dets:
        continue
    try:
        dets[name] = catalogue.detector_class(name)
    except UserError as e:  # a bad name or a class that cannot be imported: one line
        st.error(str(e), icon=":material/error:")
chosen = list(dict.fromkeys([*chosen, *(n for n in extra if n in dets)]))


def param_widget(det: str, preset: str, p: ParamSpec, value: Any) -> Any:
    """One hyperparameter's input, built from its :class:`ParamSpec` (range, choices, help)."""
    key = f"p-{det}-{preset}-{p.name}"
    rng = "" if p.low is None and p.high is None else f" Range: {p.low} … {p.high}."
    help_text = f"{p.help}{rng}".strip() or None
    if p.kind == "bool":
        return st.checkbox(p.name, value=bool(value), key=key, help=help_text)
    if p.kind == "choice" and p.choices:
        opts = list(p.choices)
        idx = [str(o) for o in opts].index(str(value)) if str(value) in map(str, opts) else 0
        return st.selectbox(p.name, opts, index=idx, key=key, help=help_text, format_func=str)
    if p.kind == "int":
        return st.number_input(p.name, value=int(value), step=1, key=key, help=help_text,
                               min_value=int(p.low) if p.low is not None else None,
                               max_value=int(p.high) if p.high is not None else None)
    if p.kind == "float":
        return st.number_input(p.name, value=float(value), key=key, help=help_text, format="%g",
                               min_value=float(p.low) if p.low is not None else None,
                               max_value=float(p.high) if p.high is not None else None,
                               step=abs(float(value)) / 10 if value else 0.01)
    return st.text_input(p.name, value=str(value), key=key, help=help_text)


settings: dict[str, tuple[str, dict[str, Any]]] = {}
for det in chosen:
    cls = dets[det]
    with st.expander(f"{cls.title or det} — settings", expanded=len(chosen) == 1):
        st.caption(f"{cls.summary} Paper: {cls.paper}.")
        presets = list(cls.presets)
        preset = st.segmented_control(
            "Preset", presets, default="quick" if "quick" in presets else presets[0],
            key=f"preset-{det}", required=True,
            help="quick: seconds to a minute on a laptop; paper: the paper's hyperparameters "
                 "(can take long on a CPU).")
        preset = preset or presets[0]
        values = catalogue.preset_values(det, preset, choice.dataset)
        custom: dict[str, Any] = {}
        if st.toggle("Set hyperparameters myself", key=f"custom-{det}"):
            main = [p for p in cls.params if not p.advanced]
            adv = [p for p in cls.params if p.advanced]
            cols = st.columns(3)
            for i, p in enumerate(main):
                if isinstance(values.get(p.name), (bool, int, float, str)):
                    with cols[i % 3]:
                        custom[p.name] = param_widget(det, preset, p, values[p.name])
            if adv and st.checkbox("Show advanced parameters", key=f"adv-{det}"):
                cols = st.columns(3)
                for i, p in enumerate(adv):
                    if isinstance(values.get(p.name), (bool, int, float, str)):
                        with cols[i % 3]:
                            custom[p.name] = param_widget(det, preset, p, values[p.name])
        else:
            st.caption("Preset values: " + ", ".join(f"{k}={v}" for k, v in values.items()))
        settings[det] = (preset, custom)

start = st.button("Start training", type="primary", icon=":material/play_arrow:",
                  disabled=not chosen, key="start")
if not chosen:
    st.info("Choose at least one detector to train.")
if start:
    with user_errors():
        for det, (preset, custom) in settings.items():
            params = catalogue.changed_params(det, preset, custom, choice.dataset)
            jid = services.start_training(choice.spec(det, preset, params), owner())
            watch_job(jid)
        st.session_state["train_toast"] = (
            f"Submitted {len(settings)} training job(s): an experiment that already ran opens "
            "its run, one another session is training is shared.")
        st.rerun()  # the sidebar (drawn before this page) now lists the new jobs
if msg := st.session_state.pop("train_toast", None):
    st.toast(msg, icon=":material/schedule:")

# ----------------------------------------------------------------------------- jobs
st.subheader("Training jobs")
any_active = bool(services.list_jobs(owner(), active_only=True))
#: Seconds between two looks at this session's jobs (each look is a script run on the server).
JOBS_POLL_S = 2.0


def _open(run_id: str) -> None:
    set_current_run(run_id)
    st.session_state["goto"] = "pages/scores.py"


@st.fragment(run_every=JOBS_POLL_S if any_active else None)
@guarded("the training jobs panel")
def jobs_panel() -> None:
    """Every job of this session: place in the shared queue with an ETA, live progress and loss
    curve, Stop / Open / Train again / Submit again / Remove buttons.

    It never reruns the app or switches pages itself (a polling fragment's timer can fire after
    such a switch and blank the page): a finished job shows an **Open** link, a plain
    navigation like a sidebar click."""
    snaps = services.list_jobs(owner())
    if not snaps:
        st.info("No training jobs in this session yet. Choose detectors above and press "
                "**Start training** (or **Quick start** on Home).")
        return
    for s in reversed(snaps):
        with st.container(border=True):
            head, btn = st.columns([5, 1], vertical_alignment="center")
            icon = {services.DONE: "✅", services.FAILED: "❌", services.CANCELLED: "⏹️",
                    services.RUNNING: "⏳", services.QUEUED: "🕒",
                    services.INTERRUPTED: "⚠️"}.get(s.status, "•")
            status = ("opened the existing run" if s.reused else
                      "interrupted by a restart" if s.status == services.INTERRUPTED else
                      s.status)
            head.markdown(f"{icon} **{s.label}** — {status}")
            if s.active:
                if btn.button("Stop", key=f"stop-{s.job_id}", icon=":material/stop:"):
                    with user_errors():
                        services.cancel_job(s.job_id, owner())
                        st.rerun(scope="fragment")
            elif s.saved:
                btn.page_link(RESULTS_PAGE, label="Open", icon=":material/visibility:",
                              query_params={"run": s.run_id, "job": watched_jobs()})
            elif s.status == services.INTERRUPTED:
                if btn.button("Submit again", key=f"again-{s.job_id}", icon=":material/replay:",
                              help="Queue this experiment again (it was lost in a restart)."):
                    with user_errors():
                        watch_job(services.resubmit_job(s.job_id, owner()))
                        services.forget_job(s.job_id, owner())
                        unwatch_job(s.job_id)
                        st.rerun(scope="app")
            else:
                if btn.button("Remove", key=f"rm-{s.job_id}"):
                    services.forget_job(s.job_id, owner())
                    unwatch_job(s.job_id)
                    st.rerun(scope="app")
            if s.active:
                if s.joined:
                    st.caption("Another browser session asked for the same experiment first: "
                               "this job is shared, it trains once.")
                st.progress(s.fraction, text=queue_text(s))
            elif s.reused:
                when = time.strftime("%H:%M", time.localtime(s.reused_created or s.finished))
                msg = (f"AUROC {s.result['auroc']:.3f} · " if "auroc" in s.result else "")
                st.caption(f"{msg}already trained at {when} (run `{s.run_id}`): opened instead "
                           "of training it again.")
                if st.button("Train again", key=f"retrain-{s.job_id}", icon=":material/refresh:",
                             help="Train this experiment afresh (a new run)."):
                    with user_errors():
                        watch_job(services.train_again(s.job_id, owner()))
                        st.rerun(scope="app")
            else:
                msg = (f"AUROC {s.result['auroc']:.3f} · " if "auroc" in s.result else "")
                st.caption(f"{msg}{fmt_seconds(s.elapsed)} · run `{s.run_id}`"
                           + (f" · {s.error}" if s.error and s.status != services.FAILED else ""))
                if s.status in (services.FAILED, services.INTERRUPTED):
                    st.error(s.error)
            live_training(s)


jobs_panel()

# ----------------------------------------------------------------------------- finished runs
st.subheader("Finished runs")
runs = list_runs()
if not runs:
    st.info("No saved runs yet. Train one above; it appears here when it finishes.")
    st.stop()
df = runs_frame([page_data.run_row(r) for r in runs])
shown = ["run", "detector", "preset", "dataset", "normal", "task", "seed", "status", "AUROC",
         "AUPR", "F1", "fit s", "created"]
event = st.dataframe(df[shown], hide_index=True, on_select="rerun", selection_mode="single-row",
                     key="runs_table")
download_csv(df, "anomaly-lab-runs", key="runs-csv")
rows = event.selection.rows if event else []
if rows:
    rid = df.iloc[rows[0]]["run"]
    c1, c2, c3 = st.columns(3)
    if c1.button("Make it the current run", key="make-current", icon=":material/check:",
                 disabled=rid == current_run_id()):
        set_current_run(rid)
        st.rerun()
    if c2.button("Open its scores", key="open-scores", icon=":material/bar_chart:"):
        _open(rid)
        st.rerun()

    @st.dialog("Delete this run?")
    def confirm_delete(run_id: str) -> None:
        st.write(f"Run `{run_id}` and all its files will be deleted. This cannot be undone.")
        a, b = st.columns(2)
        if a.button("Delete", type="primary", key="confirm-delete"):
            with user_errors():
                delete_run(run_id)
                if current_run_id() == run_id:
                    set_current_run(None)
                st.rerun()
        if b.button("Cancel", key="cancel-delete"):
            st.rerun()

    if c3.button("Delete…", key="delete-run", icon=":material/delete:"):
        confirm_delete(rid)
    hist = dict(load_run(rid).fit_report().history)
    if hist:
        from ad_core.viz.training import history_curves

        chart(history_curves(hist, title=f"Training curves of {rid}"), key=f"hist-{rid}",
              filename=f"{rid}-training")
