"""The dataset registry: names → loaders, with an honest "available here?" check.

The registry is written out here: each loader module lists its datasets (``DATASETS``, or
``datasets()`` where the list depends on the data folder) and nothing registers itself at import.
:func:`load_dataset` also accepts the user's own data as ``csv:PATH`` and ``images:PATH``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ad_core.data import embedded, kdd, odds, torchvision_sets
from ad_core.data.base import Dataset, DatasetInfo, data_root
from ad_core.data.user import load_csv, load_image_folder
from ad_core.errors import UnknownNameError, did_you_mean

__all__ = ["DatasetInfo", "dataset_info", "list_datasets", "load_dataset", "register",
           "register_odds_folder"]


_REGISTRY: dict[str, DatasetInfo] = {}


def register(info: DatasetInfo) -> DatasetInfo:
    """Add a dataset to the registry at run time (e.g. tables found in a folder)."""
    _ensure_loaded()
    _REGISTRY[info.name] = info
    return info


def register_odds_folder(root: Path | None = None) -> list[str]:
    """Register every other ``<name>.mat`` in ``root``'s ODDS folder as ``odds_<name>``; returns
    the names."""
    infos = odds.folder_tables(root)
    for info in infos:
        register(info)
    return [i.name for i in infos]


def _ensure_loaded() -> None:
    """Fill the registry once, from the loader modules' lists (the order is the listing's)."""
    if _REGISTRY:
        return
    for info in (*embedded.DATASETS, *torchvision_sets.DATASETS, *odds.datasets(),
                 *kdd.DATASETS):
        _REGISTRY[info.name] = info


def list_datasets() -> list[DatasetInfo]:
    """Every registered dataset, embedded ones first."""
    _ensure_loaded()
    return sorted(_REGISTRY.values(), key=lambda i: (not i.embedded, i.modality, i.name))


def dataset_info(name: str) -> DatasetInfo:
    """The registry entry for ``name``; :class:`UnknownNameError` with suggestions otherwise."""
    _ensure_loaded()
    if name not in _REGISTRY:
        raise UnknownNameError(
            f"Unknown dataset {name!r}. {did_you_mean(name, sorted(_REGISTRY))} "
            "Your own data: 'csv:PATH' or 'images:PATH'.")
    return _REGISTRY[name]


def load_dataset(name: str, root: str | Path | None = None, **options) -> Dataset:
    """Load a dataset by registry name, or the user's own data (``csv:PATH``, ``images:PATH``).

    Results are cached per (name, root, options) in this process; datasets are immutable.
    """
    root_p = Path(root) if root is not None else data_root()
    return _load_cached(name, str(root_p), tuple(sorted(options.items())))


@functools.lru_cache(maxsize=16)
def _load_cached(name: str, root: str, options: tuple) -> Dataset:
    opts = dict(options)
    if name.startswith("csv:"):
        return load_csv(name[4:], **opts)
    if name.startswith("images:"):
        return load_image_folder(name[7:], **opts)
    info = dataset_info(name)
    return info.loader(Path(root))
