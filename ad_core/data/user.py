"""The user's own data: a CSV table, a folder or ``.zip`` of images, or a file uploaded in the app.

Why one module of ~750 lines: the three ways a user brings data (a CSV table, an image folder or
zip, an upload in the app) share their safety limits, their one-sentence errors and the upload
store (owner folders, budget, clean-up) that lets a run reopen its data.

- ``csv:PATH`` → :func:`load_csv`: a header row, numeric feature columns and one label column
  (``label`` unless named otherwise). Labels are what make evaluation possible (which rows are
  normal, which anomalous), so a table without one is refused at load time with a sentence
  saying so, rather than later by the task builder.
- ``images:PATH`` → :func:`load_image_folder`: one subfolder per class of PNG/JPEG images (a
  folder, or a ``.zip`` read in memory with the safety limits below).
- :func:`load_uploaded`: what the app calls with an uploaded file's name and bytes. The file is
  kept under ``data_root()/uploads/<owner folder>/`` (named by its content hash; the owner folder
  is a hash of the uploading browser session's token) so the returned dataset's ``name``
  (``csv:…`` or ``images:…``) can be loaded again by background jobs and saved runs, while
  :func:`check_upload_owner` keeps other sessions from opening it. The folder has a size budget
  (:func:`upload_budget_bytes`, ``ANOMALY_LAB_UPLOAD_BUDGET_MB``) kept by :func:`clean_uploads`,
  which never deletes an upload that a saved run or a journaled job names.
  :func:`dataset_display_name` is how such a name is shown to people (never the server path).

Every problem a user can cause raises :class:`~ad_core.errors.BadDataError` (or
:class:`~ad_core.errors.UnknownNameError` for a wrong column name) with one plain sentence.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import math
import os
import re
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from ad_core.data.base import Dataset, data_root
from ad_core.errors import BadDataError, UnknownNameError, did_you_mean

MAX_UPLOAD_BYTES = 50 * 2**20
MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 20 * 2**20
MAX_TOTAL_BYTES = 500 * 2**20
MAX_IMAGE_PIXELS = 4096 * 4096
MAX_DECODED_BYTES = 2 * 2**30
MAX_TENSOR_BYTES = 2 * 2**30
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
DEFAULT_LABEL = "label"
MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none", "?", "-"})


# ============================================================================== CSV
def _decode(raw: bytes, source: str) -> str:
    if not raw.strip():
        raise BadDataError(f"{source} is empty.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadDataError(f"{source} is not UTF-8 text (byte 0x{raw[e.start]:02x} at position "
                           f"{e.start}); save it as a UTF-8 CSV file.") from None


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _read_rows(text: str, source: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows and each row's line number; ragged rows are refused."""
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            if header is None:
                header = [c.strip() for c in row]
                continue
            if len(row) != len(header):
                raise BadDataError(f"{source}: line {reader.line_num} has {len(row)} values but "
                                   f"the header names {len(header)} columns; every row needs "
                                   "one value per column.")
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as e:
        raise BadDataError(f"{source} is not a well-formed CSV file (line {reader.line_num}: "
                           f"{e}).") from None
    if header is None:
        raise BadDataError(f"{source} is empty.")
    if all(_is_number(h) for h in header):
        raise BadDataError(f"{source}: the first row should name the columns, but it holds "
                           "numbers; add a header row such as 'x1,x2,…,label'.")
    header = [h or f"column {i + 1}" for i, h in enumerate(header)]
    dup = [h for h, n in Counter(header).items() if n > 1]
    if dup:
        raise BadDataError(f"{source}: the column name {dup[0]!r} appears more than once.")
    if not rows:
        raise BadDataError(f"{source} has a header but no data rows.")
    return header, rows, lines


