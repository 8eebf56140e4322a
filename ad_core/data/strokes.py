"""A generated stroke/glyph image set: the offline stand-in for Omniglot as LIS-AE's negatives.

LIS-AE (Battikh & Lenskiy 2022, §5; docs/methods.md §4) trains its latent-shaping phase on "a second dataset from a similar
domain": for MNIST the authors use Omniglot, "augmented by blurring, cropping and flipping", and
they name "random strokes" as a valid negative set too. Omniglot cannot be downloaded here, so
:func:`stroke_glyphs` draws, deterministically from a seed:

- **random pen strokes**: 1–3 smooth pen paths (quadratic Bézier curves through random control
  points) of MNIST-like stroke width;
- **rendered characters that are not digits**: Latin, Greek and Cyrillic letters and a few
  symbols, from the TrueType fonts found on disk (DejaVu, Liberation, …) or, when there are none,
  Pillow's built-in default font; letters that look like digits (O, l, I, Z, S, B, g, q, …) are
  left out so that no negative is a normal-looking digit.

Both kinds are drawn on a 4× canvas, centred in the inner ~70 % of the image like MNIST's 20-px
box in 28 px, then diversified as the paper does for Omniglot: random crop (scale U(0.7, 1)),
horizontal and vertical flips (p = ½ each) and Gaussian blur (σ ∈ U(0.3, 1.2), p = ½). Pixels are
in [0, 1], bright strokes on black like MNIST. Generation is a one-off (a few hundred images in
about a second per hundred images) and cached per (n, shape, seed).
"""

from __future__ import annotations

import functools
import glob
import os
from collections.abc import Sequence

import numpy as np
import torch

from ad_core.errors import BadParameterError

# Characters that are not digits and do not look like one (no O/o/Q/D/Θ/©/@ ~ 0, I/l/i/j/| ~ 1,
# Z/z ~ 2, E/З/Э/ξ ~ 3, A/h/Ч ~ 4, S/s ~ 5, b/G/б ~ 6, T/Γ/L ~ 7, B/β/&/§/∞ ~ 8, g/q/a ~ 9).
GLYPHS = ("CFHKMNPRUVWXYcefkmnprtuvwxy"
          "ΔΛΠΣΦΨΩγζηλμπφψω"
          "ДЖИЛФЦШЩЫЯжлфцшщыя"
          "#%¶±÷×√∑∏∫←↑→↓★♠♥♦")
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/usr/lib/X11/fonts",
             os.path.expanduser("~/.fonts"), "/Library/Fonts", "C:/Windows/Fonts")
STROKE_FRACTION = 0.5  # half pen strokes, half rendered glyphs (when fonts exist)
SCALE = 4  # supersampling of the drawing canvas


@functools.lru_cache(maxsize=1)
def available_fonts() -> tuple[str, ...]:
    """TrueType/OpenType font files on disk (sorted, so generation is reproducible here).

    Environment ``ANOMALY_LAB_FONTS`` (a folder) is searched first when set."""
    dirs = [os.environ["ANOMALY_LAB_FONTS"]] if os.environ.get("ANOMALY_LAB_FONTS") else []
    found: set[str] = set()
    for d in [*dirs, *FONT_DIRS]:
        if os.path.isdir(d):
            for ext in ("ttf", "otf", "TTF", "OTF"):
                found.update(glob.glob(os.path.join(d, "**", f"*.{ext}"), recursive=True))
    # skip symbol/emoji/maths fonts that lack letters
    keep = [f for f in found if not any(k in os.path.basename(f).lower()
                                        for k in ("emoji", "symbol", "math", "icon", "awesome"))]
    return tuple(sorted(keep))


def _load_font(path: str | None, size: int):  # noqa: ANN202 (PIL font types)
    from PIL import ImageFont

    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


def _bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, n: int = 24) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2


