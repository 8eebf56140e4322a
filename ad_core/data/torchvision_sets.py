"""Image benchmarks in torchvision's on-disk layouts: MNIST, Fashion-MNIST, CIFAR-10/100, SVHN,
Omniglot.

Every dataset lives under ``data_root()/<name>/`` exactly as ``torchvision.datasets.<Class>(root=
data_root()/<name>, download=True)`` would leave it, so a folder a user downloaded with torchvision
works here unchanged:

- ``mnist``: ``mnist/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``
- ``fashion_mnist``: ``fashion_mnist/FashionMNIST/raw/`` (the same four idx files)
- ``cifar10``: ``cifar10/cifar-10-batches-py/{data_batch_1..5,test_batch}``
- ``cifar100``: ``cifar100/cifar-100-python/{train,test}`` (20 superclasses = ``coarse_labels``)
- ``svhn``: ``svhn/{train_32x32.mat,test_32x32.mat}`` (the ``extra`` split is not used)
- ``omniglot``: ``omniglot/omniglot-py/images_background/<alphabet>/<character>/*.png``

The files are read here with numpy (idx headers, the CIFAR pickles through a restricted unpickler
that only rebuilds numpy arrays, SVHN's ``.mat`` with scipy), converting the uint8 arrays to
float32 in [0, 1] in one batched operation. torchvision's own classes are used to *download*
(``download=True``) when ``ANOMALY_LAB_DOWNLOAD=1``; we do not read through them because they
insist on the official MD5 sums and on uncompressed idx files.

Omniglot (the LIS-AE paper's negative data for MNIST-like sets): the *background* set, one class
per alphabet (30). Its 105×105 black-on-white strokes are resized to 28×28 (antialiased) and
inverted so strokes are bright on a dark background like MNIST; the result is cached as
``omniglot/omniglot_background_28.npz`` beside the PNGs.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from ad_core.data.base import Dataset, DatasetInfo
from ad_core.errors import BadDataError, DatasetUnavailableError

DOWNLOAD_ENV = "ANOMALY_LAB_DOWNLOAD"

DIGITS = tuple(str(i) for i in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
CIFAR100_SUPERCLASSES = (
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people",
    "reptiles", "small_mammals", "trees", "vehicles_1", "vehicles_2")

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
CIFAR100_FILES = ("train", "test")
SVHN_FILES = ("train_32x32.mat", "test_32x32.mat")
OMNIGLOT_SIZE = 28


def download_allowed() -> bool:
    """Whether the user asked for downloads (``ANOMALY_LAB_DOWNLOAD=1``)."""
    return os.environ.get(DOWNLOAD_ENV, "").strip().lower() in ("1", "true", "yes")


# ----------------------------------------------------------------------------- file helpers
def _find(folder: Path, name: str, gz_ok: bool = False) -> Path | None:
    """``folder/name`` (or ``folder/name.gz`` when allowed) if it exists."""
    for cand in (name, name + ".gz") if gz_ok else (name,):
        p = folder / cand
        if p.is_file():
            return p
    return None


def _missing(folder: Path, files: Sequence[str], gz_ok: bool = False) -> list[str]:
    return [f for f in files if _find(folder, f, gz_ok) is None]


def _ensure_files(title: str, folder: Path, files: Sequence[str], download: Callable[[], None],
                  gz_ok: bool = False) -> None:
    """Make sure ``files`` are in ``folder``: download them if allowed, else one clear error."""
    missing = _missing(folder, files, gz_ok)
    if not missing:
        return
    if download_allowed():
        try:
            download()
        except Exception as e:  # any network/IO failure: one sentence
            raise DatasetUnavailableError(
                f"{title} could not be downloaded into {folder} ({type(e).__name__}: {e}); place "
                f"{', '.join(missing)} there by hand.") from None
        missing = _missing(folder, files, gz_ok)
        if not missing:
            return
    suffix = " (optionally gzipped)" if gz_ok else ""
    raise DatasetUnavailableError(
        f"{title} is not available: the folder {folder} is missing {', '.join(missing)}{suffix}; "
        f"place those files there, or set {DOWNLOAD_ENV}=1 to let torchvision download them.")


def uint8_images(arr: np.ndarray) -> torch.Tensor:
    """uint8 images ``[N, H, W]`` or ``[N, C, H, W]`` → float32 ``[N, C, H, W]`` in [0, 1], batched."""
    t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.uint8))
    if t.ndim == 3:
        t = t.unsqueeze(1)
    return t.to(torch.float32).div_(255.0)


def read_idx(path: Path) -> np.ndarray:
    """Read an idx file (the MNIST format, plain or gzipped) into a numpy array."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise BadDataError(f"{path} could not be read ({e}).") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise BadDataError(f"{path} is not an idx file of unsigned bytes (bad header).")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4).astype(np.int64)
    start = 4 + 4 * ndim
    if len(raw) - start != int(np.prod(dims)):
        raise BadDataError(f"{path} is truncated: its header promises shape {tuple(dims)}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(tuple(dims))


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only (the CIFAR pickles), nothing executable."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in self.ALLOWED:
            if module == "numpy.core.multiarray":
                module = "numpy._core.multiarray"
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_cifar_pickle(path: Path) -> dict[str, object]:
    """One CIFAR python batch as a dict with ``str`` keys (``data``, ``labels`` / ``*_labels``)."""
    try:
        with open(path, "rb") as f:
            d = _ArrayUnpickler(io.BytesIO(f.read()), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
        raise BadDataError(f"{path} is not a CIFAR python batch ({e}).") from None
    if not isinstance(d, dict):
        raise BadDataError(f"{path} is not a CIFAR python batch (no dictionary inside).")
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in d.items()}


def _cifar_arrays(batches: Sequence[dict[str, object]], label_key: str, path: Path
                  ) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for b in batches:
        if "data" not in b or label_key not in b:
            raise BadDataError(f"A CIFAR batch in {path} lacks 'data' or '{label_key}'.")
        x = np.asarray(b["data"], dtype=np.uint8)
        xs.append(x.reshape(len(x), 3, 32, 32))
        ys.append(np.asarray(b[label_key], dtype=np.int64).ravel())
    x, y = np.concatenate(xs), np.concatenate(ys)
    if len(x) != len(y):
        raise BadDataError(f"The CIFAR files in {path} have {len(x)} images but {len(y)} labels.")
    return x, y


def _official_split(n_train: int, n_test: int) -> np.ndarray:
    return np.array(["train"] * n_train + ["test"] * n_test)


def _train_test_dataset(name: str, xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray,
                        yte: np.ndarray, class_names: tuple[str, ...], description: str) -> Dataset:
    """A :class:`Dataset` of uint8 train + test images with the source's official split."""
    x = uint8_images(np.concatenate([xtr, xte]))
    y = torch.from_numpy(np.concatenate([ytr, yte]).astype(np.int64))
    return Dataset(name, "image", x, y, class_names, split=_official_split(len(xtr), len(xte)),
                   description=description)


def _tv(cls_name: str) -> Callable[..., object]:
    import torchvision.datasets as tvd

    return getattr(tvd, cls_name)


# ----------------------------------------------------------------------------- MNIST-like
def _load_idx_set(root: Path, name: str, tv_class: str, title: str,
                  class_names: tuple[str, ...], description: str) -> Dataset:
    base = root / name
    raw = base / tv_class / "raw"
    _ensure_files(title, raw, IDX_FILES, lambda: _tv(tv_class)(str(base), train=True,
                                                              download=True), gz_ok=True)
    arr = {f: read_idx(_find(raw, f, gz_ok=True)) for f in IDX_FILES}  # type: ignore[arg-type]
    xtr, ytr = arr["train-images-idx3-ubyte"], arr["train-labels-idx1-ubyte"]
    xte, yte = arr["t10k-images-idx3-ubyte"], arr["t10k-labels-idx1-ubyte"]
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise BadDataError(f"{title}: the image and label files in {raw} disagree in length.")
    return _train_test_dataset(name, xtr, ytr, xte, yte, class_names, description)


def load_mnist(root: Path) -> Dataset:
    """MNIST (LeCun et al.): 60,000 train + 10,000 test 28×28 digits from the idx files."""
    return _load_idx_set(root, "mnist", "MNIST", "MNIST", DIGITS,
                         "MNIST handwritten digits (60,000 train + 10,000 test, 28×28)")


def load_fashion_mnist(root: Path) -> Dataset:
    """Fashion-MNIST (Xiao et al. 2017): 70,000 28×28 clothing images in 10 classes."""
    return _load_idx_set(root, "fashion_mnist", "FashionMNIST", "Fashion-MNIST", FASHION_CLASSES,
                         "Fashion-MNIST clothing (60,000 train + 10,000 test, 28×28)")


# ----------------------------------------------------------------------------- CIFAR
def load_cifar10(root: Path) -> Dataset:
    """CIFAR-10: 50,000 train + 10,000 test 32×32 colour images in 10 classes."""
    base = root / "cifar10"
    folder = base / "cifar-10-batches-py"
    _ensure_files("CIFAR-10", folder, CIFAR10_FILES,
                  lambda: _tv("CIFAR10")(str(base), train=True, download=True))
    xtr, ytr = _cifar_arrays([read_cifar_pickle(folder / f) for f in CIFAR10_FILES[:-1]],
                             "labels", folder)
    xte, yte = _cifar_arrays([read_cifar_pickle(folder / "test_batch")], "labels", folder)
    return _train_test_dataset("cifar10", xtr, ytr, xte, yte, CIFAR10_CLASSES,
                               "CIFAR-10 (50,000 train + 10,000 test, 32×32 RGB)")


def load_cifar100(root: Path) -> Dataset:
    """CIFAR-100 with its 20 superclasses (``coarse_labels``), the anomaly-detection protocol."""
    base = root / "cifar100"
    folder = base / "cifar-100-python"
    _ensure_files("CIFAR-100", folder, CIFAR100_FILES,
                  lambda: _tv("CIFAR100")(str(base), train=True, download=True))
    xtr, ytr = _cifar_arrays([read_cifar_pickle(folder / "train")], "coarse_labels", folder)
    xte, yte = _cifar_arrays([read_cifar_pickle(folder / "test")], "coarse_labels", folder)
    names = CIFAR100_SUPERCLASSES
    if (folder / "meta").is_file():
        meta = read_cifar_pickle(folder / "meta").get("coarse_label_names")
        if meta is not None and len(meta) == 20:
            names = tuple(str(n) for n in meta)
    return _train_test_dataset("cifar100", xtr, ytr, xte, yte, names,
                               "CIFAR-100 in 20 superclasses (50,000 train + 10,000 test, 32×32)")


# ----------------------------------------------------------------------------- SVHN
def read_svhn_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One SVHN ``*_32x32.mat``: images ``[N, 3, 32, 32]`` uint8 and labels with 10 → 0."""
    from scipy.io import loadmat

    try:
        m = loadmat(path)
    except Exception as e:  # scipy raises many types for a damaged file
        raise BadDataError(f"{path} is not a readable SVHN .mat file ({e}).") from None
    if "X" not in m or "y" not in m or np.asarray(m["X"]).ndim != 4:
        raise BadDataError(f"{path} lacks the SVHN arrays X [32, 32, 3, N] and y.")
    x = np.transpose(np.asarray(m["X"], dtype=np.uint8), (3, 2, 0, 1))
    y = np.asarray(m["y"], dtype=np.int64).ravel()
    y[y == 10] = 0
    return x, y


def load_svhn(root: Path) -> Dataset:
    """SVHN street-view house numbers: 73,257 train + 26,032 test 32×32 digits (extra unused)."""
    base = root / "svhn"

    def download() -> None:
        for split in ("train", "test"):
            _tv("SVHN")(str(base), split=split, download=True)

    _ensure_files("SVHN", base, SVHN_FILES, download)
    xtr, ytr = read_svhn_mat(base / "train_32x32.mat")
    xte, yte = read_svhn_mat(base / "test_32x32.mat")
    return _train_test_dataset("svhn", xtr, ytr, xte, yte, DIGITS,
                               "SVHN house numbers (73,257 train + 26,032 test, 32×32 RGB)")


# ----------------------------------------------------------------------------- Omniglot
def _omniglot_folder(root: Path) -> Path:
    base = root / "omniglot"
    for cand in (base / "omniglot-py" / "images_background", base / "images_background"):
        if cand.is_dir():
            return cand
    return base / "omniglot-py" / "images_background"


def _omniglot_pngs(folder: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    alphabets = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    files: list[tuple[Path, int]] = []
    for a_id, a in enumerate(alphabets):
        files += [(p, a_id) for p in sorted((folder / a).glob("*/*.png"))]
    return alphabets, files


def strokes_bright(images: torch.Tensor, size: int = OMNIGLOT_SIZE) -> torch.Tensor:
    """Omniglot's black-on-white ``[N, 1, H, W]`` uint8 → white-on-black ``size``² float, batched."""
    out = torch.empty((len(images), 1, size, size), dtype=torch.float32)
    for i in range(0, len(images), 2048):
        chunk = 1.0 - images[i:i + 2048].to(torch.float32) / 255.0
        out[i:i + 2048] = torch.nn.functional.interpolate(
            chunk, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return out.clamp_(0.0, 1.0)


def load_omniglot(root: Path) -> Dataset:
    """Omniglot background set (Lake et al. 2015): 19,280 characters of 30 alphabets, one class
    per alphabet, 28×28 with bright strokes (see the module docstring)."""
    from PIL import Image, UnidentifiedImageError

    base = root / "omniglot"
    folder = _omniglot_folder(root)
    if not _omniglot_available(root) and download_allowed():
        try:
            _tv("Omniglot")(str(base), background=True, download=True)
        except Exception as e:  # any network/IO failure: one sentence
            raise DatasetUnavailableError(
                f"Omniglot could not be downloaded into {base} ({type(e).__name__}: {e}).") from None
        folder = _omniglot_folder(root)
    alphabets, files = _omniglot_pngs(folder) if folder.is_dir() else ([], [])
    if len(alphabets) < 2 or not files:
        raise DatasetUnavailableError(
            f"Omniglot is not available: the folder {folder} should hold images_background as "
            "torchvision unpacks it (one folder per alphabet, with character folders of PNG "
            f"images); place it there, or set {DOWNLOAD_ENV}=1 to let torchvision download it.")
    cache = base / f"omniglot_background_{OMNIGLOT_SIZE}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            if int(z["n_files"]) == len(files) and list(z["alphabets"]) == alphabets:
                return _omniglot_dataset(torch.from_numpy(z["x"]), z["y"], alphabets)
    raw = np.empty((len(files), 1, 105, 105), dtype=np.uint8)
    for i, (p, _) in enumerate(files):  # PNG decoding is per file; everything after is batched
        try:
            with Image.open(p) as im:
                g = im.convert("L")
                if g.size != (105, 105):
                    g = g.resize((105, 105))
                raw[i, 0] = np.asarray(g, dtype=np.uint8)
        except (UnidentifiedImageError, OSError) as e:
            raise BadDataError(f"Omniglot image {p} is corrupt ({e}).") from None
    x8 = (strokes_bright(torch.from_numpy(raw)) * 255).round().to(torch.uint8)
    y = np.array([a for _, a in files], dtype=np.int64)
    # A read-only data folder only costs the next load its decoding time.
    with contextlib.suppress(OSError):
        np.savez_compressed(cache, x=x8.numpy(), y=y, n_files=np.int64(len(files)),
                            alphabets=np.array(alphabets))
    return _omniglot_dataset(x8, y, alphabets)


def _omniglot_dataset(x: torch.Tensor, y: np.ndarray, alphabets: list[str]) -> Dataset:
    if x.dtype == torch.uint8:
        x = x.to(torch.float32).div_(255.0)
    return Dataset("omniglot", "image", x, torch.from_numpy(np.asarray(y, dtype=np.int64)),
                   tuple(alphabets),
                   description=f"Omniglot background set ({len(y)} characters of {len(alphabets)} "
                               f"alphabets, 28×28, strokes bright)")


# ----------------------------------------------------------------------------- availability
def _idx_available(name: str, tv_class: str) -> Callable[[Path], bool]:
    return lambda root: not _missing(root / name / tv_class / "raw", IDX_FILES, gz_ok=True)


def _omniglot_available(root: Path) -> bool:
    folder = _omniglot_folder(root)
    return folder.is_dir() and next(folder.glob("*/*/*.png"), None) is not None


#: The datasets this module loads (read by :mod:`ad_core.data.registry`).
DATASETS: tuple[DatasetInfo, ...] = (
    DatasetInfo(
        "mnist", "image", "MNIST handwritten digits (70,000, 28×28)", load_mnist,
        _idx_available("mnist", "MNIST"), DIGITS,
        files_hint="mnist/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]",
        online="torchvision.datasets.MNIST"),
    DatasetInfo(
        "fashion_mnist", "image", "Fashion-MNIST clothing (70,000, 28×28)", load_fashion_mnist,
        _idx_available("fashion_mnist", "FashionMNIST"), FASHION_CLASSES,
        files_hint="fashion_mnist/FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]",
        online="torchvision.datasets.FashionMNIST"),
    DatasetInfo(
        "cifar10", "image", "CIFAR-10 (60,000, 32×32 RGB)", load_cifar10,
        lambda root: not _missing(root / "cifar10" / "cifar-10-batches-py", CIFAR10_FILES),
        CIFAR10_CLASSES, files_hint="cifar10/cifar-10-batches-py/{data_batch_1..5,test_batch}",
        online="torchvision.datasets.CIFAR10"),
    DatasetInfo(
        "cifar100", "image", "CIFAR-100 in 20 superclasses (60,000, 32×32 RGB)", load_cifar100,
        lambda root: not _missing(root / "cifar100" / "cifar-100-python", CIFAR100_FILES),
        CIFAR100_SUPERCLASSES, files_hint="cifar100/cifar-100-python/{train,test} (+ meta)",
        online="torchvision.datasets.CIFAR100"),
    DatasetInfo(
        "svhn", "image", "SVHN house numbers (99,289, 32×32 RGB)", load_svhn,
        lambda root: not _missing(root / "svhn", SVHN_FILES), DIGITS,
        files_hint="svhn/{train_32x32.mat,test_32x32.mat}", online="torchvision.datasets.SVHN"),
    DatasetInfo(
        "omniglot", "image", "Omniglot background alphabets (19,280, 28×28, strokes bright)",
        load_omniglot, _omniglot_available, None,
        files_hint="omniglot/omniglot-py/images_background/<alphabet>/<character>/*.png",
        online="torchvision.datasets.Omniglot"),
)
