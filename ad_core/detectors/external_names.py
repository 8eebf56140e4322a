"""Where an external detector's name leads (issue 22; the adapter is
:mod:`ad_core.detectors.external`): ``pyod:NAME``, ``sklearn:NAME`` or ``module.path:ClassName``
parsed, the estimator class found (PyOD's tabular detectors from its own index, scikit-learn's
outlier estimators, your module on ``sys.path`` with the current directory appended) and imported,
the identity of its code for run keys, and the guard that turns anything the estimator raises into
one :class:`~ad_core.errors.ExternalDetectorError` line naming the file and line that raised.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import re
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ad_core.errors import (
    DetectorUnavailableError,
    ExternalDetectorError,
    UnknownNameError,
    UserError,
    did_you_mean,
)

PYOD_HINT = "pip install 'anomaly-lab[pyod]' (or pip install -r requirements-dev.txt)"

#: scikit-learn's outlier estimators: name → module.
SKLEARN_OUTLIERS: dict[str, str] = {
    "IsolationForest": "sklearn.ensemble",
    "LocalOutlierFactor": "sklearn.neighbors",
    "OneClassSVM": "sklearn.svm",
    "SGDOneClassSVM": "sklearn.linear_model",
    "EllipticEnvelope": "sklearn.covariance",
}
#: PyOD modules that hold no tabular detector (time series, graphs, audio, embeddings, bases).
_PYOD_SKIP = ("ts_", "pyg_", "_", "audio", "embedding", "base", "sklearn_base", "gaal_base",
              "thresholds", "combination")
SOURCES = ("pyod", "sklearn")


# --------------------------------------------------------------------------- names
@dataclass(frozen=True)
class ExternalName:
    """A parsed external name: ``source`` is ``pyod``, ``sklearn`` or ``user``; ``target`` the
    class name (``ECOD``) or, for ``user``, ``module.path:ClassName``."""

    source: str
    module: str
    cls: str

    @property
    def name(self) -> str:
        return f"{self.source}:{self.cls}" if self.source in SOURCES else f"{self.module}:{self.cls}"


_IDENT = re.compile(r"^[A-Za-z_]\w*$")


def is_external(name: str) -> bool:
    """Whether ``name`` names an external detector (it has a ``:``)."""
    return isinstance(name, str) and ":" in name


def parse_name(name: str) -> ExternalName:
    """``pyod:ECOD`` / ``sklearn:IsolationForest`` / ``module.path:ClassName``, checked."""
    head, _, cls = str(name).partition(":")
    head, cls = head.strip(), cls.strip()
    if head in SOURCES:
        if not _IDENT.match(cls):
            raise UnknownNameError(f"{name!r} is not a {head} detector name: write {head}:Name, "
                                   f"e.g. {'pyod:ECOD' if head == 'pyod' else 'sklearn:IsolationForest'}.")
        return ExternalName(head, "", cls)
    if not head or not all(_IDENT.match(p) for p in head.split(".")) or not _IDENT.match(cls):
        raise UnknownNameError(f"{name!r} is neither a registered detector, pyod:Name, sklearn:Name "
                               "nor module.path:ClassName (docs/own_detector.md).")
    return ExternalName("user", head, cls)


def ensure_cwd_on_path() -> None:
    """Append the current working directory to ``sys.path`` (where your own modules are found);
    appended, so an installed package of the same name wins."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)


def file_hash(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def user_source(module: str) -> Path:
    """The source file of your module ``module`` (found without running it)."""
    ensure_cwd_on_path()
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as e:
        raise UnknownNameError(f"Cannot find the module {module!r}: {e}. Run from the folder "
                               "that holds it (the current directory is searched) or install it."
                               ) from None
    if spec is None or not spec.origin or not Path(spec.origin).is_file():
        raise UnknownNameError(f"Cannot find the module {module!r} (looked on sys.path and in "
                               f"{os.getcwd()}). Run from the folder that holds it or install it.")
    return Path(spec.origin)


def package_version(dist: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def code_identity(name: str) -> str:
    """What a run key's code fingerprint records of an external estimator's code: the package
    and its version (``pyod 3.6.7``, ``scikit-learn 1.9.1``), or for your own class the hash of
    the file that defines it (read anew every call, so an edited class gets a new key)."""
    n = parse_name(name)
    if n.source == "pyod":
        return f"pyod {package_version('pyod')}"
    if n.source == "sklearn":
        return f"scikit-learn {package_version('scikit-learn')}"
    return f"{n.module} sha256:{file_hash(user_source(n.module))}"


# --------------------------------------------------------------------------- finding classes
def pyod_installed() -> bool:
    return importlib.util.find_spec("pyod") is not None


def require_pyod() -> Path:
    spec = importlib.util.find_spec("pyod")
    if spec is None or not spec.origin:
        raise DetectorUnavailableError(f"PyOD is not installed. Add it with {PYOD_HINT}.")
    return Path(spec.origin).parent


@lru_cache(maxsize=1)
def pyod_index() -> dict[str, str]:
    """PyOD's tabular detectors: class name → module, without importing them. Read from PyOD's
    own knowledge base (``utils/knowledge/algorithms.json``, PyOD ≥ 3) where it exists, else from
    the ``class X(`` lines of ``pyod/models/*.py``."""
    root = require_pyod()
    kb = root / "utils" / "knowledge" / "algorithms.json"
    out: dict[str, str] = {}
    if kb.is_file():
        with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
            for info in json.loads(kb.read_text()).values():
                path = str(info.get("class_path", ""))
                if ("tabular" in info.get("data_types", ()) and path.startswith("pyod.models.")
                        and info.get("status") in ("shipped", "experimental")):
                    mod, _, cls = path.rpartition(".")
                    out[cls] = mod
    if not out:
        for f in sorted((root / "models").glob("*.py")):
            if not f.stem.startswith(_PYOD_SKIP):
                for cls in re.findall(r"^class (\w+)\(", f.read_text(errors="replace"), re.M):
                    out.setdefault(cls, f"pyod.models.{f.stem}")
    return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))


