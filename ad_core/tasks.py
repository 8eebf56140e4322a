"""Anomaly-detection tasks built from a labelled dataset (docs/ARCHITECTURE.md, floor 2;
docs/methods.md §2, §4, §8).

A :class:`Task` holds normals to train on, held-out normals for validation (never anomalies) and a
labelled test set. Every builder is deterministic in its seed: same seed → same split.

Protocols:
- ``one-vs-rest``: one or several normal classes; train on their training images; test on the
  whole test split (anomaly = any other class). Sources without an official split hold out a
  seeded 20 % of every class for test. Tables follow the ODDS protocol of NeuTraL AD: a random half
  of the normals train, the other half plus every anomaly test.
- ``testbed`` (the augmentation study's *controlled testbed*): test = the normal class's test
  images, each present as itself and as generated anomalies (vertical flip, CutOut, invert …).
- ``negatives`` (LIS-AE): normal, negative and anomaly classes are disjoint; negatives train the
  latent-shaping phase; test holds normals and anomaly classes only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ad_core.contracts import NegativesRequest, Task
from ad_core.data.base import Dataset
from ad_core.errors import BadDataError, BadParameterError, UnknownNameError, did_you_mean

TASK_KINDS = ("one-vs-rest", "testbed", "negatives")
TESTBED_GENERATORS = ("flip", "cutout", "invert")


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), 20260101]))


def _resolve_normals(ds: Dataset, normal: Sequence[str | int] | str | int) -> list[int]:
    if isinstance(normal, (str, int, np.integer)):
        normal = [normal]
    ids = sorted({ds.class_id(c) for c in normal})
    if not ids:
        raise BadParameterError("Choose at least one normal class.")
    if len(ids) == ds.n_classes:
        raise BadParameterError("Every class is marked normal, so there would be no anomalies to "
                                "detect: leave at least one class out.")
    return ids


def train_test_rows(ds: Dataset, seed: int, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the official split, or a seeded stratified split holding out ``test_fraction``."""
    y = ds.y.numpy()
    if ds.split is not None and (ds.split == "test").any() and (ds.split == "train").any():
        return np.flatnonzero(ds.split == "train"), np.flatnonzero(ds.split == "test")
    rng = _rng(seed)
    tr, te = [], []
    for c in range(ds.n_classes):
        rows = np.flatnonzero(y == c)
        rows = rows[rng.permutation(len(rows))]
        k = int(round(len(rows) * test_fraction))
        if len(rows) >= 2:
            k = min(max(k, 1), len(rows) - 1)
        te.append(rows[:k])
        tr.append(rows[k:])
    return np.sort(np.concatenate(tr)), np.sort(np.concatenate(te))


def _split_val(rows: np.ndarray, seed: int, val_fraction: float, max_train: int | None
               ) -> tuple[np.ndarray, np.ndarray]:
    if not 0.0 < val_fraction < 0.9:
        raise BadParameterError(f"val_fraction must be in (0, 0.9), got {val_fraction}.")
    rng = _rng(seed + 7919)
    rows = rows[rng.permutation(len(rows))]
    n_val = max(2, int(round(len(rows) * val_fraction)))
    if len(rows) - n_val < 2:
        raise BadDataError(f"Only {len(rows)} normal training samples: at least 4 are needed "
                           "(some are held out for validation).")
    val, train = rows[:n_val], rows[n_val:]
    if max_train is not None and max_train > 0:
        train = train[:max_train]
    return np.sort(train), np.sort(val)


def _kinds_for(ds: Dataset, rows: np.ndarray, normals: list[int]) -> tuple[np.ndarray, np.ndarray]:
    y = ds.y.numpy()[rows]
    is_anom = ~np.isin(y, normals)
    names = np.array(ds.class_names, dtype=object)[y]
    kind = np.where(is_anom, names, "normal").astype(str)
    return is_anom.astype(np.int64), kind


