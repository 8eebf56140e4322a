"""The augmentation catalogue (docs/methods.md §2): contracts and each function's defining property."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ad_core import augment as A
from ad_core.errors import BadDataError, BadParameterError, UnknownNameError, UserError

NAMES = ("none", "crop", "rotate", "flip", "geom", "cutout", "cutout-c", "cutpaste",
         "cutpaste-scar", "blur", "noise", "mask", "invert", "color", "simclr")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(n: int = 16, c: int = 1, size: int = 32, seed: int = 0, low: float = 0.0
           ) -> torch.Tensor:
    """Smooth random images in [low, 1] (so that a zeroed pixel is always a change)."""
    g = gen(seed)
    x = torch.rand(n, c, size // 4, size // 4, generator=g)
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return low + (1 - low) * x


def test_catalogue_lists_every_augmentation_with_valid_defaults():
    assert tuple(A.CATALOGUE) == NAMES
    in_categories = [n for names in A.CATEGORIES.values() for n in names]
    assert sorted(in_categories) == sorted(NAMES)
    assert set(A.CATEGORIES) == {"baseline", "geometric", "local", "elementwise", "colour", "mixed"}
    for name, entry in A.CATALOGUE.items():
        assert entry.name == name and entry.description and entry.category in A.CATEGORIES
        assert name in A.CATEGORIES[entry.category]
        assert A.resolve_params(name) == entry.defaults
        for spec in entry.params:
            assert spec.low <= spec.default <= spec.high, (name, spec.name)
    assert A.TABLE_AUGMENTATIONS == ("none", "noise", "mask")


def test_default_parameters_do_what_the_study_trains_with():
    # what the defaults *do* (docs/methods.md §2), not the constants: flip and invert touch about half
    # the batch, mask zeroes about 10 % of the elements, noise has σ ≈ 0.1, CutOut-c erases 20 %.
    x = images(400, low=0.1)
    flipped = (A.augment(x, "flip", gen(0)) != x).flatten(1).any(1).float().mean()
    inverted = (A.augment(x, "invert", gen(0)) != x).flatten(1).any(1).float().mean()
    assert 0.4 < flipped < 0.6 and 0.4 < inverted < 0.6
    ones = torch.ones(64, 1, 32, 32)
    assert abs((A.augment(ones, "mask", gen(0)) == 0).float().mean().item() - 0.1) < 0.01
    assert abs((A.augment(ones, "noise", gen(0)) - ones).std().item() - 0.1) < 0.005
    assert abs((A.augment(ones, "cutout-c", gen(0)) == 0).float().mean().item() - 0.2) < 0.02


@pytest.mark.parametrize("name", NAMES)
def test_shape_dtype_range_determinism_and_seed_variation(name):
    x = images(16, c=3 if name in ("color", "simclr", "cutpaste") else 1)
    before = x.clone()
    y = A.augment(x, name, gen(1))
    assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device
    assert torch.equal(x, before), "the input must not be modified"
    if name != "noise":
        assert y.min() >= 0 and y.max() <= 1
    assert torch.equal(y, A.augment(x, name, gen(1)))
    if name != "none":
        assert not torch.equal(y, A.augment(x, name, gen(2)))
    else:
        assert torch.equal(y, x)
    y64 = A.augment(x.double(), name, gen(1))
    assert y64.dtype == torch.float64


def test_no_generator_follows_torch_manual_seed():
    x = images(8)
    torch.manual_seed(5)
    a = A.augment(x, "cutout")
    torch.manual_seed(5)
    assert torch.equal(a, A.augment(x, "cutout"))


def test_invert_twice_is_identity_and_p_controls_rate():
    x = images(32)
    once = A.augment(x, "invert", gen(0), p=1)
    assert torch.allclose(once, 1 - x)
    assert torch.allclose(A.augment(once, "invert", gen(3), p=1), x, atol=1e-6)
    half = A.augment(x, "invert", gen(0))
    changed = (half != x).flatten(1).any(1).float().mean()
    assert 0.2 < changed < 0.8


def test_flip_is_vertical():
    x = images(8)
    assert torch.equal(A.augment(x, "flip", gen(0), p=1), x.flip(-2))
    assert torch.equal(A.augment(x, "flip", gen(0), p=0), x)


def test_rotate_outputs_are_exact_quarter_turns():
    x = images(64)
    y = A.augment(x, "rotate", gen(0))
    used = set()
    for xi, yi in zip(x, y):
        ks = [k for k in range(4) if torch.equal(torch.rot90(xi, k, dims=(-2, -1)), yi)]
        assert len(ks) == 1
        used.add(ks[0])
    assert used == {0, 1, 2, 3}
    with pytest.raises(BadDataError):
        A.augment(torch.rand(2, 1, 8, 10), "rotate", gen(0))


def _bbox(mask: torch.Tensor) -> tuple[int, int, int, int]:
    rows = torch.nonzero(mask.any(1)).squeeze(1)
    cols = torch.nonzero(mask.any(0)).squeeze(1)
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def test_cutout_zeroes_one_rectangle_with_randomerasing_area():
    size = 32
    x = images(64, size=size, low=0.1)
    y = A.augment(x, "cutout", gen(0))
    for xi, yi in zip(x, y):
        zero = (yi[0] == 0)
        assert zero.any(), "p = 1: every image has an erased rectangle"
        r0, r1, c0, c1 = _bbox(zero)
        assert zero[r0:r1, c0:c1].all() and zero.sum() == (r1 - r0) * (c1 - c0)
        assert torch.equal(yi[0][~zero], xi[0][~zero])
        h, w = r1 - r0, c1 - c0
        # h = round(sqrt(a·r)), w = round(sqrt(a/r)) ⇒ (h−½)(w−½) ≤ a ≤ (h+½)(w+½)
        assert (h - 0.5) * (w - 0.5) <= 0.33 * size * size
        assert (h + 0.5) * (w + 0.5) >= 0.02 * size * size
        assert (h - 0.5) / (w + 0.5) <= 3.3 and (h + 0.5) / (w - 0.5) >= 0.3
        assert h < size and w < size


@pytest.mark.parametrize("c", [0.1, 0.2, 0.5, 0.9])
@pytest.mark.parametrize("size", [28, 32])
def test_cutout_c_erases_the_area_fraction_c(c, size):
    # c is an *area* fraction (the authors' RandomErasing(scale=(c, c), ratio=1)): on a constant-1
    # image the zeroed fraction is c up to rounding the side to whole pixels. The old reading of
    # c as the square's width erased c² (4 % for c = 0.2), which fails here.
    y = A.augment(torch.ones(32, 1, size, size), "cutout-c", gen(0), c=c)
    zeroed = (y == 0).flatten(1).float().mean(1)
    side = round(math.sqrt(c * size * size))
    assert torch.allclose(zeroed, torch.full_like(zeroed, side * side / size**2))
    assert (zeroed - c).abs().max() < 2 * side / size**2 + 1e-9  # ≈ c within one pixel row
    tops = set()
    for yi in y:
        zero = yi[0] == 0
        r0, r1, c0, c1 = _bbox(zero)
        assert (r1 - r0, c1 - c0) == (side, side), "a square"
        assert zero.sum() == side * side, "one filled square"
        tops.add((r0, c0))
    assert len(tops) > 1, "uniform positions"


def test_cutout_c_erases_what_torchvision_v2_random_erasing_erases():
    from torchvision.transforms import v2

    for c in (0.05, 0.2, 0.33, 0.6):
        ref = v2.RandomErasing(p=1.0, scale=(c, c), ratio=(1.0, 1.0), value=0)
        torch.manual_seed(0)
        want = (ref(torch.ones(1, 1, 32, 32)) == 0).sum().item()
        got = (A.augment(torch.ones(8, 1, 32, 32), "cutout-c", gen(3), c=c) == 0).flatten(1).sum(1)
        assert (got == want).all(), (c, want, got)
    # like torchvision, a square that does not fit strictly inside the image is not erased
    full = A.augment(torch.ones(4, 1, 28, 28), "cutout-c", gen(0), c=1.0)
    assert torch.equal(full, torch.ones(4, 1, 28, 28))


def test_mask_zero_rate_is_p_on_images_and_tables():
    y = A.augment(torch.ones(64, 1, 32, 32), "mask", gen(0), p=0.3)
    assert abs((y == 0).float().mean().item() - 0.3) < 0.01
    t = A.augment(torch.ones(500, 20), "mask", gen(0))
    assert t.shape == (500, 20)
    assert abs((t == 0).float().mean().item() - 0.1) < 0.01


def test_noise_std_is_sigma_and_unclipped():
    x = torch.full((64, 1, 32, 32), 0.5)
    y = A.augment(x, "noise", gen(0), sigma=0.2)
    d = y - x
    assert abs(d.std().item() - 0.2) < 0.004 and abs(d.mean().item()) < 0.004
    assert y.min() < 0 and y.max() > 1, "no clipping"
    z = A.augment(torch.zeros(300, 5), "noise", gen(0))
    assert (z < 0).any(), "no clipping"
    assert abs(z.std().item() - 0.1) < 0.01


def test_geom_is_a_random_geotrans_transform_with_quarter_size_zero_filled_shifts():
    size, s = 32, 8
    x = images(48, size=size, low=0.1)
    y = A.augment(x, "geom", gen(0))
    shifts_used = set()
    for xi, yi in zip(x, y):
        found = []
        for flip in (False, True):
            base = xi.flip(-1) if flip else xi
            for dy in (0, -s, s):
                for dx in (0, -s, s):
                    moved = A.shift_zero(base.unsqueeze(0), dy, dx)[0]
                    for k in range(4):
                        if torch.equal(torch.rot90(moved, k, dims=(-2, -1)), yi):
                            found.append((flip, dy, dx, k))
        assert found, "each output is one of the 72 GeoTrans transforms"
        shifts_used.add((found[0][1], found[0][2]))
        if (found[0][1], found[0][2]) != (0, 0):
            assert (yi == 0).sum() >= s * size, "zero fill"
    assert len(shifts_used) >= 6


def test_crop_boxes_follow_area_and_aspect_ranges():
    # Channel 0 is a horizontal ramp, channel 1 a vertical one: the crop's width and height are
    # the output's slopes (bilinear sampling of a linear function is exact inside the image).
    size = 32
    u = (torch.arange(size) + 0.5) / size
    x = torch.stack([u.view(1, -1).expand(size, size), u.view(-1, 1).expand(size, size)])
    x = x.unsqueeze(0).repeat(200, 1, 1, 1)
    y = A.augment(x, "crop", gen(0))
    m = size // 2
    w = (y[:, 0, m, m + 1] - y[:, 0, m, m]) * size
    h = (y[:, 1, m + 1, m] - y[:, 1, m, m]) * size
    area, ratio = (w * h).numpy(), (w / h).numpy()
    assert area.min() >= 0.08 - 1e-3 and area.max() <= 1 + 1e-3
    assert ratio.min() >= 0.75 - 1e-3 and ratio.max() <= 4 / 3 + 1e-3
    assert area.min() < 0.3 and area.max() > 0.7, "areas spread over U(0.08, 1)"
    small = A.augment(x, "crop", gen(0), scale_min=0.1, scale_max=0.2)
    ws = (small[:, 0, m, m + 1] - small[:, 0, m, m]) * size
    hs = (small[:, 1, m + 1, m] - small[:, 1, m, m]) * size
    assert ((ws * hs) <= 0.2 + 1e-3).all() and ((ws * hs) >= 0.1 - 1e-3).all()


def test_cutpaste_changes_a_single_patch_region():
    size = 32
    x = torch.rand(40, 3, size, size, generator=gen(1))  # every pixel differs from its neighbours
    y = A.augment(x, "cutpaste", gen(0))
    for xi, yi in zip(x, y):
        changed = (yi != xi).any(0)
        assert changed.any()
        r0, r1, c0, c1 = _bbox(changed)
        box = (r1 - r0) * (c1 - c0)
        assert changed[r0:r1, c0:c1].float().mean() > 0.9, "one patch, not scattered pixels"
        assert box <= 0.15 * size * size + (r1 - r0 + c1 - c0) / 2 + 1


def test_cutpaste_scar_is_a_thin_local_change():
    x = torch.rand(40, 1, 32, 32, generator=gen(1))
    y = A.augment(x, "cutpaste-scar", gen(0))
    frac = (y != x).flatten(1).float().mean(1)
    assert (frac > 0).float().mean() > 0.9
    assert frac.max() <= 24 * 15 / 1024 + 0.01


def test_blur_preserves_the_mean_and_smooths():
    x = torch.rand(16, 1, 32, 32, generator=gen(0))
    y = A.augment(x, "blur", gen(0), sigma_min=1.0, sigma_max=2.0)
    assert (y.mean((1, 2, 3)) - x.mean((1, 2, 3))).abs().max() < 0.02
    tv = lambda t: (t[..., 1:, :] - t[..., :-1, :]).abs().mean()  # noqa: E731
    assert tv(y) < 0.6 * tv(x)


def test_color_changes_grey_images_by_brightness_and_contrast_only():
    x = 0.2 + 0.4 * images(8, c=1)
    y = A.augment(x, "color", gen(0), brightness=0.3, contrast=0.3)
    assert not torch.allclose(y, x)
    for xi, yi in zip(x, y):  # an affine map of the grey levels (nothing clips here)
        assert np.corrcoef(xi.flatten().numpy(), yi.flatten().numpy())[0, 1] > 0.9999


def test_errors_are_user_errors_with_choices():
    x = images(4)
    with pytest.raises(UnknownNameError, match="cutout"):
        A.augment(x, "cutuot")
    with pytest.raises(UnknownNameError, match="sigma"):
        A.augment(x, "noise", sigmaa=0.1)
    with pytest.raises(BadParameterError):
        A.augment(x, "mask", p=1.5)
    with pytest.raises(BadParameterError):
        A.augment(x, "blur", kernel=4)
    with pytest.raises(BadParameterError):
        A.augment(x, "crop", scale_min=0.9, scale_max=0.2)
    with pytest.raises(BadParameterError, match="none, noise, mask"):
        A.augment(torch.rand(5, 3), "rotate")
    with pytest.raises(BadDataError):
        A.augment((x * 255).to(torch.uint8), "flip")
    with pytest.raises(BadDataError):
        A.augment(torch.rand(1, 8, 8), "flip")
    with pytest.raises(UserError):
        A.anomaly_generator("none")
    assert A.augment(x, "noise", sigma="0.05").shape == x.shape  # CLI strings are coerced
    assert A.augment(x[:0], "cutpaste", gen(0)).shape == (0, 1, 32, 32)


def test_tables_support_none_noise_mask():
    t = torch.randn(50, 7)
    assert torch.equal(A.augment(t, "none"), t)
    assert A.augment(t, "noise", gen(0)).shape == t.shape
    assert A.augment(t, "mask", gen(0)).shape == t.shape
    assert A.available("tabular") == ("none", "noise", "mask")


def test_anomaly_generators_of_the_controlled_testbed():
    x = images(16, low=0.1)
    assert torch.equal(A.anomaly_generator("flip")(x, gen(0)), x.flip(-2))
    assert torch.allclose(A.anomaly_generator("invert")(x, gen(0)), 1 - x)
    holes = (A.anomaly_generator("cutout")(x, gen(0)) == 0).flatten(1).any(1)
    assert holes.all()
    assert A.anomaly_generator("rotate")(x, gen(0)).shape == x.shape
    with pytest.raises(UnknownNameError):
        A.anomaly_generator("shear")


def test_controlled_testbed_uses_the_generators():
    from ad_core.data.base import Dataset
    from ad_core.tasks import controlled_testbed

    ds = Dataset("tiny", "image", images(60, size=8), torch.arange(60) % 3, ("a", "b", "c"))
    task = controlled_testbed(ds, "b", seed=0)
    assert set(task.test_kind) == {"normal", "flip", "cutout", "invert"}
    normal = task.test_x[torch.from_numpy(task.test_kind == "normal")]
    flipped = task.test_x[torch.from_numpy(task.test_kind == "flip")]
    assert torch.equal(flipped, normal.flip(-2))
    inverted = task.test_x[torch.from_numpy(task.test_kind == "invert")]
    assert torch.allclose(inverted, 1 - normal)


def test_synthetic_negatives_are_heavily_augmented_normals():
    x = images(32, size=28, low=0.0)
    neg = A.synthetic_negatives(x, gen(0))
    assert neg.shape == x.shape and neg.min() >= 0 and neg.max() <= 1
    assert torch.equal(neg, A.synthetic_negatives(x, gen(0)))
    assert ((neg - x).abs().flatten(1).mean(1) > 0.02).all()
    t = torch.arange(60, dtype=torch.float32).view(20, 3)
    tn = A.synthetic_negatives(t, gen(0))
    for j in range(3):  # every feature is a permutation of the original column
        assert torch.equal(tn[:, j].sort().values, t[:, j])
    assert not torch.equal(tn, t)


def test_preview_grid():
    x = images(12) * 0.5 + 0.25
    pv = A.preview(x, ["flip", "noise"], n=5, seed=3)
    assert list(pv) == ["original", "flip", "noise"]
    assert all(v.shape == (5, 1, 32, 32) for v in pv.values())
    assert torch.equal(pv["original"], x[:5])
    assert pv["noise"].min() >= 0 and pv["noise"].max() <= 1
    assert torch.equal(A.preview(x, ["noise"], n=5, seed=3)["noise"], pv["noise"])
    with pytest.raises(UnknownNameError):
        A.preview(x, ["nope"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", NAMES)
def test_gpu_keeps_device_and_matches_cpu(name):
    x = images(8, c=3)
    y_cpu = A.augment(x, name, gen(4))
    y_gpu = A.augment(x.cuda(), name, gen(4))
    assert y_gpu.device.type == "cuda"
    # same draws on both devices; float rounding may move a rotated patch's edge by a pixel
    assert (y_gpu.cpu() - y_cpu).abs().mean() < 1e-3, "same draws on CPU and GPU"


def test_benchmark_grid_and_relative_auroc_statistics():
    from ad_core.benchmarks import augmentation as B

    jobs = B.build_jobs(dataset="digits", classes=["0", "1"], seeds=[0, 1],
                        augmentations=["flip", "cutout-c"], wild=["rotate"], sweep=[0.1, 0.2],
                        preset="quick")
    labels = [t["label"] for t, _ in jobs]
    # testbed: none, flip, cutout-c (c = 0.2 is the default, so not repeated), cutout-c=0.1;
    # wild: none, rotate — each for 2 classes × 2 seeds
    assert len(jobs) == 6 * 4 and labels.count("cutout-c=0.1") == 4 and labels.count("none") == 8
    spec = next(s for t, s in jobs if t["label"] == "cutout-c=0.1")
    assert spec["params"]["augmentation"] == "cutout-c" and spec["task"] == "testbed"
    assert {s["task"] for t, s in jobs if t["study"] == "wild"} == {"one-vs-rest"}

    rows = []
    for t, _ in jobs:
        if t["study"] != "testbed":
            continue
        base = 0.5 + 0.05 * int(t["normal_class"]) + 0.1 * t["seed"]
        factor = {"none": 1.0, "flip": 1.2}.get(t["label"], 0.9)
        res = {"auroc": base * factor, "fit_seconds": 1.0, "n_train": 10, "n_test": 40,
               "per_kind_auroc": {"flip": base * factor, "cutout": base, "invert": base}}
        rows += B.expand(t, res)
    assert {r["anomaly_kind"] for r in rows} == {"all", "flip", "cutout", "invert"}
    summary = B.summarise(rows)
    flip = next(s for s in summary if s["label"] == "flip" and s["group"] == "flip")
    # 2 tasks (classes) × 2 seeds, all ×1.2: the seeds of a class are averaged first, so n = 2
    # tasks and the one-sided p is 1/4 — never 1/16 from counting seeds as tasks
    assert flip["pseudomedian"] == pytest.approx(1.2) and flip["n"] == 2
    assert flip["ci_low"] == pytest.approx(1.2) and flip["pvalue"] == pytest.approx(1 / 4)
    assert flip["alternative"] == "greater" and not flip["ci_attained"]
    same = next(s for s in summary if s["label"] == "flip" and s["group"] == "cutout")
    assert same["pseudomedian"] == pytest.approx(1.0) and same["verdict"] == "no significant change"
    worse = next(s for s in summary if s["label"] == "cutout-c=0.1" and s["group"] == "flip")
    assert worse["pseudomedian"] == pytest.approx(0.9) and worse["verdict"] == "hurts"
    meta = {"dataset": "digits", "classes": ["0", "1"], "seeds": [0, 1], "preset": "quick",
            "extra_params": {}, "wall_seconds": 1.0, "workers": 1}
    md = B.markdown(rows, summary, meta)
    assert "CutOut-c sweep" in md and "| flip | 1.200" in md and "paper (Yoo et al. 2023)" in md
    assert "one-sided" in md and "two-sided" not in md and "50.0 % CI" in md  # n = 2 tasks
    assert "one-sided Wilcoxon signed-rank test (exact), n = 2 tasks" in md