def nearest(name: str, choices: list[str], prefix: str) -> str:
    """``Did you mean 'pyod:COPOD'?``: the closest names (case-insensitive), always at least one."""
    import difflib

    low = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(low), n=3, cutoff=0.5) or \
        difflib.get_close_matches(name.lower(), list(low), n=1, cutoff=0.0)
    shown = ", ".join(f"'{prefix}{low[c]}'" for c in close)
    return (f"Did you mean {shown}? ({len(choices)} installed: python -m ad_core detectors "
            "lists them.)" if close else "")


def _import_attr(module: str, cls: str, what: str) -> type:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        missing = e.name or str(e)
        hint = PYOD_HINT if missing == "pyod" else f"pip install {missing}"
        raise DetectorUnavailableError(f"{what} needs the package {missing!r}, which is not "
                                       f"installed: {hint}.") from None
    except UserError:
        raise
    except Exception as e:
        raise ExternalDetectorError(f"Importing {module} for {what} failed: "
                                    f"{_one_line(e)} ({_where(e, None)})") from None
    obj = getattr(mod, cls, None)
    if not inspect.isclass(obj):
        names = [n for n, v in vars(mod).items() if inspect.isclass(v) and not n.startswith("_")]
        raise UnknownNameError(f"{module} has no class {cls!r}. {did_you_mean(cls, names)}")
    return obj


#: your module → the hash of its source when it was imported (an edited file is re-imported)
_USER_HASHES: dict[str, str] = {}


def estimator_class(name: str) -> tuple[type, ExternalName]:
    """The estimator class ``name`` refers to (imported), and the parsed name."""
    n = parse_name(name)
    if n.source == "pyod":
        index = pyod_index()
        if n.cls not in index:
            raise UnknownNameError(f"PyOD has no tabular detector {n.cls!r}. "
                                   f"{nearest(n.cls, list(index), 'pyod:')}")
        cls = _import_attr(index[n.cls], n.cls, n.name)
    elif n.source == "sklearn":
        if n.cls not in SKLEARN_OUTLIERS:
            raise UnknownNameError(f"scikit-learn has no outlier estimator {n.cls!r}. "
                                   f"{nearest(n.cls, list(SKLEARN_OUTLIERS), 'sklearn:')}")
        cls = _import_attr(SKLEARN_OUTLIERS[n.cls], n.cls, n.name)
    else:
        src = user_source(n.module)
        digest = file_hash(src)
        ensure_cwd_on_path()
        if n.module in sys.modules and _USER_HASHES.get(n.module) not in (None, digest):
            with guarded(n.name, "re-importing its module", {str(src.resolve())}):
                importlib.reload(sys.modules[n.module])
        elif n.module not in sys.modules:
            with guarded(n.name, "importing its module", {str(src.resolve())}):
                importlib.import_module(n.module)
        _USER_HASHES[n.module] = digest
        cls = _import_attr(n.module, n.cls, n.name)
    return cls, n


# --------------------------------------------------------------------------- errors
def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text[:400]}" if text else type(e).__name__


def _where(e: BaseException, roots: set[str] | None) -> str:
    """``file:line in function: code`` of the frame that raised: the deepest one inside ``roots``
    (your file, or the estimator's package) when there is one."""
    frames = traceback.extract_tb(e.__traceback__)
    if not frames:
        return "no traceback"

    def inside(f: traceback.FrameSummary) -> bool:
        p = os.path.realpath(f.filename)
        return any(p == r or p.startswith(r.rstrip(os.sep) + os.sep) for r in roots or ())

    own = [f for f in frames if inside(f)]
    f = own[-1] if own else frames[-1]
    return f"{f.filename}:{f.lineno} in {f.name}: {(f.line or '').strip()}"


@contextlib.contextmanager
def guarded(name: str, what: str, roots: set[str] | None) -> Iterator[None]:
    """Turn any exception of an external estimator into one :class:`ExternalDetectorError` line."""
    try:
        yield
    except UserError:
        raise
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException as e:
        raise ExternalDetectorError(f"{name} failed while {what}: {_one_line(e)} "
                                    f"(at {_where(e, roots)})") from None
