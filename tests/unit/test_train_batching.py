"""The one training loop's batching (docs/methods.md §1, §8): no sample repeats within an epoch, and a
batch size above the training-set size means one full batch — in epochs and in iterations mode."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ad_core.train import fit_loop


def _batches(n: int, batch_size: int, drop_last: bool, **length: int) -> list[list[int]]:
    seen: list[list[int]] = []
    lin = nn.Linear(1, 1)
    opt = torch.optim.SGD(lin.parameters(), lr=0.0)

    def loss_fn(batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        seen.append(batch[0].long().tolist())
        return lin(batch[0].float()[:, None]).sum() * 0.0

    fit_loop(modules=lin, optimizer=opt, loss_fn=loss_fn, data=(torch.arange(n),),
             batch_size=batch_size, drop_last=drop_last, generator=torch.Generator().manual_seed(0),
             **length)
    return seen


@pytest.mark.parametrize("drop_last", [True, False])
def test_batch_size_above_the_data_size_is_one_full_batch_every_iteration(drop_last):
    # Toll's paper preset: batch 1000 on a few hundred normals
    for b in _batches(37, 1000, drop_last, iterations=5):
        assert sorted(b) == list(range(37))


def test_iterations_never_repeat_a_sample_within_an_epoch():
    n, bs = 50, 8
    got = _batches(n, bs, True, iterations=30)
    per_epoch = n // bs  # 6 full batches per pass, the 2 left-over rows wait for the next pass
    assert len(got) == 30
    for b in got:
        assert len(b) == bs and len(set(b)) == bs
    for e in range(len(got) // per_epoch):
        rows = [r for b in got[e * per_epoch:(e + 1) * per_epoch] for r in b]
        assert len(rows) == len(set(rows)) == per_epoch * bs


def test_iterations_without_drop_last_cover_every_sample_once_per_epoch():
    got = _batches(10, 4, False, iterations=6)  # 3 batches (4, 4, 2) per pass
    for e in range(2):
        rows = [r for b in got[3 * e:3 * e + 3] for r in b]
        assert sorted(rows) == list(range(10))


def test_epochs_mode_is_a_permutation_per_epoch():
    got = _batches(20, 6, True, epochs=3)
    assert len(got) == 9
    for e in range(3):
        rows = [r for b in got[3 * e:3 * e + 3] for r in b]
        assert len(rows) == len(set(rows)) == 18
