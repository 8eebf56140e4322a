"""Background training jobs for the app: a fair queue shared by every browser session.

Why one module of ~900 lines: the queue, the keying that reuses or joins, the dispatchers and the
journal all change a job under one condition variable; split apart they would share that lock
across modules, which is where races hide. (Where a job trains lives elsewhere: the training
processes in :mod:`ad_core.worker`, the Ray tasks in :mod:`ad_core.ray_trainer`.)

A page submits an :class:`~ad_core.experiment.ExperimentSpec`; a dispatcher thread hands it to a
persistent training process (:mod:`ad_core.worker`), which runs exactly
:func:`ad_core.experiment.run_experiment`, and replays the process's progress messages into a
:class:`JobMonitor` (the thread-safe training monitor), so a job's run looks the same as one
trained from the CLI. Pages poll :meth:`JobManager.snapshot` (a frozen copy), never the live
object. ``JobManager(process=False)`` runs the experiment in a thread of this process instead,
through the same messages (:class:`ad_core.worker.ThreadTrainer`; tests of the queue's logic only).

**Workers.** ``workers`` dispatcher slots train side by side, each with its own training process
(default :func:`ad_core.worker.training_workers`, ``ANOMALY_LAB_TRAINING_WORKERS``: one on 2
cores, as before). Every slot takes its next job from the one fair queue below, so the order,
joining, progress, cancel and the journal do not depend on how many there are; a queued job's
ETA counts the slots. A process that dies mid-job (killed, out of memory) fails that job with a
message saying so and is replaced at once, so the queue goes on. With ``engine="ray"``
(``ANOMALY_LAB_ENGINE=ray``, ``ANOMALY_LAB_RAY_ADDRESS`` for a cluster) each slot runs its jobs as
Ray tasks instead (:class:`ad_core.ray_trainer.RayTrainer`, same messages); the slots are then
``ANOMALY_LAB_TRAINING_WORKERS`` or as many jobs as the cluster's CPUs hold.

**One training per distinct experiment** (``submit(..., reuse=True)``, what the app asks for).
Each such job is first *keyed* (:func:`ad_core.experiment.run_key`: data fingerprint, task,
detector, resolved parameters, seed, method code) in a keying thread, then:

- a finished run with that key exists → the job ends at once as ``done`` with ``reused=True``
  and that run's id (the page opens it and says when it was trained);
- a queued or running job has that key → the new job *joins* it: its owners become owners of
  that job (its id stays an alias of it), so every session sees the same live progress;
- otherwise it waits in the queue like any job. ``reuse=False`` (the default: the CLI, sweeps and
  *Train again*) always trains fresh.

**Fair queue.** Jobs wait in one queue per submitting owner; the dispatcher starts the next job of
the owner it served longest ago (an owner never served goes first), so one session that queued ten
jobs does not hold another session's single quick start behind all ten: a newcomer starts right
after the job that is running. :meth:`JobManager.queue_info` gives a job's place in that order and
an ETA from the measured durations of earlier jobs of the same detector, preset and dataset.

**Journal.** Queued and running jobs are written to ``<runs>/.jobs/journal.json`` (atomically)
whenever they change. A restarted server reads it back: those jobs come back as
``interrupted`` (their owners find them by the ``?job=<id>`` in their URL) and can be submitted
again with one click (:meth:`JobManager.resubmit`). A journal that cannot be read is set aside as
``journal.corrupt-<time>.json`` and reported (:attr:`JobManager.journal_problem`), never a crash.

Ownership: lists and look-ups only show an owner its own jobs. A job id is a random 96-bit token;
a session that knows it (from ``?job=<id>`` after a reload) may :meth:`JobManager.adopt` it.

Cancel: a queued job is dropped from the queue (a joined job only loses that owner while others
still want it); a running job is asked to stop through ``should_stop()`` — the training loop ends
cleanly keeping what was learned and the run is saved with status ``cancelled``.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import json
import logging
import os
import secrets
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ad_core.errors import UnknownNameError, UserError
from ad_core.experiment import ExperimentSpec, remember_data, run_experiment, run_key
from ad_core.runs import find_run, new_run_id, runs_root
from ad_core.worker import (
    ThreadTrainer,
    TrainingProcess,
    job_threads,
    take_early,
    training_engine,
    training_threads,
    training_workers,
)

#: Seconds between two looks at the load for the running job's torch threads.
THREADS_LOOK_S = 0.5
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
INTERRUPTED = "interrupted"
ACTIVE = (QUEUED, RUNNING)
#: How many loss values a snapshot keeps (older ones are thinned, so curves stay cheap to draw).
MAX_CURVE_POINTS = 2000
#: Measured durations kept per (detector, preset, dataset) for ETAs.
DURATIONS_KEPT = 5
#: Interrupted jobs older than this are dropped from the journal.
INTERRUPTED_KEEP_S = 7 * 24 * 3600.0
JOURNAL_VERSION = 1
_log = logging.getLogger("anomaly_lab")


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state for drawing: status, progress, loss curve, result."""

    job_id: str
    label: str
    status: str
    spec: ExperimentSpec
    run_id: str
    submitted: float
    started: float | None = None
    finished: float | None = None
    step: int = 0
    total: int = 0
    phase: int = 0
    steps: tuple[int, ...] = ()
    losses: tuple[float, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    saved: bool = False
    #: The run already existed (same content key): opened, not trained again.
    reused: bool = False
    #: When the reused run was trained (its ``created`` time).
    reused_created: float | None = None
    #: This owner joined a job another session (or an earlier submission) started.
    joined: bool = False
    #: How many sessions own the job.
    n_owners: int = 1
    #: Whether the content key is still being computed (queued jobs only).
    keying: bool = False
    #: The latest training snapshot (:mod:`ad_core.snapshots`): ``step``, ``total``, ``auroc``,
    #: a fixed test subsample's ``scores`` and ``labels`` — the live score histogram.
    live: dict[str, Any] | None = None
    #: How many training snapshots the job has sent so far.
    n_live: int = 0

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE

    @property
    def fraction(self) -> float:
        """Progress in [0, 1] of the current training phase (1 once finished)."""
        if self.status in (DONE, FAILED, CANCELLED):
            return 1.0
        return min(1.0, self.step / self.total) if self.total else 0.0

    @property
    def elapsed(self) -> float:
        """Seconds since the job started (0 while queued)."""
        if self.started is None:
            return 0.0
        return (self.finished or time.time()) - self.started

    @property
    def eta(self) -> float | None:
        """Estimated seconds left in the current phase, from the mean step time so far."""
        if self.status != RUNNING or not self.total or self.step <= 0 or self.started is None:
            return None
        return self.elapsed / self.step * max(0, self.total - self.step)


@dataclass(frozen=True)
class QueueInfo:
    """Where a queued job stands: its 0-based place in the serving order, how many jobs wait
    in all, and the estimated seconds until it starts (``None`` when a duration is unknown)."""

    position: int
    queued: int
    wait_s: float | None


class JobMonitor:
    """The training monitor a job passes to ``run_experiment``: records steps, answers cancel."""

    def __init__(self, job: _Job) -> None:
        self._job = job

    def on_start(self, total: int) -> None:
        with self._job.lock:
            self._job.total = int(total)
            self._job.step = 0
            self._job.phase += 1

    def on_step(self, step: int, loss: float, **metrics: float) -> None:
        with self._job.lock:
            j = self._job
            j.step = int(step)
            j.global_step += 1
            j.steps.append(j.global_step)
            j.losses.append(float(loss))
            if len(j.losses) > MAX_CURVE_POINTS:  # keep every other point: bounded memory
                del j.steps[::2], j.losses[::2]
            j.metrics = {k: float(v) for k, v in metrics.items()}

    def should_stop(self) -> bool:
        return self._job.cancel.is_set()

    def on_end(self) -> None:
        """Nothing to record: the step count stays where training stopped (cancel shows it)."""

    def on_snapshot(self, snap: dict[str, Any]) -> None:
        """A training snapshot arrived: it becomes the job's live score histogram."""
        with self._job.lock:
            self._job.live = snap
            self._job.n_live += 1


@dataclass
class _Job:
    """The live, mutable job record (guarded by ``lock``); pages only ever see snapshots."""

    job_id: str
    label: str
    spec: ExperimentSpec
    run_id: str
    owners: list[str]
    submitted: float
    reuse: bool = False
    key: str | None = None
    keyed: bool = False
    status: str = QUEUED
    started: float | None = None
    finished: float | None = None
    step: int = 0
    total: int = 0
    phase: int = 0
    global_step: int = 0
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    saved: bool = False
    reused: bool = False
    reused_created: float | None = None
    #: Owners who joined after the first (their snapshots say "joined").
    joiners: set[str] = field(default_factory=set)
    #: Whose turn the job waits for (its first submitter, even after that owner left it).
    queue_owner: str = ""
    #: The dispatcher slot (training process) that runs it, once started.
    slot: int | None = None
    live: dict[str, Any] | None = None
    n_live: int = 0
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self, owner: str | None = None) -> JobSnapshot:
        with self.lock:
            return JobSnapshot(
                job_id=self.job_id, label=self.label, status=self.status, spec=replace(self.spec),
                run_id=self.run_id, submitted=self.submitted, started=self.started,
                finished=self.finished, step=self.step, total=self.total, phase=self.phase,
                steps=tuple(self.steps), losses=tuple(self.losses), metrics=dict(self.metrics),
                error=self.error, result=dict(self.result), saved=self.saved,
                reused=self.reused, reused_created=self.reused_created,
                joined=owner in self.joiners, n_owners=len(self.owners),
                keying=self.reuse and not self.keyed and self.status == QUEUED,
                live=self.live, n_live=self.n_live)

    def record(self) -> dict[str, Any]:
        """What the journal keeps of the job."""
        return {"job_id": self.job_id, "label": self.label, "spec": asdict(self.spec),
                "run_id": self.run_id, "owners": list(self.owners), "submitted": self.submitted,
                "status": self.status, "started": self.started, "finished": self.finished,
                "key": self.key, "error": self.error}


