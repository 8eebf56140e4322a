"""LIS-AE: two phases, only the latent layer moves in phase 2, negatives, LinSep, artefacts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ad_core import metrics as M
from ad_core.detectors import Detector, make_detector
from ad_core.detectors.lisae import lisae_phase2_loss
from ad_core.errors import BadParameterError
from ad_core.experiment import fit_task
from ad_core.tasks import resolve_negatives

FAST = {"epochs": 25, "phase2_epochs": 15, "batch_size": 16}


@pytest.fixture(scope="module")
def neg_task(digits):
    """Normal 4, negatives = class 5 (the next class), anomalies = the other classes."""
    from ad_core.tasks import negative_split

    return negative_split(digits, "4", seed=0)


@pytest.fixture(scope="module")
def fitted(neg_task):
    return fit_task(make_detector("lisae", "quick", linsep=True, **FAST), neg_task)


def test_lisae_beats_iforest_and_improves_on_phase1(fitted, neg_task):
    ifo = fit_task(make_detector("iforest"), neg_task)
    base = M.auroc(neg_task.test_y, ifo.decision_function(neg_task.test_x))
    auc = M.auroc(neg_task.test_y, fitted.decision_function(neg_task.test_x))
    auc1 = M.auroc(neg_task.test_y, fitted.phase1_scores(neg_task.test_x))
    assert auc > base, f"LIS-AE {auc:.3f} vs IsolationForest {base:.3f}"
    assert auc >= auc1 - 0.005
    h = fitted.history_
    assert h["phase1_loss"] and h["phase2_loss"] and h["phase1_bce"]
    assert fitted.negatives_source_ == neg_task.negatives_source


def test_phase2_changes_only_the_latent_layer(fitted):
    before, after = fitted.net1_.state_dict(), fitted.net_.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("latent.") for k in changed), changed


def test_explain_extra_scores_and_reload(fitted, neg_task, tmp_path):
    x = neg_task.test_x[:6]
    ex = fitted.explain(x)
    for k in ("reconstruction", "error_map", "reconstruction_phase1", "error_map_phase1"):
        assert ex[k].shape == tuple(x.shape)
    assert ex["latent"].shape == (6, 32)
    extra = fitted.extra_scores(neg_task, neg_task.negatives_x)
    assert extra["phase1_test"].shape == (len(neg_task.test_x),)
    assert extra["negatives"].shape == (len(neg_task.negatives_x),)
    # latent shaping pushes the negatives' error up
    assert extra["negatives"].mean() > extra["negatives_phase1"].mean()
    fitted.save(tmp_path / "lis")
    again = Detector.load(tmp_path / "lis")
    np.testing.assert_array_equal(again.decision_function(neg_task.test_x),
                                  fitted.decision_function(neg_task.test_x))
    np.testing.assert_array_equal(again.phase1_scores(x), fitted.phase1_scores(x))
    assert again.negatives_source_ == fitted.negatives_source_ and again.gamma_ == fitted.gamma_


def test_default_negatives_are_the_stroke_glyph_set_not_augmented_normals(digits_task):
    det = fit_task(make_detector("lisae", "quick", epochs=2, phase2_epochs=2, batch_size=32), digits_task)
    assert "strokes" in det.negatives_source_ and "augmented" not in det.negatives_source_
    assert det._state_json()["negatives_source"] == det.negatives_source_
    assert det.gamma_ == pytest.approx(3.0 * det.phase1_neg_error_)
    neg, _ = resolve_negatives(digits_task, det.negatives_request())
    # generated images, not copies of the normals
    assert neg.shape[1:] == digits_task.train_x.shape[1:] and len(neg) >= len(digits_task.train_x)
    d = torch.cdist(neg.reshape(len(neg), -1)[:50], digits_task.train_x.reshape(
        len(digits_task.train_x), -1))
    assert float(d.min()) > 0.5


def test_augmented_normals_only_when_chosen_and_labelled(digits_task):
    det = fit_task(make_detector("lisae", "quick", epochs=1, phase2_epochs=1, batch_size=32,
                        negatives="augmented-normals"), digits_task)
    assert det.negatives_source_.startswith("augmented normals")
    assert "NOT a similar-domain" in det.negatives_source_


@pytest.fixture(scope="module")
def half_task(digits):
    """LIS-AE Table 3's setting on the 8×8 digits: normal 2, negatives 5–9, anomalies 0, 1, 3, 4."""
    from ad_core.tasks import negative_split

    return negative_split(digits, "2", seed=0, negatives="other-half")


def test_phase2_strictly_improves_on_phase1_on_a_negative_split(half_task):
    det = fit_task(make_detector("lisae", "quick", linsep=False, epochs=25, phase2_epochs=15,
                        batch_size=16), half_task)
    auc1 = M.auroc(half_task.test_y, det.phase1_scores(half_task.test_x))
    auc2 = M.auroc(half_task.test_y, det.decision_function(half_task.test_x))
    assert auc2 > auc1 + 1e-3, f"phase 2 {auc2:.4f} vs phase 1 {auc1:.4f}"
    extra = det.extra_scores(half_task, half_task.negatives_x)
    assert extra["negatives"].mean() > extra["negatives_phase1"].mean() + 0.1
    assert det.phase1_saturation_ < 0.5  # the tanh latent is not saturated when phase 2 starts


def test_a_saturated_tanh_latent_leaves_phase2_nothing_to_move(half_task):
    """Why the quick preset has a latent penalty: without it, phase 1 drives tanh into saturation
    (|z| → 1, zero gradient) and latent shaping cannot change the scores."""
    det = fit_task(make_detector("lisae", "quick", linsep=False, latent_penalty=0.0, epochs=25,
                        phase2_epochs=15, batch_size=16), half_task)
    assert det.phase1_saturation_ > 0.9
    np.testing.assert_allclose(det.decision_function(half_task.test_x),
                               det.phase1_scores(half_task.test_x), rtol=1e-3)


def test_phase2_loss_is_algorithm_1():
    rp, rn = torch.tensor([1.0, 3.0]), torch.tensor([2.0, 8.0])
    assert float(lisae_phase2_loss(rp, rn, 0.5, 5.0)) == pytest.approx(2.0 + 0.5 * 3.0)


@pytest.mark.parametrize("params", [{"beta": -1}, {"gamma_multiple": -2}, {"negatives": "omniglot"},
                                    {"negatives": "synthetic"}, {"latent_penalty": -1.0}])
def test_bad_parameters_raise(digits_task, params):
    with pytest.raises(BadParameterError):
        fit_task(make_detector("lisae", "quick", epochs=1, **params), digits_task)


def test_a_one_vs_rest_run_records_where_its_negatives_came_from(tmp_path):
    """Issue 9: the run itself says which negatives LIS-AE saw (one-vs-rest: generated strokes)."""
    from ad_core.experiment import ExperimentSpec, run_experiment
    from ad_core.runs import load_run

    spec = ExperimentSpec(dataset="digits", normal=["0"], detector="lisae", preset="quick",
                          params={"epochs": 2, "phase2_epochs": 2, "batch_size": 32}, seed=0,
                          explain_n=0, embed_n=0)
    res = run_experiment(spec, root=tmp_path)
    source = load_run(res.run_id, root=tmp_path).config["negatives_source"]
    assert source and "strokes" in source and "augmented" not in source
