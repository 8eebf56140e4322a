"""Helper processes never re-run the parent's main script (the CI failure of the AppTest run:
a page script was ``__main__`` when the training process was spawned, and the child ran it)."""

from __future__ import annotations

import sys
import types
from concurrent.futures import ProcessPoolExecutor

from ad_core.spawning import spawn_context


def _square(x: int) -> int:
    return x * x


def _fake_main(tmp_path, monkeypatch):
    script = tmp_path / "page.py"
    marker = tmp_path / "ran"
    script.write_text(f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit('page ran')\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    return marker


def test_a_pool_from_the_spawn_context_never_runs_the_main_script(tmp_path, monkeypatch) -> None:
    marker = _fake_main(tmp_path, monkeypatch)
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn_context()) as pool:
        assert pool.submit(_square, 7).result(timeout=120) == 49
    assert not marker.exists()
    assert sys.modules["__main__"].__file__.endswith("page.py")  # restored after the spawn


def test_a_plain_process_from_the_spawn_context_never_runs_the_main_script(
        tmp_path, monkeypatch) -> None:
    marker = _fake_main(tmp_path, monkeypatch)
    p = spawn_context().Process(target=_square, args=(3,))
    p.start()
    p.join(120)
    assert p.exitcode == 0
    assert not marker.exists()


def test_a_sweep_run_with_dash_m_sends_its_own_cell_function(tmp_path) -> None:
    """`python -m ad_core.benchmarks.fidelity` defines its cell function in the main module; the
    clean children never import that module, so before the fix every cell died unpickling
    ``__main__._fit`` ("the worker process died")."""
    import os
    import subprocess
    from pathlib import Path

    pkg = tmp_path / "benchpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "bench.py").write_text(
        "from ad_core.sweep import SweepOptions, run_sweep\n"
        "def cell(c):\n    return {'y': c['x'] * 10}\n"
        "if __name__ == '__main__':\n"
        "    r = run_sweep([{'x': 1}, {'x': 2}], cell,\n"
        "                  options=SweepOptions(workers=2, cpus_per_cell=1, progress=False))\n"
        "    print('RESULTS', [o and o['y'] for o in r.results], len(r.failures))\n")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root)])}
    out = subprocess.run([sys.executable, "-m", "benchpkg.bench"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert "RESULTS [10, 20] 0" in out.stdout, out.stdout + out.stderr


def test_a_function_of_a_script_run_as_a_file_is_refused_clearly(monkeypatch) -> None:
    import pytest

    from ad_core.spawning import importable

    def f() -> None: ...

    f.__module__ = "__main__"
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    with pytest.raises(RuntimeError, match="python -m"):
        importable(f)
    assert importable(_square) is _square
