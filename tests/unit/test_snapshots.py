"""Training snapshots (ad_core.snapshots): when they are taken, that they change nothing the model
learns, that the one at the checkpoint is the run's final scores, the size cap, older runs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from ad_core import snapshots as S
from ad_core.experiment import ExperimentSpec, run_experiment


def test_snapshot_steps_increase_cover_the_phase_and_are_denser_early() -> None:
    for total in (13, 100, 400, 5000, 100_000):
        steps = S.snapshot_steps(total)
        assert steps == sorted(set(steps)) and len(steps) == S.POINTS
        assert steps[-1] == total and steps[0] <= max(2, 0.02 * total)
        gaps = np.diff(steps)
        assert gaps[0] < gaps[-1] or total < 2 * S.POINTS  # denser early
    assert S.snapshot_steps(5) == [1, 2, 3, 4, 5]
    assert S.snapshot_steps(0) == []


def test_the_subsample_is_balanced_in_every_prefix() -> None:
    y = np.array([0] * 300 + [1] * 40 + [0] * 100)
    idx = S.balanced_subsample(y, 500, seed=3)
    assert len(idx) == len(set(idx.tolist())) == 440  # all of them: fewer than 500
    first = y[idx[:80]]
    assert first.sum() == 40  # interleaved: the 40 anomalies come first, one per two
    big = S.balanced_subsample(np.array([0] * 900 + [1] * 900), 500, seed=0)
    assert len(big) == 500 and np.asarray([0] * 900 + [1] * 900)[big].sum() == 250


def _fit(detector: str, params: dict, recorder=None, tmp_path=None, dataset: str = "digits"):
    spec = ExperimentSpec(dataset, ["3"], detector, params=params, seed=1)
    return run_experiment(spec, recorder, root=tmp_path, save=tmp_path is not None,
                          artifacts=False)


@pytest.mark.parametrize("detector,params", [
    ("ae", {"epochs": 6}),
    ("toll", {"iterations": 60}),
    ("neutral", {"epochs": 4}),
    ("geotrans", {"epochs": 2}),
    ("lisae", {"epochs": 4, "phase2_epochs": 3}),
    ("cae_ocsvm", {"epochs": 12}),
    ("iforest", {}),
])
def test_snapshots_change_nothing_and_the_last_is_the_final_scores(detector, params,
                                                                   tmp_path) -> None:
    plain = _fit(detector, params)
    rec = S.SnapshotRecorder()
    res = _fit(detector, params, rec, tmp_path)
    # the same model: snapshots put the nets in eval mode and restore every random generator
    np.testing.assert_array_equal(plain.scores, res.scores)
    path = rec.save(res.detector, tmp_path / res.run_id)
    rep = S.load_replay(tmp_path / res.run_id)
    assert path is not None and rep is not None
    assert rep.final.tolist() == [False] * (len(rep) - 1) + [True]
    # the final snapshot is the run's final scores of those samples, at the checkpoint's step
    np.testing.assert_allclose(rep.scores[-1], res.scores[rep.index], rtol=1e-5, atol=1e-6)
    assert rep.step[-1] == rep.meta["checkpoint_step"]
    train_steps = rep.step[:-1]
    if detector == "iforest":  # no training steps: the final snapshot only
        assert len(rep) == 1
        return
    assert np.all(np.diff(train_steps) > 0) and len(train_steps) >= 10
    total = sum(rep.meta["phase_totals"])
    assert train_steps[0] <= 2 and train_steps[-1] == total  # they cover the fit
    assert set(np.unique(rep.y).tolist()) == {0, 1}
    assert np.all((rep.auroc >= 0) & (rep.auroc <= 1))
    assert rep.codes is not None and rep.codes.shape[0] == len(rep)
    assert rep.views, "the method's own view of 8 samples is kept"
    assert all(v.shape[:2] == (len(rep), len(rep.view_index)) for v in rep.views.values())
    if detector in ("toll", "neutral"):  # select the last step: it is the checkpoint
        assert rep.meta["checkpoint_max_abs_diff"] < 1e-4


def test_the_size_cap_holds_on_a_long_run(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(S, "OVERHEAD", 10.0)  # as many samples as allowed: the worst case
    rec = S.SnapshotRecorder()
    res = _fit("ae", {"epochs": 150}, rec, tmp_path)
    path = rec.save(res.detector, tmp_path / res.run_id)
    rep = S.load_replay(tmp_path / res.run_id)
    assert sum(rep.meta["phase_totals"]) >= 300  # a long run: hundreds of steps…
    assert len(rep) <= S.POINTS + 2  # …and still a dozen snapshots
    assert os.path.getsize(path) <= S.MAX_BYTES
    assert rep.scores.shape[1] == len(rep.index) > S.MIN_SAMPLES


def test_codes_and_views_are_thinned_to_their_budget(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(S, "CODE_BYTES", 40_000)
    rec = S.SnapshotRecorder()
    res = _fit("ae", {"epochs": 3}, rec, tmp_path)
    arrays = rec.arrays(res.detector)
    assert arrays["codes"].nbytes <= 40_000 and arrays["codes"].shape[1] < len(arrays["index"])
    big = {"reconstruction": np.zeros((8, 1, 64, 64)), "latent_norm": np.ones(8)}
    kept = S._view_arrays(big, budget=1_000)
    assert list(kept) == ["latent_norm"] and kept["latent_norm"].dtype == np.float16


def test_a_run_without_snapshots_reads_as_none(tmp_path) -> None:
    res = _fit("iforest", {}, None, tmp_path)
    assert S.load_replay(tmp_path / res.run_id) is None


def test_the_live_callback_gets_each_snapshot(tmp_path) -> None:
    seen: list[dict] = []
    rec = S.SnapshotRecorder(on_snapshot=seen.append)
    _fit("toll", {"iterations": 40}, rec)
    assert len(seen) == len(rec.snapshots) >= 10
    last = seen[-1]
    assert last["step"] == 40 and last["total"] == 40 and 0 <= last["auroc"] <= 1
    assert len(last["scores"]) == len(last["labels"]) >= S.MIN_SAMPLES
    json.dumps(last)  # plain data: it crosses a process pipe and Ray's object store


def test_the_views_of_a_run_stay_under_their_cap(tmp_path, monkeypatch) -> None:
    rec = S.SnapshotRecorder()
    res = _fit("ae", {"epochs": 3}, rec, tmp_path)
    arrays = rec.arrays(res.detector)
    kept = {k: v.nbytes for k, v in arrays.items() if k.startswith("view_") and k != "view_index"}
    assert "view_reconstruction" in kept
    monkeypatch.setattr(S, "VIEW_BYTES", sum(kept.values()) - 1)  # one byte too many: one goes
    thinner = rec.arrays(res.detector)
    left = [k for k in thinner if k.startswith("view_") and k != "view_index"]
    assert len(left) == len(kept) - 1 and max(kept, key=kept.get) not in left


def test_geotrans_mid_training_alpha_ranks_like_the_fitted_one() -> None:
    """GeoTrans's interim α (Wicker's closed form, no fixed point) is added and reported for
    removal, and scores the test set in nearly the fitted α's order."""
    from scipy.stats import spearmanr

    res = _fit("geotrans", {"epochs": 2})
    det, task = res.detector, res.task
    fitted = det._score(task.test_x[:200])
    alpha = det.alpha_
    del det.alpha_
    assert det._interim_state(task.train_x[:64]) == ["alpha_"]
    assert det.alpha_.shape == alpha.shape and np.all(det.alpha_ > 0)
    assert spearmanr(fitted, det._score(task.test_x[:200]))[0] > 0.95
    assert det._interim_state(task.train_x[:64]) == []  # a fitted detector keeps its own state
