"""Figure builders of ``ad_core.viz``: arrays in → a figure with a title, axis labels and the
expected traces; bad shapes raise :class:`UserError`."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from ad_core.errors import UserError
from ad_core.viz import contrib as C
from ad_core.viz import recon as R
from ad_core.viz import scores as S
from ad_core.viz import transforms as T
from ad_core.viz.images import (
    ERROR_COLORSCALE,
    ImageColumn,
    image_grid,
    image_table,
    mosaic,
    normalise_images,
)

RNG = np.random.default_rng(0)


def _title(fig: go.Figure) -> str:
    return fig.layout.title.text or ""


def _labelled(fig: go.Figure) -> None:
    assert _title(fig)
    assert fig.layout.xaxis.title.text is not None
    assert len(fig.data) >= 1


def test_mosaic_places_tiles_row_by_row_with_gaps() -> None:
    imgs = np.arange(5 * 2 * 2, dtype=float).reshape(5, 1, 2, 2)
    m, corners = mosaic(imgs, ncols=3, gap=1)
    assert m.shape == (2 * 3 - 1, 3 * 3 - 1, 1)
    assert corners[3] == (3, 0) and corners[2] == (0, 6)
    np.testing.assert_array_equal(m[3:5, 0:2, 0], imgs[3, 0])
    assert np.isnan(m[2, 0, 0])  # the gap row


def test_normalise_global_and_per_image() -> None:
    imgs = np.stack([np.full((1, 2, 2), 1.0), np.full((1, 2, 2), 3.0)])
    imgs[1, 0, 0, 0] = 5.0
    g, lo, hi = normalise_images(imgs, zmin=None, zmax=None)
    assert (lo, hi) == (1.0, 5.0) and g.max() == 1.0 and g.min() == 0.0
    p, _, _ = normalise_images(imgs, per_image=True)
    assert p[1].max() == 1.0 and p[1].min() == 0.0 and np.all(p[0] == 0.0)


def test_image_grid_grey_rgb_and_empty() -> None:
    fig = image_grid(RNG.random((10, 1, 8, 8)), [f"t{i}" for i in range(10)], ncols=4,
                     title="Digits")
    _labelled(fig)
    assert isinstance(fig.data[0], go.Heatmap)
    assert [a.text for a in fig.layout.annotations] == [f"t{i}" for i in range(10)]
    err = image_grid(RNG.random((3, 1, 8, 8)), zmin=None, zmax=None,
                     colorscale=ERROR_COLORSCALE, colorbar_title="(x̂ − x)²")
    assert err.data[0].showscale and err.data[0].colorbar.title.text == "(x̂ − x)²"
    # Streamlit's theme rewrites #00000N colours: the error scale must use rgb() strings.
    assert all(c.startswith("rgb(") for _, c in err.data[0].colorscale)
    rgb = image_grid(RNG.random((2, 3, 6, 6)), title="RGB")
    assert isinstance(rgb.data[0], go.Image) and rgb.data[0].z.dtype == np.uint8
    assert "No images" in image_grid(np.zeros((0, 1, 8, 8))).layout.annotations[0].text
    with pytest.raises(UserError):
        image_grid(RNG.random((2, 2, 4, 4)))
    with pytest.raises(UserError):
        image_grid(RNG.random((2, 1, 4, 4)), ["only one"])


def test_image_table_columns_share_rows() -> None:
    x = RNG.random((3, 1, 8, 8))
    fig = image_table([ImageColumn("a", x), ImageColumn("b", x, ERROR_COLORSCALE, None, None,
                                                        colorbar_title="err", titles=list("pqr"))],
                      ["r0", "r1", "r2"], title="Table")
    _labelled(fig)
    assert len(fig.data) == 2 and fig.data[1].x0 > fig.data[0].x0
    assert list(fig.layout.xaxis.ticktext) == ["a", "b"]
    assert list(fig.layout.yaxis.ticktext) == ["r0", "r1", "r2"]
    with pytest.raises(UserError):
        image_table([ImageColumn("a", x), ImageColumn("b", x[:2])], ["r0", "r1", "r2"])


def test_score_figures() -> None:
    y = np.r_[np.zeros(50), np.ones(30)].astype(int)
    s = RNG.normal(size=80) + 2 * y
    kinds = np.where(y == 1, np.where(np.arange(80) % 2, "flip", "invert"), "normal")
    h = S.score_histogram(S.groups_by_kind(s, kinds), threshold=1.0)
    _labelled(h)
    assert [t.name.split(" ")[0] for t in h.data] == ["normal", "flip", "invert"]
    roc = S.roc_figure(y, s, threshold=1.0)
    _labelled(roc)
    assert "AUROC" in roc.data[0].name and roc.data[-1].name == "threshold"
    pr = S.pr_figure(y, s, threshold=1.0)
    assert "AUPR" in pr.data[0].name
    cm = S.confusion_figure({"tn": 40, "fp": 10, "fn": 5, "tp": 25})
    _labelled(cm)
    assert cm.data[0].z.tolist() == [[40, 10], [5, 25]]
    _labelled(S.auroc_bars({"flip": 0.9, "invert": 0.7}))


def test_gallery_rows() -> None:
    s = np.array([0.1, 0.9, 0.5, 0.7, 0.2])
    y = np.array([0, 1, 0, 0, 1])
    g = S.gallery_rows(s, y, threshold=0.6, n=2)
    assert g["most anomalous"].tolist() == [1, 3]
    assert g["most normal"].tolist() == [0, 4]
    assert g["false positives"].tolist() == [3]
    assert g["false negatives"].tolist() == [4]


def test_recon_figures() -> None:
    x = RNG.random((4, 1, 8, 8))
    xh = np.clip(x + 0.1, 0, 1)
    fig = R.recon_table(x, xh, (xh - x) ** 2, [f"#{i}" for i in range(4)])
    _labelled(fig)
    assert [t.name for t in fig.data] == ["input x", "reconstruction x̂", "error (x̂ − x)²"]
    ba = R.before_after_table(x, xh, x, (xh - x) ** 2, np.zeros_like(x), list("abcd"))
    assert len(ba.data) == 5 and ba.data[3].zmax == ba.data[4].zmax  # shared error scale
    bars = R.feature_recon_bars(RNG.random(5), RNG.random(5), RNG.random(5), list("abcde"))
    assert len(bars.data) == 3 and _title(bars)
    sc = R.term_scatter(RNG.random(6), RNG.random(6), np.array(["normal"] * 3 + ["1"] * 3),
                        x_title="reconstruction", y_title="β·‖z‖")
    _labelled(sc)
    assert sc.layout.yaxis.title.text == "β·‖z‖" and len(sc.data) == 2
    ln = R.latent_norm_histogram({"normal": RNG.random(10), "anomaly": RNG.random(10) + 1})
    assert "latent norm" in ln.layout.xaxis.title.text
    bh = R.before_after_histograms({"normal": RNG.random(9)}, {"normal": RNG.random(9),
                                                                "anomaly": RNG.random(9)})
    assert len(bh.data) == 3 and _title(bh)


def test_transform_figures() -> None:
    views = RNG.random((2, 3, 1, 8, 8))
    fig = T.views_table(views, ["id", "rot90", "flip"], ["a", "b"],
                        originals=RNG.random((2, 1, 8, 8)), confidence=RNG.random((2, 3)))
    _labelled(fig)
    assert list(fig.layout.xaxis.ticktext) == ["original x", "id", "rot90", "flip"]
    assert sum(a.text.startswith("p=") for a in fig.layout.annotations) == 6
    # GeoTrans pads 28×28 inputs to 32×32: the original column is left out, not an error.
    padded = T.views_table(RNG.random((1, 2, 1, 10, 10)), ["a", "b"], ["r"],
                           originals=RNG.random((1, 1, 8, 8)))
    assert len(padded.data) == 2
    fb = T.feature_bars(RNG.random((3, 5)), ["T1", "T2", "T3"], list("abcde"),
                        original=RNG.random(5))
    assert len(fb.data) == 4 and _title(fb)
    aug = T.augmentation_table(RNG.random((2, 1, 8, 8)), {"flip": RNG.random((2, 1, 8, 8))},
                               ["x", "y"])
    assert list(aug.layout.xaxis.ticktext) == ["original", "flip"]
    with pytest.raises(UserError):
        T.views_table(views, ["only", "two"], ["a", "b"])


def test_contribution_figures() -> None:
    terms = np.array([[1.0, 3.0, 2.0], [0.5, 0.2, 0.1]])
    bars = C.term_bars(terms[0], ["a", "b", "c"])
    _labelled(bars)
    dom = next(t for t in bars.data if t.name.startswith("dominant"))
    assert list(dom.x) == ["b"] and "6" in _title(bars)
    hm = C.contributions_heatmap(terms, ["a", "b", "c"], np.array([0.1, 5.0]), ["low", "high"])
    _labelled(hm)
    assert list(hm.data[0].y) == ["1. high", "2. low"]
    p = C.simplex_points(np.array([[1.0, 1.0, 2.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(p.sum(1), 1.0)
    np.testing.assert_allclose(p[0], [0.25, 0.25, 0.5])
    np.testing.assert_allclose(p[1], [1 / 3] * 3)
    # Negative terms (e.g. GeoTrans's signed summands) are shifted by the global minimum first.
    np.testing.assert_allclose(C.simplex_points(np.array([[-1.0, 0.0, 1.0]]))[0], [0, 1 / 3, 2 / 3])
    sf = C.simplex_figure(RNG.random((6, 3)), ["a", "b", "c"], np.array([0, 0, 0, 1, 1, 1]),
                          np.arange(6.0))
    assert _title(sf) and sf.layout.ternary.aaxis.title.text == "a" and len(sf.data) == 2
    assert max(sf.data[1].marker.opacity) == 1.0 and min(sf.data[0].marker.opacity) < 0.2
    sm = C.softmax_matrix(np.eye(4), ["r0", "r90", "r180", "r270"])
    _labelled(sm)
    split = C.term_split(RNG.random((4, 2)), ["reconstruction", "β·latent norm"],
                         np.array(["normal", "normal", "1", "1"]))
    _labelled(split)
    assert [t.name for t in split.data] == ["reconstruction", "β·latent norm"]
    with pytest.raises(UserError):
        C.term_bars(terms[0], ["a", "b"])
    with pytest.raises(UserError):
        C.softmax_matrix(np.ones((2, 3)), ["a", "b"])
