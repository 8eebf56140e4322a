"""The job manager's pool of training processes (issue 24): two workers train two different jobs
at once and give the one-worker runs' scores; a worker killed mid-job is replaced and its job fails
with a message; ETAs count the workers. Real processes, digits and breast cancer, IsolationForest
and a few epochs of the small autoencoder (about 30 s on 2 cores)."""

from __future__ import annotations

import collections
import threading
import time

import numpy as np
import pytest

from ad_core import jobs
from ad_core.experiment import ExperimentResult, ExperimentSpec
from ad_core.runs import load_run

DIGITS = ExperimentSpec("digits", ["3"], "ae", params={"epochs": 8}, seed=1, explain_n=10,
                        embed_n=50)
CANCER = ExperimentSpec("breast_cancer", ["benign"], "iforest", params={"n_estimators": 30},
                        seed=2, explain_n=10, embed_n=50)
LONG = ExperimentSpec("digits", ["0"], "ae", params={"epochs": 500}, explain_n=10, embed_n=50)


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """A manager with two training processes (spawned once for the module)."""
    m = jobs.JobManager(root=tmp_path_factory.mktemp("pool-runs"), workers=2, journal=False)
    m.prestart()
    yield m
    m.shutdown()


def _scores(m: jobs.JobManager, snap: jobs.JobSnapshot) -> np.ndarray:
    return load_run(snap.run_id, root=m.root).scores["test"]


def test_two_workers_train_two_jobs_at_once_with_the_one_worker_scores(pool, tmp_path,
                                                                       monkeypatch) -> None:
    # the same torch threads for every job (by default a job's count follows the server's load,
    # and CPU sums in another order differ in the last bits)
    monkeypatch.setenv("ANOMALY_LAB_TRAINING_THREADS", "1")
    a, b = pool.submit(DIGITS, "alice"), pool.submit(CANCER, "bob")
    sa, sb = pool.wait(a, "alice", timeout=180), pool.wait(b, "bob", timeout=180)
    assert sa.status == sb.status == jobs.DONE, (sa.error, sb.error)
    ja, jb = pool._jobs[a], pool._jobs[b]
    assert {ja.slot, jb.slot} == {0, 1}  # each on its own process …
    assert sa.started < sb.finished and sb.started < sa.finished  # … at the same time
    one = jobs.JobManager(root=tmp_path, workers=1, journal=False)
    try:
        for spec, two in ((DIGITS, sa), (CANCER, sb)):
            s = one.wait(one.submit(spec, "carol"), "carol", timeout=180)
            assert s.status == jobs.DONE, s.error
            assert s.result["auroc"] == two.result["auroc"]
            np.testing.assert_array_equal(_scores(one, s), _scores(pool, two))
    finally:
        one.shutdown()


def test_a_killed_worker_is_replaced_and_its_job_fails_with_a_message(pool) -> None:
    victim = pool.submit(LONG, "dan")
    t_end = time.time() + 90
    while pool.snapshot(victim, "dan").step < 2 and time.time() < t_end:
        time.sleep(0.05)
    slot = pool._jobs[victim].slot
    assert slot is not None and pool.snapshot(victim, "dan").status == jobs.RUNNING
    other = pool.submit(CANCER, "erin")  # the other worker goes on meanwhile
    dead = pool._slots[slot]
    dead.process.kill()
    s = pool.wait(victim, "dan", timeout=60)
    assert s.status == jobs.FAILED and not s.saved
    assert "stopped unexpectedly" in s.error and "exit code -9 (killed)" in s.error
    assert "submit the job again" in s.error
    fresh = pool._slots[slot]
    assert fresh is not dead and fresh.alive and fresh.process.pid != dead.process.pid
    assert pool.wait(other, "erin", timeout=120).status == jobs.DONE
    again = [pool.submit(CANCER, o) for o in ("f1", "f2")]  # both slots serve again
    assert [pool.wait(j, o, timeout=120).status for j, o in zip(again, ("f1", "f2"))] == \
        [jobs.DONE, jobs.DONE]


