"""Content keys: a run (or a sweep cell) is identified by what made it.

A run key hashes the dataset and a fingerprint of its data, the task and its classes, the
detector, its fully resolved parameters, the seed, and a fingerprint of the method's code. Two
submissions with the same key would train the same model, so the app opens the existing run (or
joins the queued job) instead of training again; a change of data, parameter, seed or code gives a
different key, so a run trained by other code is never reused.

The *code fingerprint* of a module is a hash of the source of that module and of every ``ad_core``
module it imports, transitively (read statically from the import statements, so nothing is
imported to compute it). A detector's fingerprint therefore covers its networks, the training loop,
the contracts and the task splits, but not another detector's module.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

PACKAGE_ROOT = Path(__file__).resolve().parent
#: Modules every experiment's result depends on besides the detector's own closure.
EXPERIMENT_MODULES = ("ad_core.tasks", "ad_core.metrics")


def _module_path(name: str) -> Path | None:
    """The source file of ``ad_core`` module ``name`` (package → its ``__init__.py``)."""
    if name != "ad_core" and not name.startswith("ad_core."):
        return None
    rel = Path(*name.split(".")[1:]) if name != "ad_core" else Path()
    for cand in (PACKAGE_ROOT / rel.with_suffix(".py") if rel.parts else None,
                 PACKAGE_ROOT / rel / "__init__.py"):
        if cand is not None and cand.is_file():
            return cand
    return None


def _imports(path: Path, name: str) -> set[str]:
    """The ``ad_core`` modules that the file at ``path`` (module ``name``) imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # ``from pkg import module``
    return {m for m in out if _module_path(m) is not None}


def module_closure(*modules: str) -> list[str]:
    """Every ``ad_core`` module the given modules import, transitively (themselves included),
    sorted. Packages count through their ``__init__``; a detector module therefore pulls in the
    registry only if it imports it."""
    seen: set[str] = set()
    todo = [m for m in modules if _module_path(m) is not None]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(_imports(_module_path(m), m) - seen)  # type: ignore[arg-type]
    return sorted(seen)


@functools.lru_cache(maxsize=256)
def _fingerprint(modules: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for m in module_closure(*modules):
        h.update(m.encode())
        h.update(b"\0")
        h.update(_module_path(m).read_bytes())  # type: ignore[union-attr]
        h.update(b"\0")
    return h.hexdigest()[:16]


def code_fingerprint(*modules: str) -> str:
    """A 16-hex hash of the source of ``modules`` and of every ``ad_core`` module they import.

    Cached per process (the source does not change under a running server); any edit to one of
    those files gives another fingerprint."""
    return _fingerprint(tuple(sorted(set(modules))))


def detector_module(detector: str) -> str:
    """The module that implements registered detector ``detector`` (``toll`` →
    ``ad_core.detectors.toll``); an external name (``pyod:ECOD``, ``module.path:Class``) is
    implemented by the adapter, ``ad_core.detectors.external``; any other name is its own module
    path."""
    from ad_core.detectors import REGISTRY

    if detector in REGISTRY:
        return f"ad_core.detectors.{REGISTRY[detector][0]}"
    if ":" in detector:
        return "ad_core.detectors.external"
    return detector


def method_fingerprint(detector: str) -> str:
    """The code fingerprint of a detector: its module's closure plus the task splits and metrics
    (the code an experiment's numbers depend on). For an external detector the adapter's closure
    is joined by the estimator's own code: package and version for PyOD and scikit-learn, the
    hash of the file defining your own class (read anew each call, never cached, so an edited
    class never reuses the old one's runs)."""
    fingerprint = code_fingerprint(detector_module(detector), *EXPERIMENT_MODULES)
    if ":" not in detector:
        return fingerprint
    from ad_core.detectors.external import code_identity

    return content_key({"ad_core": fingerprint, "estimator": code_identity(detector)})[:16]


def array_fingerprint(*arrays: Any) -> str:
    """A 16-hex hash of arrays' dtypes, shapes and bytes (tensors are read as numpy)."""
    h = hashlib.sha256()
    for a in arrays:
        if hasattr(a, "detach"):
            a = a.detach().cpu().numpy()
        a = np.ascontiguousarray(np.asarray(a))
        if a.dtype == object:
            a = a.astype(str)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def canonical(obj: Any) -> str:
    """Deterministic JSON of ``obj`` (sorted keys; numpy scalars and tuples normalised)."""
    def default(o: Any) -> Any:
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, (set, frozenset)):
            return sorted(o)
        if isinstance(o, Path):
            return str(o)
        return repr(o)

    return json.dumps(obj, sort_keys=True, default=default, separators=(",", ":"))


def content_key(parts: dict[str, Any]) -> str:
    """A 24-hex hash of ``parts`` (every value JSON-able after :func:`canonical`)."""
    return hashlib.sha256(canonical(parts).encode()).hexdigest()[:24]


def key_parts(*, dataset: str, data_fingerprint: str, task: str, normal: Iterable[Any],
              task_options: dict[str, Any], detector: str, params: dict[str, Any], seed: int,
              code: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fields of a run key, by name (what :func:`content_key` hashes)."""
    return {"dataset": dataset, "data": data_fingerprint, "task": task,
            "normal": [str(n) for n in normal], "task_options": task_options,
            "detector": detector, "params": params, "seed": int(seed), "code": code,
            **({"extra": extra} if extra else {})}
