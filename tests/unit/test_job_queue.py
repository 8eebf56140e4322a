"""The shared job queue: content keys, reuse and join, round-robin fairness, journal recovery.

Nothing trains here: ``jobs.run_experiment`` is replaced by :class:`Gate`, a fake that blocks each
job until the test releases it by run id, and the managers get a fake keyer (a hash of the spec),
except in the content-key tests, which call the real :func:`ad_core.experiment.run_key`.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import shutil
import threading
import time
from dataclasses import asdict, replace

import pytest

from ad_core import experiment, jobs, runkey
from ad_core.errors import UnknownNameError
from ad_core.experiment import ExperimentResult, ExperimentSpec
from ad_core.runs import find_run, save_run

SPEC = ExperimentSpec("digits", ["0"], "iforest", params={"n_estimators": 20}, explain_n=10,
                      embed_n=50)
OTHER = replace(SPEC, normal=["1"])  # another experiment (another key)


# ----------------------------------------------------------------------------- helpers
def spec_keyer(spec: ExperimentSpec) -> tuple[str, dict]:
    """A fake keyer: equal specs → equal keys (24 hex, as ``find_run`` requires)."""
    return hashlib.sha256(repr(asdict(spec)).encode()).hexdigest()[:24], {}


def wait_for(pred, timeout: float = 5.0, what: str = "condition") -> None:
    t_end = time.time() + timeout
    while not pred():
        if time.time() > t_end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


class Gate:
    """A stand-in for ``run_experiment`` that holds every job until ``release(run_id)``.

    Records the calls in order; answers the monitor's ``should_stop`` only when released (so a
    cancel takes effect at a point the test chooses)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ExperimentSpec]] = []
        self.stopped: dict[str, bool] = {}
        self.managers: list[jobs.JobManager] = []
        self.opened = threading.Event()
        self._events: dict[str, threading.Event] = collections.defaultdict(threading.Event)
        self._lock = threading.Lock()

    def __call__(self, spec, monitor, *, root=None, run_id=None):
        with self._lock:
            self.calls.append((run_id, spec))
            ev = self._events[run_id]
        monitor.on_start(1)  # no steps: a running job has no step-based ETA
        while not ev.wait(0.005) and not self.opened.is_set():
            pass
        stop = monitor.should_stop()
        self.stopped[run_id] = stop
        return ExperimentResult(None, {"auroc": 0.9, "cancelled": stop}, None, None, None)

    @property
    def run_ids(self) -> list[str]:
        with self._lock:
            return [r for r, _ in self.calls]

    def release(self, run_id: str) -> None:
        with self._lock:
            self._events[run_id].set()

    def manager(self, root, **kw) -> jobs.JobManager:
        kw.setdefault("keyer", spec_keyer)
        m = jobs.JobManager(root=root, process=False, **kw)
        self.managers.append(m)
        return m

    def started(self, m: jobs.JobManager, job_id: str, owner: str) -> jobs.JobSnapshot:
        """Wait until ``job_id`` runs inside the gate; its snapshot."""
        wait_for(lambda: m.snapshot(job_id, owner).run_id in self.run_ids, what="job start")
        s = m.snapshot(job_id, owner)
        assert s.status == jobs.RUNNING
        return s

    def finish(self, m: jobs.JobManager, job_id: str, owner: str) -> jobs.JobSnapshot:
        """Release a running job and wait until it has ended; its snapshot."""
        self.release(self.started(m, job_id, owner).run_id)
        wait_for(lambda: not m.snapshot(job_id, owner).active, what="job end")
        return m.snapshot(job_id, owner)


@pytest.fixture
def gate(monkeypatch):
    g = Gate()
    monkeypatch.setattr(jobs, "run_experiment", g)
    yield g
    # Drop every job still waiting (so no leftover job ever reaches the real run_experiment),
    # then let the running ones end.
    for m in g.managers:
        for j in list(m._jobs.values()):
            for o in list(j.owners) if j.status in jobs.ACTIVE else []:
                with contextlib.suppress(UnknownNameError):
                    m.cancel(j.job_id, o)
    g.opened.set()
    for m in g.managers:
        wait_for(lambda m=m: not m.busy(), what="managers idle at teardown")


def keyed(m: jobs.JobManager, job_id: str, owner: str) -> jobs.JobSnapshot:
    wait_for(lambda: not m.snapshot(job_id, owner).keying, what="keying")
    return m.snapshot(job_id, owner)


