"""Helpers every page uses: the current run, empty states, and showing user errors.

The current run id lives in ``st.session_state["run_id"]`` and in the URL as ``?run=<id>`` (kept
in sync by ``app.py``), so a reload or a shared link shows the same run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

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
    """The current run, or an empty state telling the user what to do next (then stops)."""
    run = current_run()
    if run is None:
        st.info(f"No run selected yet, so there is nothing to show in {what}. Train one on the "
                "**Train** page (or press **Quick start** on **Home**), or pick a finished run in "
                "the sidebar.")
        st.stop()
    return run


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show :class:`UserError` messages with ``st.error`` instead of a traceback."""
    try:
        yield
    except UserError as e:
        st.error(str(e))