def _draw_strokes(rng: np.random.Generator, side: int):  # noqa: ANN202
    """1–3 smooth pen paths on a black ``side``² canvas (a PIL "L" image)."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(img)
    lo, hi = 0.18 * side, 0.82 * side
    width = max(1, int(round(rng.uniform(0.075, 0.12) * side)))
    for _ in range(int(rng.integers(1, 4))):
        pts = rng.uniform(lo, hi, size=(int(rng.integers(3, 6)), 2))
        path: list[tuple[float, float]] = []
        for i in range(len(pts) - 2):  # a chain of quadratic Béziers through the midpoints
            a = pts[i] if i == 0 else (pts[i] + pts[i + 1]) / 2
            c = pts[i + 2] if i == len(pts) - 3 else (pts[i + 1] + pts[i + 2]) / 2
            path += [tuple(map(float, q)) for q in _bezier(a, pts[i + 1], c)]
        draw.line(path, fill=255, width=width, joint="curve")
        r = width / 2
        for x, y in (path[0], path[-1]):  # round pen caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return img


def _draw_glyph(rng: np.random.Generator, side: int, fonts: Sequence[str]):  # noqa: ANN202
    """One non-digit character, scaled into the inner ~70 % box, centred, slightly rotated."""
    from PIL import Image, ImageDraw

    ch = GLYPHS[int(rng.integers(len(GLYPHS)))]
    path = fonts[int(rng.integers(len(fonts)))] if fonts else None
    font = _load_font(path, int(side * 0.8))
    canvas = Image.new("L", (2 * side, 2 * side), 0)
    ImageDraw.Draw(canvas).text((side // 4, side // 4), ch, fill=255, font=font)
    box = canvas.getbbox()
    if box is None:  # the font has no such glyph: fall back to strokes
        return _draw_strokes(rng, side)
    glyph = canvas.crop(box)
    target = 0.7 * side
    s = target / max(glyph.size)
    glyph = glyph.resize((max(1, int(glyph.size[0] * s)), max(1, int(glyph.size[1] * s))),
                         Image.Resampling.BILINEAR)
    glyph = glyph.rotate(float(rng.uniform(-15, 15)), resample=Image.Resampling.BILINEAR,
                         expand=True)
    out = Image.new("L", (side, side), 0)
    out.paste(glyph, ((side - glyph.size[0]) // 2, (side - glyph.size[1]) // 2))
    return out


def _diversify(img, rng: np.random.Generator, height: int, width: int):  # noqa: ANN001, ANN202
    """The paper's Omniglot augmentation: random crop, flips, blur; then down to (H, W)."""
    from PIL import Image, ImageFilter, ImageOps

    side = img.size[0]
    scale = rng.uniform(0.7, 1.0)
    c = int(round(side * np.sqrt(scale)))
    x0, y0 = int(rng.integers(0, side - c + 1)), int(rng.integers(0, side - c + 1))
    img = img.crop((x0, y0, x0 + c, y0 + c))
    if rng.random() < 0.5:
        img = ImageOps.mirror(img)
    if rng.random() < 0.5:
        img = ImageOps.flip(img)
    img = img.resize((width, height), Image.Resampling.BOX)
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.2))))
    return img


@functools.lru_cache(maxsize=8)
def _cached(n: int, shape: tuple[int, int, int], seed: int, stroke_fraction: float,
            diversify: bool) -> torch.Tensor:
    c, h, w = shape
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 3141]))
    fonts = available_fonts()
    side = SCALE * max(h, w)
    out = np.zeros((n, h, w), dtype=np.float32)
    for i in range(n):
        stroke = rng.random() < stroke_fraction
        img = _draw_strokes(rng, side) if stroke else _draw_glyph(rng, side, fonts)
        if diversify:
            img = _diversify(img, rng, h, w)
        else:
            from PIL import Image

            img = img.resize((w, h), Image.Resampling.BOX)
        a = np.asarray(img, dtype=np.float32) / 255.0
        m = a.max()
        out[i] = a / m if m > 0 else a
    x = torch.from_numpy(out)[:, None]
    return x.repeat(1, c, 1, 1) if c > 1 else x


def stroke_glyphs(n: int, shape: Sequence[int] = (1, 28, 28), seed: int = 0, *,
                  stroke_fraction: float = STROKE_FRACTION, diversify: bool = True) -> torch.Tensor:
    """``n`` generated negatives ``[n, C, H, W]`` in [0, 1]: random pen strokes and rendered
    non-digit characters, diversified by crop, flips and blur (see the module docstring).

    Deterministic: the same (n, shape, seed) gives the same images. Grey images are repeated
    over the channels for RGB shapes. ``stroke_fraction`` = 1 gives strokes only.
    """
    if len(shape) != 3:
        raise BadParameterError(f"The stroke/glyph set makes images (C, H, W), not shape {shape}.")
    c, h, w = (int(s) for s in shape)
    if n < 1 or c < 1 or h < 4 or w < 4:
        raise BadParameterError("The stroke/glyph set needs n ≥ 1 and images of at least 4×4.")
    if not 0.0 <= stroke_fraction <= 1.0:
        raise BadParameterError("stroke_fraction must be in [0, 1].")
    return _cached(int(n), (c, h, w), int(seed), float(stroke_fraction), bool(diversify)).clone()


def describe() -> str:
    """How the set was made here (recorded in runs as the negatives' source)."""
    fonts = available_fonts()
    kind = (f"{len(fonts)} fonts on disk" if fonts else "Pillow's default font (no fonts on disk)")
    return ("generated strokes/glyphs (offline Omniglot stand-in: random pen strokes + non-digit "
            f"characters from {kind}; crop, flip, blur)")


__all__ = ["GLYPHS", "available_fonts", "describe", "stroke_glyphs"]
