"""Background training jobs for the app: a FIFO queue, one job at a time, live snapshots, cancel.

A page submits an :class:`~ad_core.experiment.ExperimentSpec`; a dispatcher thread hands it to the
persistent training process (:mod:`ad_core.worker`), which runs exactly
:func:`ad_core.experiment.run_experiment`, and replays the process's progress messages into a
:class:`JobMonitor` (the thread-safe :class:`~ad_core.detectors.base.TrainingMonitor` of DESIGN.md
§2), so a job's run looks the same as one trained from the CLI. Pages poll
:meth:`JobManager.snapshot` (a frozen copy), never the live object. ``JobManager(process=False)``
runs the experiment in the dispatcher thread instead (tests of the queue's logic only).

Ownership: every job belongs to one or more *owners* (the app's per-browser-session token). Lists
and look-ups only show an owner its own jobs, so two browser sessions training at once never see
each other's work. A job id is a random 96-bit token; a session that knows it (for example from
``?job=<id>`` after a browser reload) may :meth:`JobManager.adopt` it.

Cancel: a queued job is dropped from the queue; a running job is asked to stop through
``should_stop()`` — the training loop ends cleanly keeping what was learned and the run is saved
with status ``cancelled`` (or, when nothing usable was learned, no run is saved). Other jobs are
unaffected.
"""

from __future__ import annotations

import collections
import secrets
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from typing import Any

from ad_core.errors import TrainingCancelledError, UnknownNameError, UserError
from ad_core.experiment import ExperimentSpec, run_experiment
from ad_core.runs import new_run_id
from ad_core.worker import TrainingProcess, take_early

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
#: How many loss values a snapshot keeps (older ones are thinned, so curves stay cheap to draw).
MAX_CURVE_POINTS = 2000


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


@dataclass
class _Job:
    """The live, mutable job record (guarded by ``lock``); pages only ever see snapshots."""

    job_id: str
    label: str
    spec: ExperimentSpec
    run_id: str
    owners: set[str]
    submitted: float
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
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> JobSnapshot:
        with self.lock:
            return JobSnapshot(
                job_id=self.job_id, label=self.label, status=self.status, spec=replace(self.spec),
                run_id=self.run_id, submitted=self.submitted, started=self.started,
                finished=self.finished, step=self.step, total=self.total, phase=self.phase,
                steps=tuple(self.steps), losses=tuple(self.losses), metrics=dict(self.metrics),
                error=self.error, result=dict(self.result), saved=self.saved)


def describe_spec(spec: ExperimentSpec) -> str:
    """A short human label: ``toll (quick) on mnist5k, normal 8, one-vs-rest``."""
    return (f"{spec.detector} ({spec.preset}) on {spec.dataset}, normal "
            f"{'+'.join(map(str, spec.normal))}, {spec.task}")