# ============================================================================ 1. content keys
KSPEC = ExperimentSpec("digits", ["0"], "iforest")


@pytest.fixture(scope="module")
def base_key() -> str:
    return experiment.run_key(KSPEC)[0]


def test_same_spec_same_key_and_parts_name_what_made_the_run(base_key) -> None:
    key, parts = experiment.run_key(replace(KSPEC, params={}, normal=["0"]))
    assert key == base_key and len(key) == 24 and int(key, 16) >= 0
    assert experiment.run_key(KSPEC)[0] == base_key  # deterministic
    assert parts["dataset"] == "digits" and parts["detector"] == "iforest"
    assert parts["params"]["n_estimators"] == 100 and parts["params"]["seed"] == 0
    assert parts["code"] == runkey.method_fingerprint("iforest")
    assert parts["data"] == experiment.data_fingerprint(KSPEC)


@pytest.mark.parametrize("change", [
    {"normal": ["1"]},
    {"normal": ["0", "1"]},
    {"task": "testbed"},
    {"params": {"n_estimators": 50}},
    {"seed": 1},
    {"dataset_options": {"variant": "x"}},
    {"dataset": "breast_cancer", "normal": ["benign"]},
    {"explain_n": 10},
    {"embed_n": 50},
])
def test_any_change_of_what_is_trained_gives_another_key(base_key, change) -> None:
    assert experiment.run_key(replace(KSPEC, **change))[0] != base_key


def test_parameters_are_keyed_resolved_not_as_typed(base_key) -> None:
    """A parameter given with its preset value, or the seed the spec gives anyway, is the same
    experiment."""
    assert experiment.run_key(replace(KSPEC, params={"n_estimators": 100}))[0] == base_key
    assert experiment.run_key(replace(KSPEC, params={"seed": 0}))[0] == base_key
    assert experiment.run_key(replace(KSPEC, params={"n_estimators": "100"}))[0] == base_key


def test_preset_changes_the_key_when_it_changes_the_parameters(base_key) -> None:
    ae = ExperimentSpec("digits", ["0"], "ae")
    assert experiment.run_key(ae)[0] != experiment.run_key(replace(ae, preset="paper"))[0]
    # iforest's two presets resolve to the same parameters: the preset is not itself part of
    # the key, so "paper" reuses a "quick" run (same model; the run's config says "quick").
    assert experiment.run_key(replace(KSPEC, preset="paper"))[0] == base_key


