"""Training replay figures (``ad_core.viz.replay``): one frame per snapshot, a slider step per
frame, Play/Pause, ranges fixed over all frames, one PCA for every step, and an HTML export that
plays offline. Synthetic replays for the exact checks, one real tiny digits run end to end."""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
import pytest

from ad_core.snapshots import Replay
from ad_core.viz import replay as V

S, N, M = 6, 40, 24  # snapshots, scored samples, samples with codes


def make_replay(*, scores: np.ndarray | None = None, codes: np.ndarray | None = None,
                views: dict | None = None, phases: int = 1, seed: int = 0) -> Replay:
    """A replay of S snapshots (the last one final) whose anomalies drift away from the normals."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], N // 2)
    if scores is None:
        scores = np.stack([rng.normal(size=N) + 0.6 * i * y for i in range(S)])
    if codes is None:
        codes = rng.normal(size=(S, M, 5))
    step = np.array([1, 3, 8, 15, 20, 20])
    return Replay(index=np.arange(100, 100 + N), y=y,
                  kind=np.where(y == 1, "7", "normal"), step=step,
                  phase=np.array([1, 1, 1, 2, 2, 2]) if phases == 2 else np.ones(S, int),
                  final=np.array([False] * (S - 1) + [True]), scores=scores.astype(np.float32),
                  auroc=np.linspace(0.5, 0.95, S), view_index=np.arange(100, 108),
                  codes=codes, views=views if views is not None else {},
                  meta={"phase_offsets": [0, 10] if phases == 2 else [0], "n_samples": N})


def assert_animated(fig: go.Figure, replay: Replay) -> None:
    """One frame per snapshot, a slider step per frame labelled as the replay labels it, and
    Play/Pause buttons that animate."""
    assert len(fig.frames) == len(replay)
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == replay.labels()
    assert [s.args[0][0] for s in steps] == [f.name for f in fig.frames]
    assert all(s.method == "animate" for s in steps)
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["▶ Play", "❚❚ Pause"]
    assert buttons[0].args[0] is None and buttons[0].args[1]["fromcurrent"] is True
    for i, f in enumerate(fig.frames):
        assert replay.labels()[i] in f.layout.title.text
        assert f"AUROC {replay.auroc[i]:.3f}" in f.layout.title.text


# --------------------------------------------------------------------------- scores
def test_score_replay_has_fixed_bins_and_ranges() -> None:
    rp = make_replay()
    fig = V.score_replay(rp, nbins=20)
    assert_animated(fig, rp)
    assert fig.layout.meta["scale"] == "raw"
    xs = {tuple(np.round(t.x, 9)) for f in fig.frames for t in f.data}
    assert len(xs) == 1 and len(next(iter(xs))) == 20  # the same 20 bins in every frame
    top = max(max(t.y) for f in fig.frames for t in f.data)
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] >= top
    lo, hi = fig.layout.xaxis.range
    assert lo <= float(np.quantile(rp.scores, 0.005)) and hi >= float(np.quantile(rp.scores, 0.995))
    # each frame's bars are the share of its group: they sum to 1 per group
    for f in fig.frames:
        assert [round(float(np.sum(t.y)), 6) for t in f.data] == [1.0, 1.0]
    assert [t.marker.color for t in fig.data] == [V.NORMAL_COLOR, V.ANOMALY_COLOR]
    assert fig.layout.xaxis.title.text == V.SCORE_AXIS
    # the anomalies move right while it learns: their mean bin rises from first to last frame
    first, last = fig.frames[0].data[1], fig.frames[-1].data[1]
    assert np.dot(last.x, last.y) > np.dot(first.x, first.y) + 1.0


def test_score_scale_picks_log_or_standardised_when_raw_bins_would_hide_the_final_model() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=(S, N))
    assert V.score_scale(base) == "raw"
    # GeoTrans-like: millions early, units at the end (and negatives), would fill one raw bin
    shrinking = base * (10.0 ** np.arange(S, 0, -1))[:, None]
    assert V.score_scale(shrinking) == "standardised"
    fig = V.score_replay(make_replay(scores=shrinking))
    assert fig.layout.meta["scale"] == "standardised"
    assert "standardised" in fig.layout.xaxis.title.text
    # positive with a long tail (a table AE's squared errors): log-spaced bins
    tail = np.exp(rng.normal(0, 2.5, size=(S, N)))
    assert V.score_scale(tail) == "log"
    fig = V.score_replay(make_replay(scores=tail))
    assert fig.layout.xaxis.type == "log"


def test_auroc_curve_marks_the_final_checkpoint_and_phases() -> None:
    rp = make_replay(phases=2)
    fig = V.auroc_curve(rp)
    during, final = fig.data
    assert list(during.x) == rp.step[:-1].tolist() and np.allclose(during.y, rp.auroc[:-1])
    assert list(final.x) == [20] and final.marker.symbol == "star"
    assert "selected checkpoint" in final.name
    assert any("phase 2" in (a.text or "") for a in fig.layout.annotations)
    assert list(fig.layout.yaxis.range) == [0, 1.02]


# --------------------------------------------------------------------------- embedding
def test_one_pca_for_all_steps_so_points_move() -> None:
    """Codes that only translate between snapshots: one shared projection shows a rigid move
    (every point shifts by the same vector), which a PCA per snapshot would hide."""
    rng = np.random.default_rng(2)
    c0 = rng.normal(size=(M, 5)) * [3, 1, 0.5, 0.2, 0.1]
    shift = np.array([0.5, -1.0, 0.3, 0.0, 0.2])
    codes = np.stack([c0 + i * shift for i in range(S)])
    xy = V.pca_once(codes)
    assert xy.shape == (S, M, 2)
    moves = xy[1:] - xy[:-1]
    assert np.allclose(moves, moves[:, :1], atol=1e-9)  # the same shift for every point
    assert np.linalg.norm(moves[0, 0]) > 0.1

    rp = make_replay(codes=codes.astype(np.float16))
    fig = V.embedding_replay(rp)
    assert_animated(fig, rp)
    assert "PCA fitted" in fig.layout.title.text
    assert all("PCA fitted" in f.layout.title.text for f in fig.frames)
    # fixed ranges hold every point of every frame; points keep their ids between frames
    xr, yr = fig.layout.xaxis.range, fig.layout.yaxis.range
    for f in fig.frames:
        for t in f.data:
            assert min(t.x) >= xr[0] and max(t.x) <= xr[1]
            assert min(t.y) >= yr[0] and max(t.y) <= yr[1]
    assert list(fig.frames[0].data[0].ids) == list(fig.frames[-1].data[0].ids)
    assert not np.allclose(fig.frames[0].data[0].x, fig.frames[-1].data[0].x)
    assert len(fig.data[0].x) + len(fig.data[1].x) == M


def test_embedding_replay_without_codes_says_so() -> None:
    rp = make_replay()
    rp.codes = None
    fig = V.embedding_replay(rp)
    assert not fig.frames and "no latent codes" in fig.layout.annotations[0].text


# --------------------------------------------------------------------------- method views
def image_views(seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((8, 1, 8, 8))
    rec = np.stack([x * (i / (S - 1)) + 0.5 * (1 - i / (S - 1)) for i in range(S)])
    return {"reconstruction": rec, "error_map": (rec - x) ** 2,
            "views": rng.random((S, 8, 4, 1, 8, 8)) * np.arange(1, S + 1)[:, None, None, None,
                                                                          None, None],
            "softmax": rng.dirichlet(np.ones(6), size=(S, 8, 6)),
            "score_terms": rng.random((S, 8, 3)) + np.arange(S)[:, None, None],
            "latent_norm": rng.random((S, 8)), "fixed": np.ones((S, 8, 1, 8, 8))}


def test_views_replay_images_keep_one_colour_scale() -> None:
    rp = make_replay(views=image_views())
    for key in ("reconstruction", "error_map"):
        fig = V.views_replay(rp, key)
        assert_animated(fig, rp)
        base = fig.data[0]
        assert isinstance(base, go.Heatmap)
        assert all(np.shape(f.data[0].z) == np.shape(base.z) for f in fig.frames)
        assert all(f.data[0].zmin is None for f in fig.frames)  # frames inherit the fixed range
        assert len(fig.layout.annotations) == 8  # one facet per view sample
    assert (V.views_replay(rp, "reconstruction").data[0].zmin,
            V.views_replay(rp, "reconstruction").data[0].zmax) == (0.0, 1.0)
    assert V.views_replay(rp, "error_map").data[0].zmin == 0.0
    # with the inputs: a fixed top row of inputs above the reconstructions
    x = rp.views["reconstruction"][-1]
    fig = V.views_replay(rp, "reconstruction", inputs=x)
    assert len(fig.layout.annotations) == 16
    assert "top: input" in fig.layout.title.text


def test_views_replay_per_sample_views_softmax_and_bars() -> None:
    rp = make_replay(views=image_views())
    labels = V.sample_labels(rp)
    assert labels[0] == "#100 · normal" and labels[1] == "#101 · 7"
    fig = V.views_replay(rp, "views", 3, names=["a", "b", "c", "d"])
    assert_animated(fig, rp)
    assert [a.text for a in fig.layout.annotations] == ["a", "b", "c", "d"]
    assert labels[3] in fig.layout.title.text
    lo, hi = fig.data[0].zmin, fig.data[0].zmax
    assert lo <= rp.views["views"][:, 3].min() and hi >= rp.views["views"][:, 3].max() - 1e-9

    fig = V.views_replay(rp, "softmax", 2)
    assert_animated(fig, rp)
    assert (fig.data[0].zmin, fig.data[0].zmax) == (0.0, 1.0)
    assert np.allclose(fig.frames[4].data[0].z, rp.views["softmax"][4, 2])

    fig = V.views_replay(rp, "score_terms", 1, names=["rec", "norm", "x"])
    assert_animated(fig, rp)
    assert list(fig.frames[-1].data[0].x) == ["rec", "norm", "x"]
    assert fig.layout.yaxis.range[1] >= rp.views["score_terms"][:, 1].max()
    fig = V.views_replay(rp, "latent_norm")
    assert len(fig.data[0].y) == 8 and fig.data[0].marker.color[1] == V.ANOMALY_COLOR

    missing = V.views_replay(rp, "probs")
    assert not missing.frames and "no 'probs'" in missing.layout.annotations[0].text


def test_view_keys_skip_what_never_changes() -> None:
    rp = make_replay(views=image_views())
    assert V.view_keys(rp) == ["reconstruction", "error_map", "views", "softmax", "score_terms",
                               "latent_norm"]
    rp.views["views"] = np.repeat(rp.views["views"][:1], S, axis=0)  # GeoTrans's fixed T_k(x)
    assert "views" not in V.view_keys(rp) and "views" in V.view_keys(rp, changing=False)
    assert V.per_sample(rp, "softmax") and not V.per_sample(rp, "reconstruction")


# --------------------------------------------------------------------------- export
def test_replay_html_is_one_self_contained_page() -> None:
    rp = make_replay(views=image_views())
    figs = [V.score_replay(rp), V.auroc_curve(rp), V.views_replay(rp, "reconstruction")]
    page = V.replay_html(figs, "Watch <it> learn")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<title>Watch &lt;it&gt; learn</title>" in page
    # plotly.js inlined exactly once, no script (or anything else) fetched from the network
    assert len(re.findall(r"plotly\.js v\d", page)) == 1
    assert len(page) > 1_000_000
    assert '<script src="http' not in page and "src='http" not in page
    assert not re.findall(r"<script[^>]*\bsrc\s*=", page)  # every script is inline
    assert page.count('class="plotly-graph-div"') == 3
    # the animated figures' frames travel with them (the AUROC curve has none)
    assert page.count("Plotly.addFrames") == 2 and f'"name":"f{S - 1}"' in page


# --------------------------------------------------------------------------- a real run
@pytest.fixture(scope="module")
def real_replay(tmp_path_factory):
    from ad_core.experiment import ExperimentSpec, run_experiment
    from ad_core.snapshots import SnapshotRecorder, load_replay

    root = tmp_path_factory.mktemp("replay-runs")
    rec = SnapshotRecorder()
    res = run_experiment(ExperimentSpec("digits", ["0"], "ae", params={"epochs": 2},
                                        explain_n=10, embed_n=50), rec, root=root)
    rec.save(res.detector, root / res.run_id)
    return load_replay(root / res.run_id)


def test_every_builder_draws_a_real_digits_run(real_replay) -> None:
    rp = real_replay
    assert len(rp) >= 3 and bool(rp.final[-1])
    assert_animated(V.score_replay(rp), rp)
    assert_animated(V.embedding_replay(rp), rp)
    keys = V.view_keys(rp)
    assert {"reconstruction", "error_map"} <= set(keys)
    figs = [V.views_replay(rp, k, 1) for k in keys]
    for f in figs:
        assert_animated(f, rp)
    page = V.replay_html([V.score_replay(rp), V.auroc_curve(rp), *figs], "real")
    assert page.count('class="plotly-graph-div"') == 2 + len(keys)
