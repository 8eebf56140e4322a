"""The training process: one persistent, spawned Python process that runs experiments for the app.

Training inside the Streamlit server process competes with every session's script reruns for the
GIL, and torch's OpenMP threads spin-wait on cores the server is using: on 2 cores a Toll fit that
takes seconds from the CLI took minutes in the server. So the app's jobs run here instead. The
process is started once (spawned, never forked from the threaded server), imports torch and the
detectors, preloads the quick-start dataset and then waits for work on a pipe:

- parent → child: ``(spec, root, run_id)`` to train, or ``None`` to exit;
- child → parent: ``("ready",)`` once, then per job ``("start", total)``, ``("step", step, loss,
  metrics)``, ``("snapshot", summary)`` (:mod:`ad_core.snapshots`: the live score histogram) …
  and exactly one of ``("done", result)``, ``("cancelled", message)``,
  ``("user_error", message)``, ``("error", message)`` (:func:`run_job`).

:class:`ThreadTrainer` serves the same protocol from a thread of the calling process (the job
manager's ``process=False``, for tests), so a job's outcome is decided in one place either way.

Cancel is a shared :class:`multiprocessing.Event` that the training loop polls through
:meth:`PipeMonitor.should_stop`; the parent clears it before each job, the child never does.

Several processes serve the job manager's pool on a bigger machine (:func:`training_workers`,
``ANOMALY_LAB_TRAINING_WORKERS``), each a :class:`TrainingProcess` running one job at a time with
:func:`training_threads` torch threads (``ANOMALY_LAB_TRAINING_THREADS``); by default every spare
core (all but one, left to the server) runs a job of one thread. On one or two cores one job fits,
and the thread count follows the server's load (:func:`job_threads`, asked again between two
steps of the running job): every core while the server has time for the job, one thread while
it serves a class (jobs waiting, or more than two sessions following the job). Measured on 2
cores (2026-12-06): a quick start on a fresh server with 2 threads opens its charts 8.9–9.0 s
after the click (first live histogram 2.4–2.5 s), where 1 thread took 12.9–17.1 s; but ten
sessions training ten classes at once finished the last 108.9 s after their clicks on 2 threads
against 90.7 s on 1: a preempted OpenMP thread stalls every barrier, and ten polling sessions
preempt it. On CPU, sums in another thread order differ in the last bits, and training carries
the difference on: the quick start's Toll run on 2 threads scores the 1,000 test samples a median
2.9 % (at most 15 %) away from the same seed's run on 1 thread, Spearman ρ 0.995, AUROC 0.8934
against 0.8929. So a run whose threads changed during the fit says so in its ``config.json``
(``machine.thread_changes``), and ``ANOMALY_LAB_TRAINING_THREADS`` pins the count for runs that
must repeat bit for bit. ``OMP_WAIT_POLICY=PASSIVE`` did not help (11.5 s standalone on 2
threads).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
import traceback
import types
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ad_core.spawning import spawn_context

#: Datasets the training process loads before it reports ready (the quick start's).
PRELOAD = ("mnist5k",)


def exit_with_parent(poll_s: float = 1.0) -> None:
    """In a spawned helper process: exit as soon as the process that started it is gone (a
    killed server must not leave a training or a UMAP compile running for nobody)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _env_int(*names: str) -> int | None:
    for name in names:
        env = os.environ.get(name, "").strip()
        if env:
            return max(1, int(env))
    return None


#: Threads of one job when neither environment variable says, on a machine of more than two
#: cores. One: a class's jobs are many and independent, and a second thread buys little (the
#: quick-start Toll fit: 6.6 s on 1 thread, 4.2 s on 2, standalone on 2 cores), so k one-thread
#: jobs side by side finish a queue about 1.4× sooner than k/2 two-thread ones. A single long job
#: is faster wider: set ``ANOMALY_LAB_TRAINING_THREADS``. On one or two cores only one job fits
#: anyway, and it takes every core (:func:`training_threads`).
DEFAULT_JOB_THREADS = 1


