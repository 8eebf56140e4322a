"""The run store: a classical run saved through ``run_experiment`` reloads with identical scores;
writes are atomic; run ids are checked; nothing is pickled."""

from __future__ import annotations

import numpy as np
import pytest

from ad_core.errors import UnknownNameError, UserError
from ad_core.experiment import ExperimentSpec, run_experiment
from ad_core.runs import (
    check_run_id,
    delete_run,
    list_runs,
    load_npz,
    load_run,
    new_run_id,
    save_npz,
    save_run,
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    spec = ExperimentSpec(dataset="digits", normal=["0"], detector="iforest", explain_n=16,
                          embed_n=40, params={"n_estimators": 50})
    return root, run_experiment(spec, root=root)


def test_round_trip_identical_scores(saved):
    root, res = saved
    run = load_run(res.run_id, root)
    assert run.config["detector"] == "iforest" and run.config["dataset"] == "digits"
    assert run.config["status"] == "done" and run.config["task_spec"]["normal"] == ["0"]
    assert run.metrics["auroc"] == pytest.approx(res.metrics["auroc"])
    np.testing.assert_array_equal(run.scores["test"], res.scores)
    np.testing.assert_array_equal(run.scores["test_y"], res.task.test_y)
    det = run.detector()
    np.testing.assert_array_equal(det.decision_function(res.task.test_x), res.scores)
    assert det.threshold_ == res.detector.threshold_
    x = run.test_x()
    assert run.inputs["test_x"].dtype == np.uint8 and x.shape == tuple(res.task.test_x.shape)
    np.testing.assert_allclose(x, res.task.test_x.numpy(), atol=0.5 / 255 + 1e-6)
    assert len(run.explain["index"]) == 16 and run.explain["latent"].shape[0] == 16
    assert run.embedding["features"].shape == (40, 64)
    assert res.run_id in [r.run_id for r in list_runs(root)]
    assert "iforest on digits" in run.title


def test_npz_files_never_hold_pickled_objects(saved, tmp_path):
    root, res = saved
    files = list((root / res.run_id).glob("*.npz"))
    assert {f.name for f in files} >= {"scores.npz", "inputs.npz", "explain.npz", "embedding.npz"}
    for f in files:
        with np.load(f, allow_pickle=False) as z:
            for k in z.files:
                assert z[k].dtype != object, (f.name, k)
    assert load_run(res.run_id, root).scores["test_kind"].dtype.kind == "U"
    p = tmp_path / "s.npz"
    save_npz(p, {"names": np.array(["a", "bb"], dtype=object), "none": None})
    out = load_npz(p)
    assert out["names"].dtype.kind == "U" and "none" not in out
    np.savez(tmp_path / "evil.npz", obj=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        load_npz(tmp_path / "evil.npz")


class _Exploding:
    def save(self, directory):
        (directory).mkdir()
        (directory / "half-written").write_text("x")
        raise RuntimeError("disk full")


def test_save_is_atomic(tmp_path):
    rid = new_run_id("iforest")
    with pytest.raises(RuntimeError, match="disk full"):
        save_run(rid, config={"a": 1}, metrics={}, detector=_Exploding(), root=tmp_path)
    assert list(tmp_path.iterdir()) == []
    save_run(rid, config={"a": 1}, metrics={"auroc": 0.5}, root=tmp_path)
    with pytest.raises(UserError, match="already exists"):
        save_run(rid, config={}, metrics={}, root=tmp_path)
    assert load_run(rid, tmp_path).metrics == {"auroc": 0.5}
    delete_run(rid, tmp_path)
    assert list_runs(tmp_path) == []


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", ".hidden", "x" * 200, "a..b", "run id",
                                 "..", "/abs"])
def test_bad_run_ids_are_rejected(tmp_path, bad):
    with pytest.raises(UnknownNameError):
        check_run_id(bad)
    with pytest.raises(UnknownNameError):
        load_run(bad, tmp_path)


def test_unknown_run_and_generated_ids(tmp_path):
    with pytest.raises(UnknownNameError, match="no saved run"):
        load_run("20990101-000000-x-abcdef", tmp_path)
    ids = {new_run_id("Le Détecteur/../x") for _ in range(5)}
    assert len(ids) == 5 and all(check_run_id(i) for i in ids)


def test_test_kinds_from_the_stored_kinds_or_the_labels(tmp_path):
    """One place gives every test row's kind; runs without ``test_kind`` fall back to labels."""
    save_run("k1", config={"created": 0}, metrics={}, root=tmp_path,
             scores={"test": np.zeros(3), "test_y": np.array([0, 1, 1]),
                     "test_kind": np.array(["normal", "flip", "cutout"])})
    save_run("k2", config={"created": 0}, metrics={}, root=tmp_path,
             scores={"test": np.zeros(3), "test_y": np.array([0, 1, 0])})
    assert load_run("k1", tmp_path).test_kinds().tolist() == ["normal", "flip", "cutout"]
    assert load_run("k2", tmp_path).test_kinds().tolist() == ["normal", "anomaly", "normal"]
