"""KDDCUP99 (10 %) and KDDCUP-Rev, prepared as in NeuTraL AD's appendix (after DAGMM).

The 494,021 connection records come from :func:`sklearn.datasets.fetch_kddcup99` with
``percent10=True``, cached under ``data_root()/kdd`` (sklearn's own cache layout,
``kdd/kddcup99_10-py3/{samples,targets}``); the download is attempted only when
``ANOMALY_LAB_DOWNLOAD=1``. The three symbolic columns (``protocol_type``, ``service``, ``flag``)
are one-hot encoded (categories sorted), the other 38 columns are kept as raw numbers; loaders do
not standardise (each detector owns its preprocessing).

Protocols (NeuTraL AD, appendix C):
- ``kddcup99``: the attacks are the inliers and the non-attack ("normal.") traffic, about 20 %,
  is the anomaly.
- ``kddcup99_rev``: the non-attack traffic is the inlier; attacks are sub-sampled (seeded, fixed
  seed 0) to 25 % of the number of non-attack records and are the anomalies.

Classes are ``("inlier", "outlier")`` like the ODDS tables; use normal class ``inlier``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ad_core.data.base import Dataset, DatasetInfo
from ad_core.errors import BadDataError, DatasetUnavailableError

CLASS_NAMES = ("inlier", "outlier")
CATEGORICAL = ("protocol_type", "service", "flag")
REV_ATTACK_FRACTION = 0.25
REV_SEED = 0
CACHE_DIR = "kddcup99_10-py3"  # sklearn's folder name for percent10=True


def _text(a: np.ndarray) -> np.ndarray:
    """Decode bytes values (sklearn keeps them as ``b'tcp'``) to ``str``."""
    return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in a], dtype=object)


def one_hot_features(x: np.ndarray, feature_names: Sequence[str],
                     categorical: Sequence[str] = CATEGORICAL) -> tuple[np.ndarray, list[str]]:
    """KDD's feature matrix: numeric columns as float32, ``categorical`` ones one-hot encoded.

    Returns the float32 matrix and its column names (``service=http`` for one-hot columns). The
    numeric columns keep their order; one-hot blocks follow, in the order of ``categorical``.
    """
    x = np.asarray(x, dtype=object)
    names = list(feature_names)
    if x.ndim != 2 or x.shape[1] != len(names):
        raise BadDataError(f"KDD records must be [N, {len(names)}], got {x.shape}.")
    missing = [c for c in categorical if c not in names]
    if missing:
        raise BadDataError(f"KDD records lack the columns {', '.join(missing)}.")
    cat_idx = [names.index(c) for c in categorical]
    num_idx = [i for i in range(len(names)) if i not in cat_idx]
    try:
        blocks = [x[:, num_idx].astype(np.float32)]
    except (TypeError, ValueError) as e:
        raise BadDataError(f"A numeric KDD column holds text ({e}).") from None
    out_names = [names[i] for i in num_idx]
    for c, i in zip(categorical, cat_idx):
        cats, inv = np.unique(_text(x[:, i]).astype(str), return_inverse=True)
        block = np.zeros((len(x), len(cats)), dtype=np.float32)
        block[np.arange(len(x)), inv] = 1.0
        blocks.append(block)
        out_names += [f"{c}={v}" for v in cats]
    return np.ascontiguousarray(np.concatenate(blocks, axis=1)), out_names


def is_attack(target: np.ndarray) -> np.ndarray:
    """True for attack records; the non-attack label is ``normal.``."""
    return _text(np.asarray(target, dtype=object).ravel()) != "normal."


def kdd_protocol(features: np.ndarray, target: np.ndarray, reverse: bool,
                 seed: int = REV_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Rows and labels (1 = anomaly) of KDDCUP (``reverse=False``) or KDDCUP-Rev (``True``).

    KDDCUP: attacks are inliers, non-attack traffic the anomalies. KDDCUP-Rev: non-attack traffic
    is the inlier; a seeded sample of attacks, 25 % as many as the non-attack records, the
    anomalies. Returns ``(row_indices, y)`` into ``features``.
    """
    attack = is_attack(target)
    if len(attack) != len(features):
        raise BadDataError(f"{len(features)} KDD records but {len(attack)} labels.")
    if not reverse:
        return np.arange(len(attack)), (~attack).astype(np.int64)
    normal_rows = np.flatnonzero(~attack)
    attack_rows = np.flatnonzero(attack)
    k = min(len(attack_rows), int(round(REV_ATTACK_FRACTION * len(normal_rows))))
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(attack_rows, size=k, replace=False))
    rows = np.concatenate([normal_rows, keep])
    y = np.concatenate([np.zeros(len(normal_rows), np.int64), np.ones(k, np.int64)])
    order = np.argsort(rows, kind="stable")
    return rows[order], y[order]


