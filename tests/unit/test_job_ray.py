"""The app's jobs on Ray (``ANOMALY_LAB_ENGINE=ray``, issue 24): a job runs end to end as a Ray task
on a local Ray started here, lands in the run store the app reads (found again by its content key)
with the local training process's scores, and a cancel reaches the running task. Skipped when Ray
is not installed (requirements-scale.txt); about 40 s on 2 cores, most of it Ray's start."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ad_core import jobs
from ad_core.device import set_threads
from ad_core.experiment import ExperimentSpec, run_experiment
from ad_core.runs import load_run
from ad_core.worker import training_threads

ray = pytest.importorskip("ray")

SPEC = ExperimentSpec("digits", ["5"], "iforest", params={"n_estimators": 25}, seed=3,
                      explain_n=10, embed_n=50)
LONG = ExperimentSpec("digits", ["0"], "ae", params={"epochs": 500}, explain_n=10, embed_n=50)


@pytest.fixture(scope="module")
def on_ray(tmp_path_factory):
    """A job manager whose jobs are Ray tasks on a local Ray of 2 CPUs that the manager starts
    itself, as in the app: from its start-up thread, which ends (Ray's processes must outlive
    it)."""
    if ray.is_initialized():
        ray.shutdown()
    m = jobs.JobManager(root=tmp_path_factory.mktemp("ray-runs"), engine="ray", workers=2,
                        journal=False)
    m.prestart()
    t_end = time.time() + 120
    while not m.trainer_ready() and time.time() < t_end:
        time.sleep(0.1)
    assert m.trainer_ready() and ray.is_initialized()
    assert ray.cluster_resources()["CPU"] == 2 * training_threads()  # workers × threads
    yield m
    m.shutdown()
    ray.shutdown()


def test_a_job_runs_as_a_ray_task_into_the_run_store(on_ray, tmp_path) -> None:
    jid = on_ray.submit(SPEC, "alice", reuse=True)
    s = on_ray.wait(jid, "alice", timeout=120)
    assert s.status == jobs.DONE and s.saved and not s.reused, s.error
    assert len(s.losses) == 1 and s.fraction == 1.0  # its progress came back through the channel
    run = load_run(s.run_id, root=on_ray.root)
    assert run.config["status"] == "done" and run.config["machine"]["torch_threads"] == training_threads()
    # the same experiment again: found in the store by its content key, not trained again
    again = on_ray.wait(on_ray.submit(SPEC, "bob", reuse=True), "bob", timeout=60)
    assert again.status == jobs.DONE and again.reused and again.run_id == s.run_id
    # the same experiment trained here, on the same threads, gives the same scores
    before = set_threads(training_threads())
    try:
        here = run_experiment(SPEC, root=tmp_path)
    finally:
        set_threads(before)
    assert here.metrics["auroc"] == s.result["auroc"]
    np.testing.assert_array_equal(load_run(here.run_id, root=tmp_path).scores["test"],
                                  run.scores["test"])


def test_cancel_reaches_a_running_ray_task(on_ray) -> None:
    jid = on_ray.submit(LONG, "dan")
    t_end = time.time() + 90
    while on_ray.snapshot(jid, "dan").step < 3 and time.time() < t_end:
        time.sleep(0.05)
    live = on_ray.snapshot(jid, "dan")
    assert live.status == jobs.RUNNING and live.total > 0 and len(live.losses) >= 3
    on_ray.cancel(jid, "dan")
    s = on_ray.wait(jid, "dan", timeout=60)
    assert s.status == jobs.CANCELLED and s.step < s.total, s.error
    assert s.saved and load_run(s.run_id, root=on_ray.root).config["status"] == "cancelled"
