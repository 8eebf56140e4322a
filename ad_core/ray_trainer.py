"""The app's training jobs as Ray tasks (``ANOMALY_LAB_ENGINE=ray``; ``ANOMALY_LAB_RAY_ADDRESS`` for
a cluster): :class:`RayTrainer` speaks the training process's protocol (:mod:`ad_core.worker`), so
the job manager's fair queue, joining, journal and status mapping are the same on Ray.

Each job is one Ray task, :func:`train_task`, made by :func:`ad_core.ray_engine.remote` with the
job's CPU request (its torch threads, :func:`ad_core.worker.training_threads`) and GPU request
(``ANOMALY_LAB_GPUS_PER_JOB``, default 0) — the sweep engine's task and connection code. It runs
:func:`ad_core.worker.run_job`, the one place where the way a training ended becomes a message.

**Progress and cancel: one small channel actor per job manager** (:class:`ProgressChannel`,
``num_cpus=0``), not an actor per job. A task reuses one of Ray's warm worker processes (torch
and the detectors imported once per worker, as in the local pool), where an actor per job would
start and import a fresh process for every training (seconds of a quick start). The task sends its
``start``/``step`` messages to the channel in batches (at most every 0.2 s, fire and forget),
and reads the job's cancel flag from it at most every 0.25 s, so a training step never waits on
the network; the manager's dispatcher takes the batches every 0.2 s. The task's *return value* is
the final message, so a finished job is never lost in the channel, and a task whose worker died
surfaces as a Ray error, which the manager reports like a dead training process.

**The run store.** The task saves the run in a temporary folder where it runs and returns the run
folder packed (a tar of a few MB); the dispatcher unpacks it into the run store the app reads, so a
cluster needs no shared disk. (Datasets are loaded where the task runs: the built-in ones come with
``ad_core``/their loaders; a session's uploaded files are on the server only.)
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import secrets
import shutil
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ad_core import ray_engine

#: Seconds between two batches of progress messages sent by a task.
FLUSH_S = 0.2
#: Seconds between two reads of the cancel flag by a task.
CANCEL_POLL_S = 0.25


def gpus_per_job() -> float:
    """The Ray GPU request of one app job: ``ANOMALY_LAB_GPUS_PER_JOB`` (default 0)."""
    return float(os.environ.get("ANOMALY_LAB_GPUS_PER_JOB", "0") or 0)


class ProgressChannel:
    """The Ray actor between the app's job dispatchers and their tasks: progress messages one way,
    cancel flags the other, keyed by the job's run id."""

    def __init__(self) -> None:
        self._msgs: dict[str, list[tuple]] = collections.defaultdict(list)
        self._cancelled: set[str] = set()

    def put(self, key: str, msgs: list[tuple]) -> None:
        self._msgs[key].extend(msgs)

    def take(self, key: str) -> list[tuple]:
        return self._msgs.pop(key, [])

    def cancel(self, key: str) -> None:
        self._cancelled.add(key)

    def cancelled(self, key: str) -> bool:
        return key in self._cancelled

    def forget(self, key: str) -> None:
        self._msgs.pop(key, None)
        self._cancelled.discard(key)


class _ChannelConn:
    """The task's end of the channel, used as :func:`~ad_core.worker.run_job`'s ``conn``:
    progress is batched to the channel, the final message is kept for the return value."""

    def __init__(self, channel: Any, key: str) -> None:
        self._channel, self._key = channel, key
        self._buf: list[tuple] = []
        self._last = 0.0
        self.final: tuple | None = None

    def send(self, msg: tuple) -> None:
        if msg[0] not in ("start", "step", "snapshot"):
            self.final = msg
            return
        self._buf.append(msg)
        if msg[0] in ("start", "snapshot") or time.monotonic() - self._last >= FLUSH_S:
            self.flush()

    def flush(self, wait: bool = False) -> None:
        if self._buf:
            ref = self._channel.put.remote(self._key, self._buf)
            self._buf = []
            if wait:  # the channel runs one caller's calls in order: all earlier ones are in
                import ray

                ray.get(ref)
        self._last = time.monotonic()


class _ChannelCancel:
    """The job's cancel flag as the task sees it (``is_set``), read from the channel at most every
    :data:`CANCEL_POLL_S` seconds; once set it stays set."""

    def __init__(self, channel: Any, key: str) -> None:
        self._channel, self._key = channel, key
        self._set = False
        self._last = 0.0

    def is_set(self) -> bool:
        if not self._set and time.monotonic() - self._last >= CANCEL_POLL_S:
            import ray

            self._set = bool(ray.get(self._channel.cancelled.remote(self._key)))
            self._last = time.monotonic()
        return self._set


