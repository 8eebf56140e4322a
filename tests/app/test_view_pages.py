"""AppTest of the "look inside" pages (Scores, Reconstructions, Transformations, Contributions).

Each page is rendered with no run (empty state), with a classical run (scores only: the other
views say plainly what is missing), and with synthetic runs carrying every artefact key of
docs/ARTIFACTS.md (so each view lights up before and independently of the deep detectors). When
a deep detector is registered, a real tiny run of it is rendered too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PAGES = {name: ROOT / "pages" / f"{name}.py"
         for name in ("scores", "reconstructions", "transformations", "contributions")}


def fake_run(root: Path, detector: str, *, tabular: bool = False, n_test: int = 60,
             seed: int = 0) -> str:
    """A saved run with synthetic arrays under every documented key ``detector`` produces.

    Test data only: digits-like 8×8 images (or 30-feature rows), half normal and two anomaly
    kinds, scores higher for anomalies. Never used by the app.
    """
    from ad_core.runs import save_run

    rng = np.random.default_rng(seed)
    kinds = np.array(["normal"] * (n_test // 2) + ["1"] * (n_test // 4)
                     + ["2"] * (n_test - n_test // 2 - n_test // 4))
    y = (kinds != "normal").astype(np.int64)
    s = rng.normal(size=n_test) + 2.0 * y
    if tabular:
        x = rng.normal(size=(n_test, 30)).astype(np.float32)
        inputs = {"test_x": x}
    else:
        x = rng.random((n_test, 1, 8, 8)).astype(np.float32)
        inputs = {"test_x": (x * 255).astype(np.uint8)}
    idx = np.arange(0, n_test, 2)
    xe = x[idx]
    n = len(idx)
    ex: dict = {"index": idx}
    extra: dict = {}
    if detector in ("ae", "dae", "toll", "lisae"):
        rec = np.clip(xe + rng.normal(0, 0.1, xe.shape), 0, 1).astype(np.float32)
        ex.update(reconstruction=rec, error_map=(rec - xe) ** 2, latent=rng.normal(size=(n, 4)),
                  latent_norm=np.abs(rng.normal(size=n)) + y[idx])
    if detector == "toll":
        ex.update(score_terms=np.stack([s[idx] * 0.7, s[idx] * 0.3], 1),
                  score_term_names=np.array(["reconstruction", "β·latent norm"]),
                  score_aggregation=np.array("sum"))
    if detector == "lisae":
        ex.update(reconstruction_phase1=ex["reconstruction"] * 0.9,
                  error_map_phase1=ex["error_map"] * 0.5)
        extra = {"extra_phase1_test": s * 0.5, "extra_negatives": rng.normal(3, 1, 20)}
        inputs["negatives_x"] = inputs["test_x"][:8]
    if detector == "dae":
        extra = {"extra_augmented": rng.normal(1, 1, 40)}
    if detector in ("geotrans", "neutral"):
        k = 8 if detector == "geotrans" else 4
        views = np.repeat(xe[:, None], k, axis=1) * rng.random((n, k, *xe.shape[1:]))
        terms = np.abs(rng.normal(size=(n, k))) + y[idx, None]
        ex.update(views=views.astype(np.float32), view_names=np.array([f"T{j}" for j in range(k)]),
                  score_terms=terms, score_term_names=np.array([f"T{j}" for j in range(k)]),
                  score_aggregation=np.array("mean" if detector == "geotrans" else "sum"))
    if detector == "geotrans":
        sm = rng.dirichlet(np.ones(8), size=(n, 8))
        ex.update(softmax=sm, view_confidence=sm[:, np.arange(8), np.arange(8)])
    if detector == "neutral":
        ex.update(masks=rng.random(ex["views"].shape).astype(np.float32),
                  embeddings=rng.normal(size=(n, 5, 4)))
    rid = f"fake-{detector}{'-tab' if tabular else ''}-{seed}"
    config = {"detector": detector, "detector_title": detector.upper(), "dataset": "synthetic",
              "normal": ["0"], "task": "one-vs-rest", "modality": "tabular" if tabular else "image",
              "feature_names": [f"feat{i}" for i in range(30)] if tabular else None,
              "params_resolved": {"augmentations": "rotate,flip"} if detector == "dae" else {},
              "status": "done", "created": 0.0}
    metrics = {"auroc": 0.9, "aupr": 0.9, "f1": 0.8, "threshold": float(np.median(s)),
               "per_kind_auroc": {"1": 0.9, "2": 0.88}}
    save_run(rid, config=config, metrics=metrics, root=root, inputs=inputs, explain=ex,
             scores={"test": s, "test_y": y, "test_kind": kinds, "test_index": np.arange(n_test),
                     "test_class": y, "train": rng.normal(size=30), "val": rng.normal(size=20),
                     **extra})
    return rid


@pytest.fixture()
def runs(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "runs"
    monkeypatch.setenv("ANOMALY_LAB_RUNS", str(root))
    return root


def render(page: str, run_id: str | None) -> AppTest:
    at = AppTest.from_file(str(PAGES[page]), default_timeout=60)
    if run_id:
        at.session_state["run_id"] = run_id
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    return " ".join(e.value for e in [*at.info, *at.warning, *at.caption, *at.markdown])


@pytest.mark.parametrize("page", list(PAGES))
def test_empty_state_without_run(runs, page) -> None:
    at = render(page, None)
    assert any("No run selected" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_scores_page_on_a_real_classical_run(runs) -> None:
    from ad_core.experiment import ExperimentSpec, run_experiment

    res = run_experiment(ExperimentSpec("digits", ["0"], "iforest", explain_n=20, embed_n=0),
                         root=runs)
    at = render("scores", res.run_id)
    assert at.header[0].value == "Scores"
    assert len(at.get("plotly_chart")) >= 6  # histogram, ROC, PR, confusion, gallery, per-kind
    assert [m.label for m in at.metric][:3] == ["AUROC", "AUPR", "F1 at contamination"]
    # Moving the threshold to the top flags nothing: recall 0.
    slider = at.slider(key="scores-threshold")
    slider.set_value(slider.max).run()
    assert not at.exception, at.exception
    recall = next(m for m in at.metric if m.label == "Recall")
    assert recall.value == "0.000"
    for page in ("reconstructions", "transformations", "contributions"):
        other = render(page, res.run_id)
        assert "has no" in _texts(other) and "try" in _texts(other)


def test_scores_page_shows_extras_and_table_galleries(runs) -> None:
    rid = fake_run(runs, "dae")
    at = render("scores", rid)
    assert "augmented training samples (DAE)" in at.multiselect(key="scores-extra").value
    at.radio(key="scores-group").set_value("by kind").run()
    assert not at.exception, at.exception
    tab = fake_run(runs, "neutral", tabular=True)
    at = render("scores", tab)
    assert len(at.dataframe) >= 2  # the open gallery as rows + per-kind table


def test_scores_gallery_overlays_attribution_maps(runs) -> None:
    """Issue 20: the overlay toggle under an image gallery draws its calibrated maps."""
    from ad_core.experiment import ExperimentSpec, run_experiment

    res = run_experiment(ExperimentSpec("digits", ["0"], "iforest", explain_n=10, embed_n=0),
                         root=runs)
    at = render("scores", res.run_id)
    toggles = [t for t in at.toggle if t.key.startswith("scores-overlay-")]
    assert toggles and not any(c.key.startswith("chart-gallery-maps") for c in
                               at.get("plotly_chart"))
    toggles[0].set_value(True).run()
    assert not at.exception, at.exception
    assert any(c.key.startswith("chart-gallery-maps") for c in at.get("plotly_chart"))
    assert (runs / res.run_id / "cache" / "attribution_rows.npz").exists()


def test_reconstructions_gallery_overlays_attribution_maps(runs) -> None:
    from ad_core.experiment import ExperimentSpec, run_experiment

    res = run_experiment(ExperimentSpec("digits", ["0"], "ae", params={"epochs": 1},
                                        explain_n=10, embed_n=0), root=runs)
    at = render("reconstructions", res.run_id)
    at.toggle(key="recon-overlay").set_value(True).run()
    assert not at.exception, at.exception
    assert any(c.key == "chart-recon-maps" for c in at.get("plotly_chart"))


def test_scores_page_shows_which_features_drive_a_table_runs_flagged_samples(runs) -> None:
    """Issue 20: a real table run's Scores page ranks the features by their mean |attribution|
    over the flagged samples."""
    from ad_core.experiment import ExperimentSpec, run_experiment

    res = run_experiment(ExperimentSpec("breast_cancer", ["benign"], "iforest", explain_n=10,
                                        embed_n=0), root=runs)
    at = render("scores", res.run_id)
    assert "Which features drive the flagged samples" in [h.value for h in at.subheader]
    assert any(c.key.endswith("drivers") for c in at.get("plotly_chart"))
    assert (runs / res.run_id / "cache" / "attribution_flagged_40_mean.npz").exists()


@pytest.mark.parametrize("detector", ["ae", "toll", "lisae"])
def test_reconstructions_page(runs, detector) -> None:
    at = render("reconstructions", fake_run(runs, detector))
    charts = len(at.get("plotly_chart"))
    assert charts >= {"ae": 2, "toll": 3, "lisae": 4}[detector]
    at.toggle(key="recon-per-image").set_value(True).run()
    assert not at.exception, at.exception
    at.segmented_control(key="recon-mode").set_value("by index").run()
    assert not at.exception, at.exception


def test_reconstructions_page_tabular(runs) -> None:
    at = render("reconstructions", fake_run(runs, "ae", tabular=True))
    assert len(at.get("plotly_chart")) >= 2


@pytest.mark.parametrize("detector,tabular", [("geotrans", False), ("neutral", False),
                                              ("neutral", True), ("dae", False)])
def test_transformations_page(runs, detector, tabular) -> None:
    at = render("transformations", fake_run(runs, detector, tabular=tabular))
    assert len(at.get("plotly_chart")) >= 1
    if detector == "neutral":
        at.radio(key="tr-what").set_value("masks σ(M_k(x))").run()
        assert not at.exception, at.exception
    if detector == "dae":
        assert at.multiselect(key="tr-aug").value  # the run's augmentations (or defaults)


@pytest.mark.parametrize("detector", ["geotrans", "neutral", "toll"])
def test_contributions_page(runs, detector) -> None:
    at = render("contributions", fake_run(runs, detector))
    charts = len(at.get("plotly_chart"))
    assert charts >= {"geotrans": 4, "neutral": 3, "toll": 3}[detector]
    if detector == "neutral":
        box = at.selectbox(key="co-row")
        box.set_value(box.options[-1] if isinstance(box.options[-1], int) else
                      box.options[-1]).run()
        assert not at.exception, at.exception


REAL = {  # tiny real runs of the deep detectors (the fastest ones), when they are registered
    "geotrans": ("digits", ["0"], {"epochs": 1, "transformations": "8", "arch": "cnn"},
                 {"transformations": 1, "contributions": 4}),
    "neutral": ("breast_cancer", ["benign"], {"epochs": 2},
                {"transformations": 1, "contributions": 3}),
}


@pytest.mark.slow
@pytest.mark.parametrize("detector", list(REAL))
def test_pages_on_real_deep_runs(runs, detector) -> None:
    from ad_core.detectors import available_detectors
    from ad_core.experiment import ExperimentSpec, run_experiment

    cls = available_detectors().get(detector)
    if cls is None:
        pytest.skip(f"{detector} is not registered yet")
    dataset, normal, params, charts = REAL[detector]
    known = {p.name for p in cls.params}
    res = run_experiment(ExperimentSpec(dataset, normal, detector, explain_n=16, embed_n=0,
                                        params={k: v for k, v in params.items() if k in known}),
                         root=runs)
    for page in PAGES:
        at = render(page, res.run_id)
        assert len(at.get("plotly_chart")) >= charts.get(page, 0), page