def _label_index(header: list[str], label_column: str | None, source: str) -> int:
    if label_column is not None:
        if label_column in header:
            return header.index(label_column)
        low = [h.lower() for h in header]
        if label_column.lower() in low:
            return low.index(label_column.lower())
        raise UnknownNameError(f"{source} has no column {label_column!r}. "
                               f"{did_you_mean(label_column, header)}")
    low = [h.lower() for h in header]
    if DEFAULT_LABEL in low:
        return low.index(DEFAULT_LABEL)
    raise BadDataError(
        f"{source} has no '{DEFAULT_LABEL}' column: a label column is needed to evaluate a "
        "detector (it says which rows are normal and which are anomalies), so add one named "
        "'label' or choose the label column by name.")


def _labels(cells: list[str], lines: list[int], column: str, source: str
            ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class ids and sorted class names (numerically when every label is a number)."""
    vals = [c.strip() for c in cells]
    empty = [i for i, v in enumerate(vals) if v.lower() in MISSING_TOKENS - {"-", "none"}]
    if empty:
        raise BadDataError(f"{source}: {len(empty)} rows have no value in the label column "
                           f"{column!r} (first: line {lines[empty[0]]}); label every row.")
    uniq = sorted(set(vals))
    if all(_is_number(v) for v in uniq):
        num = sorted({float(v) for v in uniq})
        names = tuple(f"{v:g}" for v in num)
        lookup = {v: names.index(f"{float(v):g}") for v in uniq}
    else:
        names = tuple(uniq)
        lookup = {v: i for i, v in enumerate(names)}
    if len(names) < 2:
        raise BadDataError(f"{source}: every row has the label {names[0]!r}; at least two classes "
                           "(normal and anomalous) are needed to evaluate a detector.")
    return np.array([lookup[v] for v in vals], dtype=np.int64), names


def _features(cols: list[list[str]], names: list[str], lines: list[int], source: str
              ) -> np.ndarray:
    """Float32 matrix [N, D]; non-numeric columns and missing values raise BadDataError."""
    n = len(lines)
    out = np.empty((n, len(cols)), dtype=np.float32)
    missing_rows = np.zeros(n, dtype=bool)
    first_missing: tuple[int, str] | None = None
    for j, (col, name) in enumerate(zip(cols, names)):
        try:
            v = np.array(col, dtype=str).astype(np.float64)
            bad = ~np.isfinite(v)
        except ValueError:
            v = np.full(n, np.nan)
            for i, c in enumerate(col):
                s = c.strip()
                if s.lower() in MISSING_TOKENS:
                    continue
                try:
                    v[i] = float(s)
                except ValueError:
                    raise BadDataError(
                        f"{source}: column {name!r} is not numeric (for example {s[:40]!r} on line "
                        f"{lines[i]}); remove it, encode it as numbers, or make it the label "
                        "column.") from None
            bad = ~np.isfinite(v)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            if first_missing is None or lines[i] < first_missing[0]:
                first_missing = (lines[i], name)
            missing_rows |= bad
        out[:, j] = v
    if first_missing is not None:
        k = int(missing_rows.sum())
        raise BadDataError(f"{source}: {k} of {n} rows have missing, NaN or infinite values (first: "
                           f"line {first_missing[0]}, column {first_missing[1]!r}); remove or "
                           "fill those rows first.")
    return out


def parse_csv(raw: bytes, source: str, label_column: str | None = None
              ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...], str]:
    """Features [N, D] float32, class ids, class names, feature names and the label column's name."""
    header, rows, lines = _read_rows(_decode(raw, source), source)
    li = _label_index(header, label_column, source)
    columns = [list(c) for c in zip(*rows)]
    y, class_names = _labels(columns[li], lines, header[li], source)
    feat_names = [h for i, h in enumerate(header) if i != li]
    if not feat_names:
        raise BadDataError(f"{source} has only the label column; add numeric feature columns.")
    x = _features([c for i, c in enumerate(columns) if i != li], feat_names, lines, source)
    return x, y, class_names, tuple(feat_names), header[li]


def load_csv(path: str | Path, label_column: str | None = None) -> Dataset:
    """A CSV table as a tabular :class:`Dataset` named ``csv:PATH``.

    The first row names the columns; the delimiter (``,``, ``;`` or tab) is detected. Every column
    except the label column must be numeric. Labels may be numbers or text; classes are sorted
    (numerically when every label is a number).
    """
    p = Path(path).expanduser()
    if not p.is_file():
        _refuse_gone_upload(p)
        raise BadDataError(f"There is no CSV file at {p}.")
    if p.stat().st_size > MAX_TOTAL_BYTES:
        raise BadDataError(f"{_shown_name(p)} is larger than {MAX_TOTAL_BYTES // 2**20} MB.")
    x, y, class_names, feats, label = parse_csv(p.read_bytes(), _shown_name(p), label_column)
    counts = np.bincount(y, minlength=len(class_names))
    return Dataset(f"csv:{path}", "tabular", torch.from_numpy(x), torch.from_numpy(y),
                   class_names, feature_names=feats,
                   description=(f"{_shown_name(p)}: {len(y)} rows × {x.shape[1]} features; label column "
                                f"{label!r}: " + ", ".join(f"{c} ({k})" for c, k in
                                                           zip(class_names, counts))),
                   extra={"label_column": label, "source": str(p)})


# ============================================================================== images
class ImageTooLargeError(BadDataError):
    """An image with more pixels than :data:`MAX_IMAGE_PIXELS` (a decompression-bomb guard)."""


def _member_parts(name: str, source: str) -> tuple[str, ...]:
    """Path components of a zip member, refusing absolute paths and ``..``."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise BadDataError(f"{source} contains an absolute path ({name!r}); refusing to read it.")
    parts = tuple(p for p in re.split(r"[/\\]", name) if p not in ("", "."))
    if ".." in parts:
        raise BadDataError(f"{source} contains a path that climbs out of the archive ({name!r}); "
                           "refusing to read it.")
    return parts


def _hidden(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _zip_entries(path: Path) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """Image members of a zip as (path parts, bytes), enforcing the safety limits."""
    source = path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise BadDataError(f"{source} is not a readable zip file ({e}).") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BadDataError(f"{source} has {len(infos)} entries; the limit is {MAX_MEMBERS}.")
        total = 0
        chosen = []
        for info in infos:
            parts = _member_parts(info.filename, source)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise BadDataError(f"{source} contains a symbolic link ({info.filename!r}); "
                                   "refusing to read it.")
            if info.is_dir() or _hidden(parts):
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                raise BadDataError(f"{info.filename!r} in {source} is larger than "
                                   f"{MAX_MEMBER_BYTES // 2**20} MB.")
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise BadDataError(f"{source} unpacks to more than {MAX_TOTAL_BYTES // 2**20} MB.")
            if PurePosixPath(parts[-1]).suffix.lower() in IMAGE_EXTENSIONS:
                chosen.append((parts, info))
        for parts, info in chosen:
            try:
                data = zf.read(info)
            except (zipfile.BadZipFile, OSError, ValueError) as e:  # bad CRC, truncated member
                raise BadDataError(f"{info.filename!r} in {source} is damaged ({e}).") from None
            yield parts, data


def _folder_entries(path: Path) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """Image files under a folder as (path parts, bytes), with the same limits as zips."""
    files = [p for p in sorted(path.rglob("*")) if p.is_file()
             and not _hidden(p.relative_to(path).parts)
             and p.suffix.lower() in IMAGE_EXTENSIONS]
    if len(files) > MAX_MEMBERS:
        raise BadDataError(f"{path} holds {len(files)} images; the limit is {MAX_MEMBERS}.")
    total = 0
    for p in files:
        size = p.stat().st_size
        total += size
        if size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
            raise BadDataError(f"{p.name} is larger than {MAX_MEMBER_BYTES // 2**20} MB or the "
                               f"folder exceeds {MAX_TOTAL_BYTES // 2**20} MB.")
        yield p.relative_to(path).parts, p.read_bytes()


def _strip_common_root(entries: list[tuple[tuple[str, ...], bytes]]
                       ) -> list[tuple[tuple[str, ...], bytes]]:
    """Drop a single wrapping folder (``dataset/cat/1.png`` → ``cat/1.png``)."""
    while entries and all(len(p) >= 3 for p, _ in entries) and len({p[0] for p, _ in entries}) == 1:
        entries = [(p[1:], b) for p, b in entries]
    return entries


def decode_image(data: bytes, name: str, keep_mode: bool = False) -> np.ndarray:
    """PNG/JPEG bytes → uint8 RGB array [H, W, 3]; :class:`BadDataError` naming a corrupt file.

    ``keep_mode``: keep a grey ``[H, W]`` or RGBA ``[H, W, 4]`` image as it is (one drawn or
    uploaded sample, whose alpha and channels the caller interprets) instead of converting to RGB.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise ImageTooLargeError(f"The image {name!r} is {im.width} pixels wide and "
                                         f"{im.height} high; images may have at most "
                                         f"{MAX_IMAGE_PIXELS:,} pixels.")
            im.load()
            if keep_mode and im.mode in ("L", "RGB", "RGBA"):
                return np.asarray(im, dtype=np.uint8)
            mode = "RGBA" if keep_mode and "A" in im.mode else "RGB"
            return np.asarray(im.convert(mode), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError) as e:
        raise BadDataError(f"The image {name!r} is corrupt or not an image this app reads "
                           f"(PNG/JPEG): {e}.") from None


def _target_size(shapes: list[tuple[int, int]], size: int | tuple[int, int] | None
                 ) -> tuple[int, int]:
    if size is None:
        return Counter(shapes).most_common(1)[0][0]
    hw = (int(size), int(size)) if isinstance(size, (int, str)) else tuple(int(s) for s in size)
    if len(hw) != 2 or not all(4 <= s <= 1024 for s in hw):
        raise BadDataError(f"size must be one or two numbers between 4 and 1024, got {size!r}.")
    return hw  # type: ignore[return-value]


def stack_images(images: list[np.ndarray], hw: tuple[int, int], grey: bool) -> torch.Tensor:
    """uint8 [H, W, 3] arrays of mixed sizes → float32 [N, C, h, w] in [0, 1], resized per
    same-size group in one batched antialiased bilinear interpolation."""
    c = 1 if grey else 3
    out = torch.empty((len(images), c, *hw), dtype=torch.float32)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, im in enumerate(images):
        groups.setdefault(im.shape[:2], []).append(i)
    for shape, idx in groups.items():
        t = torch.from_numpy(np.stack([images[i] for i in idx])).permute(0, 3, 1, 2)
        t = t[:, :1] if grey else t
        t = t.to(torch.float32).div_(255.0)
        if shape != hw:
            t = torch.nn.functional.interpolate(t, size=hw, mode="bilinear", align_corners=False,
                                                antialias=True).clamp_(0.0, 1.0)
        out[torch.tensor(idx)] = t
    return out


def load_image_folder(path: str | Path, size: int | tuple[int, int] | None = None) -> Dataset:
    """Images in one subfolder per class (a folder or a ``.zip``) as an image :class:`Dataset`.

    All images are resized to the most common size (or ``size``); they stay grey when every image
    is grey, else RGB. Zips are read in memory and refused when they contain absolute paths, ``..``,
    symbolic links, more than 20,000 entries, an entry over 20 MB or over 500 MB in all.
    """
    p = Path(path).expanduser()
    if not p.exists():
        _refuse_gone_upload(p)
    if p.is_dir():
        entries = list(_folder_entries(p))
    elif p.is_file() and p.suffix.lower() == ".zip":
        entries = list(_zip_entries(p))
    else:
        raise BadDataError(f"{p} is neither a folder nor a .zip file of images.")
    if not entries:
        raise BadDataError(f"{p.name} contains no PNG or JPEG images.")
    entries = _strip_common_root(entries)
    loose = [e for e, _ in entries if len(e) < 2]
    if loose:
        raise BadDataError(f"{p.name}: put the images in one subfolder per class (found "
                           f"{loose[0][0]!r} outside any class folder).")
    class_names = tuple(sorted({e[0] for e, _ in entries}))
    if len(class_names) < 2:
        raise BadDataError(f"{p.name} has one class folder ({class_names[0]!r}); at least two "
                           "classes (normal and anomalous) are needed to evaluate a detector.")
    images, corrupt, decoded = [], [], 0
    for parts, data in entries:
        try:
            images.append(decode_image(data, "/".join(parts)))
        except ImageTooLargeError:
            raise
        except BadDataError:
            corrupt.append("/".join(parts))
            continue
        decoded += images[-1].nbytes
        if decoded > MAX_DECODED_BYTES:
            raise BadDataError(f"{p.name}: the images decode to more than "
                               f"{MAX_DECODED_BYTES // 2**30} GB; use fewer or smaller images.")
    if corrupt:
        more = f" and {len(corrupt) - 3} more" if len(corrupt) > 3 else ""
        raise BadDataError(f"{p.name}: {len(corrupt)} images cannot be read "
                           f"({', '.join(corrupt[:3])}{more}); remove or replace them.")
    hw = _target_size([im.shape[:2] for im in images], size)
    grey = all(bool((im[..., 0] == im[..., 1]).all() and (im[..., 1] == im[..., 2]).all())
               for im in images)
    c = 1 if grey else 3
    need = len(images) * c * hw[0] * hw[1] * 4
    if need > MAX_TENSOR_BYTES:
        fit = int((MAX_TENSOR_BYTES / (len(images) * c * 4)) ** 0.5)
        raise BadDataError(f"{len(images)} images at {hw[0]}×{hw[1]} would take "
                           f"{need / 2**30:.1f} GB of memory; choose a smaller size (at most "
                           f"{fit}×{fit}, e.g. 64).")
    x = stack_images(images, hw, grey)
    y = torch.tensor([class_names.index(e[0]) for e, _ in entries], dtype=torch.int64)
    counts = torch.bincount(y, minlength=len(class_names)).tolist()
    return Dataset(f"images:{path}", "image", x, y, class_names,
                   description=(f"{_shown_name(p)}: {len(y)} {'grey' if grey else 'RGB'} images at "
                                f"{hw[0]}×{hw[1]}; " + ", ".join(
                                    f"{c} ({k})" for c, k in zip(class_names, counts))),
                   extra={"files": ["/".join(e) for e, _ in entries]})


# ============================================================================== uploads
#: Environment variable holding the size budget of the uploads folder, in megabytes
#: (see :func:`upload_budget_bytes`).
UPLOAD_BUDGET_ENV = "ANOMALY_LAB_UPLOAD_BUDGET_MB"
DEFAULT_UPLOAD_BUDGET_MB = 200.0
#: Uploads that no saved run or journaled job names are removed once unused for this long (s).
UPLOAD_MAX_AGE_S = 24 * 3600.0
_UPLOAD_LOCK = threading.RLock()
_CLEANED_ONCE = False
_HASH_PREFIX = re.compile(r"^[0-9a-f]{12}-")
_AGAIN = ("unused uploads are removed after a day, or sooner when the server's upload space is "
          "full; upload the file again on the Data page")


class UploadElsewhereError(BadDataError):
    """The name of an upload made in another browser session (uploads stay in their session)."""


class UploadGoneError(BadDataError):
    """An uploaded file that is no longer on the server (removed by :func:`clean_uploads`)."""


class UploadSpaceError(BadDataError):
    """An upload that does not fit in the server's upload budget (:func:`upload_budget_bytes`)."""


def uploads_folder() -> Path:
    """Where uploaded files are kept: ``data_root()/uploads`` (one sub-folder per session)."""
    return data_root() / "uploads"


def upload_budget_bytes() -> int:
    """The most bytes the uploads folder may hold, every session's uploads together.

    Set with the environment variable ``ANOMALY_LAB_UPLOAD_BUDGET_MB`` (megabytes; fractions
    allowed); unset, or not a positive number, it is 200 MB. When a new upload would exceed it,
    :func:`clean_uploads` deletes the least recently used uploads that no saved run needs; an
    upload that still does not fit is refused with one :class:`UploadSpaceError`.
    """
    raw = os.environ.get(UPLOAD_BUDGET_ENV, "").strip()
    try:
        mb = float(raw) if raw else DEFAULT_UPLOAD_BUDGET_MB
    except ValueError:
        mb = DEFAULT_UPLOAD_BUDGET_MB
    if not math.isfinite(mb) or mb <= 0:
        mb = DEFAULT_UPLOAD_BUDGET_MB
    return int(mb * 2**20)


def owner_folder(owner: str) -> str:
    """The folder name of ``owner``'s uploads: a hash of the session token (the token itself,
    which also owns the session's jobs, never reaches the disk or a dataset name)."""
    return hashlib.sha256(f"anomaly-lab-upload:{owner}".encode()).hexdigest()[:16]


def _name_path(name: str) -> Path | None:
    """The path of a ``csv:PATH`` / ``images:PATH`` dataset name; ``None`` for registry names."""
    for prefix in ("csv:", "images:"):
        if name.startswith(prefix):
            return Path(name[len(prefix):]).expanduser()
    return None


def _upload_parts(p: Path) -> tuple[str, ...] | None:
    """``(owner folder, file)`` (or ``(file,)`` for an upload stored before owner folders) when
    ``p`` lies in :func:`uploads_folder`, else ``None``."""
    try:
        rel = p.resolve().relative_to(uploads_folder().resolve())
    except (ValueError, OSError, RuntimeError):
        return None
    return rel.parts if 1 <= len(rel.parts) <= 2 else None


def upload_path(name: str) -> Path | None:
    """The stored file behind an uploaded dataset's name, or ``None`` for any other name."""
    p = _name_path(name)
    return p if p is not None and _upload_parts(p) is not None else None


def _shown_name(p: Path) -> str:
    """A file's name as people see it: an upload's stored name without its content-hash prefix."""
    return _HASH_PREFIX.sub("", p.name) if _upload_parts(p) is not None else p.name


def owns_upload(name: str, owner: str) -> bool:
    """Whether ``name`` is an upload that the browser session ``owner`` made."""
    p = _name_path(name)
    parts = _upload_parts(p) if p is not None else None
    return parts is not None and len(parts) == 2 and parts[0] == owner_folder(owner)


def dataset_display_name(name: str, owner: str | None = None, *, mine: bool = False) -> str:
    """How a dataset name is shown to people, never with a server path.

    Registry names stay as they are; ``csv:``/``images:`` data shows its file name; an upload
    shows the file name the user gave (as stored: unusual characters become ``_``) and whose it
    is: ``heldout-wine.csv (your upload)`` when ``mine`` or ``owner`` made it, ``… (another
    session's upload)`` for another ``owner``, ``… (upload)`` when no session is known (titles
    that every session sees).
    """
    p = _name_path(name)
    if p is None:
        return name
    if _upload_parts(p) is None:
        return p.name
    if mine or (owner is not None and owns_upload(name, owner)):
        whose = "your upload"
    else:
        whose = "upload" if owner is None else "another session's upload"
    return f"{_shown_name(p)} ({whose})"


def check_upload_owner(name: str, owner: str) -> None:
    """Refuse, with :class:`UploadElsewhereError`, an upload that another browser session made
    (by file name, never its path); other names pass."""
    p = upload_path(name)
    if p is not None and not owns_upload(name, owner):
        raise UploadElsewhereError(
            f"{_shown_name(p)} is an upload that belongs to another browser session: uploads "
            "stay in the session that uploaded them. Upload your own copy on the Data page.")


def gone_message(name: str) -> str:
    """The sentence for an upload whose file is no longer on the server."""
    p = upload_path(name) or _name_path(name) or Path(name)
    return f"The uploaded file {_shown_name(p)} is no longer on this server ({_AGAIN})."


def _refuse_gone_upload(p: Path) -> None:
    """Raise :class:`UploadGoneError` when the missing path ``p`` is an upload's stored file."""
    if _upload_parts(p) is not None:
        raise UploadGoneError(gone_message(f"csv:{p}"))


def check_upload_present(name: str) -> None:
    """Raise :class:`UploadGoneError` when ``name`` is an upload whose file was removed (a copy
    cached in memory would hide that, while background training reads the file)."""
    p = upload_path(name)
    if p is not None and not p.exists():
        _refuse_gone_upload(p)


def touch_upload(name: str) -> None:
    """Mark an upload as used now: the budget removes the least recently used uploads first."""
    p = upload_path(name)
    if p is not None:
        with contextlib.suppress(OSError):
            os.utime(p)


def _run_texts(root: Path | None = None) -> list[str]:
    """The text of every saved run's ``config.json`` (its ``dataset`` names its data) and of the
    job journal (queued and running jobs), read raw so an unreadable file still protects."""
    from ad_core.data.base import runs_root

    root = Path(root) if root is not None else runs_root()
    if not root.is_dir():
        return []
    texts = []
    for f in [*root.glob("*/config.json"), root / ".jobs" / "journal.json"]:
        with contextlib.suppress(OSError):
            texts.append(f.read_text(errors="replace"))
    return texts


def uploads_in_use(runs: Path | None = None) -> set[str]:
    """Stored file names of the uploads that a saved run (or a queued/running job) names."""
    texts = _run_texts(runs)
    return {f.name for f in upload_files() if any(f.name in t for t in texts)}


def upload_files() -> list[Path]:
    """Every stored upload (owner folders and older flat files), least recently used first."""
    folder = uploads_folder()
    if not folder.is_dir():
        return []
    found = []
    for f in [*folder.glob("*"), *folder.glob("*/*")]:
        with contextlib.suppress(OSError):
            if f.is_file():
                found.append((f.stat().st_mtime, str(f), f))
    return [f for _, _, f in sorted(found)]


def _remove(f: Path) -> bool:
    try:
        f.unlink()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    with contextlib.suppress(OSError):
        if f.parent != uploads_folder() and not any(f.parent.iterdir()):
            f.parent.rmdir()
    return True


def clean_uploads(need: int = 0, *, keep: tuple[Path, ...] = (), now: float | None = None,
                  what: str = "the upload", runs: Path | None = None) -> list[Path]:
    """Keep the uploads folder tidy and within :func:`upload_budget_bytes`; returns what it
    removed.

    1. Uploads unused for :data:`UPLOAD_MAX_AGE_S` (a day) are removed.
    2. When the folder plus ``need`` new bytes would exceed the budget, the least recently used
       uploads are removed, oldest first, until they fit.

    Neither step removes a file in ``keep`` or an upload that a saved run (its ``config.json``
    under the runs root ``runs``) or the job journal names, so a run reopens and a queued job
    trains. When ``need`` bytes cannot fit even then, :class:`UploadSpaceError` names ``what``
    and nothing is removed for it.
    """
    now = time.time() if now is None else now
    budget = upload_budget_bytes()
    with _UPLOAD_LOCK:
        texts = _run_texts(runs)
        kept = {k.resolve() for k in keep}
        sizes: dict[Path, tuple[float, int]] = {}
        for f in upload_files():
            with contextlib.suppress(OSError):
                st = f.stat()
                sizes[f] = (st.st_mtime, st.st_size)

        def free(f: Path) -> bool:
            return f.resolve() not in kept and not any(f.name in t for t in texts)

        removed = [f for f, (mtime, _) in sizes.items()
                   if now - mtime > UPLOAD_MAX_AGE_S and free(f) and _remove(f)]
        left = [f for f in sizes if f not in removed]
        used = sum(sizes[f][1] for f in left)
        if need <= 0 or used + need <= budget:
            return removed
        mb = 2**20
        if need > budget:
            raise UploadSpaceError(
                f"{what} is {need / mb:.1f} MB, more than this server keeps for all uploads "
                f"together ({budget / mb:.0f} MB); upload a smaller file.")
        evictable = [f for f in left if free(f)]
        pinned = used - sum(sizes[f][1] for f in evictable)
        if pinned + need > budget:
            raise UploadSpaceError(
                f"The server's upload space is full: {pinned / mb:.1f} of its {budget / mb:.0f} "
                f"MB hold uploads that saved runs or queued trainings still use, so {what} "
                f"({need / mb:.1f} MB) does not fit. Ask whoever runs the server to delete old "
                "runs or to raise "
                f"{UPLOAD_BUDGET_ENV}.")
        for f in evictable:
            if used + need <= budget:
                break
            if _remove(f):
                removed.append(f)
                used -= sizes[f][1]
        if used + need > budget:  # a file could not be deleted
            raise UploadSpaceError(f"The server's upload space is full, so {what} does not fit; "
                                   "try again in a minute.")
        return removed


def clean_uploads_once() -> None:
    """:func:`clean_uploads` once per server process (its first dataset listing), so day-old
    unused uploads also go at server start, not only at the next upload."""
    global _CLEANED_ONCE
    if _CLEANED_ONCE:
        return
    _CLEANED_ONCE = True
    with contextlib.suppress(OSError):
        clean_uploads()


def _given_name(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name or "the upload"


def store_upload(name: str, data: bytes, owner: str | None = None) -> Path:
    """Keep an upload as ``uploads/<owner folder>/<sha256[:12]>-<safe name>`` (written
    atomically, once; without ``owner`` directly in ``uploads/``), within the budget (see
    :func:`clean_uploads`, which runs first)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadDataError(f"The upload is {len(data) / 2**20:.1f} MB; the limit is "
                           f"{MAX_UPLOAD_BYTES // 2**20} MB.")
    if not data:
        raise BadDataError(f"The upload {name!r} is empty.")
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", _given_name(name))
    safe = safe.lstrip(".")[-80:] or "upload"
    folder = uploads_folder() / owner_folder(owner) if owner else uploads_folder()
    dest = folder / f"{hashlib.sha256(data).hexdigest()[:12]}-{safe}"
    with _UPLOAD_LOCK:
        fresh = not dest.exists()
        clean_uploads(len(data) if fresh else 0, keep=(dest,), what=_given_name(name))
        folder.mkdir(parents=True, exist_ok=True)
        if fresh:
            tmp = folder / f".{dest.name}.{os.getpid()}.part"
            tmp.write_bytes(data)
            os.replace(tmp, dest)
        else:
            touch_upload(f"csv:{dest}")
    return dest


def load_uploaded(name: str, data: bytes, label_column: str | None = None,
                  size: int | None = None, owner: str | None = None) -> Dataset:
    """An uploaded ``.csv`` table or ``.zip`` of class folders of images, as a :class:`Dataset`.

    The file is stored under :func:`uploads_folder` (in ``owner``'s folder: the uploading
    browser session's token) so the returned ``Dataset.name`` (``csv:PATH`` / ``images:PATH``)
    can be reloaded by ``load_dataset`` in jobs and runs (pass the same options:
    ``label_column`` for tables, ``size`` for images). A file that cannot be used is not kept.
    Messages name the user's file, never the stored path.
    """
    ext = PurePosixPath(name.lower()).suffix
    if ext not in CSV_EXTENSIONS + (".zip",):
        raise BadDataError(f"Upload a .csv table or a .zip of images in one folder per class; "
                           f"{name!r} is neither.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadDataError(f"The upload is {len(data) / 2**20:.1f} MB; the limit is "
                           f"{MAX_UPLOAD_BYTES // 2**20} MB.")
    path = store_upload(name, data, owner)
    try:
        if ext == ".zip":
            return load_image_folder(str(path), **({"size": size} if size else {}))
        return load_csv(str(path), **({"label_column": label_column} if label_column else {}))
    except BadDataError as e:  # speak of the user's file name, not the stored copy's
        with _UPLOAD_LOCK:
            if path.name not in uploads_in_use():
                _remove(path)
        given = _given_name(name)
        raise BadDataError(str(e).replace(str(path), given).replace(path.name, given)
                           .replace(_shown_name(path), given)) from None
