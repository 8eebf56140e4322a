"""DAE: trains on augment(x) → x through the AE's code, scores clean inputs, extra scores."""

from __future__ import annotations

import numpy as np
import pytest

from ad_core import metrics as M
from ad_core.detectors import Detector, make_detector
from ad_core.detectors.ae import AEDetector
from ad_core.detectors.dae import DAEDetector
from ad_core.errors import BadParameterError, UnknownNameError
from ad_core.experiment import fit_task

FAST = {"epochs": 25, "batch_size": 16}


@pytest.fixture(scope="module")
def fitted(task8):
    return fit_task(make_detector("dae", "quick", augmentation="noise", **FAST), task8)


def test_dae_reuses_the_autoencoder():
    assert issubclass(DAEDetector, AEDetector)
    assert DAEDetector._fit is AEDetector._fit and DAEDetector._score is AEDetector._score


def test_dae_beats_iforest_on_digits_and_reloads(fitted, task8, tmp_path):
    ifo = fit_task(make_detector("iforest"), task8)
    base = M.auroc(task8.test_y, ifo.decision_function(task8.test_x))
    s = fitted.decision_function(task8.test_x)
    assert M.auroc(task8.test_y, s) > base
    fitted.save(tmp_path / "dae")
    again = Detector.load(tmp_path / "dae")
    np.testing.assert_array_equal(again.decision_function(task8.test_x), s)
    np.testing.assert_array_equal(again.extra_scores(task8)["augmented"],
                                  fitted.extra_scores(task8)["augmented"])


def test_extra_scores_of_augmented_training_images(fitted, task8):
    extra = fitted.extra_scores(task8)
    assert set(extra) == {"augmented"} and extra["augmented"].shape == (len(task8.train_x),)
    # noisy training images reconstruct worse than the clean ones
    assert extra["augmented"].mean() > fitted.decision_scores_.mean()


def test_identity_augmentation_is_the_plain_ae(task8):
    same = {"epochs": 3, "batch_size": 32, "seed": 1}
    dae = fit_task(make_detector("dae", "quick", augmentation="none", **same), task8)
    ae = fit_task(make_detector("ae", "quick", **same), task8)
    np.testing.assert_allclose(dae.decision_function(task8.test_x), ae.decision_function(task8.test_x),
                               rtol=1e-6)


def test_augmentation_parameters_are_parsed_and_checked(task8):
    det = make_detector("dae", "quick", augmentation="noise", augmentation_params="sigma=0.3", epochs=1)
    fit_task(det, task8)
    assert det.params_["augmentation_params"] == {"sigma": 0.3}
    with pytest.raises(UnknownNameError):
        fit_task(make_detector("dae", "quick", augmentation="rotat", epochs=1), task8)
    with pytest.raises(UnknownNameError):
        fit_task(make_detector("dae", "quick", augmentation="noise", augmentation_params={"radius": 2},
                      epochs=1), task8)
    with pytest.raises(BadParameterError):
        fit_task(make_detector("dae", "quick", augmentation="noise", augmentation_params="sigma",
                      epochs=1), task8)


def test_paper_preset_is_the_study_setting():
    p = DAEDetector.preset_params("paper", "mnist5k", (1, 28, 28))
    assert (p["arch"], p["resize"], p["latent_dim"], p["epochs"], p["batch_size"]) == (
        "dae32", 32, 256, 256, 1024)
    assert (p["schedule"], p["select"], p["error"], p["lr"]) == ("cosine", "last", "mse", 1e-3)
