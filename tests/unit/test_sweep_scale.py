"""docs/scale.md's projections: the LPT schedule of cells on N workers, and the generated block
replaced between its markers (the rest of the page kept)."""

from __future__ import annotations

import pytest

from ad_core.benchmarks import scale as S


def test_lpt_makespan():
    assert S.lpt_makespan([], 4) == 0.0
    assert S.lpt_makespan([3.0, 3.0, 2.0, 2.0, 2.0], 1) == pytest.approx(12.0)
    assert S.lpt_makespan([3.0, 3.0, 2.0, 2.0, 2.0], 2) == pytest.approx(7.0)
    assert S.lpt_makespan([5.0, 1.0, 1.0], 8) == pytest.approx(5.0)  # never below the longest


def test_generated_block_replaced_between_markers(tmp_path, monkeypatch):
    page = tmp_path / "scale.md"
    page.write_text(f"# Title\n\nprose\n\n{S.BEGIN}\nold table\n{S.END}\n\nafter\n")
    monkeypatch.setattr(S, "SCALE_MD", page)
    S.write_scale_md("| new | table |")
    text = page.read_text()
    assert "old table" not in text and "| new | table |" in text
    assert text.startswith("# Title\n\nprose") and text.endswith("after\n")


def test_grids_count_their_cells():
    grids = {g["grid"].split(":")[0]: g for g in S.quick_grids()}
    assert sum(n for _, n in grids["bench"]["types"].values()) == 40
    assert sum(n for _, n in grids["reconstruction grid"]["types"].values()) == 150
    assert S.fmt_s(30) == "30.0 s" and S.fmt_s(600) == "10.0 min" and S.fmt_s(7200) == "2.0 h"
