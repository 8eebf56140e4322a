"""``sample_report.explain_sample``: one input through every run, without Streamlit (issue 11).

Real small fits on ``digits`` (normal 0, seed 0) of three detector families — Toll
(reconstruction, two score terms), NeuTraL AD (learned views, per-transformation terms) and
Isolation Forest (a classical score) — plus a tabular run, saved by the real pipeline.
"""

from __future__ import annotations

import numpy as np
import pytest
from sample_helpers import FAMILIES, canvas_three, sample_runs

from ad_core import sample_input, sample_report
from ad_core.errors import BadDataError
from ad_core.runs import load_run


@pytest.fixture(scope="module")
def ids(tmp_path_factory):
    with sample_runs(tmp_path_factory) as run_ids:
        yield run_ids


def digit_runs(ids):
    return [ids[d] for d in FAMILIES]


def test_sample_runs_are_the_finished_runs_on_the_same_data(ids):
    r = load_run(ids["toll"])
    same = [o.run_id for o in sample_report.sample_runs(r)]
    assert same[0] == ids["toll"] and set(same) == set(digit_runs(ids))


def test_a_test_sample_through_every_run(ids):
    ref = load_run(ids["toll"])
    y = ref.scores["test_y"]
    row = int(np.flatnonzero(y == 1)[0])
    facts = sample_report.sample_facts(ref, row)
    rep = sample_report.explain_sample(digit_runs(ids), sample_report.test_sample(ref, row),
                                  source="sample", dataset_row=facts["dataset_row"],
                                  neighbours=4)
    assert not rep.skipped and [v.run_id for v in rep.runs] == digit_runs(ids)
    for v in rep.runs:
        r = load_run(v.run_id)
        # same dataset, normal class and seed → same split: the live score is the stored one, up
        # to the run storing its test images as 8-bit (digits' 16 grey levels are not k/255)
        assert v.score == pytest.approx(float(r.scores["test"][row]), rel=1e-2, abs=1e-3)
        normal = r.scores["test"][r.scores["test_y"] == 0]
        assert v.percentile == pytest.approx(100 * np.mean(normal <= v.score))
        assert v.flagged == (v.score > v.threshold)
        assert v.threshold == pytest.approx(r.metrics["threshold"])
        nb = v.neighbours
        assert nb is not None and len(nb.rows) == 4 and np.all(np.diff(nb.distances) >= 0)
        assert nb.inputs.shape == (4, 1, 8, 8)
        assert v.in_training is False  # a test sample is never one of the run's training normals
    toll, neutral, forest = rep.runs
    assert toll.explanation.has("reconstruction", "error_map", "score_terms")
    assert list(toll.explanation["score_term_names"]) == ["reconstruction", "β·latent norm"]
    assert neutral.explanation.has("views", "score_terms")
    assert neutral.explanation["views"].shape[:2] == (1, neutral.explanation["score_terms"].shape[1])
    for v in (toll, neutral):  # the explanation is the detector's own: its terms give the score
        assert v.explanation.aggregated_terms()[0] == pytest.approx(v.score, rel=1e-4)
    assert not forest.explanation.has("reconstruction") and not forest.explanation.has("views")


def test_a_training_normal_is_its_own_nearest_neighbour(ids):
    r = load_run(ids["toll"])
    det = sample_report.loaded_detector(r)
    ref = sample_report._training_reference(r, det)
    x = ref["inputs"][5].astype(np.float32) / 255.0
    v = sample_report.explain_sample([ids["toll"]], x, dataset_row=int(ref["rows"][5])).runs[0]
    # (the cached neighbour images are 8-bit, the embedding was of the float originals)
    assert v.neighbours.distances[0] < 0.1 * v.neighbours.distances[1]
    assert v.neighbours.rows[0] == ref["rows"][5] and v.in_training is True


def test_a_canvas_drawing_goes_through_the_service(ids):
    rgba = canvas_three()
    rep = sample_report.explain_sample(digit_runs(ids) + [ids["tabular"]], rgba, source="canvas")
    assert [v.run_id for v in rep.runs] == digit_runs(ids)
    assert ids["tabular"] in rep.skipped and "image" in rep.skipped[ids["tabular"]]
    x = rep.input
    assert x.shape == (1, 8, 8) and x.dtype == np.float32 and x.min() >= 0 and x.max() == 1.0
    for v in rep.runs:
        assert np.isfinite(v.score) and 0 <= v.percentile <= 100
    # the same drawing at MNIST's size: the ink fits 20×20 and its centre of mass is central
    m = sample_input.canvas_to_image(rgba, (1, 28, 28))[0]
    rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 20
    cy = (m.sum(1) * np.arange(28)).sum() / m.sum()
    cx = (m.sum(0) * np.arange(28)).sum() / m.sum()
    assert abs(cy - 13.5) < 1.0 and abs(cx - 13.5) < 1.0