def pack_run(folder: Path) -> bytes:
    """A run folder as the bytes of a tar archive (its files under the folder's name)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(folder, arcname=folder.name)
    return buf.getvalue()


def unpack_run(data: bytes, run_id: str, root: Path) -> Path:
    """Put a packed run folder into the run store ``root`` as ``root/run_id`` (unpacked beside it,
    then renamed: the app never sees half a run) and index its content key like
    :func:`ad_core.runs.save_run` does."""
    import json

    from ad_core.runs import _write_key_index, check_run_id

    check_run_id(run_id)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{run_id}-{secrets.token_hex(3)}"
    tmp.mkdir()
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
            tar.extractall(tmp, filter="data")
        os.replace(tmp / run_id, root / run_id)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    config = json.loads((root / run_id / "config.json").read_text())
    if config.get("run_key") and config.get("status") == "done":
        _write_key_index(root, str(config["run_key"]), run_id)
    return root / run_id


def train_task(channel: Any, spec: Any, run_id: str, threads: int) -> tuple[tuple, bytes | None]:
    """One app job in a Ray worker: ``(final message, packed run folder or None)``."""
    from ad_core.device import set_threads
    from ad_core.experiment import run_experiment
    from ad_core.worker import run_job

    set_threads(threads)
    conn, cancel = _ChannelConn(channel, run_id), _ChannelCancel(channel, run_id)
    with tempfile.TemporaryDirectory(prefix="anomaly-lab-ray-job-") as tmp:
        run_job(conn, cancel, spec, tmp, run_id, run_experiment)
        conn.flush(wait=True)
        folder = Path(tmp) / run_id
        packed = pack_run(folder) if folder.is_dir() else None
    return conn.final or ("error", "the Ray task ended without a result"), packed


def warm_task(threads: int) -> bool:
    """Import torch and the experiment code in a Ray worker before the first job needs them."""
    from ad_core.device import set_threads
    from ad_core.experiment import run_experiment  # noqa: F401
    from ad_core.worker import _warm_torch

    set_threads(threads)
    _warm_torch()
    return True


class RayCluster:
    """The job manager's Ray: the connection (:func:`ad_core.ray_engine.connect`), the channel
    actor and the task handles, made once per manager and shared by its :class:`RayTrainer`\\ s."""

    def __init__(self, address: str | None, workers: int, threads: int, gpus: float) -> None:
        self.address, self.threads, self.gpus = address, threads, gpus
        self.ray, _ = ray_engine.connect(address, None if address else workers * threads)
        self.channel = self.ray.remote(ProgressChannel).options(num_cpus=0).remote()
        self.task = ray_engine.remote(train_task, threads, gpus)
        self.warm = ray_engine.remote(warm_task, threads, gpus)

    def slots(self, workers: int | None) -> int:
        """Jobs at a time: ``workers`` when given, else as many as the cluster's CPUs hold."""
        return workers or max(1, ray_engine.cluster_cpus() // max(1, self.threads))


class RayTrainer:
    """One dispatcher slot of the job manager on Ray: at most one job's task in flight, spoken to
    through the training process's protocol (``submit``, ``receive``, ``cancel``, ``close``)."""

    preload: tuple[str, ...] = ()  # nothing preloaded: the server keys jobs on its own data

    def __init__(self, cluster: RayCluster) -> None:
        self._c = cluster
        self.cancel = threading.Event()
        self.ready_event = threading.Event()
        self.ready = False
        self.alive = True
        self._ref: Any = None
        self._key = ""
        self._root: Path | None = None
        self._told_cancel = False
        self._pending: collections.deque[tuple] = collections.deque()
        warm = cluster.warm.remote(cluster.threads)

        def wait_warm() -> None:
            with contextlib.suppress(Exception):
                cluster.ray.get(warm)
            self.ready = True
            self.ready_event.set()

        threading.Thread(target=wait_warm, name="ray-warm", daemon=True).start()

    def want_threads(self, threads: int) -> None:
        """Nothing: a task's threads are the CPUs it asked Ray for."""

    def submit(self, spec: Any, root: Any, run_id: str, threads: int | None = None) -> None:
        """Start one job's task (one at a time per slot); its threads are the CPUs its task
        asked Ray for, so ``threads`` is ignored."""
        from ad_core.runs import runs_root

        self.cancel.clear()
        self._told_cancel = False
        self._pending.clear()
        self._key = run_id
        self._root = Path(root) if root is not None else runs_root()
        self._ref = self._c.task.remote(self._c.channel, spec, run_id, self._c.threads)

    def receive(self, timeout: float) -> tuple | None:
        """The next message of the running job, or ``None`` when none arrived within ``timeout``.
        Raises :class:`EOFError` when the task's worker died (the job cannot finish)."""
        ray, channel = self._c.ray, self._c.channel
        if self._pending:
            return self._pending.popleft()
        if self._ref is None:
            time.sleep(timeout)
            return None
        if self.cancel.is_set() and not self._told_cancel:
            channel.cancel.remote(self._key)
            self._told_cancel = True
        done, _ = ray.wait([self._ref], timeout=timeout)
        self._pending.extend(ray.get(channel.take.remote(self._key)))
        if self._pending:  # progress first: it was sent before the task ended
            return self._pending.popleft()
        if not done:
            return None
        ref, self._ref = self._ref, None
        channel.forget.remote(self._key)
        try:
            final, packed = ray.get(ref)
        except Exception as e:  # the worker died, or the cluster lost the task
            first = (str(e).splitlines() or [""])[0]
            raise EOFError(f"the Ray task running it was lost: {type(e).__name__}: {first}"
                           ) from None
        if packed is not None and self._root is not None:
            unpack_run(packed, self._key, self._root)
        return final

    def close(self) -> None:
        """Stop a running task (its run is not saved)."""
        if self._ref is not None:
            with contextlib.suppress(Exception):
                self._c.ray.cancel(self._ref, force=True)
            self._ref = None
