"""The augmentation catalogue of the data-augmentation study (docs/methods.md §2) as batched tensor ops.

Why one module of ~700 lines: it is a catalogue — 15 augmentations, the testbed's generating
functions and LIS-AE's negatives, each a short batched function — and the study's names must live
in one place, so that a DAE, the testbed and the Teaching page can never disagree on what "cutout"
means.

A denoising autoencoder f_aug is trained to map aug(x) back to x; the study's finding is that this
helps only when ``aug`` is *aligned* with the unknown anomaly-generating function ``gen``. This
module holds every ``aug`` of the study (13, the CutOut-c variant and the identity), the
controlled testbed's ``gen`` functions (:func:`anomaly_generator`), LIS-AE's synthetic negatives
and the app's preview grid.

Conventions:

- Images are ``[N, C, H, W]`` float tensors in [0, 1], on any device; tables are ``[N, D]``. The
  output has the input's shape, dtype and device; the input is never modified.
- Every random choice is made per sample and drawn from a CPU :class:`torch.Generator` (then moved
  to the device), so a seed gives the same augmentation on CPU and GPU.
- Everything is vectorised: affine grids for crops, masks built by broadcasting for CutOut and
  masking, index maps for CutPaste, grouped convolutions for blur — no per-image loop.
- Values stay in [0, 1] except for ``noise``, which the study adds without clipping.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ad_core.contracts import ParamSpec
from ad_core.errors import BadDataError, BadParameterError, UnknownNameError, did_you_mean

Params = dict[str, Any]
AugmentFn = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class AugmentationInfo:
    """One catalogue entry: its name, chart category, a one-line definition and its parameters.

    ``params`` are :class:`ParamSpec` records (default, inclusive ``low``/``high`` range and a help
    line); :attr:`defaults` gives the defaults as a plain dict (the training setting of the study).
    """

    name: str
    category: str
    title: str
    description: str
    params: tuple[ParamSpec, ...] = ()
    tabular: bool = False

    @property
    def defaults(self) -> Params:
        """Default value of every parameter (the study's training setting)."""
        return {p.name: p.default for p in self.params}

    @property
    def ranges(self) -> dict[str, tuple[float | None, float | None]]:
        """Documented (low, high) range of every parameter."""
        return {p.name: (p.low, p.high) for p in self.params}


def _f(name: str, default: float, low: float, high: float, help: str) -> ParamSpec:
    return ParamSpec(name, "float", default, help, low=low, high=high)


def _p(default: float, what: str) -> ParamSpec:
    return _f("p", default, 0.0, 1.0, f"Probability that a sample is {what}.")


_CROP = (_f("scale_min", 0.08, 0.01, 1.0, "Smallest crop area, as a fraction of the image."),
         _f("scale_max", 1.0, 0.01, 1.0, "Largest crop area, as a fraction of the image."),
         _f("ratio_min", 3 / 4, 0.1, 10.0, "Smallest crop aspect ratio (width / height)."),
         _f("ratio_max", 4 / 3, 0.1, 10.0, "Largest crop aspect ratio (width / height)."))
_JITTER = (_f("brightness", 0.8, 0.0, 5.0, "Brightness factor drawn from U(1 − b, 1 + b)."),
           _f("contrast", 0.8, 0.0, 5.0, "Contrast factor drawn from U(1 − c, 1 + c)."),
           _f("saturation", 0.8, 0.0, 5.0, "Saturation factor drawn from U(1 − s, 1 + s) (RGB)."),
           _f("hue", 0.2, 0.0, 0.5, "Hue shift drawn from U(−h, h), in turns (RGB)."))
_BLUR_K = ParamSpec("kernel", "int", 3, "Odd Gaussian kernel size in pixels.", low=1, high=31)
_SIG = (_f("sigma_min", 0.1, 0.01, 20.0, "Smallest Gaussian blur σ (pixels)."),
        _f("sigma_max", 2.0, 0.01, 20.0, "Largest Gaussian blur σ (pixels)."))

CATALOGUE: dict[str, AugmentationInfo] = {a.name: a for a in (
    AugmentationInfo("none", "baseline", "None (plain AE)",
                     "Identity: the DAE becomes the plain, no-SSL autoencoder.", tabular=True),
    AugmentationInfo("crop", "geometric", "Crop",
                     "Random resized crop back to full size: area U(0.08, 1), aspect log-U(3/4, "
                     "4/3), bilinear.", _CROP),
    AugmentationInfo("rotate", "geometric", "Rotate",
                     "Rotation by an angle drawn from {−90°, 0°, 90°, 180°} (square images)."),
    AugmentationInfo("flip", "geometric", "Flip",
                     "Vertical (upside-down) flip with probability p.", (_p(0.5, "flipped"),)),
    AugmentationInfo("geom", "geometric", "GEOM",
                     "A random GeoTrans transform: horizontal flip (p), translation of each axis by "
                     "one of {0, −shift, +shift}·size with zero fill, rotation by k·90°.",
                     (_f("p_flip", 0.5, 0.0, 1.0, "Probability of the horizontal flip."),
                      _f("shift", 0.25, 0.0, 0.5, "Translation step as a fraction of the size."))),
    AugmentationInfo("cutout", "local", "CutOut",
                     "Erase one rectangle: area U(0.02, 0.33), aspect log-U(0.3, 3.3), uniform "
                     "position (torchvision RandomErasing).",
                     (_f("scale_min", 0.02, 0.001, 1.0, "Smallest erased area fraction."),
                      _f("scale_max", 0.33, 0.001, 1.0, "Largest erased area fraction."),
                      _f("ratio_min", 0.3, 0.05, 20.0, "Smallest aspect ratio (height / width)."),
                      _f("ratio_max", 3.3, 0.05, 20.0, "Largest aspect ratio (height / width)."),
                      _f("value", 0.0, 0.0, 1.0, "Fill value of the erased rectangle."),
                      _p(1.0, "erased"))),
    AugmentationInfo("cutout-c", "local", "CutOut-c",
                     "Erase one square covering the fixed area fraction c of the image at a "
                     "uniform position (the authors' RandomErasing(scale=(c, c), ratio=1)).",
                     (_f("c", 0.2, 0.01, 1.0, "Area of the erased square as a fraction of the "
                                              "image area (the study sweeps 0.1…0.9)."),
                      _f("value", 0.0, 0.0, 1.0, "Fill value of the erased square."))),
    AugmentationInfo("cutpaste", "local", "CutPaste",
                     "Cut a patch of area U(0.02, 0.15), aspect U(0.3, 1) or U(1, 3.3), colour-"
                     "jitter it by 0.1 and paste it at another random location.",
                     (_f("area_min", 0.02, 0.001, 1.0, "Smallest patch area fraction."),
                      _f("area_max", 0.15, 0.001, 1.0, "Largest patch area fraction."),
                      _f("aspect_min", 0.3, 0.05, 1.0, "Smallest aspect ratio (width / height)."),
                      _f("aspect_max", 3.3, 1.0, 20.0, "Largest aspect ratio (width / height)."),
                      _f("jitter", 0.1, 0.0, 1.0, "Colour-jitter strength of the patch."))),
    AugmentationInfo("cutpaste-scar", "local", "CutPaste-scar",
                     "Cut a thin patch (height 10–24 px, width 2–15 px at 32 px, scaled with the "
                     "image), colour-jitter 0.1, rotate by U(−45°, 45°) and paste it anywhere.",
                     (_f("height_min", 10.0, 1.0, 64.0, "Smallest scar length (px at 32 px)."),
                      _f("height_max", 24.0, 1.0, 64.0, "Largest scar length (px at 32 px)."),
                      _f("width_min", 2.0, 0.5, 64.0, "Smallest scar width (px at 32 px)."),
                      _f("width_max", 15.0, 0.5, 64.0, "Largest scar width (px at 32 px)."),
                      _f("max_angle", 45.0, 0.0, 180.0, "Rotation drawn from U(−a, a) degrees."),
                      _f("jitter", 0.1, 0.0, 1.0, "Colour-jitter strength of the scar."))),
    AugmentationInfo("blur", "elementwise", "Blur",
                     "Gaussian blur with kernel 3 and σ drawn from U(0.1, 2.0) per image.",
                     (_BLUR_K, *_SIG)),
    AugmentationInfo("noise", "elementwise", "Noise",
                     "Additive Gaussian noise N(0, σ²) on every element, not clipped.",
                     (_f("sigma", 0.1, 0.0, 5.0, "Standard deviation of the noise."),),
                     tabular=True),
    AugmentationInfo("mask", "elementwise", "Mask",
                     "Each element set to zero independently with probability p (Bernoulli "
                     "masking noise).", (_f("p", 0.1, 0.0, 1.0, "Rate of zeroed elements."),),
                     tabular=True),
    AugmentationInfo("invert", "colour", "Invert",
                     "Negative image x → 1 − x with probability p.", (_p(0.5, "inverted"),)),
    AugmentationInfo("color", "colour", "Colour jitter",
                     "Colour jitter: brightness 0.8, contrast 0.8, saturation 0.8, hue 0.2 "
                     "(grey images: brightness and contrast only).", _JITTER),
    AugmentationInfo("simclr", "mixed", "SimCLR",
                     "SimCLR's cocktail: resized crop → horizontal flip (½) → colour jitter "
                     "(0.8, 0.8, 0.8, 0.2) with p 0.8 → greyscale with p 0.2 (RGB) → blur k=3.",
                     (_CROP[0], _f("strength", 0.8, 0.0, 5.0, "Jitter strength s: brightness, "
                                   "contrast, saturation s and hue s/4."),
                      _f("p_jitter", 0.8, 0.0, 1.0, "Probability of the colour jitter."),
                      _f("p_gray", 0.2, 0.0, 1.0, "Probability of greyscale (RGB only)."),
                      _BLUR_K, *_SIG)),
)}

#: Chart categories of the study (Fig. 1 and 4 colour the augmentations by these).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "baseline": ("none",),
    "geometric": ("crop", "rotate", "flip", "geom"),
    "local": ("cutout", "cutout-c", "cutpaste", "cutpaste-scar"),
    "elementwise": ("blur", "noise", "mask"),
    "colour": ("invert", "color"),
    "mixed": ("simclr",),
}

