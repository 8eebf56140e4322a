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