def training_split_stats(ds: Dataset, train_rows: np.ndarray) -> dict | None:
    """One pixel mean and standard deviation over every image of the dataset's training split
    (Toll: "zero mean and a standard deviation of 1 for pixel values" with the dataset's
    statistics, not the normal class's). ``None`` for tables."""
    if ds.modality != "image" or len(train_rows) == 0:
        return None
    x = ds.x[torch.from_numpy(np.asarray(train_rows))].double()
    return {"pixel_mean": float(x.mean()), "pixel_std": float(x.std()),
            "n": int(len(train_rows))}


def _names(ds: Dataset, ids: Sequence[int]) -> tuple[str, ...]:
    return tuple(ds.class_names[i] for i in ids)


def one_vs_rest(ds: Dataset, normal: Sequence[str | int] | str | int, seed: int = 0, *,
                val_fraction: float = 0.1, test_fraction: float = 0.2,
                max_train: int | None = None) -> Task:
    """One (or several) normal classes against all others (docs/methods.md §8; ODDS protocol for tables)."""
    normals = _resolve_normals(ds, normal)
    y = ds.y.numpy()
    stats = None
    if ds.modality == "tabular" and ds.split is None:
        # ODDS protocol (NeuTraL AD): a random half of the inliers train, the rest + anomalies test.
        rng = _rng(seed)
        norm_rows = np.flatnonzero(np.isin(y, normals))
        norm_rows = norm_rows[rng.permutation(len(norm_rows))]
        half = len(norm_rows) // 2
        pool = norm_rows[:half]
        test_rows = np.sort(np.concatenate([norm_rows[half:], np.flatnonzero(~np.isin(y, normals))]))
    else:
        train_rows, test_rows = train_test_rows(ds, seed, test_fraction)
        pool = train_rows[np.isin(y[train_rows], normals)]
        stats = training_split_stats(ds, train_rows)
    if len(pool) == 0:
        raise BadDataError(f"No training samples of class {', '.join(_names(ds, normals))} in "
                           f"{ds.name!r}.")
    train, val = _split_val(pool, seed, val_fraction, max_train)
    test_y, test_kind = _kinds_for(ds, test_rows, normals)
    if test_y.sum() == 0 or test_y.sum() == len(test_y):
        raise BadDataError("The test set needs both normal and anomalous samples; this dataset "
                           "split has only one kind.")
    names = _names(ds, normals)
    return Task(
        kind="one-vs-rest", dataset=ds.name, modality=ds.modality, normal=names,
        train_x=ds.x[train], val_x=ds.x[val], test_x=ds.x[test_rows], test_y=test_y,
        test_kind=test_kind, test_index=test_rows, test_class=y[test_rows], seed=seed,
        description=(f"{ds.name}: normal = {' + '.join(names)}; {len(train)} train, {len(val)} "
                     f"validation normals; test {len(test_rows)} ({int(test_y.sum())} anomalies)"),
        class_names=ds.class_names, feature_names=ds.feature_names, train_index=train,
        options={"val_fraction": val_fraction, "test_fraction": test_fraction,
                 "max_train": max_train},
        dataset_stats=stats,
    )