#: The augmentations that make sense on tables ``[N, D]``.
TABLE_AUGMENTATIONS: tuple[str, ...] = tuple(n for n, a in CATALOGUE.items() if a.tabular)


def available(modality: str = "image") -> tuple[str, ...]:
    """Catalogue names usable on ``modality`` (``"image"`` or ``"tabular"``)."""
    return TABLE_AUGMENTATIONS if modality == "tabular" else tuple(CATALOGUE)


# ------------------------------------------------------------------------------------------------
# Random draws: always on a CPU generator, then moved to the data's device.


def _generator(generator: torch.Generator | None) -> torch.Generator:
    if generator is None:  # follows torch.manual_seed, like torchvision's transforms
        seed = int(torch.randint(0, 2**62, (1,)).item())
        return torch.Generator().manual_seed(seed)
    if not isinstance(generator, torch.Generator) or generator.device.type != "cpu":
        raise BadParameterError("Pass a CPU torch.Generator (random draws are made on the CPU, "
                                "then moved to the data's device).")
    return generator


def _uniform(shape: int | tuple[int, ...], lo: float, hi: float, g: torch.Generator
             ) -> torch.Tensor:
    shape = (shape,) if isinstance(shape, int) else shape
    return lo + (hi - lo) * torch.rand(shape, generator=g, dtype=torch.float64)


