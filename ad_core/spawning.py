"""Spawned helper processes that never re-run the parent's main script.

``multiprocessing``'s spawn start method re-imports the parent's ``__main__`` in the child when
it was run from a file. Under ``streamlit run`` that is Streamlit's launcher, but under AppTest,
or whenever a page script happens to be the main module, the child would execute a Streamlit page
(and fail on missing session state) before it ever reaches its target. The helpers here are
started from a context whose processes hide the main module while they are being spawned, so the
child imports only what its target needs.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import types
from collections.abc import Iterator
from multiprocessing import context as mp_context

_main_lock = threading.Lock()


@contextlib.contextmanager
def hidden_main() -> Iterator[None]:
    """While spawning: replace ``sys.modules['__main__']`` by an empty module, so the spawn
    preparation data names no main script for the child to re-run."""
    with _main_lock:
        real = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if real is not None:
                sys.modules["__main__"] = real


class CleanSpawnProcess(mp_context.SpawnProcess):
    """A spawned process whose child does not re-execute the parent's main module."""

    def start(self) -> None:
        with hidden_main():
            super().start()


class CleanSpawnContext(mp_context.SpawnContext):
    """The spawn context, with :class:`CleanSpawnProcess` for every process it starts (also
    those a :class:`~concurrent.futures.ProcessPoolExecutor` starts from it)."""

    Process = CleanSpawnProcess


def spawn_context() -> CleanSpawnContext:
    """The multiprocessing context for every helper process of Anomaly Lab."""
    return CleanSpawnContext()
