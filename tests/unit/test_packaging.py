"""The installable library (issue 19, item 5): ``pyproject.toml`` against the requirement files,
the ``anomaly-lab`` command, and — slow — a wheel installed into a fresh virtual environment.

- the dependencies and extras of ``pyproject.toml`` agree with ``requirements.txt``,
  ``requirements-scale.txt`` and ``requirements-dev.txt`` (same specifier for every package in
  both, every requirement declared, nothing declared that is in neither without a reason);
- the core dependencies cover every third-party import of ``ad_core`` (Ray and Playwright, imported
  lazily, sit in extras), the ``app`` extra what ``app.py``, ``pages/`` and ``ui/`` import;
- every ``ad_core`` subpackage is packaged, ``runs/``, ``data/``, ``docs/`` and ``tests/`` are not;
- the ``anomaly-lab`` entry point resolves to a callable whose ``--help`` lists every verb;
- a wheel built from the tree installs, with no download, into a fresh virtual environment whose
  ``.pth`` file lends it this environment's packages (torch included), and there, from a folder
  outside the clone, ``anomaly-lab --help``, ``import ad_core``, the installed app (AppTest) and
  ``anomaly-lab app`` (a real server answering its health check) work.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import importlib.metadata
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
VERBS = ("app", "datasets", "detectors", "runs", "train", "bench")

#: Declared in pyproject.toml but in no requirement file, and why.
DECLARED_ONLY = {
    "numpy": "imported by ad_core; arrives with torch",
    "pillow": "imported by ad_core.data; arrives with torchvision",
    "tqdm": "imported by ad_core.cli and ad_core.sweep; arrives with umap-learn",
    "threadpoolctl": "imported by ad_core.projection; arrives with scikit-learn",
    "numba": "imported by ad_core.projection; arrives with umap-learn",
}
#: Where a requirement file's own lines must be declared.
FILE_HOME = {"requirements.txt": ("core", "app"), "requirements-scale.txt": ("ray",),
             "requirements-dev.txt": ("dev", "pyod")}
#: Third-party imports of ad_core that are optional (lazy), and the extra declaring them.
OPTIONAL_IMPORTS = {"ray": "ray", "playwright": "dev", "pyod": "pyod"}


def file_requirements(name: str) -> dict[str, Requirement]:
    """The requirements written in one file (not those it includes with ``-r``)."""
    out = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            out[canonicalize_name(req.name)] = req
    return out


def declared() -> dict[str, dict[str, Requirement]]:
    """pyproject's requirements by group: ``core`` and each extra."""
    groups = {"core": PROJECT["dependencies"], **PROJECT["optional-dependencies"]}
    return {g: {canonicalize_name(r.name): r for r in map(Requirement, reqs)}
            for g, reqs in groups.items()}


def test_requirement_files_agree_with_pyproject() -> None:
    groups = declared()
    seen: set[str] = set()
    for fname, homes in FILE_HOME.items():
        for name, req in file_requirements(fname).items():
            found = {g: groups[g][name] for g in homes if name in groups[g]}
            assert found, f"{req} ({fname}) is not declared in pyproject's {' or '.join(homes)}"
            for g, decl in found.items():
                assert decl.specifier == req.specifier, (
                    f"{name}: {fname} says {req.specifier or 'any'}, pyproject's {g} says "
                    f"{decl.specifier or 'any'}")
            seen.add(name)
    self_name = canonicalize_name(PROJECT["name"])
    for g, reqs in groups.items():
        for name in reqs:
            assert name in seen or name in DECLARED_ONLY or name == self_name, (
                f"pyproject's {g} declares {name}, which no requirement file lists: add it to "
                "the requirement file or to DECLARED_ONLY with the reason")
    assert not any(n.startswith("streamlit") for n in groups["core"]), "ad_core needs no streamlit"
    dev_self = [r for r in map(Requirement, PROJECT["optional-dependencies"]["dev"])
                if canonicalize_name(r.name) == self_name]
    assert dev_self and {"app", "ray"} <= dev_self[0].extras, "dev should pull in app and ray"


