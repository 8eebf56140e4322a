"""AppTest of the Sample page (issue 11) with real fixture runs of three detector families on
digits (Toll, NeuTraL AD, Isolation Forest; normal 0, seed 0) and one tabular run.

The page is rendered as a deep link (``?run=…&sample=…``): every run's column is there with its
score, percentile, verdict and explanation; "Your own input" shows the empty-canvas hint, scores a
pasted CSV row and gives one clear message for a NaN row or a wrong count.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
# not imported here: the component registers its assets only inside a Streamlit runtime
if importlib.util.find_spec("streamlit_drawable_canvas") is None:
    pytest.skip("streamlit-drawable-canvas is not installed", allow_module_level=True)
from sample_helpers import sample_runs  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from ad_core.runs import load_run

PAGE = Path(__file__).resolve().parents[2] / "pages" / "sample.py"
TITLES = {"toll": "Toll", "neutral": "NeuTraL AD", "iforest": "Isolation Forest"}


@pytest.fixture(scope="module")
def ids(tmp_path_factory):
    with sample_runs(tmp_path_factory) as run_ids:
        yield run_ids


def render(run_id: str | None, sample: int | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    if run_id:
        at.session_state["run_id"] = run_id
        at.query_params["run"] = run_id
    if sample is not None:
        at.query_params["sample"] = str(sample)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption]
                     + [h.value for h in at.header] + [i.value for i in at.info])


def test_a_test_sample_side_by_side_in_every_run(ids) -> None:

    ref = load_run(ids["toll"])
    row = int(np.flatnonzero(ref.scores["test_y"] == 1)[0])
    at = render(ids["toll"], row)
    assert not at.error, [e.value for e in at.error]
    body = texts(at)
    assert f"Test sample **#{row}**" in body and "an **anomaly**" in body
    for title in TITLES.values():
        assert f"#### {title}" in "\n".join(m.value for m in at.markdown), title
    assert sum("at the run's threshold" in m.value for m in at.markdown) == 3
    assert sum(("true positive" in m.value) or ("false negative" in m.value)
               for m in at.markdown) == 3
    labels = [m.label for m in at.metric]
    assert labels.count("Score") == 3 and labels.count("Percentile") == 3
    assert at.number_input[0].value == row
    assert "Seen by **3** finished runs" in body  # the tabular run is on other data


def test_a_bad_sample_in_the_url_falls_back_to_the_first(ids) -> None:
    at = render(ids["neutral"], 10 ** 6)
    assert not at.error and at.number_input[0].value == 0


def test_your_own_input_starts_with_an_empty_canvas(ids) -> None:
    at = render(ids["toll"])
    at.segmented_control(key="sample-mode").set_value("Your own input").run()
    assert not at.exception and not at.error
    assert any("canvas is empty" in i.value for i in at.info)
    assert "8×8 grey images" in at.selectbox(key="sample-shape").format_func(
        at.selectbox(key="sample-shape").value)


def test_a_pasted_csv_row_is_scored_and_bad_rows_get_one_message(ids) -> None:

    tab = load_run(ids["tabular"])
    at = render(ids["tabular"])
    at.segmented_control(key="sample-mode").set_value("Your own input").run()
    assert at.selectbox(key="sample-shape").value == (30,)
    row = ",".join(f"{v:.17g}" for v in tab.test_x()[0])
    at.text_area(key="sample-csv-text").set_value(row).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "#### Isolation Forest" in "\n".join(m.value for m in at.markdown)
    at.text_area(key="sample-csv-text").set_value(",".join(["1"] * 29 + ["nan"])).run()
    assert len(at.error) == 1 and "NaN" in at.error[0].value
    at.text_area(key="sample-csv-text").set_value("1,2,3").run()
    assert len(at.error) == 1 and "has 3 values" in at.error[0].value


def test_no_run_at_all(tmp_path, monkeypatch) -> None:
    (tmp_path / "runs").mkdir()
    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(tmp_path / "runs"))
    at = render(None)
    assert any("No finished run yet" in i.value for i in at.info)


def test_every_run_shows_its_attribution_map_on_images_and_tables(ids) -> None:
    """Issue 20: each run's column draws its calibrated attribution map (an image run: occlusion
    and, where the method has one, its native map; a table row: its top features)."""
    ref = load_run(ids["toll"])
    row = int(np.flatnonzero(ref.scores["test_y"] == 1)[0])
    at = render(ids["toll"], row)
    keys = [c.key for c in at.get("plotly_chart")]
    assert sum(k.endswith("-maps") for k in keys) == 3, keys
    caps = "\n".join(c.value for c in at.caption)
    assert "**occlusion**" in caps and "**native: error map**" in caps
    assert "**native: gradient × input**" in caps  # NeuTraL AD
    tab = load_run(ids["tabular"])
    at = render(ids["tabular"], 0)
    keys = [c.key for c in at.get("plotly_chart")]
    assert any(k.endswith("-maps-ablation") for k in keys), keys
    assert "**feature ablation**" in "\n".join(c.value for c in at.caption)
    assert len(tab.test_x()) > 0
