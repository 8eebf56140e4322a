"""Helpers every page uses: the current run, empty states, and showing user errors.

The current run id lives in ``st.session_state["run_id"]`` and in the URL as ``?run=<id>`` (kept
in sync by ``app.py``), so a reload or a shared link shows the same run.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import streamlit as st

from ad_core import services
from ad_core.errors import UserError
from ad_core.runs import Run, load_run


def current_run_id() -> str | None:
    """The id of the run the user is looking at, from the session or the URL."""
    rid = st.session_state.get("run_id") or st.query_params.get("run")
    return rid or None


def set_current_run(run_id: str | None) -> None:
    """Make ``run_id`` the current run (session + URL)."""
    st.session_state["run_id"] = run_id
    if run_id:
        st.query_params["run"] = run_id
    elif "run" in st.query_params:
        del st.query_params["run"]


def current_run() -> Run | None:
    """The current saved run, or ``None`` (with a warning if the id in the URL is stale)."""
    rid = current_run_id()
    if not rid:
        return None
    try:
        return load_run(rid)
    except UserError as e:
        st.warning(f"{e} Pick another run in the sidebar.")
        return None


def require_run(what: str = "this view") -> Run:
    """The current run, or an empty state telling the user what to do next (then stops).

    While this session waits for a job it started from a button (Quick start, Train again), the
    page shows that job's live progress instead and opens its run when it is saved."""
    awaited_job_view()
    run = current_run()
    if run is not None:
        run_notice(run)
    if run is None:
        st.info(f"No run selected yet, so there is nothing to show in {what}. Train one on the "
                "**Train** page (or press **Quick start** on **Home**), or pick a finished run in "
                "the sidebar.")
        st.stop()
    return run


# --------------------------------------------------------------------------- waiting for a job
#: The "look inside" page a job opens on when this session waits for it.
RESULTS_PAGE = "pages/scores.py"
#: Seconds between two looks at an awaited job. Every waiting session's poll is a script run
#: in the one server process: ten sessions polling every 0.5 s with a loss curve each slowed
#: the shared training they waited for (20.8 s against 13–15 s alone); at 1 s, ten polls a
#: second still cost the server about a quarter of a core beside the training.
AWAIT_POLL_S = 2.0
#: …but a session whose job is next or running and shared by at most two sessions looks every
#: second: its live score histogram should be on screen within 3 s of a quick start's click.
AWAIT_FAST_POLL_S = 1.0
#: …and every half second until its first live histogram is drawn (then back to 1 s): a quick
#: start's first snapshot arrives 0.1 s into the fit, so the poll was most of the wait for it.
AWAIT_FIRST_POLL_S = 0.5


def await_poll_s(s: Any) -> float:
    """Seconds between two looks at the awaited job ``s``: fast while it alone matters to this
    session (running, or first in a short queue, with at most two owners) — fastest until its
    first live histogram — else :data:`AWAIT_POLL_S`: a class of ten waiting on one job polls at
    the slower rate."""
    if s.n_owners > 2:
        return AWAIT_POLL_S
    fast = AWAIT_FAST_POLL_S if s.live is not None else AWAIT_FIRST_POLL_S
    if s.status == services.RUNNING:
        return fast
    info = services.queue_info(s.job_id)
    return fast if info is not None and info.position == 0 and info.queued <= 1 \
        else AWAIT_POLL_S


def open_job(job_id: str, page: str | None = RESULTS_PAGE) -> None:
    """Wait for ``job_id`` on ``page`` (default the Scores page): it shows the job's progress and
    then its run. Called from a button's script run, so the page switch is a plain navigation —
    never from a polling fragment, whose timers may still fire after the switch."""
    watch_job(job_id)
    st.session_state["await_job"] = job_id
    if page is None:
        st.rerun()
    st.switch_page(page, query_params={"job": watched_jobs()})


def _clock(t: float | None) -> str:
    return time.strftime("%H:%M", time.localtime(t)) if t else "earlier"


def _open_finished(s: Any) -> None:
    """Make the awaited job's run current and leave a note saying how it was obtained."""
    st.session_state.pop("await_job", None)
    set_current_run(s.run_id)
    if s.reused:
        text = (f"This experiment was already trained at {_clock(s.reused_created)} — opened "
                "that run instead of training it again. Press **Train again** for a fresh run.")
    elif s.joined or s.n_owners > 1:
        text = (f"Trained once for the {s.n_owners} browser sessions that asked for this "
                "experiment at the same time.")
    else:
        return
    st.session_state["run_notice"] = {"run_id": s.run_id, "job_id": s.job_id, "text": text,
                                      "reused": bool(s.reused)}


