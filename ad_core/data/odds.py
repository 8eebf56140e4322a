"""ODDS tables (Rayana 2016, odds.cs.stonybrook.edu): ``.mat`` files with ``X`` and ``y`` (1 = outlier).

Place them in ``data_root()/odds/``. ``thyroid`` and ``arrhythmia`` (the NeuTraL AD tables) are
always listed; any other ``<name>.mat`` found there when the registry is first read is listed as
``odds_<name>`` (e.g. ``odds_satellite``). Classes are ``("inlier", "outlier")``, so the one-vs-rest
task with normal class ``inlier`` is the ODDS protocol (a random half of the inliers train; the rest
plus every outlier test).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ad_core.data.base import Dataset, DatasetInfo, data_root
from ad_core.errors import BadDataError, DatasetUnavailableError

CLASS_NAMES = ("inlier", "outlier")
KNOWN = {
    "thyroid": "ODDS Thyroid (3,772 × 6; 93 hyperfunction outliers, 2.5 %)",
    "arrhythmia": "ODDS Arrhythmia (452 × 274; 66 outliers, 15 %)",
}


def odds_folder(root: Path | None = None) -> Path:
    """``data_root()/odds`` (or ``root/odds``)."""
    return (Path(root) if root is not None else data_root()) / "odds"


def read_odds_mat(path: Path, name: str | None = None) -> Dataset:
    """Read one ODDS ``.mat`` file: ``X`` [N, D] features, ``y`` [N] or [N, 1] with 1 = outlier."""
    from scipy.io import loadmat

    name = name or path.stem
    try:
        m = loadmat(path)
    except NotImplementedError:
        raise BadDataError(f"{path.name} is a MATLAB v7.3 (HDF5) file, which scipy cannot read; "
                           "re-save it as a version 5 .mat file.") from None
    except Exception as e:  # scipy raises many types (MatReadError, IndexError …) for damage
        raise BadDataError(f"{path.name} is not a readable .mat file ({e}).") from None
    if "X" not in m or "y" not in m:
        raise BadDataError(f"{path.name} must contain the ODDS arrays 'X' (features) and 'y' "
                           "(1 = outlier).")
    x = np.asarray(m["X"], dtype=np.float32)
    y = np.asarray(m["y"]).ravel()
    if x.ndim != 2 or len(x) != len(y):
        raise BadDataError(f"{path.name}: X must be [N, D] with one y per row, got X "
                           f"{x.shape} and {len(y)} labels.")
    if not np.isin(y, (0, 1)).all():
        raise BadDataError(f"{path.name}: y must be 0 (inlier) or 1 (outlier).")
    yt = torch.from_numpy(y.astype(np.int64))
    n_out = int(yt.sum())
    desc = KNOWN.get(name, f"ODDS table {path.name} ({len(x)} × {x.shape[1]}; {n_out} outliers)")
    return Dataset(name, "tabular", torch.from_numpy(np.ascontiguousarray(x)), yt, CLASS_NAMES,
                   feature_names=tuple(f"x{i}" for i in range(x.shape[1])), description=desc)


def _load(name: str, stem: str) -> Callable[[Path], Dataset]:
    def loader(root: Path) -> Dataset:
        path = odds_folder(root) / f"{stem}.mat"
        if not path.is_file():
            raise DatasetUnavailableError(
                f"The ODDS table {stem} is not available: place {stem}.mat (from "
                f"odds.cs.stonybrook.edu) in the folder {odds_folder(root)}.")
        return read_odds_mat(path, name)

    return loader


def _available(stem: str) -> Callable[[Path], bool]:
    return lambda root: (odds_folder(root) / f"{stem}.mat").is_file()


def odds_table(name: str, stem: str, description: str) -> DatasetInfo:
    """The registry entry of ``data_root()/odds/<stem>.mat`` as dataset ``name``."""
    return DatasetInfo(name, "tabular", description, _load(name, stem), _available(stem),
                       CLASS_NAMES, files_hint=f"odds/{stem}.mat",
                       online="odds.cs.stonybrook.edu (manual download)")


def folder_tables(root: Path | None = None) -> list[DatasetInfo]:
    """Every other ``<name>.mat`` in the ODDS folder, as ``odds_<name>``."""
    folder = odds_folder(root)
    if not folder.is_dir():
        return []
    return [odds_table(f"odds_{p.stem.lower()}", p.stem,
                       f"ODDS table {p.name} (found in the data folder)")
            for p in sorted(folder.glob("*.mat"))
            if p.stem not in KNOWN and re.fullmatch(r"[A-Za-z0-9_\-]+", p.stem)]


def datasets() -> list[DatasetInfo]:
    """The known ODDS tables, then the others found in the data folder when first read."""
    return [odds_table(n, n, d) for n, d in KNOWN.items()] + folder_tables()
