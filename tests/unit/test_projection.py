"""Projections of a run's embedding: shapes, determinism, the on-disk cache, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from ad_core import projection
from ad_core.errors import BadDataError, UnknownNameError
from ad_core.runs import Run, save_run

UMAP = pytest.param("umap", marks=[pytest.mark.slow, pytest.mark.skipif(
    not os.environ.get("ANOMALY_LAB_TEST_UMAP"),
    reason="UMAP's first call compiles numba kernels (~40 s on 2 cores); set "
           "ANOMALY_LAB_TEST_UMAP=1 to include it")])


@pytest.mark.parametrize("method", ["pca", "tsne", UMAP])
def test_projection_shapes_and_determinism(method) -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (40, 12)), rng.normal(6, 1, (40, 12))]).astype("f4")
    xy = projection.project(x, method, seed=0)
    assert xy.shape == (80, 2) and np.isfinite(xy).all()
    if method != "umap":  # UMAP's seeded path is reproducible too, but slow to run twice
        np.testing.assert_allclose(projection.project(x, method, seed=0), xy, rtol=1e-5, atol=1e-5)
    # The two clusters stay apart in 2-D.
    gap = np.linalg.norm(xy[:40].mean(0) - xy[40:].mean(0))
    assert gap > np.mean([xy[:40].std(0).mean(), xy[40:].std(0).mean()])


def test_run_projection_is_cached_on_disk(tmp_path) -> None:
    feats = np.random.default_rng(1).normal(size=(50, 6)).astype("f4")
    save_run("r1", config={"created": 0}, metrics={}, root=tmp_path,
             embedding={"index": np.arange(50) * 2, "features": feats})
    run = Run("r1", tmp_path / "r1")
    first = projection.run_projection(run, "pca")
    assert not first["cached"] and first["xy"].shape == (50, 2)
    assert list((tmp_path / "r1" / "cache").glob("projection-pca-*.npy"))
    again = projection.run_projection(Run("r1", tmp_path / "r1"), "pca")
    assert again["cached"]
    np.testing.assert_array_equal(again["xy"], first["xy"])
    np.testing.assert_array_equal(again["index"], np.arange(50) * 2)


def test_errors_are_plain() -> None:
    with pytest.raises(UnknownNameError):
        projection.project(np.zeros((5, 2)), "mds")
    with pytest.raises(BadDataError):
        projection.project(np.full((5, 2), np.nan), "pca")
    with pytest.raises(BadDataError):
        projection.run_projection(type("R", (), {"embedding": {}})(), "pca")


def test_the_projection_worker_caches_umap_kernels_on_disk(tmp_path) -> None:
    """umap-learn's kernels get numba's on-disk cache in the worker, so a second server start
    compiles nothing (checked on the dispatchers, without paying for a compile)."""
    import subprocess
    import sys

    code = (
        "from ad_core import projection\n"
        "projection.cache_umap_kernels()\n"
        "from numba.core.caching import NullCache\n"
        "import umap.layouts, umap.umap_\n"
        "for f in (umap.layouts._nb_optimize_layout_euclidean_single_epoch,\n"
        "          umap.umap_.smooth_knn_dist, umap.umap_.compute_membership_strengths):\n"
        "    assert not isinstance(f._cache, NullCache), f\n"
        "print(projection.numba_cache_dir())\n")
    env = {**os.environ, "ANOMALY_LAB_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == str(tmp_path / "numba") and (tmp_path / "numba").is_dir()