def queue_text(s: Any) -> str:
    """One line on where a job stands: its place in the queue with an ETA, or its progress."""
    if s.status == services.QUEUED:
        if s.keying:
            return "Preparing: checking whether this experiment already ran or is training…"
        info = services.queue_info(s.job_id)
        if info is None:
            return "Starting…"
        eta = ("" if info.wait_s is None else
               f" · starts in about {fmt_seconds(info.wait_s)} (from measured durations)")
        shared = f" · shared by {s.n_owners} sessions" if s.n_owners > 1 else ""
        return f"Waiting in the queue: position {info.position + 1} of {info.queued}{eta}{shared}"
    phase = f" (phase {s.phase})" if s.phase > 1 else ""
    shared = f" · shared by {s.n_owners} sessions" if s.n_owners > 1 else ""
    return (f"Training {s.spec.detector}: step {s.step}/{s.total or '?'}{phase} · "
            f"{fmt_seconds(s.elapsed)} elapsed · ETA {fmt_seconds(s.eta)}{shared}")


def awaited_job_view() -> None:
    """If this session waits for a job: its live progress (then the page stops), or — once it
    finished — its run becomes the current run and the page goes on to draw it."""
    jid = st.session_state.get("await_job")
    if not jid:
        return
    try:
        s = services.job(jid, owner())
    except UserError:
        st.session_state.pop("await_job", None)
        return
    if s.status == services.DONE and s.saved:
        _open_finished(s)
        return
    if not s.active:
        st.session_state.pop("await_job", None)
        st.error(f"The training did not finish: {s.error or s.status}")
        return
    st.subheader(s.label)
    every = await_poll_s(s)

    @st.fragment(run_every=every)
    @guarded("the training progress")
    def progress() -> None:
        snap = services.job(jid, owner())
        if not snap.active:
            st.rerun(scope="app")  # same page: draw the run (or the error) in a full run
        if every == AWAIT_FIRST_POLL_S and snap.live is not None:
            st.rerun(scope="app")  # the first histogram is in: set the 1 s poll
        if snap.joined:
            st.info("Another browser session started this same experiment; you joined it and "
                    "will see the same run.", icon=":material/group:")
        st.progress(snap.fraction, text=queue_text(snap))
        live_training(snap, compact=snap.n_owners > 2)
        st.caption("You can switch pages; the training keeps running and this page opens its "
                   "results when it is done.")
        if st.button("Stop", key="await-stop", icon=":material/stop:"):
            services.cancel_job(jid, owner())
            st.rerun(scope="app")

    progress()
    st.stop()


_LIVE_FIGURES: dict[tuple[str, int], Any] = {}


def _live_figure(s: Any) -> Any:
    """The live histogram of job ``s``'s latest snapshot, built once for every session that
    follows the job (a class of ten polls the same snapshot; nobody mutates the figure)."""
    from ad_core.viz.training import live_histogram

    key = (s.job_id, s.n_live)
    fig = _LIVE_FIGURES.get(key)
    if fig is None:
        fig = live_histogram(s.live)
        if len(_LIVE_FIGURES) > 64:
            _LIVE_FIGURES.clear()
        _LIVE_FIGURES[key] = fig
    return fig


def live_training(s: Any, compact: bool = False) -> None:
    """A running job's live view: its loss curve beside the latest training snapshot — the
    test-score histogram and AUROC of the model as it is now (:mod:`ad_core.snapshots`),
    redrawn in place on every poll of the calling fragment. ``compact``: the histogram alone
    (a job shared by a class: every poll of every session is a script run of the one server)."""
    from ad_core.viz.training import loss_curve

    if s.status != services.RUNNING or (s.live is None and len(s.losses) < 2):
        return
    c1, c2 = (None, st.container()) if compact else st.columns(2)
    if c1 is not None and len(s.losses) > 1:
        c1.plotly_chart(loss_curve(s.steps, s.losses, title=f"Training loss — {s.spec.detector}"),
                        key=f"loss-{s.job_id}")
    if s.live is not None:
        c2.plotly_chart(_live_figure(s), key=f"live-{s.job_id}")


