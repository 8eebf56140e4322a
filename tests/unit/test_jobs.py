"""Background training jobs: completion through the real pipeline, cancel, FIFO, owner isolation."""

from __future__ import annotations

import os
import threading
import time

import pytest

from ad_core import jobs, worker
from ad_core.errors import TrainingCancelledError, UnknownNameError
from ad_core.experiment import ExperimentResult, ExperimentSpec
from ad_core.runs import load_run

SPEC = ExperimentSpec("digits", ["0"], "iforest", params={"n_estimators": 20}, explain_n=10,
                      embed_n=50)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One job manager with a real training process for this module (spawned once: ~5 s)."""
    m = jobs.JobManager(root=tmp_path_factory.mktemp("job-runs"))
    yield m
    m.shutdown()


def test_job_runs_to_completion_in_the_training_process(trained) -> None:
    jid = trained.submit(SPEC, owner="alice")
    s = trained.wait(jid, "alice", timeout=120)
    assert s.status == jobs.DONE, s.error
    assert s.saved and s.fraction == 1.0 and s.result["auroc"] > 0.5
    run = load_run(s.run_id, root=trained.root)
    assert run.config["detector"] == "iforest" and run.config["status"] == "done"
    assert len(s.losses) == 1  # the classical fit reports its single step
    # it really ran in the other process, with all cores but one (at least 1)
    assert run.config["machine"]["torch_threads"] == worker.training_threads()
    assert trained._trainer is not None and trained._trainer.process.pid != os.getpid()


def test_a_deep_job_sends_live_snapshots_and_saves_its_replay(trained) -> None:
    from ad_core.snapshots import load_replay

    spec = ExperimentSpec("digits", ["0"], "ae", params={"epochs": 8}, explain_n=10, embed_n=50)
    jid = trained.submit(spec, owner="erin")
    seen: set[int] = set()
    t_end = time.time() + 120
    while time.time() < t_end:
        s = trained.snapshot(jid, "erin")
        if s.live is not None:
            seen.add(s.live["step"])
        if not s.active:
            break
        time.sleep(0.02)
    assert s.status == jobs.DONE, s.error
    assert s.n_live >= 10 and s.live["step"] == s.live["total"]  # one per snapshot, the last
    assert len(seen) >= 2  # the live histogram changed while the job ran
    rep = load_replay(load_run(s.run_id, root=trained.root).path)
    assert rep is not None and rep.final[-1] and len(rep) == s.n_live + 1


def test_cancel_reaches_a_deep_training_in_the_process(trained) -> None:
    spec = ExperimentSpec("digits", ["0"], "ae", params={"epochs": 500}, explain_n=10,
                          embed_n=50)
    jid = trained.submit(spec, owner="dan")
    t_end = time.time() + 60
    while trained.snapshot(jid, "dan").step < 3 and time.time() < t_end:
        time.sleep(0.05)
    live = trained.snapshot(jid, "dan")
    assert live.status == jobs.RUNNING and live.total > 0 and len(live.losses) >= 3
    trained.cancel(jid, "dan")
    s = trained.wait(jid, "dan", timeout=60)
    assert s.status == jobs.CANCELLED and s.step < s.total
    # the process survives a cancel and serves the next job
    nxt = trained.wait(trained.submit(SPEC, "dan"), "dan", timeout=60)
    assert nxt.status == jobs.DONE, nxt.error


def test_a_dead_training_process_fails_the_job_and_restarts(trained) -> None:
    trained.prestart()
    trained._trainer.process.kill()
    trained._trainer.process.join(5)
    s = trained.wait(trained.submit(SPEC, "erin"), "erin", timeout=120)
    assert s.status == jobs.DONE, s.error  # a fresh process took the job


def _fake_experiment(started: threading.Event, steps: int = 10_000, log: list | None = None):
    """A stand-in for run_experiment that trains 'forever' unless the monitor says stop."""

    def fake(spec, monitor, *, root=None, run_id=None):
        monitor.on_start(steps)
        if log is not None:
            log.append(run_id)
        started.set()
        for i in range(1, steps + 1):
            if monitor.should_stop():
                break
            monitor.on_step(i, 1.0 / i)
            time.sleep(0.002)
        monitor.on_end()
        return ExperimentResult(None, {"auroc": 0.5, "cancelled": True}, None, None, None)

    return fake


def test_cancel_running_and_queued_jobs_keeps_the_queue_going(tmp_path, monkeypatch) -> None:
    started, log = threading.Event(), []
    monkeypatch.setattr(jobs, "run_experiment", _fake_experiment(started, log=log))
    m = jobs.JobManager(root=tmp_path, process=False)
    first = m.submit(SPEC, "alice")
    second = m.submit(SPEC, "alice")
    third = m.submit(SPEC, "alice")
    assert started.wait(10)
    assert m.snapshot(second, "alice").status == jobs.QUEUED
    assert m.queue_position(second) == 0 and m.queue_position(third) == 1
    snap = m.cancel(second, "alice")  # queued: dropped at once
    assert snap.status == jobs.CANCELLED and m.queue_position(second) is None
    time.sleep(0.05)
    live = m.snapshot(first, "alice")
    assert live.status == jobs.RUNNING and live.step > 0 and live.eta is not None
    m.cancel(first, "alice")  # running: stops at its next step
    s1 = m.wait(first, "alice", timeout=10)
    assert s1.status == jobs.CANCELLED and 0 < s1.step < 10_000
    t_end = time.time() + 10
    while len(log) < 2 and time.time() < t_end:  # the third job starts after the first ended
        time.sleep(0.01)
    assert log == [m.snapshot(first, "alice").run_id, m.snapshot(third, "alice").run_id]
    assert m.snapshot(third, "alice").status == jobs.RUNNING
    m.cancel(third, "alice")
    assert m.wait(third, "alice", timeout=10).status == jobs.CANCELLED


def test_two_owners_do_not_see_each_others_jobs(tmp_path, monkeypatch) -> None:
    started = threading.Event()
    monkeypatch.setattr(jobs, "run_experiment", _fake_experiment(started, steps=50))
    m = jobs.JobManager(root=tmp_path, process=False)
    a = m.submit(SPEC, "alice")
    b = m.submit(SPEC, "bob")
    assert [s.job_id for s in m.list("alice")] == [a]
    assert [s.job_id for s in m.list("bob")] == [b]
    for call in (m.snapshot, m.cancel):
        with pytest.raises(UnknownNameError):
            call(a, "bob")
    # A reloaded page of alice's session knows the job id and may adopt it.
    assert m.adopt(a, "alice-reloaded").job_id == a
    assert [s.job_id for s in m.list("alice-reloaded")] == [a]
    assert m.adopt("0" * 24, "alice-reloaded") is None
    assert m.wait(b, "bob", timeout=10).status in (jobs.DONE, jobs.CANCELLED)


def test_failed_job_reports_a_plain_error(trained) -> None:
    bad = ExperimentSpec("digits", ["0"], "iforest", params={"n_estimators": 1})
    s = trained.wait(trained.submit(bad, "carol"), "carol", timeout=60)
    assert s.status == jobs.FAILED and "n_estimators" in s.error and not s.saved


def test_the_early_training_process_is_started_once_per_server(monkeypatch) -> None:
    """app.py calls start_early() on every script run; only the first may spawn a process."""
    started = []

    class Fake:
        alive = True

        def __init__(self) -> None:
            started.append(self)

    monkeypatch.setattr(worker, "TrainingProcess", Fake)
    monkeypatch.setattr(worker, "_early", None)
    monkeypatch.setattr(worker, "_early_started", False)
    worker.start_early()
    assert worker.take_early() is started[0]
    worker.start_early()  # a rerun after the job manager adopted it
    worker.start_early()
    assert len(started) == 1 and worker.take_early() is None


@pytest.mark.parametrize("exc, status, error", [
    (ValueError("boom"), jobs.FAILED, "Training failed with an internal error (ValueError: boom)."),
    (UnknownNameError("no such class"), jobs.FAILED, "no such class"),
    (TrainingCancelledError("Stopped early."), jobs.CANCELLED, "Stopped early.")])
def test_process_false_ends_a_job_through_the_same_messages(tmp_path, monkeypatch, exc, status,
                                                            error) -> None:
    """process=False (tests) runs the job in a thread through worker.run_job, so how a training
    ended maps to a job status in one place (JobManager._run), as for the training process."""

    def failing(spec, monitor, *, root=None, run_id=None):
        monitor.on_start(3)
        raise exc

    monkeypatch.setattr(jobs, "run_experiment", failing)
    m = jobs.JobManager(root=tmp_path, process=False)
    s = m.wait(m.submit(SPEC, "dora"), "dora", timeout=10)
    assert (s.status, s.error, s.saved) == (status, error, False)
    assert isinstance(m._trainer, worker.ThreadTrainer)
