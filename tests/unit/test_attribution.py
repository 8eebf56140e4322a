"""Attribution maps (issue 20): ``Detector.attribute`` on images and tables, native maps, the
run's calibration, the deletion test and ``python -m ad_core explain``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ad_core.detectors.attribution import calibration_scale, deletion_auc, deletion_curve
from ad_core.detectors.base import Detector
from ad_core.errors import BadDataError, BadParameterError


class OneElement(Detector):
    """A detector whose score is the squared distance of one element from 0 (tests only)."""

    name = "one_element_test"
    title = "One element"

    def _fit(self, data, monitor) -> None:
        self.where_ = (0, 3, 5) if data.train_x.ndim == 4 else (4,)

    def _score(self, x: torch.Tensor) -> np.ndarray:
        v = x[(slice(None), *self.where_)]
        return (v.double() ** 2).numpy()


def _fit_one(shape: tuple[int, ...]) -> OneElement:
    return OneElement().fit(np.zeros((20, *shape), np.float32))


def test_a_score_of_one_feature_puts_all_mass_there() -> None:
    det = _fit_one((7,))
    x = np.zeros((2, 7), np.float32)
    x[:, 4] = [3.0, -2.0]
    x[:, 1] = 5.0  # irrelevant to the score
    a = det.attribute(x)
    assert a.shape == x.shape and a.dtype == np.float32
    np.testing.assert_allclose(a[:, 4], [9.0, 4.0])
    assert np.abs(np.delete(a, 4, axis=1)).max() == 0.0


def test_a_score_of_one_pixel_lights_only_the_patches_over_it() -> None:
    det = _fit_one((1, 12, 12))
    x = np.zeros((1, 1, 12, 12), np.float32)
    x[0, 0, 3, 5] = 2.0
    x[0, 0, 10, 10] = 1.0  # irrelevant
    a = det.attribute(x, window=3, stride=1)
    assert a.shape == x.shape and a.dtype == np.float32
    plane = a[0, 0]
    assert np.unravel_index(np.argmax(plane), plane.shape) == (3, 5)
    assert plane[3, 5] == pytest.approx(4.0)
    far = np.ones_like(plane, bool)
    far[1:6, 3:8] = False  # every 3×3 window covering (3, 5) lies inside this block
    assert np.abs(plane[far]).max() == 0.0


def test_image_and_table_detectors_return_maps_shaped_like_the_input(digits_task,
                                                                     tabular_task) -> None:
    from ad_core.detectors import make_detector

    for task in (digits_task, tabular_task):
        det = make_detector("iforest").fit(task.train_x, X_val=task.val_x)
        x = task.test_x[:3]
        a = det.attribute(x)
        assert a.shape == tuple(x.shape) and a.dtype == np.float32 and np.isfinite(a).all()
        with pytest.raises(BadParameterError, match="no native map"):
            det.attribute(x, method="native")
    ae = make_detector("ae", epochs=1).fit(tabular_task.train_x, X_val=tabular_task.val_x)
    n = ae.attribute(tabular_task.test_x[:2], method="native")
    assert n.shape == (2, tabular_task.train_x.shape[1]) and (n >= 0).all()


def test_native_gradient_maps_of_neutral(digits_task) -> None:
    from ad_core.detectors import make_detector

    det = make_detector("neutral", epochs=1).fit(digits_task.train_x, X_val=digits_task.val_x)
    x = digits_task.test_x[:2]
    g = det.attribute(x, method="native")
    assert g.shape == tuple(x.shape) and np.isfinite(g).all() and np.abs(g).max() > 0


def test_bad_inputs_get_one_clear_message() -> None:
    det = _fit_one((7,))
    with pytest.raises(BadDataError, match="per-sample shape"):
        det.attribute(np.zeros((1, 6), np.float32))
    with pytest.raises(BadDataError, match="reference"):
        det.attribute(np.zeros((1, 7), np.float32), reference=np.zeros(5))
    with pytest.raises(BadParameterError, match="unknown"):
        det.attribute(np.zeros((1, 7), np.float32), method="shap")
    del det.reference_  # a loaded detector keeps no reference
    with pytest.raises(BadDataError, match="needs a reference"):
        det.attribute(np.zeros((1, 7), np.float32))


def test_a_normal_samples_calibrated_map_is_quieter_than_an_anomalys() -> None:
    from ad_core.detectors import make_detector

    rng = np.random.default_rng(0)
    train = rng.normal(size=(300, 6)).astype(np.float32)
    det = make_detector("kde").fit(train)
    normals = rng.normal(size=(8, 6)).astype(np.float32)
    scale = calibration_scale(det.attribute(normals))
    normal = rng.normal(size=(1, 6)).astype(np.float32)
    anomaly = normal.copy()
    anomaly[0, 2] = 6.0
    quiet = np.abs(det.attribute(normal) / scale).max()
    loud = np.abs(det.attribute(anomaly) / scale)
    assert quiet < 1.5 < loud.max()
    assert int(np.argmax(loud)) == 2


def test_the_deletion_curve_of_a_known_case_beats_random() -> None:
    class SumOfSquares(OneElement):
        name = "sum_of_squares_test"

        def _score(self, x: torch.Tensor) -> np.ndarray:
            return (x.double() ** 2).flatten(1).sum(1).numpy()

    det = SumOfSquares().fit(np.zeros((10, 1, 8, 8), np.float32))
    x = np.zeros((1, 8, 8), np.float32)
    x[0, 2:4, 2:4] = 3.0  # the anomaly: one bright 2×2 spot
    x[0] += np.random.default_rng(1).uniform(0, 0.1, size=(8, 8)).astype(np.float32)
    ref = np.zeros_like(x)
    a = det.attribute(x[None], reference=ref, window=2, stride=1)[0]
    f, s = deletion_curve(det, x, a, ref, steps=16)
    assert s[0] > s[-1] and f[0] == 0 and f[-1] == 1
    ours = deletion_auc(f, s)
    rand = np.mean([deletion_auc(*deletion_curve(det, x, a, ref, steps=16,
                                                 rng=np.random.default_rng(k)))
                    for k in range(5)])
    assert ours < 0.2 < rand


def test_cli_explain_good_run_bad_run_bad_sample(capsys, tmp_path, runs_dir) -> None:
    from ad_core.cli import main
    from ad_core.experiment import ExperimentSpec, run_experiment

    rid = run_experiment(ExperimentSpec("breast_cancer", ["benign"], "iforest", explain_n=10,
                                        embed_n=50)).run_id
    out = tmp_path / "map.png"
    assert main(["explain", "--run", rid, "--sample", "0", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ablation:" in text and "normal" in text and out.stat().st_size > 0
    scales = json.loads((runs_dir / rid / "cache" / "attribution_scale.json").read_text())
    assert scales["ablation"] > 0
    assert main(["explain", "--run", "no-such-run", "--sample", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run" in err[0]
    assert main(["explain", "--run", rid, "--sample", "100000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]
    (runs_dir / rid / "inputs.npz").unlink()  # a run that saved no inputs
    assert main(["explain", "--run", rid, "--sample", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stored no test inputs" in err[0]


def test_geotrans_gradient_graph_is_its_score(digits_task) -> None:
    from ad_core.detectors import make_detector

    det = make_detector("geotrans", epochs=1).fit(digits_task.train_x[:60],
                                                  X_val=digits_task.val_x[:20])
    x = digits_task.test_x[:3]
    with torch.no_grad():
        graph = det._score_graph(x).numpy()
    np.testing.assert_allclose(graph, det.decision_function(x), rtol=1e-4, atol=1e-4)
    g = det.attribute(x, method="native")
    assert g.shape == tuple(x.shape) and np.isfinite(g).all()


def test_map_pictures_are_written_on_the_runs_scale(tmp_path) -> None:
    from PIL import Image

    from ad_core.viz.attribution import (
        VMAX,
        attribution_maps,
        save_grid_png,
        save_maps_png,
    )

    img = np.zeros((1, 8, 8), np.float32)
    img[0, 2:6, 3:5] = 1.0
    cal = np.zeros_like(img)
    cal[0, 3, 3] = 10.0  # beyond the scale: clipped, never rescaled per image
    fig = attribution_maps(img, [("occlusion", cal)])
    heat = [t for t in fig.data if t.type == "heatmap"][1]
    assert (heat.zmin, heat.zmax) == (-VMAX, VMAX) and float(np.max(heat.z)) == VMAX
    assert "same scale on every sample" in fig.layout.annotations[-1].text.replace("<br>", " ")
    a = save_maps_png(tmp_path / "one.png", img, [("occlusion", cal)])
    b = save_grid_png(tmp_path / "grid.png", img, [("ae", [("occlusion", cal), ("native", cal)]),
                                                   ("iforest", [("occlusion", -cal)])])
    assert Image.open(a).size[0] > 16 and Image.open(b).size[1] > 2 * 40


def test_a_runs_calibrated_maps_are_quiet_on_a_normal_sample_and_loud_on_an_anomaly() -> None:
    from ad_core.experiment import ExperimentSpec, run_experiment
    from ad_core.run_attribution import run_scales, sample_maps
    from ad_core.runs import load_run

    r = load_run(run_experiment(ExperimentSpec("breast_cancer", ["benign"], "iforest",
                                               explain_n=10, embed_n=50)).run_id)
    det = r.detector()
    s, y, x = r.scores["test"], r.scores["test_y"], r.test_x()
    normal = int(np.flatnonzero(y == 0)[np.argsort(s[y == 0])[len(s[y == 0]) // 2]])
    anomaly = int(np.flatnonzero(y == 1)[np.argmax(s[y == 1])])
    quiet = np.abs(sample_maps(r, det, x[normal])[0].calibrated).max()
    loud = np.abs(sample_maps(r, det, x[anomaly])[0].calibrated).max()
    assert quiet < 1.0 < loud  # 1 = the strongest effects on the run's normal samples
    assert set(run_scales(r, det)) == {"ablation"}


def test_the_reference_is_the_nearest_training_normal_where_the_detector_rejects_the_mean() -> None:
    from ad_core import run_attribution as RA
    from ad_core.experiment import ExperimentSpec, run_experiment
    from ad_core.runs import load_run

    r = load_run(run_experiment(ExperimentSpec("breast_cancer", ["benign"], "iforest",
                                               explain_n=10, embed_n=50)).run_id)
    det = r.detector()
    assert RA.reference_kind(r, det) == "mean"  # IsolationForest accepts the mean benign row
    x = r.test_x()[:3]
    np.testing.assert_array_equal(RA.references(r, det, x),
                                  np.broadcast_to(RA.run_reference(r)["mean"], x.shape))

    class RejectsEverything:  # scores every input above its threshold, the mean included
        threshold_ = 0.0

        def decision_function(self, x):
            return np.ones(len(x))

    RA._memo.clear()
    (r.path / "cache" / "attribution_reference_kind.txt").unlink()  # decided again, for this one
    pool = RA.run_reference(r)["pool"]
    near = pool[[5, 17]] + np.float32(1e-3)
    assert RA.reference_kind(r, RejectsEverything()) == "nearest"
    np.testing.assert_array_equal(RA.references(r, RejectsEverything(), near), pool[[5, 17]])
    RA._memo.clear()
