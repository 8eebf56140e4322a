"""GeoTrans's geometric transformation set as batched tensor ops (docs/methods.md §5; Golan & El-Yaniv 2018).

A *transformation* is a composition applied in this order: optional horizontal flip, then an
integer translation, then a counter-clockwise rotation by k·90° (``np.rot90``). The translation
follows the authors' call ``keras.preprocessing.image.apply_affine_transform(x, tx=tx, ty=ty,
channel_axis=2, fill_mode='reflect')``: Keras' shift matrix [[1, 0, tx], [0, 1, ty]] acts on
(row, column) through ``scipy.ndimage.affine_transform``, so ``out[i, j] = in[i + tx, j + ty]`` —
**tx moves along the row axis (vertically; + moves the content up)** and **ty along the columns
(+ moves it left)**. The vacated border is filled by **half-sample symmetric reflection** (the edge
pixel is repeated: scipy's ``"reflect"``, numpy's ``"symmetric"`` pad mode, not PyTorch's
``reflect``).

The paper's 72 transformations are flip ∈ {no, yes} × tx ∈ {0, −s, +s} × ty ∈ {0, −s, +s} ×
k ∈ {0, 1, 2, 3} with s = 8 px for 32×32 images (16 for 64×64; in general a quarter of the side),
labelled ``36·flip + 12·i_tx + 4·i_ty + k`` so label 0 is the identity.

Every such map only moves pixels, so a transformation is stored as one gather index over the
flattened H·W grid; applying any mix of transformations to a batch is a single ``gather``, and
all T views of a batch are a single indexing op. Nothing is ever materialised per dataset.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ad_core.errors import BadDataError, BadParameterError

ROTATIONS = ("", "rot90", "rot180", "rot270")


@dataclass(frozen=True)
class Transformation:
    """One geometric transformation: flip, then translate by (tx, ty) pixels, then rotate k·90°.

    Keras semantics (module docstring): ``tx`` shifts rows (``out[i] = in[i + tx]``), ``ty``
    shifts columns (``out[:, j] = in[:, j + ty]``).
    """

    flip: bool = False
    tx: int = 0
    ty: int = 0
    k: int = 0

    @property
    def name(self) -> str:
        """Readable name such as ``"flip·tx-8·ty+8·rot90"`` (``"identity"`` when nothing moves)."""
        parts = (["flip"] if self.flip else []) + ([f"tx{self.tx:+d}"] if self.tx else []) + \
            ([f"ty{self.ty:+d}"] if self.ty else []) + ([ROTATIONS[self.k % 4]] if self.k % 4 else [])
        return "·".join(parts) or "identity"

    def index_map(self, height: int, width: int) -> np.ndarray:
        """Source pixel of every output pixel: ``out.flat[i] = in.flat[map[i]]`` (length H·W)."""
        if self.k % 2 and height != width:
            raise BadDataError(f"A rotation by {90 * (self.k % 4)}° needs square images, not "
                               f"{height}×{width}: choose transformations without rot90/rot270.")
        if abs(self.tx) > height or abs(self.ty) > width:
            raise BadParameterError(f"A translation by ({self.tx}, {self.ty}) px is larger than the "
                                    f"{height}×{width} image.")
        grid = np.arange(height * width).reshape(height, width)
        if self.flip:
            grid = grid[:, ::-1]
        # Keras/scipy: out[i, j] = in[i + tx, j + ty] (tx = rows, ty = columns)
        grid = grid[_symmetric_source(height, -self.tx)][:, _symmetric_source(width, -self.ty)]
        grid = np.rot90(grid, self.k % 4)
        return np.ascontiguousarray(grid).reshape(-1)


def _symmetric_source(n: int, shift: int) -> np.ndarray:
    """For a shift of ``shift`` px along an axis of length ``n``, the source index of each output
    position under half-sample symmetric reflection (…c b a | a b c … x y z | z y x…)."""
    j = np.arange(n) - shift
    j = np.where(j < 0, -j - 1, j)
    return np.where(j >= n, 2 * n - j - 1, j)


def translation_step(height: int, width: int) -> tuple[int, int]:
    """The paper's translation steps (tx along rows, ty along columns): 8 px for 32×32, 16 for
    64×64 — a quarter of the side."""
    return max(1, height // 4), max(1, width // 4)


def paper_transformations(height: int = 32, width: int = 32) -> list[Transformation]:
    """The 72 transformations in label order ``36·flip + 12·i_tx + 4·i_ty + k``."""
    sx, sy = translation_step(height, width)
    return [Transformation(bool(f), tx, ty, k)
            for f in (0, 1) for tx in (0, -sx, sx) for ty in (0, -sy, sy) for k in range(4)]


FLIP_ROT_SUBSET = (0, 1, 2, 3, 36, 37, 38, 39)  # the paper's 8-transform intuition set

_NAME_PART = re.compile(r"^(flip|identity|id|rot(?:90|180|270)|t[xy][+-]\d+)$")


def parse_transformation(name: str) -> Transformation:
    """Inverse of :attr:`Transformation.name`; parts may be joined by ``·``, ``.``, ``*`` or spaces.

    >>> parse_transformation("flip·tx-8·rot90")
    Transformation(flip=True, tx=-8, ty=0, k=1)
    """
    parts = [p for p in re.split(r"[·.*\s]+", name.strip().lower()) if p]
    if not parts:
        raise BadParameterError("An empty transformation name was given.")
    flip, tx, ty, k = False, 0, 0, 0
    for p in parts:
        if not _NAME_PART.match(p):
            raise BadParameterError(
                f"Unknown transformation part {p!r} in {name!r}: use flip, tx±N, ty±N, rot90, "
                "rot180, rot270 or identity, joined by '·' (e.g. 'flip·tx+8·rot90').")
        if p == "flip":
            flip = True
        elif p.startswith("rot"):
            k = int(p[3:]) // 90
        elif p.startswith("tx"):
            tx = int(p[2:])
        elif p.startswith("ty"):
            ty = int(p[2:])
    return Transformation(flip, tx, ty, k)


def resolve_transformations(spec: str | Sequence[int | str], height: int = 32, width: int = 32
                            ) -> list[Transformation]:
    """The transformation list a user asked for: ``"72"``, ``"8"`` (flip × rotations) or a comma
    list whose items are indices into the 72-set or names (``"identity,tx+7"``)."""
    full = paper_transformations(height, width)
    if isinstance(spec, str):
        s = spec.strip()
        if s == "72":
            return full
        if s == "8":
            return [full[i] for i in FLIP_ROT_SUBSET]
        items: list[int | str] = [it.strip() for it in s.split(",") if it.strip()]
    else:
        items = list(spec)
    out: list[Transformation] = []
    for it in items:
        if isinstance(it, (int, np.integer)) or (isinstance(it, str) and it.lstrip("-").isdigit()):
            i = int(it)
            if not 0 <= i < len(full):
                raise BadParameterError(f"Transformation index {i} is out of range: indices go "
                                        f"from 0 to {len(full) - 1}.")
            out.append(full[i])
        else:
            out.append(parse_transformation(str(it)))
    if len(out) < 2:
        raise BadParameterError("GeoTrans needs at least 2 transformations to classify; give "
                                "'72', '8' or a comma list such as '0,36'.")
    if len(set(out)) != len(out):
        dup = next(t.name for t in out if out.count(t) > 1)
        raise BadParameterError(f"The transformation {dup!r} is listed twice.")
    return out


class TransformationSet:
    """T transformations for H×W images, stored as a [T, H·W] gather index (on any device)."""

    def __init__(self, transformations: Sequence[Transformation], height: int, width: int,
                 device: torch.device | str = "cpu") -> None:
        self.transformations = list(transformations)
        self.height, self.width = int(height), int(width)
        maps = np.stack([t.index_map(self.height, self.width) for t in self.transformations])
        self.index = torch.from_numpy(maps).to(device)

    @classmethod
    def from_spec(cls, spec: str | Sequence[int | str], height: int, width: int,
                  device: torch.device | str = "cpu") -> TransformationSet:
        """Build from ``"72"``, ``"8"`` or a comma list (see :func:`resolve_transformations`)."""
        return cls(resolve_transformations(spec, height, width), height, width, device)

    def __len__(self) -> int:
        return len(self.transformations)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.transformations]

    def to(self, device: torch.device | str) -> TransformationSet:
        out = object.__new__(TransformationSet)
        out.transformations, out.height, out.width = self.transformations, self.height, self.width
        out.index = self.index.to(device)
        return out

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or tuple(x.shape[-2:]) != (self.height, self.width):
            raise BadDataError(f"Expected images [N, C, {self.height}, {self.width}], got "
                               f"{tuple(x.shape)}.")

    def transform_batch(self, x: torch.Tensor, t_idx: torch.Tensor) -> torch.Tensor:
        """T_{t_idx[n]}(x[n]) for every n: one gather, differentiable w.r.t. ``x``."""
        self._check(x)
        n, c = x.shape[:2]
        idx = self.index.to(x.device)[t_idx.to(x.device)]  # [N, HW]
        out = x.reshape(n, c, -1).gather(2, idx[:, None, :].expand(n, c, idx.shape[1]))
        return out.reshape(x.shape)

    def all_views(self, x: torch.Tensor) -> torch.Tensor:
        """Every transformation of every image: ``[N, T, C, H, W]`` (one indexing op)."""
        self._check(x)
        n, c = x.shape[:2]
        flat = x.reshape(n, c, -1)[:, :, self.index.to(x.device)]  # [N, C, T, HW]
        return flat.transpose(1, 2).reshape(n, len(self), c, self.height, self.width)


def transform_batch(x: torch.Tensor, t_idx: torch.Tensor,
                    ts: TransformationSet | None = None) -> torch.Tensor:
    """Apply transformation ``t_idx[n]`` of ``ts`` (default: the 72-set at x's size) to ``x[n]``."""
    ts = ts or TransformationSet(paper_transformations(x.shape[-2], x.shape[-1]), x.shape[-2],
                                 x.shape[-1])
    return ts.transform_batch(x, t_idx)


def all_views(x: torch.Tensor, ts: TransformationSet | None = None) -> torch.Tensor:
    """``[N, T, C, H, W]``: every transformation of ``ts`` (default: the 72-set) of every image."""
    ts = ts or TransformationSet(paper_transformations(x.shape[-2], x.shape[-1]), x.shape[-2],
                                 x.shape[-1])
    return ts.all_views(x)


def reference_transform(img: np.ndarray, t: Transformation) -> np.ndarray:
    """A slow numpy reference of one transformation on one ``[C, H, W]`` image: ``np.fliplr``,
    ``np.pad(mode="symmetric")`` + crop with Keras' ``out[i, j] = in[i + tx, j + ty]``,
    ``np.rot90`` — the authors' order (flip, shift, rotate)."""
    out = img[:, :, ::-1] if t.flip else img
    h, w = out.shape[1:]
    p = max(abs(t.tx), abs(t.ty))
    if p:
        padded = np.pad(out, ((0, 0), (p, p), (p, p)), mode="symmetric")
        out = padded[:, p + t.tx:p + t.tx + h, p + t.ty:p + t.ty + w]
    return np.ascontiguousarray(np.rot90(out, t.k % 4, axes=(1, 2)))