class JobManager:
    """A FIFO queue of training jobs served by one background worker thread.

    ``root`` is the runs folder passed to ``run_experiment`` (``None`` = ``$ANOMALY_LAB_RUNS``).
    Finished jobs are kept (newest ``keep_finished``) so their outcome can still be shown.
    """

    def __init__(self, root: Any = None, keep_finished: int = 200, process: bool = True) -> None:
        self.root = root
        self.keep_finished = keep_finished
        self.process = process
        self._trainer: TrainingProcess | None = None
        self._trainer_lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._queue: collections.deque[str] = collections.deque()
        self._cv = threading.Condition()
        self._worker: threading.Thread | None = None

    # ----------------------------------------------------------------- submitting
    def submit(self, spec: ExperimentSpec, owner: str, label: str | None = None) -> str:
        """Queue ``spec`` for ``owner``; returns the job id. The run id is fixed now."""
        if not owner:
            raise UserError("A job needs an owner (the browser session it belongs to).")
        job = _Job(job_id=secrets.token_hex(12), label=label or describe_spec(spec),
                   spec=replace(spec), run_id=new_run_id(spec.detector), owners={owner},
                   submitted=time.time())
        with self._cv:
            self._jobs[job.job_id] = job
            self._queue.append(job.job_id)
            self._prune()
            self._ensure_worker()
            self._cv.notify_all()
        return job.job_id

    def cancel(self, job_id: str, owner: str) -> JobSnapshot:
        """Stop ``job_id``: a queued job leaves the queue, a running one stops at its next step."""
        job = self._owned(job_id, owner)
        with self._cv:
            if job.status == QUEUED and job_id in self._queue:
                self._queue.remove(job_id)
                with job.lock:
                    job.status = CANCELLED
                    job.finished = time.time()
                    job.error = "Cancelled before it started."
            job.cancel.set()
        return job.snapshot()

    def adopt(self, job_id: str, owner: str) -> JobSnapshot | None:
        """Let ``owner`` see ``job_id`` too (a reloaded page that kept the id); ``None`` if gone."""
        with self._cv:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            job.owners.add(owner)
        return job.snapshot()

    def forget(self, job_id: str, owner: str) -> None:
        """Remove a finished job from ``owner``'s list (the saved run, if any, stays)."""
        job = self._owned(job_id, owner)
        with self._cv:
            if job.status in ACTIVE:
                raise UserError("Stop the job before removing it from the list.")
            job.owners.discard(owner)
            if not job.owners:
                self._jobs.pop(job_id, None)

    # ----------------------------------------------------------------- reading
    def snapshot(self, job_id: str, owner: str) -> JobSnapshot:
        """The state of one of ``owner``'s jobs."""
        return self._owned(job_id, owner).snapshot()

    def list(self, owner: str, active_only: bool = False) -> list[JobSnapshot]:
        """``owner``'s jobs, oldest first (queue order for queued ones)."""
        with self._cv:
            jobs = [j for j in self._jobs.values() if owner in j.owners]
        snaps = [j.snapshot() for j in sorted(jobs, key=lambda j: j.submitted)]
        return [s for s in snaps if s.active] if active_only else snaps

    def busy(self) -> bool:
        """Whether any job (of any owner) is queued or running."""
        with self._cv:
            return bool(self._queue) or any(j.status == RUNNING for j in self._jobs.values())

    def trainer_ready(self) -> bool:
        """Whether the training process has started and reported ready (imports, data)."""
        trainer = self._trainer
        return trainer is not None and trainer.ready_event.is_set()

    def queue_position(self, job_id: str) -> int | None:
        """0-based place in the queue of a queued job (jobs of every owner count), else ``None``."""
        with self._cv:
            try:
                return list(self._queue).index(job_id)
            except ValueError:
                return None

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
            job = self._jobs.get(job_id)
        if job is None or owner not in job.owners:
            raise UnknownNameError("That training job does not exist in this browser session.")
        return job

    # ----------------------------------------------------------------- the worker
    def _prune(self) -> None:
        done = sorted((j for j in self._jobs.values() if j.status not in ACTIVE),
                      key=lambda j: j.submitted)
        for j in done[:max(0, len(done) - self.keep_finished)]:
            self._jobs.pop(j.job_id, None)

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._serve, name="anomaly-lab-jobs",
                                            daemon=True)
            self._worker.start()

    def _serve(self) -> None:
        while True:
            with self._cv:
                while not self._queue:
                    self._cv.wait()
                job = self._jobs[self._queue.popleft()]
                with job.lock:
                    job.status = RUNNING
                    job.started = time.time()
            self._run(job)

    def prestart(self) -> None:
        """Start the training process now (torch imported, quick-start data loaded) so the first
        job does not wait for it. Idempotent; a no-op with ``process=False``."""
        if self.process:
            self._training_process()

    def _training_process(self) -> TrainingProcess:
        with self._trainer_lock:
            if self._trainer is None or not self._trainer.alive:
                self._trainer = take_early() or TrainingProcess()
            return self._trainer

    def shutdown(self) -> None:
        """Stop the training process (tests; the server's daemon process dies with it anyway)."""
        with self._trainer_lock:
            if self._trainer is not None:
                self._trainer.close()
                self._trainer = None

    def _run(self, job: _Job) -> None:
        if self.process:
            self._run_in_process(job)
        else:
            self._run_in_thread(job)

    def _run_in_process(self, job: _Job) -> None:
        """Hand ``job`` to the training process and replay its messages into the job record."""
        monitor = JobMonitor(job)
        status, error, result, saved = FAILED, "", {}, False
        try:
            trainer = self._training_process()
            trainer.submit(job.spec, self.root, job.run_id)
            while True:
                if job.cancel.is_set():
                    trainer.cancel.set()
                msg = trainer.receive(timeout=0.2)
                if msg is None:
                    continue
                kind = msg[0]
                if kind == "start":
                    monitor.on_start(msg[1])
                elif kind == "step":
                    monitor.on_step(msg[1], msg[2], **msg[3])
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
            error = ("The training process stopped unexpectedly (out of memory?); it restarts "
                     f"with the next job. ({type(e).__name__}: {e})")
        self._finish(job, status, error, result, saved)

    def _run_in_thread(self, job: _Job) -> None:
        status, error, result, saved = DONE, "", {}, False
        try:
            res = run_experiment(job.spec, JobMonitor(job), root=self.root, run_id=job.run_id)
            saved = res.run_id is not None
            result = {k: v for k, v in res.metrics.items()
                      if isinstance(v, (int, float, bool, str))}
            if res.metrics.get("cancelled") or job.cancel.is_set():
                status, error = CANCELLED, "Stopped by you; the partly trained model was saved."
        except TrainingCancelledError as e:
            status, error = CANCELLED, str(e)
        except UserError as e:
            status, error = (CANCELLED, f"Stopped: {e}") if job.cancel.is_set() else (FAILED,
                                                                                       str(e))
        except Exception as e:  # a bug: keep the worker alive and show what happened
            status = FAILED
            error = f"Training failed with an internal error ({type(e).__name__}: {e})."
            traceback.print_exc()
        self._finish(job, status, error, result, saved)

    @staticmethod
    def _finish(job: _Job, status: str, error: str, result: dict[str, Any], saved: bool) -> None:
        with job.lock:
            job.status, job.error, job.result, job.saved = status, error, result, saved
            job.finished = time.time()
            job.step = job.total if status == DONE else job.step


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def get_manager() -> JobManager:
    """The process-wide job manager (one worker for every browser session of this server)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            _MANAGER = JobManager()
        return _MANAGER
