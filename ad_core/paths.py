"""Where Anomaly Lab keeps its files by default (docs/ARCHITECTURE.md, floor 0).

``data/``, ``runs/``, ``docs/results/`` and ``.cache/`` live under :data:`REPO_ROOT`: the clone's
root when ``ad_core`` runs from a clone, else — an installed copy in ``site-packages`` — the
directory the command was started in, never the installation folder. ``ANOMALY_LAB_DATA``,
``ANOMALY_LAB_RUNS`` and ``ANOMALY_LAB_CACHE`` override the first, second and last.
"""

from __future__ import annotations

from pathlib import Path

#: The folder above ``ad_core/``: the clone's root when running from a clone.
PACKAGE_PARENT = Path(__file__).resolve().parents[1]


def in_clone(folder: Path = PACKAGE_PARENT) -> bool:
    """Whether ``folder`` is a clone of this project (``pyproject.toml`` beside ``ad_core/``)."""
    return (folder / "pyproject.toml").is_file() and (folder / "ad_core").is_dir()


#: The default home of data, runs, results and caches (see the module docstring).
REPO_ROOT = PACKAGE_PARENT if in_clone() else Path.cwd()