def test_the_wait_estimate_counts_the_workers(tmp_path, monkeypatch) -> None:
    """Two workers busy for 10 s more, two 10-s jobs ahead: the third waits 20 s, not 40."""
    release = threading.Event()

    def held(spec, monitor, *, root=None, run_id=None):
        monitor.on_start(1)
        release.wait(10)
        return ExperimentResult(None, {"auroc": 0.5, "cancelled": False}, None, None, None)

    monkeypatch.setattr(jobs, "run_experiment", held)
    m = jobs.JobManager(root=tmp_path, process=False, workers=2, journal=False)
    m._durations[jobs.duration_key(CANCER)] = [10.0]
    ids = [m.submit(CANCER, f"o{i}") for i in range(5)]
    t_end = time.time() + 5
    while sum(m.snapshot(j, f"o{i}").status == jobs.RUNNING for i, j in enumerate(ids)) < 2:
        assert time.time() < t_end
        time.sleep(0.01)
    waits = [m.queue_info(j).wait_s for j in ids[2:]]
    assert waits == pytest.approx([10.0, 10.0, 20.0], abs=0.5)
    release.set()
    for i, j in enumerate(ids):
        assert m.wait(j, f"o{i}", timeout=10).status == jobs.DONE


def test_on_two_cores_a_lone_job_takes_both_and_a_class_leaves_one_to_the_server(monkeypatch):
    from ad_core import worker

    for name in ("ANOMALY_LAB_TRAINING_THREADS", "ANOMALY_LAB_TRAIN_THREADS",
                 "ANOMALY_LAB_TRAINING_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(worker, "usable_cores", lambda: 2)
    assert (worker.job_threads(busy=False), worker.job_threads(busy=True)) == (2, 1)
    assert worker.training_workers() == 1
    assert worker.job_threads(busy=False, workers=2) == 1  # two slots on 2 cores: one thread each
    monkeypatch.setattr(worker, "usable_cores", lambda: 8)  # a pool of one-thread jobs
    assert (worker.job_threads(busy=False), worker.job_threads(busy=True)) == (1, 1)
    assert worker.training_workers() == 7
    assert worker.job_threads(busy=False, workers=3) == 2
    monkeypatch.setattr(worker, "usable_cores", lambda: 2)
    monkeypatch.setenv("ANOMALY_LAB_TRAINING_THREADS", "3")  # the user's choice always wins
    assert (worker.job_threads(busy=False), worker.job_threads(busy=True)) == (3, 3)


def test_a_job_is_busy_when_others_wait_or_a_class_follows_it(tmp_path) -> None:
    m = jobs.JobManager(root=tmp_path, workers=1, journal=False, process=False)
    job = jobs._Job.__new__(jobs._Job)
    job.owners = ["a"]
    assert not m._busy(job)
    job.owners = ["a", "b", "c"]
    assert m._busy(job)
    job.owners = ["a"]
    m._queues["b"] = collections.deque(["queued-job"])
    assert m._busy(job)


def test_the_running_job_takes_the_thread_count_the_server_wants_between_steps() -> None:
    import multiprocessing

    import torch

    from ad_core import worker
    from ad_core.device import set_threads

    sent = []
    wanted = multiprocessing.Value("i", 0, lock=False)
    monitor = worker.PipeMonitor(type("Conn", (), {"send": staticmethod(sent.append)})(),
                                 threading.Event(), wanted)
    before = set_threads(2)
    try:
        monitor.on_step(1, 0.5)
        assert torch.get_num_threads() == 2  # 0 = keep
        wanted.value = 1
        monitor.on_step(2, 0.4)
        assert torch.get_num_threads() == 1 and sent[-1][:2] == ("step", 2)
        assert monitor.thread_changes == [[2, 1]]  # the run records it
    finally:
        set_threads(before)


def test_a_job_drops_to_one_thread_when_a_queue_forms_and_its_run_says_so(tmp_path,
                                                                          monkeypatch) -> None:
    from ad_core import worker

    for name in ("ANOMALY_LAB_TRAINING_THREADS", "ANOMALY_LAB_TRAIN_THREADS",
                 "ANOMALY_LAB_TRAINING_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(worker, "usable_cores", lambda: 2)  # the parent decides the count
    m = jobs.JobManager(root=tmp_path, workers=1, journal=False)
    try:
        first = m.submit(ExperimentSpec("digits", ["1"], "ae", params={"epochs": 150},
                                        explain_n=10, embed_n=50), "ann")
        t_end = time.time() + 120
        while m.snapshot(first, "ann").step < 3 and time.time() < t_end:
            time.sleep(0.05)
        queued = m.submit(CANCER, "ben")  # a queue forms: the running job takes one thread
        s = m.wait(first, "ann", timeout=180)
        assert s.status == jobs.DONE, s.error
        machine = load_run(s.run_id, tmp_path).config["machine"]
        assert machine["torch_threads"] == 1
        assert [t for _, t in machine["thread_changes"]][-1] == 1
        assert m.wait(queued, "ben", timeout=120).status == jobs.DONE
    finally:
        m.shutdown()