def test_data_and_method_code_are_part_of_the_key(base_key, monkeypatch) -> None:
    monkeypatch.setattr(experiment, "data_fingerprint", lambda spec: "0" * 16)
    other_data = experiment.run_key(KSPEC)[0]
    assert other_data != base_key
    monkeypatch.setattr(experiment, "method_fingerprint", lambda det: "f" * 16)
    assert experiment.run_key(KSPEC)[0] not in (base_key, other_data)
    monkeypatch.undo()
    assert experiment.run_key(KSPEC)[0] == base_key


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A throwaway ``ad_core`` package in tmp_path (fingerprint cache cleared around it)."""
    pkg = tmp_path / "ad_core"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "alpha.py": "from ad_core import beta\nfrom .sub.gamma import g\nimport numpy\n",
        "beta.py": "X = 1\n",
        "sub/__init__.py": "",
        "sub/gamma.py": "from ..delta import d\ng = 1\n",
        "delta.py": "d = 1\n",
        "unrelated.py": "from ad_core import beta\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    monkeypatch.setattr(runkey, "PACKAGE_ROOT", pkg)
    runkey._fingerprint.cache_clear()
    yield pkg
    runkey._fingerprint.cache_clear()


def test_code_fingerprint_covers_the_import_closure_only(fake_package) -> None:
    # parent packages count only when imported themselves (``from ad_core import beta``)
    assert runkey.module_closure("ad_core.alpha") == [
        "ad_core", "ad_core.alpha", "ad_core.beta", "ad_core.delta", "ad_core.sub.gamma"]
    fp = runkey.code_fingerprint("ad_core.alpha")
    assert len(fp) == 16 and runkey.code_fingerprint("ad_core.alpha") == fp

    (fake_package / "unrelated.py").write_text("from ad_core import beta\nY = 2\n")
    runkey._fingerprint.cache_clear()
    assert runkey.code_fingerprint("ad_core.alpha") == fp  # not in the closure

    (fake_package / "delta.py").write_text("d = 2\n")  # two imports deep, relative
    assert runkey.code_fingerprint("ad_core.alpha") == fp  # cached per process (documented)
    runkey._fingerprint.cache_clear()
    fp2 = runkey.code_fingerprint("ad_core.alpha")
    assert fp2 != fp
    assert runkey.code_fingerprint("ad_core.unrelated") not in (fp, fp2)


def test_real_detector_closures_are_separate() -> None:
    toll = runkey.module_closure("ad_core.detectors.toll")
    assert "ad_core.train" in toll and "ad_core.detectors.toll" in toll
    assert "ad_core.detectors.geotrans" not in toll
    assert runkey.detector_module("iforest") == "ad_core.detectors.classical"
    assert runkey.method_fingerprint("toll") != runkey.method_fingerprint("geotrans")


# ============================================================================ 2. reuse and join
def test_two_owners_share_one_training_then_the_saved_run_is_reused(tmp_path, gate) -> None:
    m = gate.manager(tmp_path)
    blocker = m.submit(OTHER, "zed")
    gate.started(m, blocker, "zed")
    a = m.submit(SPEC, "alice", reuse=True)
    b = m.submit(SPEC, "bob", reuse=True)  # while alice's job waits in the queue
    sb = keyed(m, b, "bob")
    sa = m.snapshot(a, "alice")
    assert m.resolve(b) == a and sb.job_id == a and sb.run_id == sa.run_id
    assert sb.joined and not sa.joined and sa.n_owners == sb.n_owners == 2
    assert sb.status == jobs.QUEUED and m.queue_info(b) == m.queue_info(a)
    assert m.queue_info(a).position == 0 and m.queue_info(a).queued == 1
    assert [s.job_id for s in m.list("bob")] == [a]

    gate.finish(m, blocker, "zed")
    gate.started(m, a, "alice")
    c = m.submit(SPEC, "carol", reuse=True)  # joins the running job
    sc = keyed(m, c, "carol")
    assert sc.job_id == a and sc.joined and sc.status == jobs.RUNNING and sc.n_owners == 3
    done = gate.finish(m, a, "alice")
    assert done.status == jobs.DONE and done.result["auroc"] == 0.9
    for jid, o in ((b, "bob"), (c, "carol")):
        assert m.snapshot(jid, o).status == jobs.DONE
    assert gate.run_ids.count(done.run_id) == 1 and len(gate.calls) == 2  # one training

    # The run is in the store under its key (what run_experiment saves): opened, not trained.
    key = spec_keyer(SPEC)[0]
    created = time.time() - 60
    save_run(done.run_id, config={**asdict(SPEC), "run_id": done.run_id, "run_key": key,
                                  "status": "done", "created": created},
             metrics={"auroc": 0.9}, root=tmp_path)
    assert find_run(key, tmp_path).run_id == done.run_id
    d = m.submit(SPEC, "dave", reuse=True)
    wait_for(lambda: not m.snapshot(d, "dave").active, what="reuse")
    sd = m.snapshot(d, "dave")
    assert sd.status == jobs.DONE and sd.reused and sd.run_id == done.run_id
    assert sd.reused_created == pytest.approx(created) and sd.result == {"auroc": 0.9}
    assert len(gate.calls) == 2

    fresh = m.submit(SPEC, "dave")  # reuse=False always trains
    sf = gate.started(m, fresh, "dave")
    assert not sf.reused and sf.run_id != done.run_id and len(gate.calls) == 3
    gate.finish(m, fresh, "dave")

    shutil.rmtree(tmp_path / done.run_id)  # a deleted run is not reused
    assert find_run(key, tmp_path) is None
    e = m.submit(SPEC, "erin", reuse=True)
    se = gate.started(m, e, "erin")
    assert not se.reused and se.run_id != done.run_id and len(gate.calls) == 4


def test_a_run_that_is_not_done_or_has_another_key_is_not_reused(tmp_path, gate) -> None:
    m = gate.manager(tmp_path)
    key = spec_keyer(SPEC)[0]
    save_run("r-cancelled", config={"run_key": key, "status": "cancelled", "created": 1.0},
             metrics={}, root=tmp_path)
    j = m.submit(SPEC, "alice", reuse=True)
    assert not gate.started(m, j, "alice").reused


def test_leaving_a_shared_running_job_does_not_stop_it(tmp_path, gate) -> None:
    m = gate.manager(tmp_path)
    a = m.submit(SPEC, "alice", reuse=True)
    gate.started(m, a, "alice")
    b = m.submit(SPEC, "bob", reuse=True)
    assert keyed(m, b, "bob").n_owners == 2
    left = m.cancel(b, "bob")
    assert left.status == jobs.CANCELLED and "goes on" in left.error
    sa = m.snapshot(a, "alice")
    assert sa.status == jobs.RUNNING and sa.n_owners == 1
    assert [s.job_id for s in m.list("bob")] == []
    done = gate.finish(m, a, "alice")
    assert done.status == jobs.DONE and gate.stopped[done.run_id] is False


def test_the_first_owner_leaving_a_shared_queued_job_leaves_it_queued(tmp_path, gate) -> None:
    m = gate.manager(tmp_path)
    blocker = m.submit(OTHER, "zed")
    gate.started(m, blocker, "zed")
    a = m.submit(SPEC, "alice", reuse=True)
    b = m.submit(SPEC, "bob", reuse=True)
    keyed(m, b, "bob")
    m.cancel(a, "alice")
    with pytest.raises(UnknownNameError):
        m.snapshot(a, "alice")
    sb = m.snapshot(b, "bob")
    assert sb.status == jobs.QUEUED and sb.n_owners == 1 and m.queue_info(b).position == 0
    gate.finish(m, blocker, "zed")
    assert gate.finish(m, b, "bob").status == jobs.DONE


def test_a_shared_queued_job_keeps_its_place_when_its_first_owner_leaves(tmp_path, gate) -> None:
    m = gate.manager(tmp_path)
    blocker = m.submit(OTHER, "zed")
    gate.started(m, blocker, "zed")
    c1 = m.submit(replace(SPEC, seed=7), "carol")
    a = m.submit(SPEC, "alice", reuse=True)
    b = m.submit(SPEC, "bob", reuse=True)
    keyed(m, b, "bob")
    assert (m.queue_position(c1), m.queue_position(a)) == (0, 1)
    m.cancel(a, "alice")
    assert (m.queue_position(c1), m.queue_position(b)) == (0, 1)


def test_a_new_submission_does_not_join_a_job_being_cancelled(tmp_path, gate) -> None:
    m = gate.manager(tmp_path)
    a = m.submit(SPEC, "alice", reuse=True)
    gate.started(m, a, "alice")
    m.cancel(a, "alice")  # asked to stop; it stops at its next step
    b = m.submit(SPEC, "bob", reuse=True)
    keyed(m, b, "bob")
    gate.release(m.snapshot(a, "alice").run_id)
    wait_for(lambda: m.snapshot(a, "alice").status == jobs.CANCELLED)
    assert m.snapshot(b, "bob").status != jobs.CANCELLED


# ============================================================================ 3. fairness, ETA
def test_round_robin_alternates_owners_with_queued_jobs(tmp_path, gate) -> None:
    m = gate.manager(tmp_path, journal=False)
    blocker = m.submit(OTHER, "Z")
    gate.started(m, blocker, "Z")
    a_jobs = [m.submit(replace(SPEC, seed=i), "A") for i in range(10)]
    b = m.submit(OTHER, "B")
    assert m.queue_position(b) == 1  # right after A's first
    assert [m.queue_position(j) for j in a_jobs[:3]] == [0, 2, 3]
    # cancelling a queued job frees its place
    m.cancel(b, "B")
    assert m.queue_info(b) is None
    assert [m.queue_position(j) for j in a_jobs[:3]] == [0, 1, 2]
    assert m.queue_info(a_jobs[9]).queued == 10 and m.queue_position(a_jobs[9]) == 9
    b2 = m.submit(OTHER, "B")
    m.cancel(a_jobs[0], "A")
    assert m.queue_position(b2) == 1 and m.queue_position(a_jobs[1]) == 0
    gate.finish(m, blocker, "Z")
    gate.finish(m, a_jobs[1], "A")
    assert gate.started(m, b2, "B").status == jobs.RUNNING
    assert gate.run_ids[1:] == [m.snapshot(a_jobs[1], "A").run_id, m.snapshot(b2, "B").run_id]


def test_a_newcomer_is_served_right_after_the_running_job(tmp_path, gate) -> None:
    m = gate.manager(tmp_path, journal=False)
    first = m.submit(replace(SPEC, seed=0), "A")
    gate.started(m, first, "A")
    for i in range(1, 10):
        m.submit(replace(SPEC, seed=i), "A")
    b = m.submit(OTHER, "B")
    assert m.queue_position(b) == 0


def test_wait_estimate_comes_from_measured_durations(tmp_path, gate) -> None:
    m = gate.manager(tmp_path, journal=False)
    j1 = m.submit(SPEC, "A")
    gate.started(m, j1, "A")
    j2 = m.submit(SPEC, "B")
    assert m.queue_info(j2) == jobs.QueueInfo(0, 1, None)  # nothing measured yet
    assert m.expected_duration(SPEC) is None
    time.sleep(0.2)
    gate.finish(m, j1, "A")  # a measured duration of ~0.2 s
    est = m.expected_duration(SPEC)
    assert est is not None and 0.2 <= est < 2.0
    gate.started(m, j2, "B")
    j3, j4 = m.submit(SPEC, "A"), m.submit(SPEC, "A")
    i3, i4 = m.queue_info(j3), m.queue_info(j4)
    assert (i3.position, i4.position, i4.queued) == (0, 1, 2)
    # the running job's estimated remainder (est - elapsed, >= 0), then est per job ahead
    assert 0.0 <= i3.wait_s <= est and est <= i4.wait_s <= i3.wait_s + est + 1e-9
    wait_for(lambda: m.snapshot(j2, "B").elapsed > est + 0.01, what="overrun")
    assert m.queue_info(j3) == jobs.QueueInfo(0, 2, 0.0)  # overran its estimate: 0, not < 0
    assert m.queue_info(j4) == jobs.QueueInfo(1, 2, est)
    # a job of an unmeasured detector/preset/dataset ahead makes later waits unknown
    m.cancel(j3, "A")
    other = m.submit(replace(SPEC, preset="paper"), "B")
    assert m.queue_position(other) == 1 and m.queue_info(other).wait_s is not None  # behind j4
    j5 = m.submit(SPEC, "A")
    assert m.queue_position(j5) == 2 and m.queue_info(j5).wait_s is None


# ============================================================================ 4. journal
def read_journal(root) -> dict:
    return json.loads((root / ".jobs" / "journal.json").read_text())


def test_a_restart_shows_queued_and_running_jobs_as_interrupted(tmp_path, gate) -> None:
    m1 = gate.manager(tmp_path)
    gate.finish(m1, m1.submit(SPEC, "alice"), "alice")  # a measured duration
    run = m1.submit(SPEC, "alice")
    gate.started(m1, run, "alice")
    queued = m1.submit(OTHER, "alice", label="second")
    shared = m1.submit(replace(SPEC, seed=3), "bob")
    data = read_journal(tmp_path)
    assert data["version"] == jobs.JOURNAL_VERSION
    assert {r["job_id"]: r["status"] for r in data["jobs"]} == {
        run: jobs.RUNNING, queued: jobs.QUEUED, shared: jobs.QUEUED}
    assert list(data["durations"]) == [jobs.duration_key(SPEC)]
    run_snap = m1.snapshot(run, "alice")

    m2 = gate.manager(tmp_path)  # the server restarted (m1's thread is still blocked)
    assert m2.journal_problem == "" and not m2.busy()
    listed = m2.list("alice")
    assert [s.job_id for s in listed] == [run, queued]
    assert all(s.status == jobs.INTERRUPTED and not s.active for s in listed)
    assert "restart" in listed[0].error and "training" in listed[0].error
    assert "restart" in listed[1].error and "waiting in the queue" in listed[1].error
    assert listed[0].run_id == run_snap.run_id and listed[0].spec == SPEC
    assert listed[1].label == "second" and listed[1].spec == OTHER
    adopted = m2.adopt(queued, "alice-reloaded")
    assert adopted.status == jobs.INTERRUPTED and adopted.job_id == queued
    assert m2.adopt(shared, "carol").n_owners == 2  # bob (journaled) and carol
    assert [x.job_id for x in m2.list("bob")] == [shared]
    assert m2.adopt("0" * 24, "alice-reloaded") is None
    assert m2.expected_duration(SPEC) == m1.expected_duration(SPEC) is not None

    again = m2.resubmit(queued, "alice-reloaded")
    assert again != queued
    s = gate.started(m2, again, "alice-reloaded")
    assert s.spec == OTHER and s.label == "second" and gate.calls[-1][1] == OTHER
    assert m2.snapshot(queued, "alice").status == jobs.INTERRUPTED

    # a second restart keeps interrupted jobs interrupted, with the same message
    m3 = jobs.JobManager(root=tmp_path, process=False, keyer=spec_keyer)
    s3 = {x.job_id: x for x in m3.list("alice") + m3.list("alice-reloaded")}
    assert s3[run].status == jobs.INTERRUPTED and s3[run].error == listed[0].error
    assert s3[again].status == jobs.INTERRUPTED  # it was running in m2


class HeldLock:
    """A lock that holds the first thread named ``name`` at the door until ``go`` is set."""

    def __init__(self, name: str) -> None:
        self.name, self.entered, self.go = name, threading.Event(), threading.Event()
        self._lock, self._held = threading.Lock(), False

    def __enter__(self) -> None:
        if threading.current_thread().name == self.name and not self._held:
            self._held = True
            self.entered.set()
            self.go.wait(5)
        self._lock.acquire()

    def __exit__(self, *exc) -> None:
        self._lock.release()


def test_a_slow_journal_write_never_overwrites_a_newer_one(tmp_path, gate) -> None:
    m = gate.manager(tmp_path)
    x = m.submit(OTHER, "zed")
    gate.started(m, x, "zed")  # the dispatcher is busy: nothing else writes the journal
    m._journal_lock = lock = HeldLock("session-alice")
    ids: dict[str, str] = {}
    t = threading.Thread(target=lambda: ids.setdefault("a", m.submit(SPEC, "alice")),
                         name="session-alice")
    t.start()
    assert lock.entered.wait(5)  # alice's submit copied the jobs and waits to write them
    b = m.submit(replace(SPEC, seed=5), "bob")
    lock.go.set()
    t.join(5)
    assert {r["job_id"] for r in read_journal(tmp_path)["jobs"]} == {x, ids["a"], b}


CORRUPT = {
    "garbage bytes": b"\xff\xfe\x00\x81garbage",
    "truncated json": b'{"version": 1, "jobs": [',
    "not an object": b"[1, 2, 3]",
    "wrong version": json.dumps({"version": 99, "jobs": []}).encode(),
    "record without fields": json.dumps({"version": 1, "jobs": [{"job_id": "x"}]}).encode(),
    "record not a dict": json.dumps({"version": 1, "jobs": ["x"]}).encode(),
    "jobs not a list": json.dumps({"version": 1, "jobs": 5}).encode(),
}


def _corrupt_case(raw: bytes, tmp_path, gate) -> None:
    jdir = tmp_path / ".jobs"
    jdir.mkdir(parents=True)
    (jdir / "journal.json").write_bytes(raw)
    m = gate.manager(tmp_path)
    assert m.journal_problem and "set aside" in m.journal_problem
    aside = list(jdir.glob("journal.corrupt-*.json"))
    assert len(aside) == 1 and aside[0].read_bytes() == raw
    assert aside[0].name in m.journal_problem
    assert not (jdir / "journal.json").exists() and m.list("alice") == []
    j = m.submit(SPEC, "alice")
    data = read_journal(tmp_path)
    assert data["version"] == jobs.JOURNAL_VERSION and [r["job_id"] for r in data["jobs"]] == [j]


@pytest.mark.parametrize("case", list(CORRUPT))
def test_a_corrupt_journal_is_set_aside_and_reported(case, tmp_path, gate) -> None:
    _corrupt_case(CORRUPT[case], tmp_path, gate)


@pytest.mark.parametrize("raw", [
    {"version": 1, "jobs": [], "durations": [1.0]},
    {"version": 1, "jobs": [{"job_id": "x", "label": "l", "spec": None, "run_id": "r",
                             "submitted": 1.0}]},
], ids=["durations-list", "spec-null"])
def test_a_journal_with_wrong_types_is_set_aside_and_reported(raw, tmp_path, gate) -> None:
    _corrupt_case(json.dumps(raw).encode(), tmp_path, gate)
