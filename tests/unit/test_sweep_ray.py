"""Same seed, same numbers: a digits grid on a local Ray (started here with 2 CPUs) gives the same
AUROCs as the local engine. Skipped when Ray is not installed (requirements-scale.txt)."""

from __future__ import annotations

import pytest

from ad_core import sweep as S
from ad_core.bench import grid_table, run_grid

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_engine_gives_the_local_engine_s_table(local_ray, tmp_path):
    args = {"dataset": "digits", "detectors": ["iforest", "ae"], "classes": "0,1", "seeds": 2,
            "out_dir": tmp_path, "quiet": True}
    loc = run_grid(**args, name="eq-local", options=S.SweepOptions(workers=2, cpus_per_cell=1))
    via_ray = run_grid(**args, name="eq-ray", options=S.SweepOptions(engine="ray",
                                                                     cpus_per_cell=1))
    assert loc.sweep.complete and via_ray.sweep.complete
    assert [r["auroc"] for r in via_ray.sweep.rows] == [r["auroc"] for r in loc.sweep.rows]
    assert (grid_table(via_ray.sweep.rows).split("\n\nTime")[0]
            == grid_table(loc.sweep.rows).split("\n\nTime")[0])
    assert via_ray.sweep.engine == "ray" and local_ray.is_initialized()  # not shut down by us
