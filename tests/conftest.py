"""Shared test setup: the run store and the data folder point at throw-away folders.

``ANOMALY_LAB_RUNS`` and ``ANOMALY_LAB_DATA`` are set in :func:`pytest_configure`, before any test
module imports ``ad_core``, so no test (and no subprocess a test starts) ever reads or writes the
user's ``runs/`` or ``data/``. ``ANOMALY_LAB_DOWNLOAD`` is removed so nothing tries the network.
Both folders are deleted when the session ends.

Fixtures for everyone: ``digits`` (the embedded 8×8 digits), ``digits_task`` (one-vs-rest, normal
class 0), ``tabular_task`` (breast cancer, normal class benign), ``runs_dir`` / ``data_dir``
(the session's folders).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SESSION_DIRS: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    base = tempfile.mkdtemp(prefix="anomaly-lab-tests-")
    _SESSION_DIRS.append(base)
    for var, sub in (("ANOMALY_LAB_RUNS", "runs"), ("ANOMALY_LAB_DATA", "data")):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
        os.environ[var] = os.path.join(base, sub)
    os.environ.pop("ANOMALY_LAB_DOWNLOAD", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    for d in _SESSION_DIRS:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def runs_dir() -> Path:
    """The session's run store (``$ANOMALY_LAB_RUNS``)."""
    return Path(os.environ["ANOMALY_LAB_RUNS"])


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The session's (empty) data folder (``$ANOMALY_LAB_DATA``)."""
    return Path(os.environ["ANOMALY_LAB_DATA"])


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 1,797 8×8 digits as a :class:`~ad_core.data.Dataset`."""
    from ad_core.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def digits_task(digits):
    """One-vs-rest on digits with normal class 0 (seed 0)."""
    from ad_core.tasks import one_vs_rest

    return one_vs_rest(digits, "0", seed=0)


@pytest.fixture(scope="session")
def task8(digits):
    """Digits with normal class 8, the hardest for IsolationForest (seed 0): the reconstruction
    detectors' tests must beat IsolationForest on it."""
    from ad_core.tasks import one_vs_rest

    return one_vs_rest(digits, "8", seed=0)


@pytest.fixture(scope="session")
def tabular_task():
    """Breast cancer with ``benign`` normal (the ODDS protocol for tables, seed 0)."""
    from ad_core.data import load_dataset
    from ad_core.tasks import one_vs_rest

    return one_vs_rest(load_dataset("breast_cancer"), "benign", seed=0)
