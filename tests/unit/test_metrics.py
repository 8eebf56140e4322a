"""Metrics agree with scikit-learn and refuse unusable inputs (the Wilcoxon statistics are
tested in test_wilcoxon.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from ad_core import metrics as M
from ad_core.errors import BadDataError

RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def ys():
    y = (RNG.random(300) < 0.2).astype(int)
    s = RNG.normal(size=300) + 1.2 * y
    return y, s


def test_auroc_aupr_match_sklearn(ys):
    y, s = ys
    assert M.auroc(y, s) == pytest.approx(skm.roc_auc_score(y, s))
    assert M.aupr(y, s) == pytest.approx(skm.average_precision_score(y, s))
    assert M.auroc(y, -s) == pytest.approx(1 - M.auroc(y, s))
    assert 0.7 < M.auroc(y, s) < 1.0


def test_f1_at_contamination_flags_the_true_anomaly_fraction(ys):
    y, s = ys
    k = int(y.sum())
    pred = np.zeros_like(y)
    pred[np.argsort(-s)[:k]] = 1
    assert M.f1_at_contamination(y, s) == pytest.approx(skm.f1_score(y, pred))
    assert M.f1_at_contamination(y, y.astype(float)) == 1.0


def test_curves_and_confusion(ys):
    y, s = ys
    roc = M.roc_curve(y, s)
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(M.auroc(y, s))
    pr = M.pr_curve(y, s)
    assert pr["precision"].shape == pr["recall"].shape
    thr = M.contamination_threshold(s, 0.2)
    c = M.confusion_at(y, s, thr)
    assert c["tp"] + c["fp"] + c["fn"] + c["tn"] == len(y)
    assert c["tp"] + c["fp"] == int((s > thr).sum())
    assert c["precision"] == pytest.approx(skm.precision_score(y, s > thr))
    assert c["recall"] == pytest.approx(skm.recall_score(y, s > thr))


def test_per_kind_and_one_vs_one_auroc():
    kind = np.array(["normal"] * 4 + ["flip"] * 2 + ["invert"] * 2)
    s = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 0.8, 0.15, 0.35])
    out = M.per_kind_auroc(kind, s)
    assert out["flip"] == 1.0
    assert out["invert"] == pytest.approx(skm.roc_auc_score([0] * 4 + [1] * 2, np.r_[s[:4], s[6:]]))
    cls = np.array([0, 0, 0, 1, 1, 2, 2])
    sc = np.array([0.1, 0.2, 0.3, 0.5, 0.6, 0.0, 0.25])
    oo = M.one_vs_one_auroc(cls, sc, 0, ["zero", "one", "two"])
    assert oo == {"one": 1.0, "two": pytest.approx(skm.roc_auc_score([0, 0, 0, 1, 1],
                                                                      [0.1, 0.2, 0.3, 0.0, 0.25]))}


def test_summary_keys(ys):
    y, s = ys
    out = M.summary(y, s, np.where(y == 1, "anomaly", "normal"))
    assert set(out) == {"auroc", "aupr", "f1", "contamination", "per_kind_auroc"}
    assert out["per_kind_auroc"]["anomaly"] == pytest.approx(out["auroc"])


@pytest.mark.parametrize("y,s,match", [
    ([0, 0, 0], [0.1, 0.2, 0.3], "both normal and anomalous"),
    ([0, 1, 1], [0.1, np.nan, 0.3], "NaN"),
    ([0, 1], [0.1, 0.2, 0.3], "2 labels but 3 scores"),
])
def test_unusable_inputs(y, s, match):
    with pytest.raises(BadDataError, match=match):
        M.auroc(np.array(y), np.array(s))
