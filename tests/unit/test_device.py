"""torch's thread count is set in one place, :func:`ad_core.device.set_threads` (issue 19)."""

from __future__ import annotations

import re
from pathlib import Path

import torch

from ad_core.device import set_threads

ROOT = Path(__file__).resolve().parents[2]


def test_set_threads_sets_and_returns_the_previous_count() -> None:
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == before and torch.get_num_threads() == 1
        assert set_threads(0) == 1 and torch.get_num_threads() == 1  # at least one
        assert set_threads(before) == 1
    finally:
        torch.set_num_threads(before)
    assert torch.get_num_threads() == before


def test_only_device_sets_torch_threads() -> None:
    files = [*ROOT.glob("ad_core/**/*.py"), ROOT / "app.py", *ROOT.glob("pages/*.py"),
             *ROOT.glob("ui/*.py")]
    bad = [str(p.relative_to(ROOT)) for p in files
           if p.name != "device.py" and re.search(r"set_num_(interop_)?threads\(", p.read_text())]
    assert not bad, f"set torch's thread count through ad_core.device.set_threads: {bad}"
