"""The generated stroke/glyph set (LIS-AE's offline Omniglot stand-in): shape, range, seeding."""

from __future__ import annotations

import pytest
import torch

from ad_core.data import strokes
from ad_core.data.strokes import GLYPHS, stroke_glyphs
from ad_core.errors import BadParameterError


def test_shape_range_and_mnist_like_content():
    x = stroke_glyphs(40, (1, 28, 28), seed=0)
    assert x.shape == (40, 1, 28, 28) and x.dtype == torch.float32
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert torch.allclose(x.amax((1, 2, 3)), torch.ones(40))  # every image has a full stroke
    ink = (x > 0.5).float().mean((1, 2, 3))
    assert (ink > 0.01).all() and (ink < 0.5).all()  # bright strokes on black, like MNIST
    border = torch.cat([x[..., 0, :], x[..., -1, :]], -1).mean()
    assert float(border) < float(x.mean())  # drawn towards the centre


def test_deterministic_by_seed_and_different_across_seeds():
    a, b = stroke_glyphs(16, (1, 28, 28), seed=3), stroke_glyphs(16, (1, 28, 28), seed=3)
    assert torch.equal(a, b)
    assert not torch.equal(a, stroke_glyphs(16, (1, 28, 28), seed=4))
    a[0] += 1  # a returned copy never alters the cache
    assert torch.equal(stroke_glyphs(16, (1, 28, 28), seed=3), b)


def test_other_shapes_strokes_only_and_no_digits():
    rgb = stroke_glyphs(4, (3, 32, 32), seed=0)
    assert rgb.shape == (4, 3, 32, 32) and torch.equal(rgb[:, 0], rgb[:, 2])
    assert stroke_glyphs(4, (1, 8, 8), seed=0, stroke_fraction=1.0).shape == (4, 1, 8, 8)
    assert not set("0123456789OolIZSB") & set(GLYPHS)


def test_without_fonts_on_disk_it_still_draws(monkeypatch):
    monkeypatch.setattr(strokes, "available_fonts", lambda: ())
    strokes._cached.cache_clear()
    try:
        x = stroke_glyphs(8, (1, 28, 28), seed=11, stroke_fraction=0.0)
        assert x.shape == (8, 1, 28, 28) and (x.amax((1, 2, 3)) > 0).all()
        assert "default font" in strokes.describe()
    finally:
        strokes._cached.cache_clear()


@pytest.mark.parametrize("args", [dict(n=0), dict(shape=(28, 28)), dict(shape=(1, 2, 2)),
                                  dict(stroke_fraction=2.0)])
def test_bad_arguments_raise(args):
    kw = {"n": 2, "shape": (1, 28, 28), **args}
    with pytest.raises(BadParameterError):
        stroke_glyphs(kw.pop("n"), kw.pop("shape"), **kw)
