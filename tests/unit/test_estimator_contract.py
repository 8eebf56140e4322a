"""Every registered detector is a scikit-learn estimator in PyOD's vocabulary (issue 10).

``clone`` and ``set_params(**get_params())`` work for every detector; ``fit(X, *, X_val, ...)``
returns self with ``decision_scores_``, ``threshold_``, ``labels_`` and a ``FitReport``;
``predict_proba`` has PyOD's ``linear`` and ``unify``; ``explain`` returns a typed
``Explanation`` whose score terms aggregate to ``decision_function``; old parameter names
(runs written before the rename) still load.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from ad_core.contracts import Explanation, FitReport, NegativesRequest
from ad_core.detectors import REGISTRY, available_detectors, get_detector_class, make_detector
from ad_core.errors import BadDataError, UnknownNameError
from ad_core.experiment import fit_task

NAMES = list(REGISTRY)


def test_registry_is_explicit_and_complete():
    dets = available_detectors()
    assert list(dets) == NAMES
    assert all(cls.name == n for n, cls in dets.items())
    assert all(cls.__name__.endswith("Detector") for cls in dets.values())


@pytest.mark.parametrize("name", NAMES)
def test_clone_and_set_params_round_trip(name):
    d = make_detector(name, "quick")
    params = d.get_params()
    assert params["preset"] == "quick"
    assert set(params) == {"preset"} | {p.name for p in d.params}
    assert d.set_params(**params) is d and d.get_params() == params
    c = clone(d)
    assert type(c) is type(d) and c.get_params() == params and c is not d
    first = d.params[0].name
    d.set_params(**{first: d.params[0].default})
    assert d.get_params()[first] == d.params[0].default
    assert clone(d).get_params()[first] == d.params[0].default


def test_unknown_parameter_is_a_clear_error():
    with pytest.raises(UnknownNameError, match="latnet_dim"):
        get_detector_class("ae")(latnet_dim=3)


def test_fit_returns_self_with_pyod_attributes(digits_task):
    d = make_detector("iforest", "quick")
    assert d.fit(digits_task.train_x, X_val=digits_task.val_x) is d
    assert d.decision_scores_.shape == (len(digits_task.train_x),)
    assert d.labels_.shape == d.decision_scores_.shape and set(d.labels_) <= {0, 1}
    np.testing.assert_array_equal(d.labels_, (d.decision_scores_ > d.threshold_).astype(int))
    assert isinstance(d.report_, FitReport) and not d.report_.cancelled
    x = digits_task.test_x
    for method in ("linear", "unify"):
        p = d.predict_proba(x, method=method)
        assert p.shape == (len(x), 2) and np.allclose(p.sum(1), 1.0)
        assert ((p >= 0) & (p <= 1)).all()
    s = d.decision_function(x)
    lin = d.predict_proba(x, "linear")[:, 1]
    assert np.all(np.diff(lin[np.argsort(s)]) >= -1e-12)  # monotone in the score
    assert np.array_equal(d.predict(x), (s > d.threshold_).astype(int))
    fitted_params = d.get_params()
    again = clone(d).fit(digits_task.train_x, X_val=digits_task.val_x)
    assert again.get_params() == fitted_params
    np.testing.assert_array_equal(again.decision_function(x), s)


def test_fit_accepts_numpy_and_defaults_validation_to_training(digits_task):
    x = digits_task.train_x.numpy()
    d = make_detector("kde").fit(x)
    assert d.threshold_ == pytest.approx(np.quantile(d.decision_scores_, 0.9))


def test_explanation_is_typed_and_terms_aggregate_to_the_score(task8):
    det = fit_task(make_detector("toll", "quick", iterations=20, batch_size=32, latent_dim=8,
                                 width=4), task8)
    x = task8.test_x[:7]
    ex = det.explain(x)
    assert isinstance(ex, Explanation)
    assert ex.has("reconstruction", "error_map", "latent", "score_terms")
    assert not ex.has("softmax") and "softmax" not in ex.available()
    np.testing.assert_allclose(ex.aggregated_terms(), det.decision_function(x), rtol=1e-4,
                               atol=1e-5)
    back = Explanation.from_arrays(ex.to_arrays())
    assert back.available() == ex.available()
    rep = det.report_
    assert rep.phases and rep.phases[0].losses and rep.select == "best"
    assert rep.selected_step is not None and rep.phases[0].steps_per_epoch


def test_fit_report_reads_lisae_phases_and_old_histories():
    old = {"phase1_step": [1, 2], "phase1_loss": [2.0, 1.0], "phase1_val_step": [2],
           "phase1_val": [1.5], "phase1_best_step": [2], "phase1_cancelled": [False],
           "phase1_bce": [0.7, 0.6], "phase2_step": [1], "phase2_loss": [3.0],
           "phase2_val_step": [1], "phase2_val": [2.0], "phase2_best_step": [1],
           "phase2_cancelled": [True]}
    rep = FitReport.from_history(old)
    assert [p.name for p in rep.phases] == ["phase1", "phase2"]
    assert rep.phase("phase1").curves == {"bce": (0.7, 0.6)}
    assert rep.cancelled and rep.selected_step == 1
    assert rep.phase("phase1").epoch_losses() == ()  # old runs did not record epoch length


def test_detectors_ask_for_negatives_instead_of_loading_data():
    assert make_detector("lisae").negatives_request() == NegativesRequest("task-or-strokes", 0)
    assert make_detector("lisae", negatives="strokes", seed=3).negatives_request() == \
        NegativesRequest("strokes", 3)
    assert make_detector("toll").negatives_request() is None
    req = make_detector("toll", select="labelled_val", n_val_anomalies=9).negatives_request()
    assert req == NegativesRequest("labelled-anomalies", 0, 9)


def test_lisae_without_negatives_is_a_clear_error(digits_task):
    with pytest.raises(BadDataError, match="negative samples"):
        make_detector("lisae", epochs=1, phase2_epochs=1).fit(digits_task.train_x)


def test_one_name_per_concept_with_old_names_still_read():
    neu = get_detector_class("neutral")(z_dim=16, batch_norm=True, scaling="standard")
    assert (neu.latent_dim, neu.batchnorm, neu.preprocess) == (16, True, "standard")
    assert neu.resolve_params("breast_cancer", (30,))["preprocess"] == "features"
    assert get_detector_class("neutral").canonical_params(
        {"z_dim": 8, "batch_norm": False, "scaling": "standard"}) == {
        "latent_dim": 8, "batchnorm": False, "preprocess": "features"}
    ifo = make_detector("iforest", standardize="yes")
    assert ifo.resolve_params()["preprocess"] == "features"
    toll = get_detector_class("toll")
    assert toll.canonical_params({"select": "best", "selection": "labelled_val"})["select"] == \
        "labelled_val"
    assert toll.canonical_params({"selection": "labelled_val", "select": "best"})["select"] == \
        "labelled_val"  # whichever order the old run stored them in
    assert toll.canonical_params({"select": "last", "selection": "val_loss"})["select"] == "last"
    assert toll.canonical_params({"selection": "val_loss"}) == {"select": "best"}
    assert make_detector("toll", selection="labelled_val").negatives_request().kind == \
        "labelled-anomalies"
    assert make_detector("toll", select="best", selection="labelled_val").negatives_request() \
        .kind == "labelled-anomalies"  # the constructor follows the same rule
    assert make_detector("toll", select="last", selection="val_loss").resolve_params()[
        "select"] == "last"
    for name in NAMES:  # no two parameters of one detector share a name or an alias
        names = [n for p in get_detector_class(name).params for n in (p.name, *p.aliases)]
        assert len(names) == len(set(names)), name


def test_a_run_saved_with_old_parameter_names_loads_with_identical_scores(tabular_task, tmp_path):
    import json

    from ad_core.detectors import load_detector

    det = fit_task(make_detector("kde", preprocess="features"), tabular_task)
    det.save(tmp_path / "d")
    meta_path = tmp_path / "d" / "detector.json"
    meta = json.loads(meta_path.read_text())
    meta["user_params"] = {"standardize": "yes"}  # as the code before issue 10 wrote it
    meta["params"] = {("standardize" if k == "preprocess" else k): ("yes" if k == "preprocess"
                                                                     else v)
                      for k, v in meta["params"].items()}
    meta_path.write_text(json.dumps(meta))
    again = load_detector(tmp_path / "d")
    assert again.params_["preprocess"] == "features" and again.preprocess == "features"
    x = tabular_task.test_x
    np.testing.assert_array_equal(again.decision_function(x), det.decision_function(x))
