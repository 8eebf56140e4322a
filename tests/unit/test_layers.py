"""The import rules of docs/ARCHITECTURE.md, checked by parsing every import (issue 10).

- every ``ad_core`` module sits on a floor of the table in docs/ARCHITECTURE.md, and imports only
  from its own floor or below (function-local imports count too) — so no cycle between floors;
- the forbidden edges listed there (``detectors ↛ data`` …) do not occur, and nothing in
  ``ad_core`` imports streamlit;
- ``pages/*.py`` and ``ui/*.py`` import from ``ad_core`` only ``services``, ``viz`` and ``errors``.
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

#: What a page or ui helper may import besides the standard library.
PAGE_ALLOWED = ("ad_core.services", "ad_core.viz", "ad_core.errors", "ui", "streamlit", "numpy",
                "pandas", "plotly", "streamlit_drawable_canvas")


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


def test_no_forbidden_edge_and_no_streamlit():
    mods = core_modules()
    bad = []
    for mod, path in sorted(mods.items()):
        for target in imports_of(path, set(mods)):
            if within(target, "streamlit"):
                bad.append(f"{mod} imports streamlit")
            for a, b in forbidden_edges():
                if within(mod, a) and within(target, b):
                    bad.append(f"{mod} imports {target} ({a} ↛ {b})")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py")]),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pages_and_ui_import_only_services_viz_errors(path: Path):
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    bad = sorted(t for t in imports_of(path, set(core_modules()))
                 if t.split(".")[0] not in stdlib
                 and not any(within(t, ok) for ok in PAGE_ALLOWED)
                 and t != "ad_core")
    assert not bad, f"{path.name} imports {bad}; pages and ui use ad_core.services, .viz, .errors"


def test_import_parser_sees_function_local_and_from_package_imports():
    known = set(core_modules())
    found = imports_of(ROOT / "ad_core" / "detectors" / "base.py", known)
    assert "ad_core.contracts" in found and "sklearn.base" in found
    assert "safetensors.torch" in found  # imported inside save()
    found = imports_of(ROOT / "ad_core" / "experiment.py", known)
    assert "ad_core.metrics" in found  # from ad_core import metrics as M
