"""Toll: targeted collapse loss/score, score terms, β = 0 ≡ plain AE, selection, presets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ad_core import metrics as M
from ad_core.detectors import Detector, make_detector
from ad_core.detectors.toll import TollDetector, targeted_collapse
from ad_core.errors import BadParameterError
from ad_core.experiment import fit_task

FAST = {"iterations": 120, "batch_size": 32, "eval_every": 20}


@pytest.fixture(scope="module")
def fitted(task8):
    return fit_task(make_detector("toll", "quick", **FAST), task8)


def test_toll_beats_iforest_on_digits(fitted, task8):
    ifo = fit_task(make_detector("iforest"), task8)
    base = M.auroc(task8.test_y, ifo.decision_function(task8.test_x))
    auc = M.auroc(task8.test_y, fitted.decision_function(task8.test_x))
    assert auc > base, f"Toll {auc:.3f} vs IsolationForest {base:.3f}"
    assert fitted.history_["select"] == ["best"] and "selection" not in fitted.history_
    assert fitted.report_.select == "best"
    assert fitted.history_["val_step"][:2] == [20, 40]


def test_score_terms_sum_to_the_score_and_reload_is_exact(fitted, task8, tmp_path):
    x = task8.test_x[:20]
    ex = fitted.explain(x)
    assert list(ex["score_term_names"]) == ["reconstruction", "β·latent norm"]
    assert str(ex["score_aggregation"]) == "sum"
    np.testing.assert_allclose(ex["score_terms"].sum(1), fitted.decision_function(x), rtol=1e-5)
    np.testing.assert_allclose(ex["score_terms"][:, 1], 1000.0 * ex["latent_norm"], rtol=1e-5)
    fitted.save(tmp_path / "toll")
    again = Detector.load(tmp_path / "toll")
    np.testing.assert_array_equal(again.decision_function(task8.test_x),
                                  fitted.decision_function(task8.test_x))


def test_targeted_collapse_uses_non_squared_norms():
    x = torch.zeros(2, 1, 2, 2)
    x_hat = torch.tensor([[3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]).reshape(2, 1, 2, 2)
    z = torch.tensor([[3.0, -4.0], [1.0, 0.0]])
    rec, reg = targeted_collapse(x_hat, x, z, 2.0, 2.0)
    np.testing.assert_allclose(rec.numpy(), [5.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(reg.numpy(), [10.0, 2.0], rtol=1e-5)
    _, reg1 = targeted_collapse(x_hat, x, z, 1.0, 1.0)
    _, reg_inf = targeted_collapse(x_hat, x, z, 1.0, math.inf)
    np.testing.assert_allclose(reg1.numpy(), [7.0, 1.0])
    np.testing.assert_allclose(reg_inf.numpy(), [4.0, 1.0])


def test_beta_zero_is_the_plain_autoencoder_l2_objective(task8):
    same = {"arch": "conv", "batchnorm": True, "preprocess": "standardize", "latent_dim": 16,
            "width": 8, "iterations": 40, "batch_size": 32, "lr": 1e-3, "seed": 3}
    # the AE standardises with the normals' statistics; Toll's default is the dataset's
    toll = fit_task(make_detector("toll", "quick", beta=0.0, standardize_with="normals", **same), task8)
    ae = fit_task(make_detector("ae", "quick", error="l2", eval_every=20, **same), task8)
    np.testing.assert_allclose(toll.history_["loss"], ae.history_["loss"], rtol=1e-5)
    np.testing.assert_allclose(toll.decision_function(task8.test_x),
                               ae.decision_function(task8.test_x), rtol=1e-5)


def test_labelled_validation_selection_is_explicit_and_recorded(task8):
    det = fit_task(make_detector("toll", "quick", select="labelled_val", n_val_anomalies=50, iterations=40,
                        batch_size=32, latent_dim=16, width=8), task8)
    # new runs record the rule under today's name and value only
    assert det.history_["select"] == ["labelled_val"] and det.report_.select == "labelled_val"
    assert "selection" not in det.history_ and "selection" not in det._state_json()
    assert det.n_labelled_val_ == 50
    assert all(0.0 <= v <= 1.0 for v in det.history_["val"])  # 1 − AUROC


@pytest.mark.parametrize("params", [{"beta": -1.0}, {"p": "3"}, {"select": "test"}])
def test_bad_parameters_raise(task8, params):
    with pytest.raises(BadParameterError):
        fit_task(make_detector("toll", "quick", iterations=1, **params), task8)


def test_paper_presets_per_dataset():
    m = TollDetector.preset_params("paper", "mnist", (1, 28, 28))
    assert (m["arch"], m["beta"], m["latent_dim"], m["lr"], m["batch_size"]) == (
        "toll_mnist", 1000.0, 128, 1e-4, 1000)
    assert m["iterations"] == 2000 and m["eval_every"] == 20
    f = TollDetector.preset_params("paper", "fashion_mnist", (1, 28, 28))
    assert (f["beta"], f["latent_dim"], f["batch_size"]) == (100.0, 256, 500)
    c = TollDetector.preset_params("paper", "cifar10", (3, 32, 32))
    assert (c["arch"], c["beta"], c["lr"], c["batch_size"]) == ("toll_cifar", 10.0, 1e-2, 50)
    c100 = TollDetector.preset_params("paper", "cifar100", (3, 32, 32))
    assert (c100["beta"], c100["lr"], c100["batch_size"]) == (100.0, 1e-3, 100)
    a = TollDetector.preset_params("paper", "arrhythmia", (274,))
    assert (a["arch"], a["beta"], a["latent_dim"], a["batch_size"]) == ("mlp", 10.0, 16, 100)
