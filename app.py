"""Anomaly Lab — Streamlit entry point: page config, navigation, the shared sidebar, warm-ups.

Run with ``make app`` (``streamlit run app.py``). Pages live in ``pages/``; a page file that does
not exist yet is skipped, so the app always starts.

State that must survive a reload lives in the URL: ``?run=<id>`` (the current run) and
``?job=<id>`` (this session's training jobs); ``app.py`` restores it into the new session and
writes it back after every page switch. ``ANOMALY_LAB_NO_WARMUP=1`` skips the UMAP warm-up
(tests).

``main()`` runs only when Streamlit executes this file as ``__main__``: worker processes spawned by
the server (training, projections) re-import the main module as ``__mp_main__`` and must not start
a second app inside themselves.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st

from ad_core.data.user import dataset_display_name  # noqa: E402

if __name__ == "__main__" and not os.environ.get("ANOMALY_LAB_NO_WARMUP"):
    # Before this server imports torch: the training process imports it at the same time.
    from ad_core import warmup

    warmup.start_early()

from ad_core import (
    services,  # noqa: E402
    warmup,
)
from ad_core.errors import UserError  # noqa: E402
from ad_core.runs import list_runs
from ui.common import (  # noqa: E402
    current_run_id,
    data_choice,
    guarded,
    owner,
    queue_text,
    report_bug,
    set_current_run,
)

ROOT = Path(__file__).resolve().parent

#: (section, file, title, icon, url path)
PAGES: tuple[tuple[str, str, str, str, str], ...] = (
    ("Start", "pages/home.py", "Home", ":material/home:", "home"),
    ("Start", "pages/data.py", "Data", ":material/dataset:", "data"),
    ("Start", "pages/train.py", "Train", ":material/model_training:", "train"),
    ("Look inside a run", "pages/scores.py", "Scores", ":material/bar_chart:", "scores"),
    ("Look inside a run", "pages/reconstructions.py", "Reconstructions",
     ":material/compare:", "reconstructions"),
    ("Look inside a run", "pages/transformations.py", "Transformations",
     ":material/transform:", "transformations"),
    ("Look inside a run", "pages/contributions.py", "Contributions",
     ":material/stacked_bar_chart:", "contributions"),
    ("Look inside a run", "pages/embeddings.py", "Embeddings", ":material/scatter_plot:",
     "embeddings"),
    ("Look inside a run", "pages/sample.py", "Sample", ":material/image_search:", "sample"),
    ("Compare & learn", "pages/compare.py", "Compare", ":material/leaderboard:", "compare"),
    ("Compare & learn", "pages/teaching.py", "Teaching demos", ":material/school:", "teaching"),
)


def navigation() -> tuple[Any, dict[str, Any]]:
    """``st.navigation`` over the page files that exist, grouped in sections."""
    sections: dict[str, list[st.Page]] = {}
    by_path: dict[str, st.Page] = {}
    for section, path, title, icon, url in PAGES:
        if not (ROOT / path).exists():
            continue
        page = st.Page(path, title=title, icon=icon, url_path=url, default=url == "home")
        sections.setdefault(section, []).append(page)
        by_path[path] = page
    return st.navigation(sections), by_path


def restore_from_url() -> None:
    """First script run of a session: take the current run and job ids from the URL."""
    if st.session_state.get("_restored"):
        return
    st.session_state["_restored"] = True
    rid = st.query_params.get("run")
    if rid and not st.session_state.get("run_id"):
        st.session_state["run_id"] = rid
    ids = st.query_params.get_all("job")
    if ids:
        st.session_state["jobs"] = services.adopt_jobs(ids, owner())
        # a reload while waiting for a job (no run chosen yet): keep waiting for it
        waiting = [s for s in services.list_jobs(owner(), active_only=True)]
        if waiting and not st.session_state.get("run_id"):
            st.session_state["await_job"] = waiting[-1].job_id
    # jobs that had already finished before the reload do not take over the URL's run
    st.session_state["_followed"] = {s.job_id for s in services.list_jobs(owner())
                                     if not s.active}


def follow_link() -> None:
    """A run id in the URL that differs from the session's is a link the user followed (an
    **Open** link, a shared URL): it becomes the current run. Page switches drop the query, and
    :func:`sync_url` writes the session's run back, so otherwise the two agree."""
    rid = st.query_params.get("run")
    if rid and rid != st.session_state.get("run_id"):
        set_current_run(rid)
        st.session_state.pop("await_job", None)


def follow_finished_jobs() -> None:
    """A run this session's job has just saved becomes the current run (the newest one wins),
    until the user picks another: Quick start and Train both lead to what was trained."""
    seen: set[str] = st.session_state.setdefault("_followed", set())
    for s in services.list_jobs(owner()):
        if s.job_id not in seen and not s.active:
            seen.add(s.job_id)
            if s.saved:
                set_current_run(s.run_id)


def sync_url() -> None:
    """Write the session's run and jobs back into the URL (page switches drop query params)."""
    rid = st.session_state.get("run_id")
    if rid and st.query_params.get("run") != rid:
        st.query_params["run"] = rid
    ids = st.session_state.get("jobs") or []
    if ids and st.query_params.get_all("job") != ids:
        st.query_params["job"] = ids


