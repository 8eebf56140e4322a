"""Layout helpers shared by the "look inside" pages (Scores, Reconstructions, Transformations,
Contributions): chart + HTML download, sample labels, picking explained samples, and the plain
"this detector has no …" notes. Layout only; figures come from ``ad_core.viz``.
"""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ad_core import page_data
from ad_core.runs import Run
from ui.common import chart


def detector_name(run: Run) -> str:
    """The run's detector module name (``"ae"``, ``"geotrans"`` …)."""
    return str(run.config.get("detector", "?"))


def detector_title(run: Run) -> str:
    """The detector's display title, falling back to its name."""
    return str(run.config.get("detector_title") or detector_name(run))


def is_image(run: Run) -> bool:
    """Whether the run's inputs are images (else tables)."""
    return run.config.get("modality") == "image"


def page_header(title: str, run: Run) -> None:
    """Page title and the run it shows."""
    st.header(title)
    st.caption(f"Run: {run.title}")


def missing(run: Run, what: str, key: str) -> None:
    """Say plainly that this run's detector has no ``what`` and which detectors do."""
    st.info(f"This detector ({detector_title(run)}) has no {what}; try "
            f"{page_data.producers(key)}.")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "chart"


def show_figure(fig: go.Figure, key: str, run: Run | None = None) -> None:
    """Draw a Plotly figure with a download button for a self-contained HTML copy, the file
    named after the run (:func:`ui.common.chart` does the drawing)."""
    chart(fig, key=f"chart-{key}", filename=_slug(f"{run.run_id}-{key}" if run is not None else key))


def test_labels(run: Run, rows: np.ndarray, with_row: bool = True) -> list[str]:
    """Short labels of test rows: ``"#row · kind · score"`` (``"kind · score"`` without row)."""
    sc = run.scores
    kinds = sc.get("test_kind")
    s = sc.get("test")
    out = []
    for r in np.asarray(rows, dtype=int):
        k = str(kinds[r]) if kinds is not None else "?"
        v = f" · {s[r]:.3g}" if s is not None else ""
        out.append(f"#{r} · {k}{v}" if with_row else f"{k}{v}")
    return out


def explained_rows(run: Run) -> np.ndarray:
    """Test rows that have explain() artefacts (``explain["index"]``)."""
    idx = run.explain.get("index")
    return np.asarray(idx, dtype=int) if idx is not None else np.zeros(0, dtype=int)


def pick_explained(run: Run, key: str, default_n: int = 3, max_n: int = 12) -> np.ndarray:
    """Widgets to choose explained samples by kind (n of each) or by test row; returns positions
    into the explain arrays."""
    rows = explained_rows(run)
    scores = run.scores.get("test")
    ek = run.test_kinds()[rows]
    mode = st.segmented_control("Pick samples", ["by kind", "by index"], default="by kind",
                                key=f"{key}-mode", required=True)
    if mode == "by index":
        labels = test_labels(run, rows)
        chosen = st.multiselect("Test samples (row · kind · score)", list(range(len(rows))),
                                default=list(range(min(default_n * 2, len(rows)))),
                                format_func=lambda i: labels[i], key=f"{key}-rows",
                                max_selections=max_n)
        return np.asarray(chosen, dtype=int)
    names = (["normal"] if "normal" in set(ek) else []) + sorted(set(ek) - {"normal"})
    c1, c2, c3 = st.columns([3, 1, 1])
    default = names[:3]
    sel = c1.multiselect("Kinds", names, default=default, key=f"{key}-kinds")
    n = c2.number_input("Samples per kind", 1, max_n, default_n, key=f"{key}-n")
    order = c3.selectbox("Which", ["highest score", "lowest score", "first"], key=f"{key}-order")
    out: list[int] = []
    for k in sel:
        pos = np.flatnonzero(ek == k)
        if scores is not None and order != "first":
            s = scores[rows[pos]]
            pos = pos[np.argsort(-s if order == "highest score" else s, kind="stable")]
        out += pos[: int(n)].tolist()
    return np.asarray(out[: max_n * 4], dtype=int)


# --------------------------------------------------------------------------- click-through (issue 11)
#: The page one clicked sample opens on.
SAMPLE_PAGE = "pages/sample.py"


def open_sample(run_id: str, row: int) -> None:
    """Go to the Sample page for test row ``row`` of run ``run_id`` (``?run=…&sample=…``)."""
    st.switch_page(SAMPLE_PAGE, query_params={"run": run_id, "sample": str(int(row))})


def clicked_row(event) -> int | None:
    """The test row a click on a :func:`clickable_gallery` thumbnail named, or ``None``."""
    selection = getattr(event, "selection", None) if event is not None else None
    for p in (selection.points if selection else None) or []:
        cd = p.get("customdata")
        if isinstance(cd, (list, tuple)):
            cd = cd[0] if cd else None
        if cd is not None:
            return int(cd)
    return None


def clickable_gallery(fig: go.Figure, rows: np.ndarray, run: Run, key: str,
                      hover: list[str] | None = None) -> None:
    """Draw an image grid/table whose thumbnails open the Sample page when clicked (each tile
    carries its test row; the click is a Plotly selection event)."""
    from ad_core.viz.sample import clickable_tiles

    clickable_tiles(fig, rows, hover=hover)
    event = chart(fig, key=f"chart-{key}", on_select="rerun", selection_mode="points",
                  filename=_slug(f"{run.run_id}-{key}"))
    st.caption("Click a thumbnail to see that sample through every run's eyes on the "
               "**Sample** page.")
    row = clicked_row(event)
    if row is not None:
        open_sample(run.run_id, row)


def test_image_gallery(run: Run, rows: np.ndarray, title: str, key: str) -> None:
    """:func:`clickable_gallery` of a run's test images ``rows``, labelled by kind and score.

    Not cached across sessions: a grid returned by ``st.cache_data`` drew, but its thumbnails no
    longer opened the Sample page when clicked (tests/e2e/test_sample_browser.py)."""
    from ad_core.viz.images import image_grid

    fig = image_grid(run.test_x()[rows], test_labels(run, rows, with_row=False), ncols=8,
                     title=title)
    clickable_gallery(fig, rows, run, key, hover=test_labels(run, rows))


def sample_button(run: Run, row: int, key: str) -> None:
    """A button opening test row ``row`` of ``run`` on the Sample page."""
    if st.button(f"Open #{int(row)} on the Sample page", key=key, icon=":material/visibility:",
                 help="Every finished run on this data, side by side, on this one sample."):
        open_sample(run.run_id, row)
