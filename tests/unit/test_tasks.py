"""Task builders: seeded splits, normals-only validation, several normal classes, negatives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ad_core.data.base import Dataset
from ad_core.errors import BadParameterError, UnknownNameError, UserError
from ad_core.tasks import build_task, negative_split, one_vs_rest

N_PER, N_CLS = 20, 6


def _tagged(split: bool = False, modality: str = "image") -> Dataset:
    """A dataset whose first feature encodes the row id (row / 256), so splits can be traced."""
    n = N_PER * N_CLS
    y = torch.arange(n) % N_CLS
    g = torch.Generator().manual_seed(0)
    x = torch.rand((n, 1, 4, 4), generator=g)
    x[:, 0, 0, 0] = torch.arange(n, dtype=torch.float32) / 256.0
    if modality == "tabular":
        x = x.reshape(n, -1)
    sp = np.where(np.arange(n) < n * 3 // 4, "train", "test") if split else None
    return Dataset("tagged", modality, x, y, tuple(f"c{i}" for i in range(N_CLS)), split=sp)


def rows_of(x: torch.Tensor) -> np.ndarray:
    first = x.reshape(len(x), -1)[:, 0]
    return (first * 256).round().long().numpy()


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return _tagged()


def test_same_seed_same_split_different_seed_different_split(ds):
    a, b, c = one_vs_rest(ds, "c0", seed=1), one_vs_rest(ds, "c0", seed=1), one_vs_rest(ds, "c0", 2)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.val_x, b.val_x)
    assert np.array_equal(a.test_index, b.test_index)
    assert not np.array_equal(rows_of(a.train_x), rows_of(c.train_x))
    assert a.description == b.description


def test_validation_holds_normals_only_and_splits_are_disjoint(ds):
    t = one_vs_rest(ds, "c2", seed=0)
    y = ds.y.numpy()
    train, val, test = rows_of(t.train_x), rows_of(t.val_x), t.test_index
    assert (y[train] == 2).all() and (y[val] == 2).all() and len(val) >= 2
    assert not (set(train) & set(val)) and not (set(train) & set(test)) and not (set(val) & set(test))
    assert np.array_equal(rows_of(t.test_x), test)
    assert np.array_equal(t.test_y, (y[test] != 2).astype(int))
    assert set(t.test_kind[t.test_y == 0]) == {"normal"}
    assert set(t.test_kind[t.test_y == 1]) == {f"c{i}" for i in range(N_CLS) if i != 2}
    assert np.array_equal(t.test_class, y[test])
    assert np.array_equal(t.train_index, np.sort(train))


def test_several_normal_classes(ds):
    t = one_vs_rest(ds, ["c1", 3], seed=0)
    assert t.normal == ("c1", "c3")
    y = ds.y.numpy()
    assert set(y[rows_of(t.train_x)]) == {1, 3}
    assert np.array_equal(t.test_y, (~np.isin(y[t.test_index], [1, 3])).astype(int))
    assert 0 < t.contamination < 1


def test_official_split_is_used_when_present():
    ds = _tagged(split=True)
    t = one_vs_rest(ds, "c0", seed=5)
    assert (ds.split[t.test_index] == "test").all()
    assert (ds.split[rows_of(t.train_x)] == "train").all()
    assert len(t.test_index) == (ds.split == "test").sum()


def test_tabular_odds_protocol_half_of_the_normals_train():
    ds = _tagged(modality="tabular")
    t = one_vs_rest(ds, "c0", seed=0)
    assert len(t.train_x) + len(t.val_x) == N_PER // 2
    assert t.test_y.sum() == N_PER * (N_CLS - 1)  # every anomaly is tested
    assert (t.test_y == 0).sum() == N_PER // 2


def test_negatives_are_disjoint_from_normals_and_anomalies(ds):
    t = negative_split(ds, "c0", seed=0)
    y = ds.y.numpy()
    neg = y[rows_of(t.negatives_x)]
    assert set(neg) == {1} and "c1" in t.negatives_source
    assert 1 not in set(t.test_class)
    assert set(t.test_class[t.test_y == 1]) == {2, 3, 4, 5}
    assert not set(rows_of(t.negatives_x)) & set(t.test_index)
    t2 = negative_split(ds, "c0", seed=0, negatives=["c4", "c5"])
    assert set(y[rows_of(t2.negatives_x)]) == {4, 5} and not {4, 5} & set(t2.test_class)
    with pytest.raises(BadParameterError, match="differ"):
        negative_split(ds, "c0", negatives=["c0"])
    with pytest.raises(BadParameterError, match="No class is left"):
        negative_split(ds, ["c0", "c1"], negatives=["c2", "c3", "c4", "c5"])


def test_spec_rebuilds_the_same_task(ds):
    t = one_vs_rest(ds, ["c1", "c4"], seed=3, val_fraction=0.2)
    s = t.spec()
    again = build_task(ds, s["kind"], s["normal"], s["seed"], **s["options"])
    assert torch.equal(again.train_x, t.train_x) and np.array_equal(again.test_index, t.test_index)


@pytest.mark.parametrize("normal,err", [
    ("dog", UnknownNameError), (99, UnknownNameError),
    ([f"c{i}" for i in range(N_CLS)], BadParameterError), ([], BadParameterError),
])
def test_bad_normal_classes(ds, normal, err):
    with pytest.raises(err) as e:
        one_vs_rest(ds, normal)
    assert isinstance(e.value, UserError)


def test_unknown_task_kind(ds):
    with pytest.raises(UnknownNameError, match="one-vs-rest"):
        build_task(ds, "one-vs-all", "c0")
    with pytest.raises(BadParameterError, match="val_fraction"):
        one_vs_rest(ds, "c0", val_fraction=0.95)


def test_controlled_testbed_when_augment_exists(ds):
    t = build_task(ds, "testbed", "c0", seed=0)
    n_norm = int((t.test_kind == "normal").sum())
    assert n_norm > 0
    for g in ("flip", "cutout", "invert"):
        assert (t.test_kind == g).sum() == n_norm
    assert np.array_equal(t.test_y, (t.test_kind != "normal").astype(int))
    assert (ds.y.numpy()[t.test_index] == 0).all()  # every item comes from a normal image
    assert t.test_x.shape[1:] == ds.x.shape[1:]
    again = build_task(ds, "testbed", "c0", seed=0)
    assert torch.equal(again.test_x, t.test_x)


def test_other_half_negatives_is_lisae_table_3_setting(ds):
    # six classes: halves c0–c2 and c3–c5; normal c0 → negatives c3, c4, c5, anomalies c1, c2
    t = negative_split(ds, "c0", seed=0, negatives="other-half")
    y = ds.y.numpy()
    assert set(y[rows_of(t.negatives_x)]) == {3, 4, 5}
    assert set(t.test_class) == {0, 1, 2} and set(t.test_class[t.test_y == 1]) == {1, 2}
    assert "c3, c4, c5" in t.negatives_source
    t4 = negative_split(ds, "c4", seed=0, negatives=["other-half"])
    assert set(y[rows_of(t4.negatives_x)]) == {0, 1, 2}
    with pytest.raises(BadParameterError, match="half"):
        negative_split(ds, ["c0", "c4"], negatives="other-half")


def test_generated_stroke_negatives_and_explicit_augmented_normals(ds):
    t = negative_split(ds, "c0", seed=0, negatives="strokes")
    assert t.negatives_x.shape[1:] == ds.x.shape[1:]
    assert "strokes" in t.negatives_source and "augmented" not in t.negatives_source
    assert float(t.negatives_x.min()) >= 0.0 and float(t.negatives_x.max()) <= 1.0
    assert set(t.test_class) == set(range(N_CLS))  # no class is a negative: all stay in the test
    same = negative_split(ds, "c0", seed=0, negatives="dataset:strokes")
    assert torch.equal(same.negatives_x, t.negatives_x)
    aug = negative_split(ds, "c0", seed=0, negatives="augmented-normals")
    assert aug.negatives_source.startswith("augmented normals") and "NOT" in aug.negatives_source
    assert negative_split(ds, "c0", seed=0, negatives="synthetic").negatives_source == \
        aug.negatives_source


def test_dataset_stats_are_of_the_whole_training_split_not_the_normal_class(ds):
    from ad_core.tasks import train_test_rows

    t = one_vs_rest(ds, "c0", seed=0)
    train_rows, _ = train_test_rows(ds, 0, 0.2)
    x = ds.x[torch.from_numpy(train_rows)].double()
    assert t.dataset_stats["pixel_mean"] == pytest.approx(float(x.mean()))
    assert t.dataset_stats["pixel_std"] == pytest.approx(float(x.std()))
    assert t.dataset_stats["pixel_mean"] != pytest.approx(float(t.train_x.double().mean()))
    assert one_vs_rest(_tagged(modality="tabular"), "c0", seed=0).dataset_stats is None
