"""Unit tests of the teaching demos' computations (ad_core.teaching) and their figures."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from ad_core import teaching as T
from ad_core.errors import BadParameterError
from ad_core.viz import teaching as V


# ----------------------------------------------------------------------------- Toll
@pytest.fixture(scope="module")
def toll_pair() -> tuple[dict, dict]:
    return T.toll_contours(0.0, n=200, steps=200, grid=41), T.toll_contours(1.0, n=200, steps=200,
                                                                            grid=41)


def test_toll_contours_finite_and_consistent(toll_pair) -> None:
    base, reg = toll_pair
    for d in (base, reg):
        assert d["score"].shape == (41, 41)
        assert np.isfinite(d["score"]).all() and (d["score"] >= 0).all()
        np.testing.assert_allclose(d["score"], d["reconstruction"] + d["beta"] * d["latent_norm"])
    # The plain AE keeps the high-variance direction x1 (encoder within a few degrees of it).
    assert base["encoder_angle_deg"] < 5


def test_toll_penalty_makes_score_see_the_kept_direction(toll_pair) -> None:
    base, reg = toll_pair
    # β = 0: the score ignores displacement along x1 (≈ chance); β > 0 detects it.
    assert abs(base["auroc_axis"]["along x1"] - 0.5) < 0.1
    assert reg["auroc_axis"]["along x1"] > 0.7
    assert base["auroc_axis"]["along x2"] > 0.9 and reg["auroc_axis"]["along x2"] > 0.9
    # Along x1 the β = 0 score is flat: moving along x1 at x2 = 0 changes nothing.
    mid = base["score"].shape[0] // 2
    assert np.ptp(base["score"][mid]) < 0.05 * np.ptp(base["score"][:, mid])
    fig = V.toll_contour_figure([base, reg])
    assert len(fig.data) == 4


def test_linear_toll_rejects_negative_beta() -> None:
    with pytest.raises(BadParameterError):
        T.train_linear_toll(np.zeros((4, 2), np.float32), -1.0)


def test_gradient_flow_matches_matrix_exponential() -> None:
    x = T.gaussian_samples(300, (4.0, 1.0), seed=1).astype(np.float64)
    w0 = np.array([[0.3, -0.7]])
    times = [0.0, 0.3, 1.1]
    z = T.gradient_flow_latents(x, times, w0)
    s = torch.from_numpy(x.T @ x / len(x))
    for i, t in enumerate(times):
        w = w0 @ torch.linalg.matrix_exp(-s * t).numpy()  # W(t) = W(0) exp(−St), eq. 13
        np.testing.assert_allclose(z[i], x @ w.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(T.gradient_flow_latents(x, [0.0])[0], x)  # Z(0) = X for W(0) = I


def test_gradient_flow_collapses_high_variance_first() -> None:
    flow = T.toll_gradient_flow(t_max=1.5, frames=16, n=400)
    rel = flow["relative"]
    lam = flow["eigenvalues"]
    assert lam[0] > 3 * lam[1]  # variances 4 and 1
    assert (rel[1:, 0] < rel[1:, 1]).all()  # the λ≈4 direction is always the more collapsed one
    np.testing.assert_allclose(rel[:, 0], np.exp(-lam[0] * flow["times"]), rtol=1e-6)
    np.testing.assert_allclose(rel[:, 1], np.exp(-lam[1] * flow["times"]), rtol=1e-6)
    assert len(V.gradient_flow_figure(flow).frames) == 16


# ----------------------------------------------------------------------------- LIS-AE
def test_lisae_squashed_cylinder_score() -> None:
    rng = np.random.default_rng(0)
    p = rng.normal(size=(100, 3))
    x, y, z = p.T
    for gamma in (0.0, 3.0, 25.0):
        s = T.lisae_score(p, gamma)
        # exact: x − x̂ = (−γz, y, z)
        np.testing.assert_allclose(s, y**2 + (1 + gamma**2) * z**2, rtol=1e-12)
        # the paper's y² + γ²z², up to the z² it drops
        np.testing.assert_allclose(s - (y**2 + gamma**2 * z**2), z**2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(T.lisae_score(p, 0.0), y**2 + z**2)  # PCA: circular cylinder


def test_lisae_intuition_learns_pca_and_improves_auroc() -> None:
    d = T.lisae_intuition(8.0, n=300, grid=10)
    np.testing.assert_allclose(np.abs(d["encoder"]), [1, 0, 0], atol=0.05)  # Eᵀ ≈ [1, 0, 0]
    assert d["auroc_lisae"] > d["auroc_pca"] + 0.05
    assert d["pca_grid"].shape == (1000,) and np.isfinite(d["lisae_grid"]).all()
    assert len(V.lisae_isosurface_figure(d).data) == 4


def test_lisae_phase_scores_from_a_run_like_object() -> None:
    class FakeRun:
        run_id, title = "r1", "lisae run"
        config = {"detector": "lisae"}
        scores = {"test": np.r_[0.1, 0.2, 0.9, 1.0], "extra_phase1_test": np.r_[0.1, 0.5, 0.4, 1.0],
                  "test_y": np.r_[0, 0, 1, 1]}

    class Other(FakeRun):
        config = {"detector": "ae"}

    assert [r.run_id for r in T.lisae_runs([FakeRun(), Other()])] == ["r1"]
    ph = T.lisae_phase_scores(FakeRun())
    assert ph["auroc_phase2"] == 1.0 and ph["auroc_phase1"] == 0.75
    assert len(V.phase_histograms_figure(ph).data) == 4


# ----------------------------------------------------------------------------- NeuTraL
def test_dcl_edge_cases_match_appendix() -> None:
    v = T.dcl_edge_cases(1.0)
    assert round(v["identity"], 3) == 1.386 == T.NEUTRAL_APPENDIX["identity"]
    assert round(v["counterexample"], 3) == 0.627 == T.NEUTRAL_APPENDIX["counterexample"]
    assert v["constant"] == pytest.approx(2 * math.log(2), abs=1e-6)
    # identity costs K·log K at every temperature; the counterexample is 2·log(1 + e^(−1/τ))
    for tau in (0.1, 0.5, 3.0):
        w = T.dcl_edge_cases(tau)
        assert w["identity"] == pytest.approx(2 * math.log(2), abs=1e-5)
        assert w["counterexample"] == pytest.approx(2 * math.log1p(math.exp(-1 / tau)), abs=1e-5)
    assert T.dcl_edge_cases(1.0, k=4)["identity"] == pytest.approx(4 * math.log(4), abs=1e-5)
    with pytest.raises(BadParameterError):
        T.edge_case_embeddings("counterexample", k=3)


def test_neutral_toy_trains_through_fit_loop() -> None:
    toy = T.neutral_toy(3, "residual", steps=60, n=64, grid=11)
    assert toy["views"].shape == (3, 64, 2)
    assert toy["loss"].shape == (60,) and toy["loss"][-1] < toy["loss"][0]
    assert np.isfinite(toy["score"]).all() and toy["score"].shape == (11, 11)
    assert V.neutral_toy_figure(toy).data


# ----------------------------------------------------------------------------- cached results
def test_relative_auroc_reads_benchmark_rows(tmp_path) -> None:
    rows = []
    for cls in ("0", "1", "3"):
        for aug, label, c, cut, flip in (("none", "none", None, 0.6, 0.9),
                                         ("cutout", "cutout", None, 0.9, 0.9),
                                         ("cutout-c", "cutout-c=0.5", 0.5, 0.75, 0.45)):
            for kind, auc in (("cutout", cut), ("flip", flip), ("all", (cut + flip) / 2)):
                rows.append({"study": "testbed", "augmentation": aug, "label": label, "c": c,
                             "normal_class": cls, "seed": 0, "anomaly_kind": kind,
                             "auroc": auc})
    rel = {(r["augmentation"], r["generator"]): r for r in T.relative_auroc({"rows": rows})}
    assert rel[("cutout", "cutout")]["median"] == pytest.approx(1.5)
    assert rel[("cutout", "cutout")]["n"] == 3
    assert rel[("cutout-c=0.5", "flip")]["median"] == pytest.approx(0.5)
    assert rel[("cutout-c=0.5", "flip")]["c"] == pytest.approx(0.5)
    assert ("none", "cutout") not in rel and ("cutout", "all") not in rel
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"meta": {}, "rows": rows}))
    assert T.load_results("x", p)["rows"] == rows
    assert T.load_results("x", tmp_path / "missing.json") is None
    assert V.relative_auroc_figure(list(rel.values())).data
    assert V.cutout_sweep_figure([r for r in rel.values() if r["c"] is not None]).data


def test_morph_frames_round_trip_and_figure() -> None:
    frames = np.random.default_rng(0).uniform(size=(4, 28, 28))
    row = T.encode_frames(frames)
    back = T.decode_frames(row)
    assert back.shape == (4, 28, 28) and np.abs(back - frames).max() <= 0.5 / 255 + 1e-6
    fig = V.morph_figure(back, [0.1, 0.2, 0.3, 0.4], [0, 10, 20, 30], "start 0")
    assert len(fig.frames) == 4 and fig.layout.sliders
    assert T.geotrans_label("8", "3", "identity,flip") == "8 vs 3 · {identity, flip}"


def test_geotrans_verdicts_compare_the_papers_relative_claims() -> None:
    rows = [{"normal": n, "anomaly": a, "transformations": t.split(","), "auroc": v}
            for (n, a, t), v in zip(T.GEOTRANS_EXPERIMENTS, (0.84, 0.99, 0.68))]
    flip, shift = T.geotrans_verdicts(rows)
    assert "claim reproduces" in flip and "does not reproduce" in shift
