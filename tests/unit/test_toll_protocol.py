"""Toll's protocol (docs/methods.md §3, §8): standardise with the dataset's training-split statistics,
not the normal class's; batches never repeat samples (a batch above the set size = one batch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ad_core.detectors import Detector, make_detector
from ad_core.experiment import fit_task
from ad_core.tasks import one_vs_rest, train_test_rows

TINY = {"iterations": 6, "batch_size": 32, "eval_every": 3, "latent_dim": 8, "width": 4}


@pytest.fixture(scope="module")
def t8(digits):
    return one_vs_rest(digits, "8", seed=0)


def test_standardisation_uses_the_dataset_training_split_not_the_normal_class(digits, t8):
    det = fit_task(make_detector("toll", "quick", **TINY), t8)
    train_rows, _ = train_test_rows(digits, 0, 0.2)
    x = digits.x[torch.from_numpy(train_rows)].double()
    assert float(det.prep_.mean) == pytest.approx(float(x.mean()), rel=1e-5)
    assert float(det.prep_.std) == pytest.approx(float(x.std()), rel=1e-5)
    # the normal class alone has other statistics (this is what the old code used)
    assert abs(float(t8.train_x.mean()) - float(x.mean())) > 1e-3
    assert det._state_json()["standardization"] == "dataset training split"
    # the same statistics whatever the normal class: β means the same thing for every class
    other = fit_task(make_detector("toll", "quick", **TINY), one_vs_rest(digits, "3", seed=0))
    assert float(other.prep_.mean) == pytest.approx(float(det.prep_.mean))


def test_per_class_statistics_only_when_asked(t8, tmp_path):
    det = fit_task(make_detector("toll", "quick", standardize_with="normals", **TINY), t8)
    assert float(det.prep_.mean) == pytest.approx(float(t8.train_x.mean()), rel=1e-5)
    assert det._state_json()["standardization"] == "normal training images"
    det.save(tmp_path / "t")
    again = Detector.load(tmp_path / "t")
    np.testing.assert_array_equal(again.decision_function(t8.test_x[:20]),
                                  det.decision_function(t8.test_x[:20]))


def test_paper_batch_above_the_training_set_is_one_full_batch(t8, monkeypatch):
    """Toll's paper batch (1000) exceeds a digit's training images: every step sees each once."""
    import ad_core.train as train

    seen: list[torch.Tensor] = []
    real = train.fit_loop

    def spy(**kw):
        loss_fn = kw["loss_fn"]

        def wrapped(batch):
            seen.append(batch[0].detach().clone())
            return loss_fn(batch)

        return real(**{**kw, "loss_fn": wrapped})

    monkeypatch.setattr("ad_core.detectors.ae.fit_loop", spy)
    fit_task(make_detector("toll", "quick", **{**TINY, "batch_size": 1000, "iterations": 3}), t8)
    n = len(t8.train_x)
    assert len(seen) == 3
    for b in seen:
        assert len(b) == n
        assert len(torch.unique(b.reshape(n, -1), dim=0)) == len(torch.unique(
            t8.train_x.reshape(n, -1), dim=0))