def _pick_run(key: str) -> None:
    """The user picked a run in the sidebar selector whose widget key is ``key``.

    Only the selector drawn last counts: a selector drawn while no run was chosen (during a
    quick start's progress view) can still report its "none" after the run opened, when its
    state reaches the server late on a busy machine; that must not clear the new run. A value
    that is no run id is ignored too: when the current run's folder is deleted under a running
    server, its option's label changes and the browser sent the old *label* back (Streamlit
    matches a selectbox's value by label), which became the "current run"."""
    if key != st.session_state.get("sidebar_run_key"):
        return
    picked = st.session_state.get(key) or None
    if picked is not None and picked not in {r.run_id for r in list_runs()}:
        return
    set_current_run(picked)


def sidebar_runs() -> None:
    """The current-run selector over every saved run."""
    runs = list_runs()
    ids = [""] + [r.run_id for r in runs]
    titles = {r.run_id: f"{r.config.get('detector')} · "
                        f"{dataset_display_name(str(r.config.get('dataset')))} "
                        f"{'+'.join(map(str, r.config.get('normal', [])))} · "
                        f"AUROC {r.metrics.get('auroc', float('nan')):.3f} · "
                        f"{r.run_id.rsplit('-', 1)[-1]}" for r in runs}
    # The run id's tail keeps every label unique: Streamlit matches a selectbox's value by its
    # label, so two runs of one experiment (Train again) with one title made a deep link to the
    # second open the first.
    cur = current_run_id()
    # The widget's key carries the current run: when a page or a finished job changes the run,
    # a fresh selector shows it (a kept widget would send its old value back on the next click).
    key = f"sidebar_run-{cur or ''}"
    st.session_state["sidebar_run_key"] = key
    if cur and cur not in titles:  # keep it selected: the widget must never report another run
        ids.append(cur)
    st.selectbox("Current run", ids, index=ids.index(cur) if cur else 0, key=key,
                 on_change=_pick_run, args=(key,),
                 format_func=lambda i: titles.get(i, f"{i} (not found)") if i else "— none —",
                 help="Every page under *Look inside a run* shows this run. Train one on the "
                      "Train page or press Quick start on Home.")
    if cur and cur not in titles:
        st.caption(f"Run {cur} was not found (deleted?). Pick another one.")
    elif cur:
        st.caption(f"`{cur}`")


def sidebar_jobs() -> None:
    """This session's running and queued jobs (place in the queue, progress), refreshed every
    2 s while any is active; jobs a server restart interrupted; a journal that could not be read."""
    if problem := services.journal_problem():
        st.warning(problem, icon=":material/warning:")
    active = services.list_jobs(owner(), active_only=True)
    # One polling fragment per page: where the page shows the jobs itself (Train, a page waiting
    # for its job), the sidebar list is drawn once and does not poll. With both polling every
    # 2 s on Train, pages of a 10-session test stopped updating mid-training.
    page_polls = (st.session_state.get("_page") == "train"
                  or bool(st.session_state.get("await_job")))

    @st.fragment(run_every=2.0 if active and not page_polls else None)
    @guarded("the list of training jobs")
    def _jobs() -> None:
        snaps = services.list_jobs(owner())
        live = [s for s in snaps if s.active]
        lost = [s for s in snaps if s.status == services.INTERRUPTED]
        if lost:
            st.warning(f"{len(lost)} job(s) were interrupted by a server restart. Submit them "
                       "again on **Train**.", icon=":material/restart_alt:")
        if not live:
            # No app rerun from here when something finished: a rerun started by a polling
            # fragment raced the page's own and blanked a fragment in a 10-session test. The
            # page that waits for the job opens it; the run selector follows on the next click.
            st.caption("No training running. Start one on **Train** or **Home**.")
            return
        if page_polls:  # a bar drawn once here would stand still beside the page's live one
            for s in live:
                state = "running" if s.status == services.RUNNING else "queued"
                st.caption(f"**{s.spec.detector}** · {state} — progress on this page")
            return
        for s in live:
            st.progress(s.fraction, text=f"{s.spec.detector} · {queue_text(s)}")

    _jobs()


def main() -> None:
    st.set_page_config(page_title="Anomaly Lab", page_icon=str(ROOT / "assets" / "logo.svg"),
                       layout="wide", initial_sidebar_state="expanded")
    css = ROOT / "assets" / "style.css"
    if css.exists():
        st.html(f"<style>{css.read_text()}</style>")
    warmup.limit_server_threads()
    if not os.environ.get("ANOMALY_LAB_NO_WARMUP"):
        warmup.warm_up()  # training process + UMAP compilation, once per server, in the background
    owner()
    restore_from_url()
    follow_link()
    follow_finished_jobs()
    pg, by_path = navigation()
    st.session_state["_page"] = pg.url_path
    goto = st.session_state.pop("goto", None)
    if goto in by_path and by_path[goto] is not pg:
        sync_url()
        st.switch_page(by_path[goto])
    sync_url()
    with st.sidebar:
        st.logo(str(ROOT / "assets" / "logo.svg"), size="large")
        try:
            sidebar_runs()
        except UserError as e:
            st.error(str(e))
        st.caption(f"**Next training on:** {data_choice().describe()} (set on **Data**)")
        st.markdown("**Training jobs**")
        sidebar_jobs()
    try:
        pg.run()
    except Exception:  # a bug: one friendly sentence on the page, the traceback in the server log
        report_bug(f"the {pg.title} page")


if __name__ == "__main__":
    main()