def controlled_testbed(ds: Dataset, normal: Sequence[str | int] | str | int, seed: int = 0, *,
                       generators: Sequence[str] = TESTBED_GENERATORS, val_fraction: float = 0.1,
                       test_fraction: float = 0.2, max_train: int | None = None) -> Task:
    """The augmentation study's controlled testbed: normals vs generated anomalies of each kind."""
    if ds.modality != "image":
        raise BadParameterError("The controlled testbed generates image anomalies (flip, CutOut, "
                                "invert); choose an image dataset.")
    from ad_core.augment import anomaly_generator

    gens = [anomaly_generator(g) for g in generators]  # validates names
    base = one_vs_rest(ds, normal, seed, val_fraction=val_fraction, test_fraction=test_fraction,
                       max_train=max_train)
    keep = base.test_y == 0
    xs, kinds, idx = [base.test_x[keep]], [np.full(int(keep.sum()), "normal")], [base.test_index[keep]]
    for i, (g, gen) in enumerate(zip(generators, gens)):
        gen_t = torch.Generator().manual_seed(int(seed) * 1000 + i)
        xs.append(gen(base.test_x[keep], gen_t))
        kinds.append(np.full(int(keep.sum()), g))
        idx.append(base.test_index[keep])
    test_kind = np.concatenate(kinds).astype(str)
    test_index = np.concatenate(idx)
    return Task(
        kind="testbed", dataset=ds.name, modality=ds.modality, normal=base.normal,
        train_x=base.train_x, val_x=base.val_x, test_x=torch.cat(xs),
        test_y=(test_kind != "normal").astype(np.int64), test_kind=test_kind, test_index=test_index,
        test_class=ds.y.numpy()[test_index], seed=seed,
        description=(f"{ds.name} controlled testbed: normal = {' + '.join(base.normal)}; anomalies "
                     f"= {', '.join(generators)} of the {int(keep.sum())} normal test images"),
        class_names=ds.class_names, feature_names=ds.feature_names, train_index=base.train_index,
        options={"generators": list(generators), "val_fraction": val_fraction,
                 "test_fraction": test_fraction, "max_train": max_train},
        dataset_stats=base.dataset_stats,
    )


NEGATIVE_SOURCES = ("classes", "other-half", "strokes", "dataset:NAME", "augmented-normals")
AUGMENTED_NORMALS = ("augmented normals (explicit option: NOT a similar-domain negative set; "
                     "for digits 0, 1, 8 they contain normal-looking images)")
N_STROKE_NEGATIVES = 600


def strokes_source() -> str:
    """The recorded label of the generated stroke/glyph negatives."""
    from ad_core.data.strokes import describe

    return describe()


def stroke_negatives(shape: Sequence[int], seed: int, n: int = N_STROKE_NEGATIVES
                     ) -> torch.Tensor:
    """LIS-AE's default one-vs-rest negatives: the generated stroke/glyph set (offline Omniglot
    stand-in, :mod:`ad_core.data.strokes`) at the normals' image shape."""
    from ad_core.data.strokes import stroke_glyphs

    return stroke_glyphs(n, tuple(shape), seed=int(seed) + 101)


def other_half(ds: Dataset, normals: Sequence[int]) -> list[int]:
    """LIS-AE Table 3's MNIST setting: the classes split into two halves (0–4, 5–9 for ten);
    the negatives are the half that does not contain the normal class(es)."""
    half = ds.n_classes // 2
    first = set(range(half))
    if set(normals) <= first:
        return [c for c in range(half, ds.n_classes)]
    if not set(normals) & first:
        return sorted(first)
    raise BadParameterError("'other-half' needs the normal classes within one half of the "
                            "classes (e.g. 0–4 or 5–9).")


