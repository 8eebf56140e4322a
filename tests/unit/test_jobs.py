"""Background training jobs: completion through the real pipeline, cancel, FIFO, owner isolation."""

from __future__ import annotations

import threading
import time

import pytest

from ad_core import jobs
from ad_core.errors import UnknownNameError
from ad_core.experiment import ExperimentResult, ExperimentSpec
from ad_core.runs import load_run

SPEC = ExperimentSpec("digits", ["0"], "iforest", params={"n_estimators": 20}, explain_n=10,
                      embed_n=50)


def test_job_runs_to_completion_and_saves_its_run(tmp_path) -> None:
    m = jobs.JobManager(root=tmp_path)
    jid = m.submit(SPEC, owner="alice")
    s = m.wait(jid, "alice", timeout=60)
    assert s.status == jobs.DONE, s.error
    assert s.saved and s.fraction == 1.0 and s.result["auroc"] > 0.5
    run = load_run(s.run_id, root=tmp_path)
    assert run.config["detector"] == "iforest" and run.config["status"] == "done"
    assert len(s.losses) == 1  # the classical fit reports its single step


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
    m = jobs.JobManager(root=tmp_path)
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
    m = jobs.JobManager(root=tmp_path)
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


def test_failed_job_reports_a_plain_error(tmp_path) -> None:
    m = jobs.JobManager(root=tmp_path)
    bad = ExperimentSpec("digits", ["0"], "iforest", params={"n_estimators": 1})
    s = m.wait(m.submit(bad, "carol"), "carol", timeout=30)
    assert s.status == jobs.FAILED and "n_estimators" in s.error and not s.saved
