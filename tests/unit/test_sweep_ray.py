"""Same seed, same numbers: a digits grid on a local Ray (started here with 2 CPUs) gives the same
AUROCs as the local engine's processes. Skipped when Ray is not installed (requirements-scale.txt).
Kept small (4 cells of a few seconds) so the suite stays short on 2 cores."""

from __future__ import annotations

import pytest

from ad_core import sweep as S
from ad_core.bench import grid_table

ray = pytest.importorskip("ray")

CELLS = [{"dataset": "digits", "normal": ["0"], "detector": det, "params": params, "seed": seed}
         for det, params in (("iforest", {"n_estimators": 50}), ("ae", {"epochs": 10}))
         for seed in (0, 1)]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_engine_gives_the_local_engine_s_aurocs(local_ray):
    loc = S.run_sweep(CELLS, options=S.SweepOptions(workers=2, cpus_per_cell=1, progress=False))
    via_ray = S.run_sweep(CELLS, options=S.SweepOptions(engine="ray", cpus_per_cell=1,
                                                        progress=False))
    assert loc.complete and via_ray.complete and via_ray.engine == "ray"
    assert [(r["detector"], r["seed"], r["auroc"], r["aupr"]) for r in via_ray.rows] == \
        [(r["detector"], r["seed"], r["auroc"], r["aupr"]) for r in loc.rows]
    assert (grid_table(via_ray.rows).split("\n\nTime")[0]
            == grid_table(loc.rows).split("\n\nTime")[0])
    assert local_ray.is_initialized()  # the runner leaves a Ray it did not start running
