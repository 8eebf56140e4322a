"""The ``Dataset`` record every loader returns (docs/ARCHITECTURE.md, floor 1)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ad_core.errors import BadDataError, UnknownNameError, did_you_mean
from ad_core.paths import REPO_ROOT


def data_root() -> Path:
    """Folder where dataset files live: ``$ANOMALY_LAB_DATA`` or ``<repo>/data`` (``REPO_ROOT``)."""
    return Path(os.environ.get("ANOMALY_LAB_DATA", REPO_ROOT / "data")).expanduser()


def runs_root() -> Path:
    """Folder holding the runs: ``$ANOMALY_LAB_RUNS`` or ``<repo>/runs`` (defined on this floor
    so the upload cleanup can see which uploads saved runs use; :mod:`ad_core.runs` re-exports
    it)."""
    return Path(os.environ.get("ANOMALY_LAB_RUNS", REPO_ROOT / "runs")).expanduser()


@dataclass(frozen=True)
class Dataset:
    """A labelled dataset as loaded from its source, never normalised for a model.

    Attributes:
        name: registry name (``mnist5k``, ``csv:/path/file.csv`` …).
        modality: ``"image"`` or ``"tabular"``.
        x: float32 tensor; images ``[N, C, H, W]`` in [0, 1], tables ``[N, D]`` raw values.
        y: int64 tensor of class ids in ``range(len(class_names))``.
        class_names: human names of the classes, indexed by class id.
        split: optional array of ``"train"``/``"test"`` per sample (the source's official split).
        feature_names: column names for tables.
        description: one line on where the data came from.
    """

    name: str
    modality: str
    x: torch.Tensor
    y: torch.Tensor
    class_names: tuple[str, ...]
    split: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None
    description: str = ""
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        validate_arrays(self.x, self.y, self.modality, self.name)
        if self.split is not None and len(self.split) != len(self.y):
            raise BadDataError(f"Dataset {self.name!r}: the split has {len(self.split)} entries "
                               f"but there are {len(self.y)} samples.")

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def class_id(self, cls: str | int) -> int:
        """Resolve a class given as an index (``3``, ``"3"``) or a name (``"benign"``)."""
        return resolve_class(cls, self.class_names, self.name)

    def counts(self) -> dict[str, int]:
        """Samples per class name."""
        c = torch.bincount(self.y, minlength=self.n_classes).tolist()
        return dict(zip(self.class_names, c))


def resolve_class(cls: str | int, class_names: tuple[str, ...] | list[str], dataset: str) -> int:
    """Class index from an index or a name; raises :class:`UnknownNameError` with choices."""
    names = [str(c) for c in class_names]
    if isinstance(cls, (int, np.integer)) and not isinstance(cls, bool):
        if 0 <= int(cls) < len(names):
            return int(cls)
    else:
        s = str(cls).strip()
        if s in names:
            return names.index(s)
        low = [n.lower() for n in names]
        if s.lower() in low:
            return low.index(s.lower())
        if s.lstrip("-").isdigit() and 0 <= int(s) < len(names):
            return int(s)
    raise UnknownNameError(
        f"Dataset {dataset!r} has no class {cls!r}: classes are 0–{len(names) - 1} "
        f"({', '.join(names[:10])}{'…' if len(names) > 10 else ''}). {did_you_mean(str(cls), names)}"
    )


def validate_arrays(x: torch.Tensor, y: torch.Tensor, modality: str, name: str) -> None:
    """Check shapes, dtypes and finiteness, raising :class:`BadDataError` with a plain sentence."""
    if modality not in ("image", "tabular"):
        raise BadDataError(f"Dataset {name!r}: modality must be 'image' or 'tabular', not {modality!r}.")
    if not isinstance(x, torch.Tensor) or x.dtype != torch.float32:
        raise BadDataError(f"Dataset {name!r}: x must be a float32 tensor.")
    if len(x) == 0:
        raise BadDataError(f"Dataset {name!r} is empty: it has no samples.")
    if len(x) != len(y):
        raise BadDataError(f"Dataset {name!r}: {len(x)} samples but {len(y)} labels.")
    if modality == "image" and x.ndim != 4:
        raise BadDataError(f"Dataset {name!r}: images must be [N, C, H, W], got shape {tuple(x.shape)}.")
    if modality == "tabular" and x.ndim != 2:
        raise BadDataError(f"Dataset {name!r}: tables must be [N, D], got shape {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).any(dim=tuple(range(1, x.ndim))).sum())
        raise BadDataError(f"Dataset {name!r}: {bad} samples contain NaN or infinite values; "
                           "remove or impute them first.")


@dataclass(frozen=True)
class DatasetInfo:
    """What the registry knows about a dataset before loading it.

    ``available(root)`` says whether it can be loaded here right now (embedded, or files on disk);
    ``files_hint`` tells a user which files to place under ``data_root()/<folder>``.
    """

    name: str
    modality: str
    description: str
    loader: Callable[[Path], Dataset]
    available: Callable[[Path], bool]
    class_names: tuple[str, ...] | None = None
    embedded: bool = False
    files_hint: str = ""
    online: str = ""  # how it is fetched when a network is there ("" = never)
