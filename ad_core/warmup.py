"""The app server's background warm-ups: the training process started early, the quick start's
content key computed before anyone clicks, UMAP's kernels and the quick start's data once training
is idle; and the server's own torch thread count.

Called once per server by ``app.py``; nothing here imports streamlit. Importing this module is
cheap (no torch): ``app.py`` calls :func:`start_early` before anything imports torch, so the
training process imports it at the same time as the server.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from ad_core import worker

#: Torch intra-op threads of the server process. It never trains an app job (the training
#: process does); its own small torch work (the teaching toys, explanations) is fastest on one
#: thread: with two, OpenMP spin-waits on the core a training needs made a toy 5× slower (3.9 s
#: vs 21.6 s for Toll's contour toy on a busy 2-core machine).
SERVER_TORCH_THREADS = 1


def start_early() -> None:
    """Start the training process now, before this server imports torch
    (:func:`ad_core.worker.start_early`)."""
    worker.start_early()


def limit_server_threads() -> None:
    """Run the server's own torch work on :data:`SERVER_TORCH_THREADS` threads (idempotent)."""
    from ad_core.device import set_threads

    set_threads(SERVER_TORCH_THREADS)


def warm_up() -> None:
    """Start a server's background helpers once, without waiting: the training process (torch
    imported, the quick-start data loaded) and the quick start's content key (this process's
    copy of its data and fingerprint: a first click waited 4.4 s for it on a cold, loaded
    server) now; the projection worker compiling UMAP once training is idle
    (:func:`_when_training_idle`)."""
    from ad_core import jobs
    from ad_core import projection as projections

    jobs.get_manager().prestart()
    _key_quickstart_once()
    if _deferred_done:
        projections.warm_up()  # idempotent; retries a failed warm-up at most once a minute
    else:
        _when_training_idle(projections.warm_up, _preload_quickstart_data)


def _preload_quickstart_data() -> None:
    """Load the quick start's dataset in this process too (the Data page reads it; its first
    load took 5 s on a busy server). Runs in :func:`_when_training_idle`'s thread."""
    from ad_core.catalogue import QUICKSTART_DATASET
    from ad_core.data import load_dataset

    load_dataset(QUICKSTART_DATASET)


_keyed_quickstart = False


def _key_quickstart_once() -> None:
    """Compute the quick start's content key in a background thread, once per server."""
    global _keyed_quickstart
    if _keyed_quickstart:
        return
    _keyed_quickstart = True

    def key() -> None:
        from ad_core import jobs
        from ad_core.catalogue import quickstart_spec

        with contextlib.suppress(Exception):  # the job's own keying reports any real problem
            jobs.get_manager().key_of(quickstart_spec())

    threading.Thread(target=key, name="quick-start-key", daemon=True).start()


#: Seconds between checks of whether the background warm-ups may start.
IDLE_POLL_S = 0.5


#: ... and once it has been idle this long (not while a finished quick start opens its page).
IDLE_QUIET_S = 3.0


#: The warm-ups start after this many seconds even if training never went idle.
IDLE_WAIT_MAX_S = 300.0


_deferred_started = False


_deferred_done = False


def _when_training_idle(*tasks: Any) -> None:
    """Run ``tasks`` (once per server) as soon as the training process is ready and no job has
    been queued or running for :data:`IDLE_QUIET_S`. On 2 cores the UMAP warm-up and the data
    preload, run beside a cold server's first quick start, slowed its fit to 12–13 s (11 s
    deferred); started the moment it finished, they slowed the Scores page opening."""
    global _deferred_started
    if _deferred_started:
        return
    _deferred_started = True
    from ad_core import jobs

    manager = jobs.get_manager()

    def wait_then_run() -> None:
        global _deferred_done
        give_up = time.monotonic() + IDLE_WAIT_MAX_S
        quiet_since = None
        while time.monotonic() < give_up:
            if not manager.trainer_ready() or manager.busy():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= IDLE_QUIET_S:
                break
            time.sleep(IDLE_POLL_S)
        for task in tasks:
            with contextlib.suppress(Exception):  # a failed warm-up is retried by its own rule
                task()
        _deferred_done = True

    threading.Thread(target=wait_then_run, name="warm-up-when-idle", daemon=True).start()