def negative_split(ds: Dataset, normal: Sequence[str | int] | str | int, seed: int = 0, *,
                   negatives: Sequence[str | int] | str | None = None, val_fraction: float = 0.1,
                   test_fraction: float = 0.2, max_train: int | None = None) -> Task:
    """LIS-AE's split: normal, negative and held-out anomaly classes, pairwise disjoint.

    ``negatives`` (recorded as ``task.negatives_source``):

    - class names/ids of the same dataset, or ``"other-half"`` (Table 3's MNIST row: normal
      class c, negatives the five classes of the other half, anomalies the remaining four);
      default: the class after the last normal one, as the paper does for Fashion-MNIST;
    - ``"strokes"``: the generated stroke/glyph set (offline stand-in for Omniglot);
    - ``"dataset:NAME"``: another dataset's images resized to this one's shape (e.g.
      ``dataset:omniglot`` when its files are present; ``dataset:strokes`` = ``"strokes"``);
    - ``"augmented-normals"`` (alias ``"synthetic"``): heavily augmented copies of the normals —
      an explicit, labelled option only, never a default (they are not a similar-domain set).

    The test set never holds a negative class: anomalies are classes seen in neither training set.
    """
    normals = _resolve_normals(ds, normal)
    base = one_vs_rest(ds, normals, seed, val_fraction=val_fraction, test_fraction=test_fraction,
                       max_train=max_train)
    y = ds.y.numpy()
    neg_classes: list[int] = []
    kind = "classes"
    if isinstance(negatives, str) and negatives == "dataset:strokes":
        negatives = "strokes"
    if negatives is None:
        nxt = (max(normals) + 1) % ds.n_classes
        while nxt in normals:
            nxt = (nxt + 1) % ds.n_classes
        neg_classes = [nxt]
        source = f"class {ds.class_names[nxt]} of {ds.name}"
    elif isinstance(negatives, str) and negatives in ("synthetic", "augmented-normals"):
        kind, source = "augmented-normals", AUGMENTED_NORMALS
    elif isinstance(negatives, str) and negatives == "strokes":
        if ds.modality != "image":
            raise BadParameterError("The stroke/glyph negatives are images; tables need negative "
                                    "classes of the same dataset.")
        kind, source = "strokes", strokes_source()
    elif isinstance(negatives, str) and negatives.startswith("dataset:"):
        kind, source = "dataset", negatives
    else:
        if isinstance(negatives, str) and negatives == "other-half":
            neg_classes = other_half(ds, normals)
        else:
            negs = [negatives] if isinstance(negatives, (str, int)) else list(negatives)
            if len(negs) == 1 and str(negs[0]) == "other-half":
                neg_classes = other_half(ds, normals)
            else:
                neg_classes = sorted({ds.class_id(c) for c in negs})
        if set(neg_classes) & set(normals):
            raise BadParameterError("Negative classes must differ from the normal classes.")
        source = f"classes {', '.join(_names(ds, neg_classes))} of {ds.name}"
    if neg_classes:
        if len(set(neg_classes) | set(normals)) >= ds.n_classes:
            raise BadParameterError("No class is left for anomalies: choose fewer negative classes.")
        train_rows, _ = train_test_rows(ds, seed, test_fraction)
        neg_rows = train_rows[np.isin(y[train_rows], neg_classes)]
        if max_train:
            neg_rows = neg_rows[:max_train]
        neg_x = ds.x[neg_rows]
    elif kind == "augmented-normals":
        from ad_core.augment import synthetic_negatives

        neg_x = synthetic_negatives(base.train_x, torch.Generator().manual_seed(int(seed) + 17))
    elif kind == "strokes":
        neg_x = stroke_negatives(base.train_x.shape[1:], seed)
    else:
        from ad_core.data.registry import load_dataset

        other = load_dataset(source.split(":", 1)[1])
        neg_x = _match_shape(other.x, base.train_x.shape[1:])
        rng = _rng(seed + 3)
        take = rng.permutation(len(neg_x))[: max(len(base.train_x), 1)]
        neg_x = neg_x[torch.from_numpy(np.sort(take))]
    keep = ~np.isin(base.test_class, neg_classes)
    return Task(
        kind="negatives", dataset=ds.name, modality=ds.modality, normal=base.normal,
        train_x=base.train_x, val_x=base.val_x, test_x=base.test_x[torch.from_numpy(keep)],
        test_y=base.test_y[keep], test_kind=base.test_kind[keep], test_index=base.test_index[keep],
        test_class=base.test_class[keep], seed=seed,
        description=(f"{ds.name}: normal = {' + '.join(base.normal)}; negatives = {source} "
                     f"({len(neg_x)}); test excludes the negative classes"),
        class_names=ds.class_names, feature_names=ds.feature_names, negatives_x=neg_x,
        negatives_source=source, train_index=base.train_index,
        options={"negatives": negatives if negatives is None or isinstance(negatives, str)
                 else [str(c) for c in negatives],
                 "val_fraction": val_fraction, "test_fraction": test_fraction,
                 "max_train": max_train},
        dataset_stats=base.dataset_stats,
    )


