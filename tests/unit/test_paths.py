"""Default homes of data, runs, results and caches: the clone, or the current directory of an
installed copy (never its site-packages folder)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ad_core import paths

ROOT = Path(__file__).resolve().parents[2]


def test_a_clone_keeps_its_files_in_the_clone():
    assert paths.in_clone(ROOT) and paths.REPO_ROOT == ROOT


def test_an_installed_copy_keeps_them_in_the_working_directory(tmp_path: Path):
    # a copy of paths.py in a folder that is not a clone (as in site-packages/ad_core/)
    site = tmp_path / "site-packages" / "ad_core"
    site.mkdir(parents=True)
    (site / "paths.py").write_text((ROOT / "ad_core" / "paths.py").read_text())
    work = tmp_path / "work"
    work.mkdir()
    code = ("import importlib.util as u, sys; s = u.spec_from_file_location('p', sys.argv[1]); "
            "m = u.module_from_spec(s); s.loader.exec_module(m); print(m.REPO_ROOT)")
    out = subprocess.run([sys.executable, "-c", code, str(site / "paths.py")], cwd=work,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert Path(out).resolve() == work.resolve()
    assert not paths.in_clone(tmp_path / "site-packages")
