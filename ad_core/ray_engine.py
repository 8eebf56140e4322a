"""Ray, for every experiment that runs somewhere else: the one place that connects to Ray and turns
a CPU/GPU request into a Ray task.

Two callers share it, so there is one code path for "run an experiment on Ray":

- the sweep engine (:mod:`ad_core.sweep`, ``--engine ray``): each cell is a task made by
  :func:`remote` and run inside :func:`session` (which shuts down a Ray it started itself);
- the app's jobs (:mod:`ad_core.ray_trainer`, ``ANOMALY_LAB_ENGINE=ray``): each training is a task
  made by :func:`remote`, on the process-wide connection of :func:`connect` (the server keeps it).

:func:`connect` starts Ray on this machine (``num_cpus`` of them) unless Ray is running in this
process already (a test's local Ray, say); ``address`` connects to an existing cluster instead,
which then receives the ``ad_core`` package with the tasks (``runtime_env.py_modules``). Either
way the tasks see this process's ``ANOMALY_LAB_DATA`` and ``ANOMALY_LAB_RUNS``. Ray is an optional
extra: ``pip install -r requirements-scale.txt``; without it :class:`EngineUnavailableError` says
so in one sentence.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ad_core.errors import UserError

RAY_MISSING = ("--engine ray needs Ray, which is not installed here: "
               "pip install -r requirements-scale.txt (or use --engine local).")


class EngineUnavailableError(UserError):
    """The chosen engine cannot run here (Ray not installed, no cluster at the address)."""


def ray_available() -> bool:
    """Whether Ray can be imported here."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


_lock = threading.Lock()


def _init_in_a_thread_that_stays(ray: Any, **kw: Any) -> None:
    """``ray.init(**kw)`` from a thread that never ends. Ray starts its GCS and raylet with
    ``PR_SET_PDEATHSIG``, which the kernel fires when the *thread* that started them exits: a Ray
    started from the job manager's short-lived start-up thread was killed ten seconds later,
    and the server with it. The main thread lives as long as the process, so it calls directly."""
    if threading.current_thread() is threading.main_thread():
        ray.init(**kw)
        return
    done = threading.Event()
    failure: list[BaseException] = []

    def init_then_stay() -> None:
        try:
            ray.init(**kw)
        except BaseException as e:  # handed to the caller
            failure.append(e)
        done.set()
        if not failure:
            threading.Event().wait()  # the processes Ray started live as long as this thread

    threading.Thread(target=init_then_stay, name="ray-started-here", daemon=True).start()
    done.wait()
    if failure:
        raise failure[0]


def connect(address: str | None = None, num_cpus: int | None = None) -> tuple[Any, bool]:
    """``(ray, started)``: Ray connected in this process — started here with ``num_cpus`` CPUs
    (``None`` = all), or joined at ``address`` — and whether this call did it (``False`` when Ray
    was initialised already). Raises :class:`EngineUnavailableError` with a plain reason."""
    try:
        import ray
    except ImportError:
        raise EngineUnavailableError(RAY_MISSING) from None
    with _lock:
        if ray.is_initialized():
            return ray, False
        env = {k: os.environ[k] for k in ("ANOMALY_LAB_DATA", "ANOMALY_LAB_RUNS") if k in os.environ}
        kw: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                              "log_to_driver": False}
        try:
            if address:
                import ad_core

                _init_in_a_thread_that_stays(ray, address=address, runtime_env={
                    "py_modules": [str(Path(ad_core.__file__).parent)], "env_vars": env}, **kw)
            else:
                _init_in_a_thread_that_stays(ray, num_cpus=num_cpus,
                                             runtime_env={"env_vars": env}, **kw)
        except (ConnectionError, RuntimeError, ValueError) as e:
            where = f"a Ray cluster at {address}" if address else "a local Ray"
            raise EngineUnavailableError(f"Could not start or reach {where}: "
                                         f"{str(e).splitlines()[0] if str(e) else e!r}") from None
        return ray, True


@contextlib.contextmanager
def session(address: str | None = None, num_cpus: int | None = None) -> Iterator[Any]:
    """Ray for the duration of a ``with`` block (a sweep): connected by :func:`connect`, shut down
    afterwards only if this block started it."""
    ray, started = connect(address, num_cpus)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def remote(fn: Callable[..., Any], cpus: float = 1, gpus: float = 0.0) -> Any:
    """``fn`` as a Ray task asking for ``cpus`` CPUs and ``gpus`` GPUs, never retried (a task
    whose worker died is reported, not silently run twice): call ``.remote(...)`` on it."""
    import ray

    return ray.remote(fn).options(num_cpus=cpus, num_gpus=gpus, max_retries=0)


def cluster_cpus() -> int:
    """The CPUs of the connected Ray (all its nodes)."""
    import ray

    return int(ray.cluster_resources().get("CPU", 1))