def _match_shape(x: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """Resize images ``x`` to ``shape`` = (C, H, W): bilinear resize, grey↔RGB by mean/repeat."""
    c, h, w = shape
    if x.ndim != 4:
        raise BadDataError("Negative data from another dataset must be images.")
    if x.shape[1] != c:
        x = x.mean(1, keepdim=True) if c == 1 else x.mean(1, keepdim=True).repeat(1, c, 1, 1)
    if tuple(x.shape[2:]) != (h, w):
        x = torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False,
                                            antialias=True)
    return x.clamp(0, 1).contiguous()


def build_task(ds: Dataset, kind: str, normal: Sequence[str | int] | str | int, seed: int = 0,
               **options) -> Task:
    """Dispatch to the builder for ``kind`` (one of :data:`TASK_KINDS`)."""
    builders = {"one-vs-rest": one_vs_rest, "testbed": controlled_testbed,
                "negatives": negative_split}
    if kind not in builders:
        raise UnknownNameError(f"Unknown task {kind!r}. {did_you_mean(kind, list(builders))}")
    options = {k: v for k, v in options.items() if v is not None}
    return builders[kind](ds, normal, seed, **options)


def labelled_anomalies(task: Task, n_anomalies: int, seed: int) -> torch.Tensor:
    """Held-out anomalies for Toll's ``select=labelled_val``: images of the non-normal classes taken
    from the dataset's *training* split (the rows the task's test set never uses).

    Raises :class:`BadParameterError` when the task's protocol leaves no such rows (tables under the
    ODDS protocol put every anomaly in the test set; testbed anomalies are generated).
    """
    from ad_core.data import load_dataset

    if task.kind not in ("one-vs-rest", "negatives") or task.modality != "image":
        raise BadParameterError("select=labelled_val needs an image one-vs-rest task: other "
                                "protocols have no labelled anomalies outside the test set.")
    ds = load_dataset(task.dataset)
    train_rows, _ = train_test_rows(ds, task.seed, float(task.options.get("test_fraction", 0.2)))
    y = ds.y.numpy()
    normal_ids = [list(ds.class_names).index(c) for c in task.normal]
    rows = train_rows[~np.isin(y[train_rows], normal_ids)]
    test_rows = set(np.asarray(task.test_index).tolist())
    rows = np.array([r for r in rows if r not in test_rows], dtype=np.int64)
    if len(rows) == 0:
        raise BadParameterError("select=labelled_val found no anomalies outside the test set.")
    rng = np.random.default_rng(seed + 4242)
    take = np.sort(rng.choice(rows, size=min(int(n_anomalies), len(rows)), replace=False))
    return ds.x[torch.from_numpy(take)]


def resolve_negatives(task: Task, request: NegativesRequest) -> tuple[torch.Tensor, str]:
    """The negatives a detector asked for (:class:`~ad_core.contracts.NegativesRequest`) and a
    label of where they came from; deterministic in ``request.seed``."""
    from ad_core.augment import synthetic_negatives

    if request.kind == "labelled-anomalies":
        return labelled_anomalies(task, request.n, request.seed), "labelled training-split anomalies"
    if request.kind == "task-or-strokes" and task.negatives_x is not None:
        return task.negatives_x.float(), task.negatives_source or "task negatives"
    if request.kind == "augmented-normals":
        gen = torch.Generator().manual_seed(int(request.seed) + 17)
        return synthetic_negatives(task.train_x, gen).float(), AUGMENTED_NORMALS
    if request.kind not in ("task-or-strokes", "strokes"):
        raise BadParameterError(f"Unknown kind of negatives {request.kind!r}.")
    if task.modality != "image":
        raise BadDataError("This table has no negatives: LIS-AE on tables needs a "
                           "negative-data split (task=negatives) with negative classes.")
    return stroke_negatives(task.train_x.shape[1:], int(request.seed)).float(), strokes_source()