def third_party_imports(paths: list[Path], own: tuple[str, ...]) -> set[str]:
    """Top-level names of what ``paths`` import, less the standard library and ``own``."""
    names: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in own
            and n != "__future__"}


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distribution_of(module: str) -> str:
    dists = _distributions().get(module)
    assert dists, f"no installed distribution provides the module {module!r}"
    return canonicalize_name(dists[0])


def test_core_dependencies_cover_what_ad_core_imports() -> None:
    groups = declared()
    for module in sorted(third_party_imports(sorted((ROOT / "ad_core").rglob("*.py")),
                                             ("ad_core",))):
        dist = distribution_of(module)
        extra = OPTIONAL_IMPORTS.get(module)
        where = groups[extra] if extra else groups["core"]
        assert dist in where, f"ad_core imports {module} ({dist}): declare it in " + (
            f"the {extra} extra" if extra else "pyproject's dependencies")


def test_app_extra_covers_what_the_app_imports() -> None:
    groups = declared()
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")),
             *sorted((ROOT / "ui").glob("*.py"))]
    for module in sorted(third_party_imports(files, ("ad_core", "ui"))):
        dist = distribution_of(module)
        assert dist in groups["core"] or dist in groups["app"], (
            f"the app imports {module} ({dist}): declare it in the app extra")


def test_every_ad_core_package_is_declared() -> None:
    packages = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "ad_core").rglob("__init__.py")}
    assert on_disk <= packages, f"add {sorted(on_disk - packages)} to [tool.setuptools] packages"
    assert {"anomaly_lab_app", "anomaly_lab_app.pages", "anomaly_lab_app.ui"} <= packages
    assert not {p for p in packages if p.split(".")[0] in ("runs", "tests", "data", "docs")}


def entry_point() -> object:
    target = PROJECT["scripts"]["anomaly-lab"]
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def test_anomaly_lab_entry_point_help_lists_every_verb(monkeypatch, capsys) -> None:
    console = entry_point()
    assert callable(console)
    monkeypatch.setattr(sys, "argv", ["anomaly-lab", "--help"])
    with pytest.raises(SystemExit) as e:
        console()
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: anomaly-lab")
    for verb in VERBS:
        assert re.search(rf"^\s+{verb}\s", out, re.M), f"{verb} missing from --help:\n{out}"


def test_app_verb_runs_streamlit_on_the_clones_app(monkeypatch) -> None:
    from ad_core import cli

    class Exec(Exception):
        """Stands for os.execve, which does not return."""

    calls = []

    def execve(exe, argv, env):
        calls.append((argv, env))
        raise Exec

    monkeypatch.setattr(cli.os, "execve", execve)
    monkeypatch.setattr(cli.subprocess, "call", lambda argv, env: calls.append((argv, env)) or 0)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with pytest.raises(Exec) if os.name == "posix" else contextlib.nullcontext():
        cli.main(["app", "--server.port", "8502"], prog="anomaly-lab")
    ((cmd, env),) = calls
    assert env["OMP_NUM_THREADS"] == str(os.cpu_count() or 2)  # as `make app`
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert cmd[-3:] == [str(ROOT / "app.py"), "--server.port", "8502"]  # the user's flags last
    assert "--server.fileWatcherType=none" in cmd  # .streamlit/config.toml as flags


def test_other_verbs_reject_unknown_arguments(capsys) -> None:
    from ad_core import cli

    with pytest.raises(SystemExit) as e:
        cli.main(["runs", "--server.port", "8502"])
    assert e.value.code == 2
    assert "unrecognized arguments: --server.port 8502" in capsys.readouterr().err


# --- the wheel ---------------------------------------------------------------------------------

