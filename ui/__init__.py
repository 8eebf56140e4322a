"""The app's Streamlit helpers — layout only, no computing: :mod:`ui.common` (current run, jobs
in the session, charts and downloads, errors) and :mod:`ui.views` (what the "look inside" pages
share). They live outside ``pages/`` because Streamlit treats every file there as a page.

Importing this package also makes sure the app's own navigation is in charge (see
:func:`_route_through_app`).
"""

from __future__ import annotations


def _route_through_app() -> None:
    """Leave Streamlit's pages-directory mode if it is still on.

    A Streamlit app with a ``pages/`` folder starts in Streamlit's old multipage mode: until some
    session has run ``app.py`` (whose ``st.navigation`` switches that mode off for the whole
    server), a deep link such as ``/embeddings?run=…`` runs ``pages/embeddings.py`` on its own,
    with an automatic sidebar of file names. Every page imports this package, so the first such
    page run switches the mode off and reruns: ``app.py`` then routes the same URL with the app's
    sections, sidebar and session state. Costs one rerun, once per server.
    """
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and st.runtime.exists():
        PagesManager.uses_pages_directory = False
        st.rerun()


_route_through_app()