def run_notice(run: Run) -> None:
    """The note left by :func:`_open_finished` for this run (reused / shared), with *Train
    again* for a reused run."""
    note = st.session_state.get("run_notice")
    if not note or note.get("run_id") != run.run_id:
        return
    c1, c2 = st.columns([5, 1], vertical_alignment="center")
    c1.info(note["text"], icon=":material/history:")
    if note.get("reused") and c2.button("Train again", key="train-again",
                                        icon=":material/refresh:",
                                        help="Train this experiment afresh (a new run)."):
        with user_errors():
            jid = services.train_again(note["job_id"], owner())
            st.session_state.pop("run_notice", None)
            open_job(jid, page=None)


_log = logging.getLogger("anomaly_lab")
if not _log.handlers:  # Streamlit configures only its own loggers: send ours to the server log
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _log.addHandler(_handler)
    _log.setLevel(logging.INFO)
    _log.propagate = False

F = TypeVar("F", bound=Callable[..., Any])


def report_bug(what: str) -> None:
    """Call from an ``except`` block: the user sees one friendly ``st.error`` naming ``what``
    failed and what to try; the full traceback goes to the server log."""
    _log.exception("unexpected error in %s", what)
    st.error(f"Something went wrong in {what}. This is a bug in Anomaly Lab, not in your data. "
             "Try reloading the page or picking another run in the sidebar; the details are in "
             "the server log.", icon=":material/bug_report:")


def guarded(what: str) -> Callable[[F], F]:
    """Decorator for fragments (which rerun without the page around them): a user mistake is
    shown with ``st.error``, a bug with :func:`report_bug` — never a raw traceback."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except UserError as e:
                st.error(str(e))
            except Exception:
                report_bug(what)
            return None

        return inner  # type: ignore[return-value]

    return wrap


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show :class:`UserError` messages with ``st.error`` instead of a traceback."""
    try:
        yield
    except UserError as e:
        st.error(str(e))


# --------------------------------------------------------------------------- session helpers
def owner() -> str:
    """This browser session's token: jobs are owned by it, so sessions never see others' jobs."""
    import secrets

    if "owner" not in st.session_state:
        st.session_state["owner"] = secrets.token_hex(12)
    return st.session_state["owner"]


def data_choice():  # -> ad_core.catalogue.DataChoice
    """What the Data page chose (dataset, normal classes, task), kept for the whole session."""
    from ad_core.catalogue import DataChoice

    if "data_choice" not in st.session_state:
        st.session_state["data_choice"] = DataChoice()
    return st.session_state["data_choice"]


def uploads() -> list[str]:
    """Names of the datasets this session uploaded."""
    return st.session_state.setdefault("uploads", [])


def watched_jobs() -> list[str]:
    """Job ids this session started (kept in the URL as ``?job=...`` so a reload finds them)."""
    return st.session_state.setdefault("jobs", [])


def watch_job(job_id: str) -> None:
    """Remember a job id in the session and the URL."""
    ids = watched_jobs()
    if job_id not in ids:
        ids.append(job_id)
    st.query_params["job"] = ids


def unwatch_job(job_id: str) -> None:
    """Forget a job id (session and URL)."""
    ids = watched_jobs()
    if job_id in ids:
        ids.remove(job_id)
    if ids:
        st.query_params["job"] = ids
    elif "job" in st.query_params:
        del st.query_params["job"]


# --------------------------------------------------------------------------- charts & downloads
def figure_html(fig) -> str:
    """A self-contained HTML file of a Plotly figure (plotly.js inlined: opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


def chart(fig, key: str, filename: str | None = None, **kwargs):
    """Draw a Plotly figure with a *Download HTML* button under it (file named ``filename``,
    default the key); returns the chart's event state when ``on_select`` is passed."""
    event = st.plotly_chart(fig, key=key, **kwargs)
    st.download_button("Download figure (HTML)", data=lambda: figure_html(fig),
                       file_name=f"{filename or key}.html", mime="text/html", key=f"{key}-dl",
                       on_click="ignore", icon=":material/download:")
    return event


def download_csv(df, filename: str, label: str = "Download table (CSV)", key: str | None = None
                 ) -> None:
    """A download button for a DataFrame as CSV."""
    st.download_button(label, data=lambda: df.to_csv(index=False), file_name=f"{filename}.csv",
                       mime="text/csv", key=key or f"{filename}-csv", on_click="ignore",
                       icon=":material/download:")


def fmt_seconds(s: float | None) -> str:
    """``1 min 05 s`` / ``12 s`` / ``—``."""
    if s is None:
        return "—"
    s = max(0.0, float(s))
    return f"{int(s // 60)} min {int(s % 60):02d} s" if s >= 60 else f"{s:.0f} s"
