"""The import rules of docs/ARCHITECTURE.md, checked by parsing every import (issues 10, 19).

- every ``ad_core`` module sits on a floor of the table in docs/ARCHITECTURE.md, and imports only
  from its own floor or below (function-local imports count too) — so no cycle between floors;
- the forbidden edges listed there (``detectors ↛ data`` …, and inside a floor the back-edges
  such as ``teaching ↛ benchmarks``) do not occur, and nothing in ``ad_core`` imports streamlit;
- ``app.py``, ``pages/*.py`` and ``ui/*.py`` import from ``ad_core`` only the modules listed in
  :data:`APP_ALLOWED_CORE` (the app's one list of doors into the core).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "ad_core"
DOC = ROOT / "docs" / "ARCHITECTURE.md"

#: The one list of what ``app.py``, ``pages/*.py`` and ``ui/*.py`` may import from ``ad_core`` (a
#: package covers its submodules): the doors of the interfaces floor, what a run's pages show,
#: the teaching demos, the figures and a few records. Everything else in ``ad_core`` is forbidden
#: to them — in particular ``ad_core.worker``, ``ad_core.jobs``, ``ad_core.experiment`` and the
#: detectors (:func:`test_app_does_not_import_the_worker` holds the first one by name).
APP_ALLOWED_CORE = ("ad_core.services", "ad_core.catalogue", "ad_core.results", "ad_core.warmup",
                    "ad_core.page_data", "ad_core.runs", "ad_core.projection",
                    "ad_core.sample_input", "ad_core.sample_report", "ad_core.run_attribution",
                    "ad_core.teaching",
                    "ad_core.viz", "ad_core.errors", "ad_core.contracts", "ad_core.reference",
                    "ad_core.tasks", "ad_core.data.user")
#: What they may import outside ``ad_core`` besides the standard library.
APP_ALLOWED_OTHER = ("ui", "streamlit", "numpy", "pandas", "plotly", "streamlit_drawable_canvas")
#: The app's files under that rule.
APP_FILES = sorted([ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py")])


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every module ``path`` imports (absolute, relative, function-local). ``from pkg import x``
    counts as ``pkg.x`` when that is a known module, else as ``pkg``."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known]
            out.update(subs if len(subs) == len(node.names) else [mod, *subs])
    out.discard(name)
    return out


def core_modules() -> dict[str, Path]:
    return {module_name(p): p for p in CORE.rglob("*.py")}


def floors() -> tuple[dict[str, int], dict[int, str]]:
    """``{module prefix: floor}`` and ``{floor: layer name}`` from the table in the doc."""
    prefixes: dict[str, int] = {}
    names: dict[int, str] = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"^\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|$", line)
        if not m:
            continue
        floor = int(m.group(1))
        names[floor] = m.group(2)
        for mod in m.group(3).replace("\\_", "_").split(","):
            mod = mod.strip()
            prefixes["ad_core" if mod == "ad_core" else f"ad_core.{mod}"] = floor
    return prefixes, names


def forbidden_edges() -> list[tuple[str, str]]:
    text = DOC.read_text()
    return [(f"ad_core.{a}", f"ad_core.{b}") for a, b in re.findall(r"`(\w+) ↛ (\w+)`", text)]


def floor_of(mod: str, prefixes: dict[str, int]) -> int | None:
    best = None
    for p, f in prefixes.items():
        covers = (mod == p or mod.startswith(p + ".")) and (p != "ad_core" or mod == "ad_core")
        if covers and (best is None or len(p) > len(best[0])):
            best = (p, f)
    return best[1] if best else None


def within(mod: str, prefix: str) -> bool:
    return mod == prefix or mod.startswith(prefix + ".")


def test_the_doc_lists_floors_and_forbidden_edges():
    prefixes, names = floors()
    assert len(names) >= 8 and sorted(names) == list(range(len(names)))
    assert ("ad_core.detectors", "ad_core.data") in forbidden_edges()
    assert prefixes["ad_core.contracts"] == 0


def test_every_core_module_is_on_a_floor():
    prefixes, _ = floors()
    missing = sorted(m for m in core_modules() if floor_of(m, prefixes) is None)
    assert not missing, f"place these modules in docs/ARCHITECTURE.md's table: {missing}"


def test_no_upward_import_between_floors():
    prefixes, names = floors()
    mods = core_modules()
    known = set(mods)
    bad = []
    for mod, path in sorted(mods.items()):
        here = floor_of(mod, prefixes)
        for target in imports_of(path, known):
            if not within(target, "ad_core"):
                continue
            there = floor_of(target, prefixes)
            if there is not None and here is not None and there > here:
                bad.append(f"{mod} (floor {here}, {names[here]}) imports {target} "
                           f"(floor {there}, {names[there]})")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_import_cycle_between_floors():
    prefixes, _ = floors()
    mods = core_modules()
    edges: dict[int, set[int]] = {}
    for mod, path in mods.items():
        a = floor_of(mod, prefixes)
        for t in imports_of(path, set(mods)):
            b = floor_of(t, prefixes) if within(t, "ad_core") else None
            if a is not None and b is not None and a != b:
                edges.setdefault(a, set()).add(b)
    state: dict[int, int] = {}

    def visit(n: int, trail: list[int]) -> None:
        state[n] = 1
        for m in edges.get(n, ()):
            if state.get(m) == 1:
                pytest.fail(f"cycle between floors {trail + [n, m]}")
            if m not in state:
                visit(m, trail + [n])
        state[n] = 2

    for n in list(edges):
        if n not in state:
            visit(n, [])


def forbidden_imports(graph: dict[str, set[str]], edges: list[tuple[str, str]]) -> list[str]:
    """Each import in ``graph`` (``{module: imported modules}``) that a forbidden edge ``a ↛ b``
    or the no-streamlit rule rules out."""
    bad = []
    for mod, targets in sorted(graph.items()):
        for target in sorted(targets):
            if within(target, "streamlit"):
                bad.append(f"{mod} imports streamlit")
            for a, b in edges:
                if within(mod, a) and within(target, b):
                    bad.append(f"{mod} imports {target} ({a} ↛ {b})")
    return bad


def test_no_forbidden_edge_and_no_streamlit():
    mods = core_modules()
    graph = {mod: imports_of(path, set(mods)) for mod, path in mods.items()}
    bad = forbidden_imports(graph, forbidden_edges())
    assert not bad, "\n".join(bad)


def test_the_doc_forbids_same_floor_back_edges():
    """Inside a floor, studies point one way: benchmarks may use teaching, never the reverse (and
    sweep and bench use neither). Each declared edge joins two modules of the same floor."""
    prefixes, _ = floors()
    edges = forbidden_edges()
    for edge in [("ad_core.teaching", "ad_core.benchmarks"), ("ad_core.bench", "ad_core.teaching"),
                 ("ad_core.sweep", "ad_core.bench"), ("ad_core.worker", "ad_core.jobs")]:
        assert edge in edges
        assert floor_of(edge[0], prefixes) == floor_of(edge[1], prefixes)
    # the checker catches such a back-edge (a synthetic import graph)
    graph = {"ad_core.teaching.augmentation": {"ad_core.benchmarks.augmentation", "numpy"},
             "ad_core.benchmarks.fidelity": {"ad_core.teaching.geotrans"}}
    assert forbidden_imports(graph, edges) == [
        "ad_core.teaching.augmentation imports ad_core.benchmarks.augmentation "
        "(ad_core.teaching ↛ ad_core.benchmarks)"]


def app_import_violations(path: Path) -> list[str]:
    """What ``path`` (app.py, a page, a ui helper) imports outside the allowed lists."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    return sorted(t for t in imports_of(path, set(core_modules()))
                  if t.split(".")[0] not in stdlib
                  and not any(within(t, ok) for ok in (*APP_ALLOWED_CORE, *APP_ALLOWED_OTHER))
                  and t != "ad_core")


@pytest.mark.parametrize("path", APP_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_app_pages_and_ui_import_only_the_allowed_core_modules(path: Path):
    bad = app_import_violations(path)
    assert not bad, (f"{path.relative_to(ROOT)} imports {bad}; app.py, pages and ui use only "
                     f"{', '.join(APP_ALLOWED_CORE)}")


def test_app_does_not_import_the_worker():
    """FORBIDDEN: ``app.py`` importing ``ad_core.worker`` (it starts the training process early
    through ``warmup.start_early``)."""
    assert "ad_core.worker" not in app_import_violations(ROOT / "app.py")


def test_import_parser_sees_function_local_and_from_package_imports():
    known = set(core_modules())
    found = imports_of(ROOT / "ad_core" / "detectors" / "base.py", known)
    assert "ad_core.contracts" in found and "sklearn.base" in found
    assert "safetensors.torch" in found  # imported inside save()
    found = imports_of(ROOT / "ad_core" / "experiment.py", known)
    assert "ad_core.metrics" in found  # from ad_core import metrics as M
