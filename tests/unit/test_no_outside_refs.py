"""No tracked file points outside the repository (issue 19): the method specifications, the design
and the papers' numbers a clone needs are ``docs/methods.md``, ``docs/ARCHITECTURE.md`` and the
papers' own tables and figures (transcribed in ``ad_core/reference.py``), never a file beside the
clone such as ``../shared/METHODS.md``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()

#: What a reference to a file outside the repository looks like: the private specs by name, the
#: folder they sat in, and the papers' text files that sat beside them.
OUTSIDE = re.compile(r"DESIGN\.md|METHODS\.md|REFERENCE_RESULTS\.md|\.\./shared|/work/shared"
                     r"|\bpapers/[\w-]+\.txt")


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [p for p in out.stdout.decode().split("\0") if p]


def test_no_tracked_file_mentions_a_file_outside_the_repository() -> None:
    bad = []
    for rel in tracked_files():
        path = ROOT / rel
        if rel == THIS or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for i, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                bad.append(f"{rel}:{i}: {line.strip()[:100]}")
    assert not bad, ("point these to docs/methods.md, docs/ARCHITECTURE.md or the paper's table/"
                     "figure instead:\n" + "\n".join(bad))


def test_the_pattern_catches_each_kind_of_outside_reference() -> None:
    for s in ("see ../shared/METHODS.md", "(DESIGN.md §2)", "REFERENCE_RESULTS.md",
              "papers/lis-ae.txt", "/work/shared/x"):
        assert OUTSIDE.search(s), s
    for s in ("docs/methods.md §3", "docs/ARCHITECTURE.md", "shared/ folder", "papers' tables"):
        assert not OUTSIDE.search(s), s