def test_transparent_canvas_and_dark_on_light_upload(ids):
    rgba = canvas_three()
    rgba[..., 3] = np.where(rgba[..., 0] > 0, 255, 0)  # transparent background, white ink
    rgba[rgba[..., 3] == 0, :3] = 0
    a = sample_input.canvas_to_image(rgba, (1, 8, 8))
    b = sample_input.canvas_to_image(canvas_three(), (1, 8, 8))
    assert np.allclose(a, b)
    grey = 255 - canvas_three()[..., 0]  # a black digit on white paper
    x, notes = sample_input.image_to_input(grey, (1, 8, 8))
    assert x.shape == (1, 8, 8) and any("inverted" in n for n in notes)
    assert any("resized from 280×280 to 8×8" in n for n in notes)
    rep = sample_report.explain_sample([ids["iforest"]], grey, source="image")
    assert rep.runs[0].input.shape == (1, 8, 8)


@pytest.mark.parametrize("bad, source, words", [
    (np.zeros((280, 280, 4), np.uint8), "canvas", "drawing is empty"),
    (np.zeros((1, 28, 28), np.float32), "sample", "shape"),
    (np.full((1, 8, 8), np.nan, np.float32), "sample", "NaN"),
    (np.dstack([np.full((20, 20), 200), np.zeros((20, 20)), np.zeros((20, 20))]).astype(np.uint8),
     "image", "colour image"),
    (np.zeros((5, 5, 5, 5)), "auto", "shape"),
])
def test_bad_inputs_get_one_clear_message(ids, bad, source, words):
    with pytest.raises(BadDataError, match=words):
        sample_report.explain_sample(digit_runs(ids), bad, source=source)


def test_empty_drawing_is_its_own_error(ids):
    with pytest.raises(sample_input.EmptyDrawingError):
        sample_report.explain_sample(digit_runs(ids), np.zeros((280, 280, 4), np.uint8),
                                source="canvas")


def test_a_csv_row_for_the_tabular_run(ids):
    r = load_run(ids["tabular"])
    names = r.config["feature_names"]
    x = r.test_x()[3]
    header = ",".join(names) + "\n" + ",".join(f"{v:.17g}" for v in x)
    row = sample_input.parse_csv_row(header.encode(), len(names), names)
    assert np.allclose(row, x)
    v = sample_report.explain_sample([ids["tabular"]], row, source="sample").runs[0]
    assert v.score == pytest.approx(float(r.scores["test"][3]), rel=1e-6)
    assert v.neighbours is not None and v.neighbours.inputs.shape[1] == len(names)
    no_header = ",".join(f"{v:.17g}" for v in x)
    assert np.allclose(sample_input.parse_csv_row(no_header, len(names), names), x)
    with pytest.raises(BadDataError, match=f"has 3 values, but the runs were trained on "
                                           f"{len(names)} features"):
        sample_input.parse_csv_row("1,2,3", len(names), names)
    nan_row = ",".join(["1"] * (len(names) - 1) + ["nan"])
    with pytest.raises(BadDataError, match="NaN"):
        sample_input.parse_csv_row(nan_row, len(names), names)
    with pytest.raises(BadDataError, match="empty"):
        sample_input.parse_csv_row("", len(names), names)
    with pytest.raises(BadDataError, match="features"):
        sample_report.explain_sample([ids["tabular"]], canvas_three(), source="canvas")


def test_decode_image_refuses_what_is_not_an_image():
    import io

    from PIL import Image

    with pytest.raises(BadDataError, match="not an image"):
        sample_input.decode_image(b"definitely not a png")
    buf = io.BytesIO()
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(buf, format="PNG")
    assert sample_input.decode_image(buf.getvalue()).shape == (10, 12)


def test_click_targets_sit_on_the_tiles():
    from ad_core.viz.images import ImageColumn, image_grid, image_table
    from ad_core.viz.sample import CLICK_TRACE, clickable_tiles

    x = np.random.default_rng(0).random((10, 1, 28, 28))
    rows = list(range(100, 110))
    fig = clickable_tiles(image_grid(x, [f"#{r}" for r in rows], ncols=4), rows)
    z = np.asarray(fig.data[0].z, dtype=float)
    targets = next(t for t in fig.data if t.name == CLICK_TRACE)
    assert list(targets.customdata) == rows and fig.layout.clickmode == "event+select"
    for i, (cx, cy) in enumerate(zip(targets.x, targets.y)):  # the centre pixel of tile i
        r0, c0 = int(cy - 13.5), int(cx - 13.5)
        assert np.allclose(z[r0:r0 + 28, c0:c0 + 28], x[i, 0])
    table = clickable_tiles(image_table([ImageColumn("a", x[:3]), ImageColumn("b", x[:3])],
                                        ["r0", "r1", "r2"]), [7, 8, 9])
    assert list(table.data[-1].customdata) == [7, 8, 9]
    with pytest.raises(BadDataError):
        clickable_tiles(image_grid(x[:2]), [1, 2, 3])


def test_an_oversized_image_gets_the_uploads_limit_not_a_traceback():
    import io

    from PIL import Image

    from ad_core.data.user import MAX_IMAGE_PIXELS

    buf = io.BytesIO()
    side = int(MAX_IMAGE_PIXELS ** 0.5) + 1
    Image.new("L", (side, side)).save(buf, format="PNG")
    with pytest.raises(BadDataError, match="at most"):
        sample_input.decode_image(buf.getvalue())
