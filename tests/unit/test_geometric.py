"""GeoTrans's transformation set vs a slow numpy reference (docs/methods.md §5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ad_core.errors import BadDataError, BadParameterError
from ad_core.geometric import (
    FLIP_ROT_SUBSET,
    Transformation,
    TransformationSet,
    all_views,
    paper_transformations,
    parse_transformation,
    reference_transform,
    resolve_transformations,
    transform_batch,
)


def test_72_transformations_count_identity_and_label_formula():
    ts = paper_transformations(32, 32)
    assert len(ts) == 72 and len(set(ts)) == 72
    assert ts[0] == Transformation() and ts[0].name == "identity"
    for flip in (0, 1):
        for i_tx, tx in enumerate((0, -8, 8)):
            for i_ty, ty in enumerate((0, -8, 8)):
                for k in range(4):
                    assert ts[36 * flip + 12 * i_tx + 4 * i_ty + k] == Transformation(
                        bool(flip), tx, ty, k)
    assert ts[71].name == "flip·tx+8·ty+8·rot270"
    assert paper_transformations(64, 64)[12].tx == -16  # ±16 px for 64×64 images
    assert [ts[i] for i in FLIP_ROT_SUBSET] == [Transformation(f, 0, 0, k)
                                                for f in (False, True) for k in range(4)]


def test_all_views_equal_slow_numpy_reference():
    x = torch.rand(3, 2, 32, 32)
    tset = TransformationSet(paper_transformations(32, 32), 32, 32)
    views = all_views(x, tset)
    assert views.shape == (3, 72, 2, 32, 32)
    for t, tr in enumerate(tset.transformations):
        ref = np.stack([reference_transform(img, tr) for img in x.numpy()])
        np.testing.assert_array_equal(views[:, t].numpy(), ref, err_msg=tr.name)


def test_translation_pads_like_numpy_symmetric_not_torch_reflect():
    img = torch.arange(36, dtype=torch.float32).reshape(1, 1, 6, 6)
    # tx = -1: out[i] = in[i - 1] (content moves down one row); ty = 2: out[:, j] = in[:, j + 2]
    out = TransformationSet([Transformation(False, -1, 2, 0)], 6, 6).all_views(img)[0, 0, 0]
    padded = np.pad(img[0, 0].numpy(), 2, mode="symmetric")
    np.testing.assert_array_equal(out.numpy(), padded[2 - 1:2 - 1 + 6, 2 + 2:2 + 2 + 6])
    # row 0 is the mirrored edge row (the edge pixel repeats: half-sample symmetric)
    np.testing.assert_array_equal(out[0].numpy(), out[1].numpy())
    # columns 4 and 5 mirror the right edge: [.. 4 5 | 5 4]
    np.testing.assert_array_equal(out[1, 3:].numpy(), [5.0, 5.0, 4.0])


def test_translation_follows_keras_apply_affine_transform_tx_moves_rows():
    """The authors call Keras' apply_affine_transform(x, tx, ty, fill_mode='reflect'), i.e.
    scipy.ndimage.affine_transform with offset (tx, ty) on (row, column): tx moves rows."""
    from scipy import ndimage

    img = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    for tx, ty in [(8, 0), (-8, 0), (0, 8), (0, -8), (8, -8), (7, 0), (-3, 5)]:
        keras = ndimage.affine_transform(img, np.eye(2), offset=(tx, ty), order=1, mode="reflect")
        ours = TransformationSet([Transformation(False, tx, ty, 0)], 32, 32).all_views(
            torch.from_numpy(img)[None, None])[0, 0, 0].numpy()
        np.testing.assert_array_equal(ours, keras, err_msg=f"tx={tx}, ty={ty}")
    # a bright top row: tx = +8 moves the content up (row 8 → row 0), tx only touches rows
    bar = torch.zeros(1, 1, 32, 32)
    bar[..., 8, :] = 1
    up = TransformationSet([Transformation(tx=8)], 32, 32).all_views(bar)[0, 0, 0]
    assert up[0].sum() == 32 and up[8].sum() == 0
    col = bar.transpose(-1, -2).contiguous()  # a bright column 8: moved left by ty = +8
    same = TransformationSet([Transformation(tx=8)], 32, 32).all_views(col)[0, 0, 0]
    assert torch.equal(same[:, 8], torch.ones(32))  # tx never moves columns
    left = TransformationSet([Transformation(ty=8)], 32, 32).all_views(col)[0, 0, 0]
    assert left[:, 0].sum() == 32 and left[:, 8].sum() == 0
    # label 12 (i_tx = 1) is tx = −8: content moves down by 8 rows
    t12 = paper_transformations(32, 32)[12]
    assert (t12.tx, t12.ty) == (-8, 0)
    down = TransformationSet([t12], 32, 32).all_views(bar)[0, 0, 0]
    assert down[16].sum() == 32


def test_order_is_flip_then_translate_then_rotate():
    img = np.random.default_rng(0).random((1, 8, 8)).astype(np.float32)
    t = Transformation(True, 0, -2, 1)  # ty = −2: out[:, j] = in[:, j − 2], content moves right
    manual = np.rot90(np.pad(img[:, :, ::-1], ((0, 0), (0, 0), (2, 0)), mode="symmetric")[:, :, :8],
                      1, axes=(1, 2))
    out = TransformationSet([t], 8, 8).all_views(torch.from_numpy(img)[None])[0, 0]
    np.testing.assert_array_equal(out.numpy(), manual)
    # rotations are counter-clockwise like np.rot90: the top-right corner goes to the top-left
    corner = torch.zeros(1, 1, 4, 4)
    corner[..., 0, 3] = 1
    rot = TransformationSet([Transformation(k=1)], 4, 4).all_views(corner)[0, 0, 0]
    assert rot[0, 0] == 1


def test_transform_batch_matches_all_views_and_is_differentiable():
    x = torch.rand(6, 1, 32, 32, requires_grad=True)
    t = torch.tensor([0, 5, 17, 36, 40, 71])
    out = transform_batch(x, t)
    views = all_views(x.detach())
    for i, ti in enumerate(t.tolist()):
        assert torch.equal(out[i].detach(), views[i, ti])
    out.sum().backward()  # d(sum)/d(pixel) = how many output pixels read that pixel
    tset = TransformationSet(paper_transformations(32, 32), 32, 32)
    for i, ti in enumerate(t.tolist()):
        uses = torch.bincount(tset.index[ti], minlength=32 * 32).float().reshape(32, 32)
        assert torch.equal(x.grad[i, 0], uses)
    assert torch.equal(x.grad[0], torch.ones(1, 32, 32))  # the identity is a permutation


def test_subsets_names_and_custom_transformations():
    assert len(resolve_transformations("8")) == 8
    assert resolve_transformations("0,36") == [Transformation(), Transformation(flip=True)]
    custom = resolve_transformations("identity,tx+7")
    assert custom[1] == Transformation(tx=7)
    for t in paper_transformations():
        assert parse_transformation(t.name) == t
    assert parse_transformation("flip.ty-8 rot180") == Transformation(True, 0, -8, 2)


@pytest.mark.parametrize("spec", ["0", "0,0", "0,72", "identity,zoom", "", "0,flip·tx+99"])
def test_bad_transformation_specs_raise_user_errors(spec):
    with pytest.raises(BadParameterError):
        TransformationSet.from_spec(spec, 32, 32)


def test_rotations_need_square_images():
    with pytest.raises(BadDataError):
        TransformationSet.from_spec("8", 32, 16)
    assert len(TransformationSet.from_spec("0,flip", 32, 16)) == 2