def describe_spec(spec: ExperimentSpec) -> str:
    """A short human label: ``toll (quick) on mnist5k, normal 8, one-vs-rest`` (an upload shows
    its file name, never a server path)."""
    from ad_core.data.user import dataset_display_name

    return (f"{spec.detector} ({spec.preset}) on {dataset_display_name(spec.dataset)}, normal "
            f"{'+'.join(map(str, spec.normal))}, {spec.task}")


def duration_key(spec: ExperimentSpec) -> str:
    """Jobs whose durations predict each other: same detector, preset and dataset."""
    return f"{spec.detector}|{spec.preset}|{spec.dataset}"


def spec_from_record(d: dict[str, Any]) -> ExperimentSpec:
    """An :class:`ExperimentSpec` from its journaled dict (unknown fields ignored)."""
    return ExperimentSpec.from_record(d)


class JobManager:
    """The shared, fair queue of training jobs served by ``workers`` dispatcher threads.

    ``root`` is the runs folder passed to ``run_experiment`` (``None`` = ``$ANOMALY_LAB_RUNS``);
    the journal lives in ``<root>/.jobs/``. Finished jobs are kept (newest ``keep_finished``) so
    their outcome can still be shown. ``keyer`` computes a spec's content key (tests inject one).
    ``workers``: jobs at a time (``None``: :func:`~ad_core.worker.training_workers`; 1 with
    ``process=False``); ``engine``: ``"local"`` or ``"ray"`` (``None``: ``ANOMALY_LAB_ENGINE``).
    """

    def __init__(self, root: Any = None, keep_finished: int = 200, process: bool = True,
                 keyer: Callable[[ExperimentSpec], tuple[str, dict]] | None = None,
                 journal: bool = True, workers: int | None = None,
                 engine: str | None = None) -> None:
        self.root = root
        self.keep_finished = keep_finished
        self.process = process
        self.keyer = keyer or run_key
        self.engine = (engine or training_engine()) if process else "local"
        #: On a Ray cluster with no worker count, the cluster's CPUs say how many jobs at a time.
        self._size_by_cluster = bool(
            process and not workers and self.engine == "ray"
            and os.environ.get("ANOMALY_LAB_RAY_ADDRESS")
            and not os.environ.get("ANOMALY_LAB_TRAINING_WORKERS"))
        #: Jobs at a time (sized by the cluster: 1 until its size is known).
        self.workers = max(1, workers or (training_workers() if process and not
                                          self._size_by_cluster else 1))
        #: One trainer per dispatcher slot (a training process, a thread, or a Ray slot).
        self._slots: list[Any] = []
        self._ray_cluster: Any = None
        self._trainer_lock = threading.Lock()
        self._trainer_data_known = False
        self._trainer_data_lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._alias: dict[str, str] = {}
        #: queue owner → that owner's waiting job ids, in submit order
        self._queues: dict[str, collections.deque[str]] = {}
        #: queue owner → when the dispatcher last started one of its jobs
        self._served: dict[str, float] = {}
        self._durations: dict[str, list[float]] = {}
        self._cv = threading.Condition()
        self._dispatchers: list[threading.Thread] = []
        self._pool_started = False
        self._keying: collections.deque[str] = collections.deque()
        self._key_cv = threading.Condition()
        self._key_thread: threading.Thread | None = None
        self.journal_path: Path | None = (self._root_path() / ".jobs" / "journal.json"
                                          if journal else None)
        #: A sentence for the app when the journal could not be read at start (else "").
        self.journal_problem = ""
        self._journal_lock = threading.Lock()
        self._recover()

    def _root_path(self) -> Path:
        return Path(self.root) if self.root is not None else runs_root()

    # ----------------------------------------------------------------- submitting
    def submit(self, spec: ExperimentSpec, owner: str, label: str | None = None, *,
               reuse: bool = False) -> str:
        """Queue ``spec`` for ``owner``; returns the job id (the run id is fixed now).

        ``reuse=True``: open the existing run of the same experiment, or join its queued or
        running job, instead of training again (see the module docstring)."""
        if not owner:
            raise UserError("A job needs an owner (the browser session it belongs to).")
        job = _Job(job_id=secrets.token_hex(12), label=label or describe_spec(spec),
                   spec=replace(spec), run_id=new_run_id(spec.detector), owners=[owner],
                   submitted=time.time(), reuse=reuse, keyed=not reuse)
        with self._cv:
            self._jobs[job.job_id] = job
            self._enqueue(job)
            self._prune()
            self._ensure_dispatchers()
            self._cv.notify_all()
        if reuse:
            self._start_keying(job.job_id)
        self._write_journal()
        return job.job_id

    def resubmit(self, job_id: str, owner: str, *, reuse: bool = True) -> str:
        """Submit an interrupted (or any finished) job's experiment again; the new job id."""
        job = self._owned(job_id, owner)
        return self.submit(job.spec, owner, job.label, reuse=reuse)

    def _enqueue(self, job: _Job) -> None:
        """Put ``job`` at the end of its owner's queue (caller holds ``_cv``)."""
        job.queue_owner = job.queue_owner or job.owners[0]
        self._queues.setdefault(job.queue_owner, collections.deque()).append(job.job_id)

    def _dequeue(self, job: _Job) -> bool:
        """Take a waiting ``job`` out of its owner's queue; whether it was there."""
        q = self._queues.get(job.queue_owner)
        if not q or job.job_id not in q:
            return False
        q.remove(job.job_id)
        if not q:
            self._queues.pop(job.queue_owner, None)
        return True

    def cancel(self, job_id: str, owner: str) -> JobSnapshot:
        """Stop ``job_id`` for ``owner``: a queued job leaves the queue, a running one stops at its
        next step. A job other sessions share only loses ``owner`` (it goes on for them)."""
        job = self._owned(job_id, owner)
        with self._cv:
            if job.status in ACTIVE and len(job.owners) > 1:
                self._drop_owner(job, owner)
                left = replace(job.snapshot(owner), status=CANCELLED,
                               error="You left this shared job; it goes on for the other "
                                     "sessions that asked for the same experiment.")
            else:
                left = None
                if job.status == QUEUED and self._dequeue(job):
                    with job.lock:
                        job.status = CANCELLED
                        job.finished = time.time()
                        job.error = "Cancelled before it started."
                job.cancel.set()
            self._cv.notify_all()
        self._write_journal()
        return left or job.snapshot(owner)

    @staticmethod
    def _drop_owner(job: _Job, owner: str) -> None:
        """Remove ``owner`` from a shared job (caller holds ``_cv``); a queued job keeps its
        place in the queue (its ``queue_owner`` does not change)."""
        job.owners.remove(owner)
        job.joiners.discard(owner)

    def adopt(self, job_id: str, owner: str) -> JobSnapshot | None:
        """Let ``owner`` see ``job_id`` too (a reloaded page that kept the id); ``None`` if gone."""
        with self._cv:
            job = self._jobs.get(self._alias.get(job_id, job_id))
            if job is None:
                return None
            if owner not in job.owners:
                job.owners.append(owner)
        if job.status in (*ACTIVE, INTERRUPTED):
            self._write_journal()
        return job.snapshot(owner)

    def forget(self, job_id: str, owner: str) -> None:
        """Remove a finished job from ``owner``'s list (the saved run, if any, stays)."""
        job = self._owned(job_id, owner)
        with self._cv:
            if job.status in ACTIVE:
                raise UserError("Stop the job before removing it from the list.")
            if owner in job.owners:
                job.owners.remove(owner)
            if not job.owners:
                self._jobs.pop(job.job_id, None)
        self._write_journal()

    # ----------------------------------------------------------------- reading
    def snapshot(self, job_id: str, owner: str) -> JobSnapshot:
        """The state of one of ``owner``'s jobs (an id that joined another job names that job)."""
        return self._owned(job_id, owner).snapshot(owner)

    def list(self, owner: str, active_only: bool = False) -> list[JobSnapshot]:
        """``owner``'s jobs, oldest first."""
        with self._cv:
            jobs = [j for j in self._jobs.values() if owner in j.owners]
        snaps = [j.snapshot(owner) for j in sorted(jobs, key=lambda j: j.submitted)]
        return [s for s in snaps if s.active] if active_only else snaps

    def resolve(self, job_id: str) -> str:
        """The id of the job ``job_id`` names (itself, or the job it joined)."""
        with self._cv:
            return self._alias.get(job_id, job_id)

    def busy(self) -> bool:
        """Whether any job (of any owner) is queued or running."""
        with self._cv:
            return any(j.status in ACTIVE for j in self._jobs.values())

    def trainer_ready(self) -> bool:
        """Whether the (first) training process has started and reported ready (imports, data)."""
        trainer = self._trainer
        return trainer is not None and trainer.ready_event.is_set()

    @property
    def _trainer(self) -> Any:
        """The first slot's trainer (the one the server keys its quick start with), if started."""
        slots = self._slots
        return slots[0] if slots else None

    def _pick_owner(self, heads: dict[str, _Job], served: dict[str, float]) -> str | None:
        """Whose job starts next: the owner served longest ago (never served first), ties
        broken by the earlier submission of their next job."""
        if not heads:
            return None
        return min(heads, key=lambda o: (served.get(o, float("-inf")), heads[o].submitted))

    def _serving_order(self) -> list[_Job]:
        """Every waiting job in the order the dispatcher will start them (caller holds
        ``_cv``): owners take turns (least recently served first), each owner's jobs in
        submit order."""
        queues = {o: list(q) for o, q in self._queues.items() if q}
        served = dict(self._served)
        order: list[_Job] = []
        clock = max(served.values(), default=0.0)
        while queues:
            owner = self._pick_owner({o: self._jobs[q[0]] for o, q in queues.items()}, served)
            order.append(self._jobs[queues[owner].pop(0)])
            if not queues[owner]:
                del queues[owner]
            clock += 1.0
            served[owner] = clock
        return order

    def queue_position(self, job_id: str) -> int | None:
        """0-based place of a queued job in the serving order (every owner's jobs count)."""
        info = self.queue_info(job_id)
        return None if info is None else info.position

    def queue_info(self, job_id: str) -> QueueInfo | None:
        """Place, queue length and estimated wait of a queued job; ``None`` if not queued."""
        with self._cv:
            target = self._alias.get(job_id, job_id)
            order = self._serving_order()
            ids = [j.job_id for j in order]
            if target not in ids:
                return None
            pos = ids.index(target)
            running = [j for j in self._jobs.values() if j.status == RUNNING]
            wait = self._wait_before(running, order[:pos])
        return QueueInfo(pos, len(ids), wait)

    def _wait_before(self, running: list[_Job], ahead: list[_Job]) -> float | None:
        """Seconds until a job that waits behind ``ahead`` starts: every slot is free when its
        running job ends, and each job ahead takes the first slot free (with one worker: the
        running job's remaining time plus the durations ahead). ``None`` if one is unknown."""
        free: list[float] = []
        for j in running:
            left = self._remaining(j)
            if left is None:
                return None
            free.append(left)
        free += [0.0] * max(0, self.workers - len(free))
        heapq.heapify(free)
        for j in ahead:
            est = self.expected_duration(j.spec)
            if est is None:
                return None
            heapq.heappush(free, heapq.heappop(free) + est)
        return free[0]

    def expected_duration(self, spec: ExperimentSpec) -> float | None:
        """Median measured seconds of earlier jobs of this detector, preset and dataset."""
        d = sorted(self._durations.get(duration_key(spec), []))
        return d[len(d) // 2] if d else None

    def _remaining(self, job: _Job) -> float | None:
        snap = job.snapshot()
        est = self.expected_duration(job.spec)
        if est is not None:
            return max(0.0, est - snap.elapsed)
        return snap.eta

    def wait(self, job_id: str, owner: str, timeout: float = 60.0, poll: float = 0.05
             ) -> JobSnapshot:
        """Block until the job is no longer active (tests, benchmarks); returns its snapshot."""
        t_end = time.time() + timeout
        while True:
            s = self.snapshot(job_id, owner)
            if not s.active or time.time() > t_end:
                return s
            time.sleep(poll)

    def _owned(self, job_id: str, owner: str) -> _Job:
        with self._cv:
            job = self._jobs.get(self._alias.get(job_id, job_id))
        if job is None or owner not in job.owners:
            raise UnknownNameError("That training job does not exist in this browser session.")
        return job

    # ----------------------------------------------------------------- keying (reuse / join)
    def _start_keying(self, job_id: str) -> None:
        with self._key_cv:
            self._keying.append(job_id)
            if self._key_thread is None or not self._key_thread.is_alive():
                self._key_thread = threading.Thread(target=self._key_loop,
                                                    name="anomaly-lab-job-keys", daemon=True)
                self._key_thread.start()
            self._key_cv.notify_all()

    def _key_loop(self) -> None:
        while True:
            with self._key_cv:
                while not self._keying:
                    self._key_cv.wait()
                job_id = self._keying.popleft()
            with self._cv:
                job = self._jobs.get(job_id)
            if job is None or job.status != QUEUED:
                continue
            try:
                t0 = time.perf_counter()
                key = self.key_of(job.spec)
                _log.info("job %s keyed in %.2f s (%s)", job_id[:8], time.perf_counter() - t0,
                          key)
            except Exception as e:  # a bad spec: it fails like a training would
                key = None
                if not isinstance(e, UserError):
                    traceback.print_exc()
                with self._cv:
                    if job.status == QUEUED and self._dequeue(job):
                        self._finish(job, FAILED, str(e) if isinstance(e, UserError) else
                                     f"Could not prepare the job ({type(e).__name__}: {e}).",
                                     {}, False)
                        self._cv.notify_all()
                self._write_journal()
                continue
            self._place_keyed(job, key)

    def key_of(self, spec: ExperimentSpec) -> str:
        """The content key of ``spec`` (data facts taken from the training process when it
        preloads that dataset). Also warms the caches: the server calls it for the quick start
        before anyone clicks."""
        self._learn_trainer_data(spec)
        return self.keyer(spec)[0]

    def _learn_trainer_data(self, spec: ExperimentSpec, wait_s: float = 15.0) -> None:
        """If the training process preloads ``spec``'s dataset, take its fingerprint from it
        (waiting for the starting process rather than loading the data a second time here)."""
        trainer = self._trainer
        if trainer is None or spec.dataset_options or spec.dataset not in trainer.preload:
            return
        with self._trainer_data_lock:  # one reader; a second asker waits for the first
            if self._trainer_data_known:
                return
            t_end = time.monotonic() + wait_s
            while trainer.data_info.empty() and trainer.alive and time.monotonic() < t_end:
                time.sleep(0.05)
            if not trainer.data_info.empty():
                for name, (fingerprint, shape) in trainer.data_info.get().items():
                    remember_data(name, fingerprint, shape)
                self._trainer_data_known = True

    def _place_keyed(self, job: _Job, key: str) -> None:
        """A reuse job's key is known: open the existing run, join the same active job, or let
        it wait for its turn."""
        existing = find_run(key, self._root_path())
        with self._cv:
            if job.status != QUEUED:
                return
            job.key = key
            twin = next((j for j in self._jobs.values()
                         if j is not job and j.key == key and j.status in ACTIVE
                         and j.keyed and not j.cancel.is_set()), None)
            if existing is not None:
                self._dequeue(job)
                with job.lock:
                    job.reused, job.run_id, job.saved = True, existing.run_id, True
                    job.reused_created = float(existing.config.get("finished")
                                               or existing.config.get("created") or 0) or None
                    job.result = {k: v for k, v in existing.metrics.items()
                                  if isinstance(v, (int, float, bool, str))}
                    job.status, job.finished = DONE, time.time()
                    job.started = job.finished
                    job.keyed = True
            elif twin is not None:
                self._dequeue(job)
                for o in job.owners:
                    if o not in twin.owners:
                        twin.owners.append(o)
                        twin.joiners.add(o)
                self._alias[job.job_id] = twin.job_id
                for a, t in list(self._alias.items()):
                    if t == job.job_id:
                        self._alias[a] = twin.job_id
                self._jobs.pop(job.job_id, None)
            else:
                job.keyed = True
            self._cv.notify_all()
        self._write_journal()

    # ----------------------------------------------------------------- the worker
    def _prune(self) -> None:
        done = sorted((j for j in self._jobs.values() if j.status not in ACTIVE),
                      key=lambda j: j.submitted)
        for j in done[:max(0, len(done) - self.keep_finished)]:
            self._jobs.pop(j.job_id, None)
        live = set(self._jobs)
        for a, t in list(self._alias.items()):
            if t not in live:
                self._alias.pop(a, None)

    def _ensure_dispatchers(self) -> None:
        """Start the dispatcher threads once, one per slot (caller holds ``_cv``). On Ray without
        a worker count, a starter thread first asks the cluster how many jobs it holds."""
        if self._pool_started:
            return
        self._pool_started = True
        if self._size_by_cluster:
            threading.Thread(target=self._start_sized_by_cluster, name="anomaly-lab-ray-pool",
                             daemon=True).start()
        else:
            self._start_dispatchers(self.workers)

    def _start_sized_by_cluster(self) -> None:
        workers = 1
        try:
            workers = self._cluster().slots(None)
        except Exception as e:  # the jobs will fail with the reason, one by one
            _log.warning("Ray cluster not reachable for the job pool: %s", e)
        with self._cv:
            self.workers = workers
            self._start_dispatchers(workers)

    def _start_dispatchers(self, n: int) -> None:
        for i in range(len(self._dispatchers), n):
            t = threading.Thread(target=self._serve, args=(i,), name=f"anomaly-lab-jobs-{i}",
                                 daemon=True)
            self._dispatchers.append(t)
            t.start()

    def _next_job(self) -> _Job | None:
        """The next job in fair order (caller holds ``_cv``); an owner whose next job is still
        being keyed is skipped this time."""
        heads = {o: self._jobs[q[0]] for o, q in self._queues.items()
                 if q and self._jobs[q[0]].keyed}
        owner = self._pick_owner(heads, self._served)
        if owner is None:
            return None
        job = heads[owner]
        self._dequeue(job)
        self._served[owner] = time.monotonic()
        return job

    def _serve(self, slot: int = 0) -> None:
        """Dispatcher ``slot``: take the next job in fair order, train it on this slot's
        trainer, repeat."""
        while True:
            with self._cv:
                job = self._next_job()
                while job is None:
                    self._cv.wait(0.5)
                    job = self._next_job()
                with job.lock:
                    job.status = RUNNING
                    job.started = time.time()
                    job.slot = slot
            _log.info("job %s started %.2f s after it was submitted (worker %d)", job.job_id[:8],
                      job.started - job.submitted, slot)
            self._write_journal()
            self._run(job, slot)
            self._write_journal()

    def prestart(self) -> None:
        """Start every slot's training process now (torch imported, quick-start data loaded) so
        the first jobs do not wait for them; on Ray, connect and warm the workers (in the
        background). Idempotent; a no-op with ``process=False``."""
        if not self.process:
            return
        if self.engine == "ray":
            def start() -> None:
                with contextlib.suppress(Exception):  # a job will report the reason
                    for i in range(self.workers):
                        self._training_process(i)
            threading.Thread(target=start, name="anomaly-lab-ray-prestart", daemon=True).start()
            return
        for i in range(self.workers):
            self._training_process(i)

    def _cluster(self) -> Any:
        """The manager's Ray (:class:`ad_core.ray_trainer.RayCluster`), connected on first use."""
        with self._trainer_lock:
            if self._ray_cluster is None:
                from ad_core.ray_trainer import RayCluster, gpus_per_job

                self._ray_cluster = RayCluster(os.environ.get("ANOMALY_LAB_RAY_ADDRESS") or None,
                                               self.workers, training_threads(), gpus_per_job())
            return self._ray_cluster

    def _training_process(self, slot: int = 0) -> Any:
        """Slot ``slot``'s trainer, started (or replaced, if its process died) now."""
        cluster = self._cluster() if self.engine == "ray" else None
        with self._trainer_lock:
            while len(self._slots) <= slot:
                self._slots.append(None)
            trainer = self._slots[slot]
            if trainer is None or not trainer.alive:
                if trainer is not None:
                    with contextlib.suppress(Exception):
                        trainer.close()
                if not self.process:
                    trainer = ThreadTrainer(run_experiment)
                elif cluster is not None:
                    from ad_core.ray_trainer import RayTrainer

                    trainer = RayTrainer(cluster)
                else:
                    trainer = (slot == 0 and take_early()) or TrainingProcess()
                self._slots[slot] = trainer
            return trainer

    def _replace(self, slot: int) -> None:
        """Start a fresh trainer in ``slot`` now (its process died in a job): the next job
        finds it warm, and the queue never waits on a dead process."""
        with self._trainer_lock:
            dead = self._slots[slot] if slot < len(self._slots) else None
            if dead is not None:
                self._slots[slot] = None
        if dead is not None:
            with contextlib.suppress(Exception):
                dead.close()
        with contextlib.suppress(Exception):  # a failed start is retried by the next job
            self._training_process(slot)

    def shutdown(self) -> None:
        """Stop the training processes (tests; the server's daemon processes die with it)."""
        with self._trainer_lock:
            slots, self._slots = self._slots, []
        for trainer in slots:
            if trainer is not None:
                trainer.close()

    def _busy(self, job: _Job) -> bool:
        """Whether the server is serving a class while ``job`` starts: other jobs wait in the
        queue, or more than two sessions follow this one (:func:`ad_core.worker.job_threads`)."""
        with self._cv:
            waiting = sum(len(q) for q in self._queues.values())
        return waiting > 0 or len(job.owners) > 2

    def _run(self, job: _Job, slot: int = 0) -> None:
        """Hand ``job`` to slot ``slot``'s trainer and replay its messages into the job record;
        its last message decides the job's status (the one mapping of how a training ended)."""
        monitor = JobMonitor(job)
        status, error, result, saved = FAILED, "", {}, False
        trainer = None
        try:
            trainer = self._training_process(slot)
            trainer.submit(job.spec, self.root, job.run_id,
                           job_threads(self._busy(job), self.workers))
            next_look = time.monotonic() + THREADS_LOOK_S
            while True:
                if job.cancel.is_set():
                    trainer.cancel.set()
                msg = trainer.receive(timeout=0.2)
                # a class may arrive mid-job; looked at twice a second, not per step message
                # (a look takes the queue's lock, which every polling session takes too)
                if time.monotonic() >= next_look:
                    next_look = time.monotonic() + THREADS_LOOK_S
                    trainer.want_threads(job_threads(self._busy(job), self.workers))
                if msg is None:
                    continue
                kind = msg[0]
                if kind == "start":
                    monitor.on_start(msg[1])
                elif kind == "step":
                    monitor.on_step(msg[1], msg[2], **msg[3])
                elif kind == "snapshot":
                    monitor.on_snapshot(msg[1])
                else:
                    break
            if kind == "done":
                saved, result = bool(msg[1]["saved"]), msg[1]["metrics"]
                status = DONE
                if result.get("cancelled") or job.cancel.is_set():
                    status, error = CANCELLED, "Stopped by you; the partly trained model was saved."
            elif kind == "cancelled":
                status, error = CANCELLED, msg[1]
            elif kind == "user_error":
                status, error = (CANCELLED, f"Stopped: {msg[1]}") if job.cancel.is_set() else (
                    FAILED, msg[1])
            else:
                error = f"Training failed with an internal error ({msg[1]})."
        except (EOFError, OSError) as e:
            proc = getattr(trainer, "process", None)
            if proc is not None:
                proc.join(2)  # reap it: its exit code says how it ended
            code = getattr(proc, "exitcode", None)
            how = (f"exit code {code}{' (killed)' if code == -9 else ''}"
                   if code is not None else f"{type(e).__name__}: {e}")
            error = ("The training worker running this job stopped unexpectedly (killed, or out "
                     f"of memory?) — {how}. Nothing was saved; a fresh worker has taken its "
                     "place: submit the job again.")
            _log.warning("training slot %d lost job %s: %s", slot, job.job_id[:8], how)
            self._replace(slot)  # before the job ends: whoever sees it failed finds the new one
            self._finish(job, status, error, result, saved)
            return
        except UserError as e:  # the engine cannot run here (Ray missing or unreachable)
            error = str(e)
        self._finish(job, status, error, result, saved)

    def _finish(self, job: _Job, status: str, error: str, result: dict[str, Any],
                saved: bool) -> None:
        with job.lock:
            job.status, job.error, job.result, job.saved = status, error, result, saved
            job.finished = time.time()
            _log.info("job %s %s after %.2f s (%d owner(s))", job.job_id[:8], status,
                      job.finished - (job.started or job.submitted), len(job.owners))
            job.step = job.total if status == DONE else job.step
            took = job.finished - job.started if job.started else None
        if status == DONE and took is not None:
            with self._cv:
                d = self._durations.setdefault(duration_key(job.spec), [])
                d.append(took)
                del d[:-DURATIONS_KEPT]

    # ----------------------------------------------------------------- the journal
    def _write_journal(self) -> None:
        """Write the queued, running and interrupted jobs and the measured durations
        (write to a temporary file, then rename: a crash never leaves half a journal)."""
        if self.journal_path is None:
            return
        with self._journal_lock:  # copy and write under one lock: the newest state lands last
            with self._cv:
                records = [j.record() for j in self._jobs.values()
                           if j.status in (*ACTIVE, INTERRUPTED)]
                data = {"version": JOURNAL_VERSION, "written": time.time(), "jobs": records,
                        "durations": {k: list(v) for k, v in self._durations.items()}}
            try:
                self.journal_path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.journal_path.with_name(f".journal-{secrets.token_hex(4)}.tmp")
                tmp.write_text(json.dumps(data, default=str))
                os.replace(tmp, self.journal_path)
            except OSError as e:  # a full or read-only disk must not stop the queue
                _log.warning("could not write the job journal %s: %s", self.journal_path, e)

    def _recover(self) -> None:
        """Read the journal a previous server left: its queued and running jobs come back as
        interrupted; an unreadable journal is set aside and reported."""
        path = self.journal_path
        if path is None or not path.exists():
            return
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict) or data.get("version") != JOURNAL_VERSION:
                raise ValueError(f"unknown journal format (version {data.get('version')!r})"
                                 if isinstance(data, dict) else "not a JSON object")
            now = time.time()
            restored: list[_Job] = []
            if not isinstance(data.get("jobs", []), list) or not isinstance(
                    data.get("durations") or {}, dict):
                raise ValueError("its 'jobs' is not a list or its 'durations' not a mapping")
            for rec in data.get("jobs", []):
                job = _Job(job_id=str(rec["job_id"]), label=str(rec["label"]),
                           spec=spec_from_record(rec["spec"]), run_id=str(rec["run_id"]),
                           owners=[str(o) for o in rec.get("owners", [])],
                           submitted=float(rec["submitted"]), key=rec.get("key"), keyed=True,
                           status=INTERRUPTED, started=rec.get("started"))
                was = rec.get("status")
                if was == INTERRUPTED:
                    job.finished = rec.get("finished") or job.submitted
                    job.error = rec.get("error") or ""
                else:
                    job.finished = now
                    job.error = ("Interrupted by a server restart while it was "
                                 f"{'training' if was == RUNNING else 'waiting in the queue'}; "
                                 "nothing was saved. Submit it again to train it.")
                if now - (job.finished or now) <= INTERRUPTED_KEEP_S:
                    restored.append(job)
            durations = {str(k): [float(x) for x in v][-DURATIONS_KEPT:]
                         for k, v in (data.get("durations") or {}).items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            aside = path.with_name(f"journal.corrupt-{time.strftime('%Y%m%d-%H%M%S')}.json")
            with contextlib.suppress(OSError):
                os.replace(path, aside)
            self.journal_problem = (
                f"The list of training jobs saved before the last restart could not be read "
                f"({type(e).__name__}: {e}); it was set aside as {aside.name}, and jobs that "
                f"were waiting then are not shown.")
            _log.warning("job journal %s unreadable, set aside as %s: %s", path, aside, e)
            return
        for job in restored:
            self._jobs[job.job_id] = job
        self._durations = durations
        self._write_journal()


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def get_manager() -> JobManager:
    """The process-wide job manager (one queue for every browser session of this server)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            _MANAGER = JobManager()
        return _MANAGER