def fetch_records(root: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The raw 10 % KDDCUP99 records from sklearn's cache under ``root/kdd``."""
    from ad_core.data.torchvision_sets import DOWNLOAD_ENV, download_allowed

    home = root / "kdd"
    allowed = download_allowed()
    if not allowed and not _available(root):
        raise DatasetUnavailableError(
            f"KDDCUP99 is not available: scikit-learn's cache {home / CACHE_DIR} (files "
            f"'samples' and 'targets') is missing; set {DOWNLOAD_ENV}=1 to let "
            "sklearn.datasets.fetch_kddcup99 download it, or copy that folder from a machine "
            "that has it.")
    from sklearn.datasets import fetch_kddcup99

    if allowed:
        home.mkdir(parents=True, exist_ok=True)
    try:
        b = fetch_kddcup99(data_home=str(home), download_if_missing=allowed, percent10=True)
    except OSError as e:
        raise DatasetUnavailableError(f"KDDCUP99 could not be read or downloaded into {home} "
                                      f"({type(e).__name__}: {e}).") from None
    return np.asarray(b.data, dtype=object), np.asarray(b.target, dtype=object), \
        list(b.feature_names)


def load_kdd(root: Path, reverse: bool = False) -> Dataset:
    """KDDCUP99 10 % prepared for anomaly detection (see the module docstring)."""
    x_raw, target, names = fetch_records(root)
    feats, cols = one_hot_features(x_raw, names)
    rows, y = kdd_protocol(feats, target, reverse)
    x = torch.from_numpy(feats[rows] if reverse else feats)
    name = "kddcup99_rev" if reverse else "kddcup99"
    what = ("inlier = non-attack traffic, outlier = attacks sub-sampled to 25 %" if reverse
            else "inlier = attacks, outlier = non-attack traffic")
    return Dataset(name, "tabular", x, torch.from_numpy(y), CLASS_NAMES,
                   feature_names=tuple(cols),
                   description=(f"KDDCUP99 10 %{'-Rev' if reverse else ''} ({len(y)} × "
                                f"{x.shape[1]}; {what}; {int(y.sum())} outliers)"))


def _available(root: Path) -> bool:
    return (root / "kdd" / CACHE_DIR / "samples").is_file()


#: The datasets this module loads (read by :mod:`ad_core.data.registry`).
DATASETS: tuple[DatasetInfo, ...] = (
    DatasetInfo(
        "kddcup99", "tabular", "KDDCUP99 10 % (attacks = inliers, non-attack traffic = outliers)",
        load_kdd, _available, CLASS_NAMES, files_hint=f"kdd/{CACHE_DIR}/{{samples,targets}}",
        online="sklearn.datasets.fetch_kddcup99"),
    DatasetInfo(
        "kddcup99_rev", "tabular", "KDDCUP-Rev (non-attack = inliers, 25 % attacks = outliers)",
        lambda root: load_kdd(root, reverse=True), _available, CLASS_NAMES,
        files_hint=f"kdd/{CACHE_DIR}/{{samples,targets}}", online="sklearn.datasets.fetch_kddcup99"),
)
