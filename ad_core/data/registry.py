"""The dataset registry: names → loaders, with an honest "available here?" check.

Loader modules register themselves with :func:`register`; :func:`load_dataset` also accepts the
user's own data as ``csv:PATH`` and ``images:PATH``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ad_core.data.base import Dataset, data_root
from ad_core.errors import UnknownNameError, did_you_mean


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


_REGISTRY: dict[str, DatasetInfo] = {}


def register(info: DatasetInfo) -> DatasetInfo:
    """Add a dataset to the registry (loader modules call this at import)."""
    _REGISTRY[info.name] = info
    return info


def _ensure_loaded() -> None:
    # Importing the loader modules registers their datasets.
    from ad_core.data import embedded  # noqa: F401

    for mod in ("torchvision_sets", "odds", "kdd"):
        try:
            __import__(f"ad_core.data.{mod}")
        except ModuleNotFoundError as e:  # a loader module not written yet
            if e.name != f"ad_core.data.{mod}":
                raise


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
        from ad_core.data.user import load_csv

        return load_csv(name[4:], **opts)
    if name.startswith("images:"):
        from ad_core.data.user import load_image_folder

        return load_image_folder(name[7:], **opts)
    info = dataset_info(name)
    return info.loader(Path(root))
