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
import importlib
import sys
import threading
import types
from collections.abc import Callable, Iterator
from multiprocessing import context as mp_context
from typing import Any, TypeVar

_main_lock = threading.Lock()
F = TypeVar("F", bound=Callable[..., Any])


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


def importable(fn: F) -> F:
    """``fn`` as a child started from :func:`spawn_context` can unpickle it.

    Such a child never imports the parent's main module, so a function defined there (a
    benchmark run as ``python -m ad_core.benchmarks.X`` whose cell function lives in X) would
    be pickled as ``__main__.fn`` and not be found. When the main module was run with ``-m``,
    the same function is taken from the module under its real name; a function of a main module
    run as a plain file cannot be sent, and says so.
    """
    if getattr(fn, "__module__", None) != "__main__":
        return fn
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None)
    if not name or name == "__main__":
        raise RuntimeError(f"{fn.__qualname__} is defined in a script run as a file; helper "
                           "processes cannot import it (run the script with python -m, or "
                           "define the function in a module)")
    return getattr(importlib.import_module(name), fn.__qualname__)