#: Not copied into the build tree (user data, caches, what the build does not read).
SKIP_IN_COPY = {"runs", "data", "docs", "tests", "build", "dist", "__pycache__"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel of this tree, built offline from a copy (no build/ or egg-info in the clone) that
    also holds a runs/, data/ and tests/ folder, which must stay out of it."""
    pytest.importorskip("setuptools")
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for entry in ROOT.iterdir():
        if entry.name in SKIP_IN_COPY or entry.name.endswith(".egg-info") or (
                entry.name.startswith(".") and entry.name != ".streamlit"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, src / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(entry, src / entry.name)
    for fake in ("runs/r1/config.json", "data/x.csv", "tests/unit/test_fake.py"):
        (src / fake).parent.mkdir(parents=True, exist_ok=True)
        (src / fake).write_text("{}\n")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "--no-index", "-q", "-w", str(base / "dist"), str(src)],
                       capture_output=True, text=True, timeout=120, env=_pip_env())
    assert r.returncode == 0, r.stdout + r.stderr
    (whl,) = (base / "dist").glob("anomaly_lab-*.whl")
    return whl


def _pip_env() -> dict[str, str]:
    return {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}


def test_wheel_holds_ad_core_and_the_app_but_no_user_data(wheel) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"ad_core", "anomaly_lab_app"}, tops
    for p in ROOT.joinpath("ad_core").rglob("*.py"):
        assert p.relative_to(ROOT).as_posix() in names
    app = ["app.py", ".streamlit/config.toml", "assets/logo.svg", "assets/style.css",
           "assets/example.csv", *(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")),
           *(f"ui/{p.name}" for p in (ROOT / "ui").glob("*.py"))]
    for rel in app:
        assert f"anomaly_lab_app/{rel}" in names, rel
    unwanted = r"(runs|tests|data|docs)/|anomaly_lab_app/assets/screenshots/"
    assert not [n for n in names if re.match(unwanted, n)]
    (ep,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "anomaly-lab = ad_core.cli:console" in zipfile.ZipFile(wheel).read(ep).decode()


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_clone(wheel, tmp_path) -> None:
    """A fresh venv (this interpreter's base Python) sees this environment's packages through a
    ``.pth`` file; pip installs the wheel with its ``dev`` extra resolving against them, no index,
    so a dependency missing here or pinned otherwise fails the install."""
    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=60)
    vpy = venv / "bin" / "python"
    site = subprocess.run([vpy, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    Path(site, "_anomaly_lab_lent.pth").write_text("".join(f"{p}\n" for p in ours))
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(vpy), "install", "--no-index",
                        f"{wheel}[dev]"], capture_output=True, text=True, timeout=120,
                       env=_pip_env())
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Successfully installed anomaly-lab-0.1.0" in r.stdout

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["ANOMALY_LAB_NO_WARMUP"] = "1"

    def run(*cmd: str | Path, timeout: float = 120) -> str:
        r = subprocess.run([str(c) for c in cmd], cwd=outside, env=env, capture_output=True,
                           text=True, timeout=timeout)
        assert r.returncode == 0, f"{cmd}: {r.stdout}{r.stderr}"
        return r.stdout

    out = run(venv / "bin" / "anomaly-lab", "--help")
    assert out.startswith("usage: anomaly-lab") and all(v in out for v in VERBS)
    where = run(vpy, "-c", "import ad_core, anomaly_lab_app; print(ad_core.__file__); "
                "print(*anomaly_lab_app.__path__)").split()
    assert all(Path(w).is_relative_to(venv) for w in where), where
    app = Path(where[1]) / "app.py"
    out = run(vpy, "-c", f"""
from streamlit.testing.v1 import AppTest
from ad_core.cli import app_command
assert app_command([])[-1] == {str(app)!r}, app_command([])
at = AppTest.from_file({str(app)!r}, default_timeout=60)
at.run()
assert not at.exception, at.exception
print(at.title[0].value)""")
    assert out.strip().endswith("Anomaly Lab")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([venv / "bin" / "anomaly-lab", "app", "--server.port", str(port),
                               "--server.address", "127.0.0.1"], cwd=outside, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as h:
                    assert h.read() == b"ok"
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "anomaly-lab app did not answer in 30 s"
                time.sleep(0.3)
        cmdline = Path(f"/proc/{server.pid}/cmdline")
        if cmdline.exists():  # the command became the server (exec), running the installed app
            assert str(app) in cmdline.read_bytes().decode().split("\0")
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