def _coin(n: int, p: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) < p


def _choice(n: int, k: int, g: torch.Generator) -> torch.Tensor:
    return torch.randint(0, k, (n,), generator=g)


def _col(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-sample values ``[N]`` (CPU) as ``[N, 1, …, 1]`` on ``x``'s device and dtype."""
    v = v.to(device=x.device, dtype=x.dtype if v.is_floating_point() else v.dtype)
    return v.view(-1, *([1] * (x.ndim - 1)))


def _where(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-sample choice: ``a[i]`` where ``mask[i]`` else ``b[i]``."""
    return torch.where(_col(mask, a), a, b)


# ------------------------------------------------------------------------------------------------
# Building blocks


def _square(x: torch.Tensor, name: str) -> None:
    if x.shape[-1] != x.shape[-2]:
        raise BadDataError(f"{name!r} rotates by multiples of 90°, which needs square images; "
                           f"got {x.shape[-2]}×{x.shape[-1]}.")


def rot90_each(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Rotate image ``i`` by ``k[i]``·90° (exact pixel permutation, square images)."""
    out = x.clone()
    for kk in (1, 2, 3):
        idx = torch.nonzero(k % 4 == kk).squeeze(1).to(x.device)
        if len(idx):
            out[idx] = torch.rot90(x[idx], kk, dims=(-2, -1))
    return out


def shift_zero(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Translate images by ``dy`` rows down and ``dx`` columns right, filling with zeros."""
    h, w = x.shape[-2:]
    out = torch.zeros_like(x)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[..., max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def crop_boxes(n: int, h: int, w: int, g: torch.Generator, scale: tuple[float, float],
               ratio: tuple[float, float], attempts: int = 10) -> torch.Tensor:
    """RandomResizedCrop boxes ``[N, 4]`` = (centre x, centre y, width, height) as image fractions.

    Like torchvision: area ∈ U(scale)·H·W, aspect (width/height) log-U(ratio), up to ``attempts``
    tries to fit inside the image, else the whole image; the position is uniform.
    """
    area = _uniform((n, attempts), *scale, g) * h * w
    logr = _uniform((n, attempts), math.log(ratio[0]), math.log(ratio[1]), g)
    bw = torch.sqrt(area * torch.exp(logr)) / w
    bh = torch.sqrt(area / torch.exp(logr)) / h
    ok = (bw <= 1) & (bh <= 1)
    first = torch.argmax(ok.int(), dim=1, keepdim=True)
    any_ok = ok.any(1)
    bw = torch.where(any_ok, bw.gather(1, first).squeeze(1), torch.ones(n, dtype=bw.dtype))
    bh = torch.where(any_ok, bh.gather(1, first).squeeze(1), torch.ones(n, dtype=bh.dtype))
    cx = bw / 2 + (1 - bw) * _uniform(n, 0, 1, g)
    cy = bh / 2 + (1 - bh) * _uniform(n, 0, 1, g)
    return torch.stack([cx, cy, bw, bh], 1)


def resized_crop(x: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Crop each image to its box (:func:`crop_boxes`) and resize it back, bilinear."""
    n = len(x)
    theta = torch.zeros(n, 2, 3, dtype=torch.float64)
    theta[:, 0, 0] = boxes[:, 2]
    theta[:, 0, 2] = 2 * boxes[:, 0] - 1
    theta[:, 1, 1] = boxes[:, 3]
    theta[:, 1, 2] = 2 * boxes[:, 1] - 1
    theta = theta.to(device=x.device, dtype=x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def erasing_boxes(n: int, h: int, w: int, g: torch.Generator, scale: tuple[float, float],
                  ratio: tuple[float, float], attempts: int = 10) -> torch.Tensor:
    """torchvision RandomErasing boxes ``[N, 4]`` = (top, left, height, width) in pixels.

    Erased area U(scale)·H·W, aspect (height/width) log-U(ratio), rounded to whole pixels; a box
    must be strictly smaller than the image (up to ``attempts`` tries, else an empty box).
    """
    area = _uniform((n, attempts), *scale, g) * h * w
    r = torch.exp(_uniform((n, attempts), math.log(ratio[0]), math.log(ratio[1]), g))
    bh = torch.round(torch.sqrt(area * r)).long()
    bw = torch.round(torch.sqrt(area / r)).long()
    ok = (bh < h) & (bw < w)
    first = torch.argmax(ok.int(), dim=1, keepdim=True)
    any_ok = ok.any(1)
    bh = torch.where(any_ok, bh.gather(1, first).squeeze(1), 0)
    bw = torch.where(any_ok, bw.gather(1, first).squeeze(1), 0)
    top = torch.floor(_uniform(n, 0, 1, g) * (h - bh + 1)).long()
    left = torch.floor(_uniform(n, 0, 1, g) * (w - bw + 1)).long()
    return torch.stack([top, left, bh, bw], 1)


def box_mask(boxes: torch.Tensor, h: int, w: int, device: torch.device) -> torch.Tensor:
    """Boolean ``[N, 1, H, W]`` mask of the (top, left, height, width) pixel boxes."""
    b = boxes.to(device)
    rows = torch.arange(h, device=device).view(1, h, 1)
    cols = torch.arange(w, device=device).view(1, 1, w)
    top, left, bh, bw = (b[:, i].view(-1, 1, 1) for i in range(4))
    inside = (rows >= top) & (rows < top + bh) & (cols >= left) & (cols < left + bw)
    return inside.unsqueeze(1)


def gaussian_blur_each(x: torch.Tensor, sigma: torch.Tensor, kernel: int) -> torch.Tensor:
    """Blur image ``i`` with a ``kernel``-tap Gaussian of σ = ``sigma[i]`` (separable, reflect pad).

    The same kernel as torchvision's ``gaussian_blur``, one σ per image via a grouped convolution.
    """
    n, c, h, w = x.shape
    if kernel == 1 or n == 0:
        return x.clone()
    t = torch.arange(kernel, dtype=torch.float64) - (kernel - 1) / 2
    ker = torch.exp(-0.5 * (t.view(1, -1) / sigma.view(-1, 1)) ** 2)
    ker = (ker / ker.sum(1, keepdim=True)).to(device=x.device, dtype=x.dtype)
    ker = ker.repeat_interleave(c, 0)  # [N*C, k]
    pad = kernel // 2
    mode = "reflect" if pad < min(h, w) else "replicate"
    y = F.pad(x.reshape(1, n * c, h, w), (pad, pad, pad, pad), mode=mode)
    y = F.conv2d(y, ker.view(n * c, 1, kernel, 1), groups=n * c)
    y = F.conv2d(y, ker.view(n * c, 1, 1, kernel), groups=n * c)
    return y.view(n, c, h, w)


def _grey(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma ``[N, 1, H, W]`` of RGB images (the image itself if grey)."""
    if x.shape[1] != 3:
        return x.mean(1, keepdim=True)
    return (0.2989 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


def _rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    r, g, b = x.unbind(1)
    maxc = x.max(1).values
    minc = x.min(1).values
    eqc = maxc == minc
    cr = maxc - minc
    ones = torch.ones_like(maxc)
    s = cr / torch.where(eqc, ones, maxc)
    crd = torch.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    hue = torch.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return torch.stack((hue, s, maxc), 1)


def _hsv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    h, s, v = x.unbind(1)
    i = torch.floor(h * 6.0)
    f = h * 6.0 - i
    i = (i.long() % 6).unsqueeze(1)
    p = (v * (1.0 - s)).clamp(0, 1)
    q = (v * (1.0 - s * f)).clamp(0, 1)
    t = (v * (1.0 - s * (1.0 - f))).clamp(0, 1)
    table = ((v, q, p, p, t, v), (t, v, v, q, p, p), (p, p, t, v, v, q))
    return torch.cat([torch.stack(row, 1).gather(1, i) for row in table], 1)


def color_jitter_each(x: torch.Tensor, g: torch.Generator, brightness: float, contrast: float,
                      saturation: float, hue: float) -> torch.Tensor:
    """torchvision-style colour jitter with factors drawn per image, in a fixed order.

    Brightness x·b, contrast blend with the image's mean luma, saturation blend with the luma and
    a hue rotation in HSV; factors from U(max(0, 1 − s), 1 + s) and hue from U(−h, h). Grey
    images get brightness and contrast only. (torchvision shuffles the order per call; we keep
    brightness → contrast → saturation → hue.)
    """
    n = len(x)
    fb = _uniform(n, max(0.0, 1 - brightness), 1 + brightness, g)
    fc = _uniform(n, max(0.0, 1 - contrast), 1 + contrast, g)
    fs = _uniform(n, max(0.0, 1 - saturation), 1 + saturation, g)
    fh = _uniform(n, -hue, hue, g)
    x = (x * _col(fb, x)).clamp(0, 1)
    m = _grey(x).mean((1, 2, 3), keepdim=True)
    x = (_col(fc, x) * x + (1 - _col(fc, x)) * m).clamp(0, 1)
    if x.shape[1] == 3:
        x = (_col(fs, x) * x + (1 - _col(fs, x)) * _grey(x)).clamp(0, 1)
        if hue > 0:
            hsv = _rgb_to_hsv(x)
            hsv = torch.cat([torch.remainder(hsv[:, :1] + _col(fh, x), 1.0), hsv[:, 1:]], 1)
            x = _hsv_to_rgb(hsv)
    return x


def paste_patches(src: torch.Tensor, dst: torch.Tensor, src_centre: torch.Tensor,
                  dst_centre: torch.Tensor, size: torch.Tensor, angle: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Paste, per image, the ``size`` = (height, width) patch of ``src`` centred at ``src_centre``
    (row, col, pixels) into ``dst`` centred at ``dst_centre``, rotated by ``angle`` (radians).

    An index map: each output pixel inside the rotated rectangle reads the nearest source pixel,
    so an unrotated patch with whole-pixel corners is copied exactly. Returns (image, mask).
    """
    n, _, h, w = dst.shape
    dev = dst.device
    rows = (torch.arange(h, device=dev, dtype=torch.float32) + 0.5).view(1, h, 1)
    cols = (torch.arange(w, device=dev, dtype=torch.float32) + 0.5).view(1, 1, w)

    def v(t: torch.Tensor) -> torch.Tensor:
        return t.to(device=dev, dtype=torch.float32).view(-1, 1, 1)

    dr, dc = rows - v(dst_centre[:, 0]), cols - v(dst_centre[:, 1])
    cos, sin = v(torch.cos(angle)), v(torch.sin(angle))
    qc = cos * dc + sin * dr  # rotate the output offset back by −angle
    qr = -sin * dc + cos * dr
    inside = (qr.abs() < v(size[:, 0]) / 2) & (qc.abs() < v(size[:, 1]) / 2)
    sr = torch.floor(v(src_centre[:, 0]) + qr).long().clamp(0, h - 1)
    sc = torch.floor(v(src_centre[:, 1]) + qc).long().clamp(0, w - 1)
    idx = torch.arange(n, device=dev).view(-1, 1, 1)
    patch = src[idx, :, sr, sc].permute(0, 3, 1, 2)
    mask = inside.unsqueeze(1)
    return torch.where(mask, patch, dst), mask


# ------------------------------------------------------------------------------------------------
# The catalogue's functions: (x, generator, resolved params) → augmented x


def _none(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    return x.clone()


def _crop(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    boxes = crop_boxes(len(x), x.shape[-2], x.shape[-1], g, (p["scale_min"], p["scale_max"]),
                       (p["ratio_min"], p["ratio_max"]))
    return resized_crop(x, boxes).clamp(0, 1)


def _rotate(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    _square(x, "rotate")
    return rot90_each(x, _choice(len(x), 4, g))


def _flip(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    return _where(_coin(len(x), p["p"], g), x.flip(-2), x)


def _geom(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    _square(x, "geom")
    n, (h, w) = len(x), x.shape[-2:]
    flip, ty, tx, k = _coin(n, p["p_flip"], g), _choice(n, 3, g), _choice(n, 3, g), _choice(n, 4, g)
    x = _where(flip, x.flip(-1), x)
    sh, sw = round(p["shift"] * h), round(p["shift"] * w)
    out = torch.empty_like(x)
    for a, dy in enumerate((0, -sh, sh)):
        for b, dx in enumerate((0, -sw, sw)):
            idx = torch.nonzero((ty == a) & (tx == b)).squeeze(1).to(x.device)
            if len(idx):
                out[idx] = shift_zero(x[idx], dy, dx)
    return rot90_each(out, k)


def _cutout(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    n, _, h, w = x.shape
    boxes = erasing_boxes(n, h, w, g, (p["scale_min"], p["scale_max"]),
                          (p["ratio_min"], p["ratio_max"]))
    boxes[~_coin(n, p["p"], g), 2:] = 0
    return torch.where(box_mask(boxes, h, w, x.device), torch.full_like(x, p["value"]), x)


def _cutout_c(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    """CutOut-c: the authors' ``RandomErasing(p=1, scale=(c, c), ratio=(1, 1))``.

    c is an *area* fraction: the erased square has side round(√(c·H·W)) on square images (c = 0.2
    erases 20 % of the image). As in torchvision, a square that does not fit strictly inside the
    image (c close to 1) is not erased. The study's text calls c a width; its published sweep
    (Figure 3) was produced by this code.
    """
    n, _, h, w = x.shape
    boxes = erasing_boxes(n, h, w, g, (p["c"], p["c"]), (1.0, 1.0))
    return torch.where(box_mask(boxes, h, w, x.device), torch.full_like(x, p["value"]), x)


def _jitter(x: torch.Tensor, g: torch.Generator, s: float) -> torch.Tensor:
    return color_jitter_each(x, g, s, s, s, min(s, 0.5))


def _cutpaste(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    n, _, h, w = x.shape
    area = _uniform(n, p["area_min"], p["area_max"], g) * h * w
    aspect = torch.where(_coin(n, 0.5, g), _uniform(n, p["aspect_min"], 1.0, g),
                         _uniform(n, 1.0, p["aspect_max"], g))
    pw = torch.round(torch.sqrt(area * aspect)).clamp(1, w)
    ph = torch.round(torch.sqrt(area / aspect)).clamp(1, h)
    src_top = torch.floor(_uniform(n, 0, 1, g) * (h - ph + 1))
    src_left = torch.floor(_uniform(n, 0, 1, g) * (w - pw + 1))
    dst_top = torch.floor(_uniform(n, 0, 1, g) * (h - ph + 1))
    dst_left = torch.floor(_uniform(n, 0, 1, g) * (w - pw + 1))
    src = _jitter(x, g, p["jitter"])
    size = torch.stack([ph, pw], 1)
    out, _ = paste_patches(src, x, torch.stack([src_top, src_left], 1) + size / 2,
                           torch.stack([dst_top, dst_left], 1) + size / 2, size,
                           torch.zeros(n, dtype=torch.float64))
    return out


def _cutpaste_scar(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    n, _, h, w = x.shape
    ph = (_uniform(n, p["height_min"], p["height_max"], g) * h / 32).clamp(1, h)
    pw = (_uniform(n, p["width_min"], p["width_max"], g) * w / 32).clamp(1, w)
    angle = torch.deg2rad(_uniform(n, -p["max_angle"], p["max_angle"], g))
    src_r = ph / 2 + (h - ph) * _uniform(n, 0, 1, g)
    src_c = pw / 2 + (w - pw) * _uniform(n, 0, 1, g)
    bh = ph * angle.cos().abs() + pw * angle.sin().abs()  # rotated patch's bounding box
    bw = pw * angle.cos().abs() + ph * angle.sin().abs()
    dst_r = torch.where(bh < h, bh / 2 + (h - bh) * _uniform(n, 0, 1, g), h / 2)
    dst_c = torch.where(bw < w, bw / 2 + (w - bw) * _uniform(n, 0, 1, g), w / 2)
    src = _jitter(x, g, p["jitter"])
    out, _ = paste_patches(src, x, torch.stack([src_r, src_c], 1), torch.stack([dst_r, dst_c], 1),
                           torch.stack([ph, pw], 1), angle)
    return out


def _blur(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    sigma = _uniform(len(x), p["sigma_min"], p["sigma_max"], g)
    return gaussian_blur_each(x, sigma, p["kernel"]).clamp(0, 1)


def _noise(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    z = torch.randn(x.shape, generator=g, dtype=torch.float32)
    return x + p["sigma"] * z.to(device=x.device, dtype=x.dtype)


def _mask(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    drop = (torch.rand(x.shape, generator=g) < p["p"]).to(x.device)
    return torch.where(drop, torch.zeros_like(x), x)


def _invert(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    return _where(_coin(len(x), p["p"], g), 1 - x, x)


def _color(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    return color_jitter_each(x, g, p["brightness"], p["contrast"], p["saturation"], p["hue"])


def _simclr(x: torch.Tensor, g: torch.Generator, p: Params) -> torch.Tensor:
    n, c, h, w = x.shape
    boxes = crop_boxes(n, h, w, g, (p["scale_min"], 1.0), (3 / 4, 4 / 3))
    y = resized_crop(x, boxes).clamp(0, 1)
    y = _where(_coin(n, 0.5, g), y.flip(-1), y)
    do_jitter = _coin(n, p["p_jitter"], g)
    s = p["strength"]
    y = _where(do_jitter, color_jitter_each(y, g, s, s, s, min(s / 4, 0.5)), y)
    do_grey = _coin(n, p["p_gray"], g)
    if c == 3:
        y = _where(do_grey, _grey(y).expand_as(y), y)
    sigma = _uniform(n, p["sigma_min"], p["sigma_max"], g)
    return gaussian_blur_each(y, sigma, p["kernel"]).clamp(0, 1)


_FUNCS: dict[str, Callable[[torch.Tensor, torch.Generator, Params], torch.Tensor]] = {
    "none": _none, "crop": _crop, "rotate": _rotate, "flip": _flip, "geom": _geom,
    "cutout": _cutout, "cutout-c": _cutout_c, "cutpaste": _cutpaste,
    "cutpaste-scar": _cutpaste_scar, "blur": _blur, "noise": _noise, "mask": _mask,
    "invert": _invert, "color": _color, "simclr": _simclr,
}


# ------------------------------------------------------------------------------------------------
# Public API


def info(name: str) -> AugmentationInfo:
    """The catalogue entry ``name``; :class:`UnknownNameError` listing the valid names otherwise."""
    if name not in CATALOGUE:
        raise UnknownNameError(f"Unknown augmentation {name!r}. {did_you_mean(name, list(CATALOGUE))}")
    return CATALOGUE[name]


def resolve_params(name: str, **params: Any) -> Params:
    """Defaults of ``name`` updated by ``params``, each checked against its documented range."""
    entry = info(name)
    specs = {s.name: s for s in entry.params}
    out = entry.defaults
    for k, val in params.items():
        if k not in specs:
            valid = ", ".join(specs) if specs else "none"
            raise UnknownNameError(f"Augmentation {name!r} has no parameter {k!r} (its "
                                   f"parameters: {valid}).")
        out[k] = specs[k].coerce(val)
    for k in out:
        hi = k[:-4] + "_max"
        if k.endswith("_min") and hi in out and out[k] > out[hi]:
            raise BadParameterError(f"{k}={out[k]} is larger than {hi}={out[hi]} for {name!r}.")
    if "kernel" in out and out["kernel"] % 2 == 0:
        raise BadParameterError(f"The blur kernel must be an odd number of pixels, got "
                                f"{out['kernel']}.")
    return out


def _check_input(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise BadDataError(f"Augmentations take torch tensors, got {type(x).__name__}.")
    if not x.is_floating_point():
        raise BadDataError(f"Augmentations need float tensors with values in [0, 1], got {x.dtype}.")
    if x.ndim == 2:
        if not CATALOGUE[name].tabular:
            raise BadParameterError(f"{name!r} is an image augmentation; for tables choose one of "
                                    f"{', '.join(TABLE_AUGMENTATIONS)}.")
    elif x.ndim != 4:
        raise BadDataError(f"Augmentations take images [N, C, H, W] or tables [N, D], got shape "
                           f"{tuple(x.shape)}.")


def augmenter(name: str, **params: Any) -> AugmentFn:
    """Validate ``name`` and ``params`` once; return ``f(x, generator) -> augmented x``.

    Detectors call this in ``fit`` (clear errors before training) and apply ``f`` per batch.
    """
    p = resolve_params(name, **params)
    fn = _FUNCS[name]

    def apply(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        _check_input(x, name)
        if len(x) == 0:
            return x.clone()
        g = _generator(generator)
        work = x if x.dtype in (torch.float32, torch.float64) else x.float()
        return fn(work, g, p).to(x.dtype)

    apply.__name__ = f"augment_{name.replace('-', '_')}"
    apply.__doc__ = CATALOGUE[name].description
    return apply


def augment(x: torch.Tensor, name: str, generator: torch.Generator | None = None,
            **params: Any) -> torch.Tensor:
    """aug(x): the catalogue's augmentation ``name`` applied per sample to the batch ``x``.

    ``generator`` (a CPU generator) makes the draws reproducible; without one the draws follow
    ``torch.manual_seed``. ``params`` override the defaults (see :data:`CATALOGUE`).
    """
    return augmenter(name, **params)(x, generator)


#: Overrides that turn a training augmentation into an anomaly-generating function ``gen``.
_GEN_OVERRIDES: dict[str, Params] = {"flip": {"p": 1.0}, "invert": {"p": 1.0}, "cutout": {"p": 1.0}}


def anomaly_generator(name: str, **params: Any) -> AugmentFn:
    """The controlled testbed's anomaly-generating function ``gen`` (docs/methods.md §2).

    ``flip`` is the vertical flip with p = 1, ``cutout`` torchvision's RandomErasing defaults with
    p = 1, ``invert`` 1 − x with p = 1; any other catalogue name is accepted with its defaults (and
    p = 1 where it has one). ``none`` is refused: it would generate copies of the normals.
    """
    info(name)
    if name == "none":
        raise BadParameterError("'none' leaves images unchanged, so it cannot generate anomalies; "
                                "choose e.g. flip, cutout or invert.")
    return augmenter(name, **{**_GEN_OVERRIDES.get(name, {}), **params})


def synthetic_negatives(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """LIS-AE's offline negatives: heavily augmented normals, one per input row.

    Images: a strong resized crop (area 10–40 %, which zooms into strokes and parts), a rotation by
    k·90°, a vertical flip with p ½, a blur with σ ∈ U(0.5, 1.5) and one CutOut. The result keeps
    the normals' domain (stroke width, texture, intensity range) — like the paper's augmented
    Omniglot characters — while its shapes are no longer normal ones. Square images are rotated;
    others skip the rotation. Tables: every feature is permuted independently across the rows,
    which keeps each feature's marginal distribution and breaks the dependencies between them.
    """
    g = _generator(generator)
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise BadDataError("Synthetic negatives need a float tensor of normal samples.")
    if x.ndim == 2:
        n = len(x)
        perms = torch.argsort(torch.rand((n, x.shape[1]), generator=g), dim=0).to(x.device)
        return torch.gather(x, 0, perms)
    if x.ndim != 4:
        raise BadDataError(f"Synthetic negatives take images [N, C, H, W] or tables [N, D], got "
                           f"shape {tuple(x.shape)}.")
    y = augment(x, "crop", g, scale_min=0.1, scale_max=0.4)
    if y.shape[-1] == y.shape[-2]:
        y = augment(y, "rotate", g)
    y = augment(y, "flip", g, p=0.5)
    y = augment(y, "blur", g, sigma_min=0.5, sigma_max=1.5)
    return augment(y, "cutout", g)


def preview(x: torch.Tensor, names: Iterable[str] | str, n: int = 8, seed: int = 0
            ) -> dict[str, torch.Tensor]:
    """The app's preview grid: ``{"original": x[:n], name: aug(x[:n]) …}``.

    Each augmentation draws from its own generator seeded with ``seed``, so a preview does not
    depend on which other names are shown. Images are clipped to [0, 1] for display (``noise`` is
    the only augmentation that leaves that range).
    """
    names = [names] if isinstance(names, str) else list(names)
    for nm in names:
        info(nm)
    x = x[: max(0, int(n))]
    out = {"original": x.clone()}
    for nm in names:
        y = augment(x, nm, torch.Generator().manual_seed(int(seed)))
        out[nm] = y.clamp(0, 1) if x.ndim == 4 else y
    return out


__all__ = ["CATALOGUE", "CATEGORIES", "TABLE_AUGMENTATIONS", "AugmentationInfo", "anomaly_generator",
           "augment", "augmenter", "available", "info", "preview", "resolve_params",
           "synthetic_negatives"]