def training_threads() -> int:
    """Torch intra-op threads of one training job: ``ANOMALY_LAB_TRAINING_THREADS`` (or its older
    name ``ANOMALY_LAB_TRAIN_THREADS``); else the spare cores (all but one, left to the server)
    shared among ``ANOMALY_LAB_TRAINING_WORKERS`` when that is set; else, on one or two cores
    (where one job at a time is all that fits), every core; else
    ``min(DEFAULT_JOB_THREADS, spare cores)``. Two threads on 2 cores: the server mostly waits
    while a job trains (the live view is built once per snapshot for every session), and the
    quick start measured faster so (``python -m ad_core.benchmarks.quickstart``)."""
    threads = _env_int("ANOMALY_LAB_TRAINING_THREADS", "ANOMALY_LAB_TRAIN_THREADS")
    if threads:
        return threads
    spare = max(1, usable_cores() - 1)
    workers = _env_int("ANOMALY_LAB_TRAINING_WORKERS")
    if workers:
        return max(1, spare // workers)
    if usable_cores() <= 2:
        return usable_cores()
    return min(DEFAULT_JOB_THREADS, spare)


def job_threads(busy: bool, workers: int = 1) -> int:
    """Torch threads for the running job of a manager with ``workers`` training slots:
    ``ANOMALY_LAB_TRAINING_THREADS`` when set; in a pool of several slots, its share of the spare
    cores; else :func:`training_threads`, except on one or two cores while the server is *busy* —
    other jobs wait in the queue or more than two sessions follow this one — where the job gets
    one thread and leaves the other core to the server: ten sessions polling their progress
    views slowed a two-thread job so much that a queue of ten different quick starts finished
    later than on one thread (``python -m ad_core.benchmarks.classroom``: 108.9 s against
    90.7 s)."""
    pinned = _env_int("ANOMALY_LAB_TRAINING_THREADS", "ANOMALY_LAB_TRAIN_THREADS")
    if pinned:
        return pinned
    slots = max(int(workers), _env_int("ANOMALY_LAB_TRAINING_WORKERS") or 1)
    if slots > 1:
        return max(1, max(1, usable_cores() - 1) // slots)
    if busy and usable_cores() <= 2:
        return 1
    return training_threads()


def training_workers() -> int:
    """Training jobs at a time (the pool's processes, or Ray tasks in flight):
    ``ANOMALY_LAB_TRAINING_WORKERS``, else as many jobs of :func:`training_threads` threads as the
    spare cores hold (at least 1: on 2 cores one job at a time, as before the pool)."""
    workers = _env_int("ANOMALY_LAB_TRAINING_WORKERS")
    if workers:
        return workers
    return max(1, max(1, usable_cores() - 1) // training_threads())


ENGINES = ("local", "ray")


def training_engine() -> str:
    """Where the app's jobs train: ``ANOMALY_LAB_ENGINE`` — ``local`` (the default: the pool of
    training processes here) or ``ray`` (a Ray task per job, :mod:`ad_core.ray_trainer`)."""
    engine = os.environ.get("ANOMALY_LAB_ENGINE", "").strip().lower() or "local"
    if engine not in ENGINES:
        raise ValueError(f"ANOMALY_LAB_ENGINE={engine!r}: choose one of {', '.join(ENGINES)}")
    return engine


class PipeMonitor:
    """The :class:`~ad_core.detectors.base.TrainingMonitor` of a job in the training process:
    every callback becomes a message to the server; ``should_stop`` reads the shared cancel flag.
    Between two steps it also takes the torch thread count the server wants now (``threads``, a
    shared integer, 0 = keep): the training thread is the one that may change it."""

    def __init__(self, conn: Connection, cancel: Any, threads: Any = None) -> None:
        self._conn = conn
        self._cancel = cancel
        self._threads = threads
        #: ``[step, threads]`` each time the count changed during the fit (the run records it).
        self.thread_changes: list[list[int]] = []

    def on_start(self, total: int) -> None:
        self._conn.send(("start", int(total)))

    def on_step(self, step: int, loss: float, **metrics: float) -> None:
        self._conn.send(("step", int(step), float(loss),
                         {k: float(v) for k, v in metrics.items()}))
        if self._threads is not None and self._threads.value > 0:
            from ad_core.device import set_threads

            want = int(self._threads.value)
            if set_threads(want) != want:  # set_threads returns the count it had
                self.thread_changes.append([int(step), want])

    def should_stop(self) -> bool:
        return self._cancel.is_set()

    def on_end(self) -> None:
        """Nothing to send: the final message of the job says how it ended."""


def _warm_torch() -> None:
    """Pay torch's one-time costs before the first job: the first optimiser imports
    ``torch._dynamo`` (3 s of a quick start here) and the first convolutions set up their
    kernels."""
    import torch

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
                              torch.nn.ConvTranspose2d(4, 1, 3, padding=1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss = net(torch.zeros(2, 1, 8, 8)).square().mean()
    loss.backward()
    opt.step()


def serve(conn: Connection, cancel: Any, threads: int, preload: tuple[str, ...],
          ready: Any = None, info: Any = None, wanted: Any = None) -> None:
    """The training process's main loop (the target of the spawned process)."""
    exit_with_parent()
    from ad_core.device import set_threads

    set_threads(threads)
    _warm_torch()
    from ad_core.data import load_dataset
    from ad_core.errors import UserError
    from ad_core.experiment import ExperimentSpec, data_fingerprint, run_experiment

    known: dict[str, tuple[str, tuple[int, ...]]] = {}
    for name in preload:
        with contextlib.suppress(UserError):
            ds = load_dataset(name)
            known[name] = (data_fingerprint(ExperimentSpec(name, [], "")),
                           tuple(int(s) for s in ds.x.shape[1:]))
    if info is not None:
        info.put(known)  # the server keys jobs on these data without loading them itself
    if ready is not None:
        ready.set()
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        spec, root, run_id = msg
        if wanted is not None and wanted.value > 0:  # the job's threads, from its first step
            set_threads(wanted.value)
        run_job(conn, cancel, spec, root, run_id, run_experiment, wanted)


def run_job(conn: Any, cancel: Any, spec: Any, root: Any, run_id: str,
            run_experiment: Callable[..., Any], threads: Any = None) -> None:
    """Run one job and report it on ``conn`` (anything with ``send``): its progress, then exactly
    one of ``done`` / ``cancelled`` / ``user_error`` / ``error`` — the one place where the way a
    training ended becomes a message (the job manager maps messages to job statuses)."""
    from ad_core.errors import TrainingCancelledError, UserError
    from ad_core.snapshots import SnapshotRecorder, save_snapshots

    try:
        monitor = PipeMonitor(conn, cancel, threads)
        recorder = SnapshotRecorder(monitor,
                                    on_snapshot=lambda snap: conn.send(("snapshot", snap)))
        res = run_experiment(spec, recorder, root=root, run_id=run_id)
        save_snapshots(recorder, res, root)
        if monitor.thread_changes and res.run_id is not None:
            _record_thread_changes(res.run_id, root, monitor.thread_changes)
        result = {k: v for k, v in res.metrics.items() if isinstance(v, (int, float, bool, str))}
        conn.send(("done", {"saved": res.run_id is not None, "metrics": result}))
    except TrainingCancelledError as e:
        conn.send(("cancelled", str(e)))
    except UserError as e:
        conn.send(("user_error", str(e)))
    except Exception as e:  # a bug: the traceback goes to the server log, the job fails
        traceback.print_exc()
        conn.send(("error", f"{type(e).__name__}: {e}"))


def _record_thread_changes(run_id: str, root: Any, changes: list[list[int]]) -> None:
    """Note in the run's ``config.json`` (``machine.thread_changes``: ``[step, threads]`` pairs)
    that its torch threads changed during the fit — on CPU another thread count sums in another
    order, and training carries the difference on — so a rerun knows what it compares with."""
    import json

    from ad_core.runs import runs_root

    path = (Path(root) if root is not None else runs_root()) / run_id / "config.json"
    with contextlib.suppress(OSError, ValueError):
        config = json.loads(path.read_text())
        config.setdefault("machine", {})["thread_changes"] = changes
        tmp = path.with_name(f"config.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(config, indent=1))
        os.replace(tmp, path)


class TrainingProcess:
    """Handle on the training process: start it, hand it a job, read its messages, stop it."""

    def __init__(self, threads: int | None = None, preload: tuple[str, ...] = PRELOAD) -> None:
        ctx = spawn_context()
        self.conn, child = ctx.Pipe()
        self.cancel = ctx.Event()
        #: Set by the process once torch is imported and the preload data are loaded.
        self.ready_event = ctx.Event()
        #: Receives once ``{dataset: (data fingerprint, input shape)}`` of the preloaded data.
        self.data_info = ctx.SimpleQueue()
        self.threads = threads or training_threads()
        #: The torch threads the running job should use from its next step on (0 = keep).
        self.wanted = ctx.Value("i", 0, lock=False)
        self.preload = tuple(preload)
        self.started = time.time()
        self.ready = False
        self.process = ctx.Process(target=serve, args=(child, self.cancel, self.threads, preload,
                                                        self.ready_event, self.data_info,
                                                        self.wanted),
                                   name="anomaly-lab-training", daemon=True)
        self.process.start()
        child.close()

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.is_alive()

    def submit(self, spec: Any, root: Any, run_id: str, threads: int | None = None) -> None:
        """Hand one job to the process (it runs one at a time), on ``threads`` torch threads
        (default: the ones it has)."""
        self.cancel.clear()
        self.wanted.value = int(threads or 0)
        self.conn.send((spec, None if root is None else str(root), run_id))

    def want_threads(self, threads: int) -> None:
        """Ask the running job to use ``threads`` torch threads from its next step on."""
        self.wanted.value = int(threads)

    def receive(self, timeout: float) -> tuple | None:
        """The next message, or ``None`` when none arrived within ``timeout`` seconds.

        Raises :class:`EOFError` when the process has gone away. ``("ready",)`` is consumed here.
        """
        while True:
            if not self.conn.poll(timeout):
                if not self.alive:
                    raise EOFError("the training process exited")
                return None
            msg = self.conn.recv()
            if msg[0] == "ready":
                self.ready = True
                continue
            return msg

    def close(self) -> None:
        """Ask the process to exit, then make sure it did."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
        self.conn.close()


class ThreadTrainer:
    """The training process's protocol served by a thread of this process instead
    (``JobManager(process=False)``: tests of the queue's logic). Each job runs the given
    ``run_experiment`` (a test passes a fake) through the same :func:`run_job`, so a job ends the
    same way in both."""

    preload: tuple[str, ...] = ()  # nothing preloaded: the server keys jobs on its own data

    def __init__(self, run_experiment: Callable[..., Any]) -> None:
        self._run = run_experiment
        self._inbox: queue.SimpleQueue[tuple] = queue.SimpleQueue()
        self.cancel = threading.Event()
        self.ready_event = threading.Event()
        self.ready_event.set()
        self.ready = True
        self.alive = True

    def submit(self, spec: Any, root: Any, run_id: str, threads: int | None = None) -> None:
        """Run one job in a new thread (the job manager runs one at a time); ``threads`` is
        ignored: this process's torch threads are its own."""
        self.cancel.clear()
        conn = types.SimpleNamespace(send=self._inbox.put)
        threading.Thread(target=run_job, args=(conn, self.cancel, spec, root, run_id, self._run),
                         name="anomaly-lab-training-thread", daemon=True).start()

    def want_threads(self, threads: int) -> None:
        """Nothing: this process's torch threads are its own."""

    def receive(self, timeout: float) -> tuple | None:
        """The next message, or ``None`` when none arrived within ``timeout`` seconds."""
        try:
            return self._inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        """Nothing to stop: a running job's thread ends with its job."""


_early: TrainingProcess | None = None
_early_started = False
_early_lock = threading.Lock()


def start_early() -> None:
    """Start the training process now, before the caller imports torch (idempotent).

    The server calls this first thing on its first script run, so the process imports torch and
    loads the quick-start data while the server does the same: a quick start clicked on a fresh
    server waited 3.3 s for the process when it was started after the server's own imports.
    The job manager adopts it (:func:`take_early`)."""
    global _early, _early_started
    with _early_lock:
        # once per server (the script reruns on every click); Ray jobs need no process here
        if not _early_started and training_engine() == "local":
            _early_started = True
            _early = TrainingProcess()


def take_early() -> TrainingProcess | None:
    """The process :func:`start_early` started, if any and still alive (handed over once)."""
    global _early
    with _early_lock:
        proc, _early = _early, None
    return proc if proc is not None and proc.alive else None
