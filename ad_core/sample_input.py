"""One input for the Sample page, made ready for a run: a canvas drawing, an uploaded image or
a CSV row decoded and brought to the run's per-sample input shape (a test sample passes as is).

The clear :class:`~ad_core.errors.UserError` s here are what the user sees when an input cannot be
used (an empty drawing, a wrong number of columns, an unreadable image).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ad_core.errors import BadDataError, UnknownNameError, did_you_mean


class EmptyDrawingError(BadDataError):
    """The canvas (or uploaded image) holds nothing to score."""


#: Canvas pixels darker than this (0..1) are background, not ink.
INK_LEVEL = 0.05


def canvas_to_image(rgba: np.ndarray, shape: tuple[int, ...] = (1, 28, 28)) -> np.ndarray:
    """A drawing (``[H, W, 4]`` RGBA or ``[H, W, 3]``, light ink on a dark or transparent
    background, as ``streamlit-drawable-canvas`` returns it) as an image of ``shape`` the way
    MNIST was made: the ink's bounding box scaled to fit 20×20 (of 28×28, proportionally for
    other sizes), pasted so its centre of mass sits in the middle. Raises
    :class:`EmptyDrawingError` when nothing is drawn."""
    import torch
    import torch.nn.functional as F

    a = np.asarray(rgba, dtype=np.float64)
    if a.ndim != 3 or a.shape[-1] not in (3, 4):
        raise BadDataError(f"A drawing must be an RGBA image [H, W, 4]; got shape {a.shape}.")
    if len(shape) != 3:
        raise BadDataError(f"A drawing can only be scored by image runs, not by runs on "
                           f"{shape[0]} table features.")
    if np.nanmax(a) > 1.0:
        a = a / 255.0
    a = np.nan_to_num(a)
    ink = a[..., :3].mean(-1) * (a[..., 3] if a.shape[-1] == 4 else 1.0)
    on = ink > INK_LEVEL
    if not on.any():
        raise EmptyDrawingError("The drawing is empty: draw a digit on the canvas (light ink on "
                                "the dark background, as in MNIST) and it is scored at once.")
    ys, xs = np.flatnonzero(on.any(1)), np.flatnonzero(on.any(0))
    crop = ink[ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1]
    c, h, w = (int(s) for s in shape)
    box = max(1, round(min(h, w) * 20 / 28))
    scale = box / max(crop.shape)
    ch, cw = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    small = F.interpolate(torch.from_numpy(crop)[None, None], size=(ch, cw), mode="area")[0, 0]
    small = small.numpy()
    small = small / small.max() if small.max() > 0 else small
    total = small.sum()
    cy = (small.sum(1) * np.arange(ch)).sum() / total
    cx = (small.sum(0) * np.arange(cw)).sum() / total
    top = int(np.clip(round((h - 1) / 2 - cy), 0, h - ch))
    left = int(np.clip(round((w - 1) / 2 - cx), 0, w - cw))
    out = np.zeros((h, w), np.float32)
    out[top:top + ch, left:left + cw] = small
    return np.repeat(out[None], c, axis=0)


def decode_image(data: bytes) -> np.ndarray:
    """An uploaded image file (PNG, JPEG …) as a uint8 array ``[H, W]``, ``[H, W, 3]`` or
    ``[H, W, 4]``; a clear error when it is not an image (the uploads' decoder,
    :func:`ad_core.data.user.decode_image`, with its size limits)."""
    from ad_core.data.user import decode_image as decode

    if len(data) > 10 * 2 ** 20:
        raise BadDataError("The image is larger than 10 MB; upload a smaller one.")
    return decode(data, "the uploaded file", keep_mode=True)


def image_to_input(img: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, list[str]]:
    """An uploaded image (``[H, W]``, ``[H, W, 3|4]`` uint8 or [0, 1]) as a model input of
    ``shape`` ``(C, H, W)``: resized with area averaging, a transparent background read as
    black, a dark-on-light picture inverted (the datasets are light-on-dark). Returns the input
    and what was done to it. A colour picture for grey runs (or the reverse) is refused."""
    import torch
    import torch.nn.functional as F

    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3, 4):
        a = a.transpose(1, 2, 0)  # CHW → HWC
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3, 4) or min(a.shape[:2]) < 2:
        raise BadDataError(f"An image must be [height, width] or [height, width, channels]; got "
                           f"shape {tuple(np.shape(img))}.")
    if len(shape) != 3:
        raise BadDataError(f"These runs take a table row of {shape[0]} features, not an image: "
                           "upload a CSV row instead.")
    if not np.isfinite(a).all():
        raise BadDataError("The image contains NaN or infinite values.")
    notes = []
    if a.max() > 1.0:
        a = a / 255.0
    if a.shape[-1] == 4:
        a = a[..., :3] * a[..., 3:]
        if np.asarray(img)[..., 3].min() < 255:
            notes.append("transparent background read as black")
    c, h, w = (int(s) for s in shape)
    if a.shape[-1] == 3 and c == 1:
        if np.abs(a - a.mean(-1, keepdims=True)).max() > 2 / 255:
            raise BadDataError("This is a colour image, but the runs were trained on grey "
                               "(1-channel) images: upload a greyscale picture.")
        a = a[..., :1]
    elif a.shape[-1] == 1 and c == 3:
        raise BadDataError("This is a grey (1-channel) image, but the runs were trained on "
                           "colour (3-channel) images: upload a colour picture.")
    border = np.concatenate([a[0].ravel(), a[-1].ravel(), a[:, 0].ravel(), a[:, -1].ravel()])
    if c == 1 and border.mean() > 0.5:
        a = 1.0 - a
        notes.append("dark-on-light picture inverted (the training images are light on dark)")
    t = torch.from_numpy(a.transpose(2, 0, 1).copy())[None]
    if t.shape[-2:] != (h, w):
        mode = "area" if t.shape[-2] >= h and t.shape[-1] >= w else "bilinear"
        t = F.interpolate(t, size=(h, w), mode=mode,
                          **({} if mode == "area" else {"align_corners": False}))
        notes.append(f"resized from {a.shape[0]}×{a.shape[1]} to {h}×{w}")
    out = t[0].clamp(0, 1).numpy().astype(np.float32)
    if out.max() <= INK_LEVEL:
        raise EmptyDrawingError("The image is blank: there is nothing in it to score.")
    return out, notes


def parse_csv_row(data: bytes | str, n_features: int,
                  feature_names: list[str] | tuple[str, ...] | None = None) -> np.ndarray:
    """The first data row of an uploaded CSV (a header naming the features is optional) as a
    float32 vector of ``n_features``; a clear error for a wrong count, text or a missing value."""
    import io

    import pandas as pd

    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else str(data)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise BadDataError("The CSV file is empty: it needs one row of numbers.")
    header = None if all(_is_number(v) for v in lines[0].split(",")) else 0
    try:
        df = pd.read_csv(io.StringIO("\n".join(lines)), header=header, nrows=1)
    except (ValueError, pd.errors.ParserError) as e:
        raise BadDataError(f"The CSV file could not be read: {e}") from None
    if df.empty:
        raise BadDataError("The CSV file has a header but no row of numbers under it.")
    if header == 0 and feature_names and set(map(str, feature_names)) <= set(map(str, df.columns)):
        df = df[[str(n) for n in feature_names]]
    if df.shape[1] != n_features:
        raise BadDataError(f"The row has {df.shape[1]} values, but the runs were trained on "
                           f"{n_features} features"
                           + (f" ({', '.join(map(str, feature_names[:6]))}"
                              f"{' …' if len(feature_names) > 6 else ''})" if feature_names else "")
                           + ".")
    row = pd.to_numeric(df.iloc[0], errors="coerce")
    bad = [str(c) for c, v in row.items() if not np.isfinite(v)]
    if bad:
        raise BadDataError(f"The row has missing or non-numeric values (NaN) in "
                           f"{', '.join(bad[:5])}{' …' if len(bad) > 5 else ''}: every feature "
                           "needs a number.")
    return row.to_numpy(np.float32)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text.strip() == ""  # an empty cell is a missing number, not a header
    return True


#: What :func:`prepare_input` may be told its input is.
INPUT_SOURCES = ("auto", "sample", "canvas", "image")


def prepare_input(x: Any, shape: tuple[int, ...], source: str = "auto"
                  ) -> tuple[np.ndarray, list[str]]:
    """``x`` as one model input of per-sample ``shape``, and what was done to it.

    ``source``: ``sample`` = exactly that shape (a test sample, a CSV row; a leading batch axis
    of 1 is dropped); ``canvas`` = a drawing ``[H, W, 4]`` (see :func:`canvas_to_image`);
    ``image`` = an uploaded picture ``[H, W]`` / ``[H, W, 3|4]`` (see :func:`image_to_input`);
    ``auto`` = the per-sample shape if it matches, else a canvas for ``[H, W, 4]``, else an
    image. Wrong shapes, channels, NaNs and empty drawings raise :class:`BadDataError` with one
    sentence saying what is wrong.
    """
    if source not in INPUT_SOURCES:
        raise UnknownNameError(f"Unknown input source {source!r}. "
                               f"{did_you_mean(source, INPUT_SOURCES)}")
    a = np.asarray(x)
    if a.dtype == object or not np.issubdtype(a.dtype, np.number):
        raise BadDataError("The input must be numbers (an image or a row of features).")
    shape = tuple(int(s) for s in shape)
    if a.ndim == len(shape) + 1 and a.shape[0] == 1 and a.shape[1:] == shape:
        a = a[0]
    if source in ("auto", "sample") and a.shape == shape:
        a = a.astype(np.float32)
        if not np.isfinite(a).all():
            raise BadDataError("The input contains NaN or infinite values: every pixel or "
                               "feature needs a number.")
        return a, []
    if source == "canvas" or (source == "auto" and a.ndim == 3 and a.shape[-1] == 4
                              and a.shape[0] > 4 and len(shape) == 3):
        return canvas_to_image(a, shape), [f"drawing down-sampled to {shape[1]}×{shape[2]}, "
                                           "centred like MNIST"]
    if len(shape) == 1 and source != "image":
        raise BadDataError(f"The input has shape {a.shape}, but these runs take a row of "
                           f"{shape[0]} features.")
    if source in ("auto", "image") and a.ndim in (2, 3):
        return image_to_input(a, shape)
    raise BadDataError(f"The input has shape {a.shape}, but these runs take images of shape "
                       f"{shape} (channels × height × width).")
