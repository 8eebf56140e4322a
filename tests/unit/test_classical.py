"""Classical baselines beat chance on digits and on a table, and reload with identical scores."""

from __future__ import annotations

import numpy as np
import pytest

from ad_core import metrics as M
from ad_core.detectors import Detector, make_detector
from ad_core.errors import BadDataError, BadParameterError, UnknownNameError
from ad_core.experiment import fit_task

NAMES = ("iforest", "ocsvm", "lof", "kde")


@pytest.mark.parametrize("name", NAMES)
def test_beats_chance_on_digits_and_reloads_identically(name, digits_task, tmp_path):
    det = fit_task(make_detector(name, "quick"), digits_task)
    s = det.decision_function(digits_task.test_x)
    auc = M.auroc(digits_task.test_y, s)
    assert auc > 0.8, f"{name} AUROC {auc:.3f} on digits 0-vs-rest"
    assert det.decision_scores_.shape == (len(digits_task.train_x),)
    val = det.decision_function(digits_task.val_x)
    assert det.threshold_ == pytest.approx(np.quantile(val, 1 - det.contamination_))
    assert set(np.unique(det.predict(digits_task.test_x))) <= {0, 1}
    assert det.embed(digits_task.test_x[:5]).shape == (5, 64)
    det.save(tmp_path / "d")
    assert not list((tmp_path / "d").glob("*.pkl"))
    again = Detector.load(tmp_path / "d")
    assert type(again) is type(det)
    np.testing.assert_array_equal(again.decision_function(digits_task.test_x), s)


@pytest.mark.parametrize("name", NAMES)
def test_beats_chance_on_a_table(name, tabular_task):
    det = fit_task(make_detector(name), tabular_task)
    auc = M.auroc(tabular_task.test_y, det.decision_function(tabular_task.test_x))
    assert auc > 0.75, f"{name} AUROC {auc:.3f} on breast cancer (benign normal)"


def test_bad_parameters_and_inputs(digits_task):
    with pytest.raises(UnknownNameError, match="n_estimators"):
        make_detector("iforest", n_estimator=10)
    with pytest.raises(BadParameterError, match="out of range"):
        fit_task(make_detector("ocsvm", nu=2.0), digits_task)
    with pytest.raises(BadParameterError, match="not allowed"):
        fit_task(make_detector("ocsvm", gamma="wide"), digits_task)
    with pytest.raises(BadParameterError, match="not trained"):
        make_detector("lof").decision_function(digits_task.test_x)
    det = fit_task(make_detector("kde"), digits_task)
    with pytest.raises(BadDataError, match="shape"):
        det.decision_function(np.zeros((2, 1, 4, 4), np.float32))
    bad = digits_task.test_x[:2].clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(BadDataError, match="NaN"):
        det.decision_function(bad)
