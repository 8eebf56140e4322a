"""The one training loop shared by every deep detector (docs/ARCHITECTURE.md, floor 3).

:func:`fit_loop` runs mini-batch gradient descent for a number of epochs (shuffled passes) or of
iterations (random batches, as Toll does; drawn from shuffled passes, so no sample repeats
within an epoch), reports each step to a :class:`TrainingMonitor`, stops
when the monitor asks (keeping what was learned), evaluates a validation criterion every
``eval_every`` steps and keeps the best checkpoint, runs bf16 autocast on CUDA and is deterministic
under a seed on CPU.

The loop knows nothing about models: the detector passes a ``loss_fn(batch) -> loss`` (or
``(loss, metrics)``) closure and the modules whose weights form the checkpoint.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ad_core.contracts import NullMonitor, TrainingMonitor
from ad_core.device import autocast
from ad_core.errors import BadDataError, BadParameterError

LossFn = Callable[[tuple[torch.Tensor, ...]], "torch.Tensor | tuple[torch.Tensor, dict[str, float]]"]


@dataclass
class LoopResult:
    """What a training run produced: curves, the chosen step, and whether it was cancelled."""

    history: dict[str, list] = field(default_factory=dict)
    best_step: int = 0
    best_value: float = math.inf
    steps: int = 0
    cancelled: bool = False
    seconds: float = 0.0


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch's global RNG (weight init) and return a CPU generator for batch order."""
    torch.manual_seed(int(seed))
    np.random.seed(int(seed) % (2**32))
    return torch.Generator().manual_seed(int(seed))


def fit_loop(
    *,
    modules: nn.Module | Sequence[nn.Module],
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    data: Sequence[torch.Tensor],
    batch_size: int,
    epochs: int | None = None,
    iterations: int | None = None,
    scheduler: Any = None,
    scheduler_per: str = "epoch",
    monitor: TrainingMonitor | None = None,
    validate: Callable[[], float] | None = None,
    eval_every: int | None = None,
    select: str = "last",
    generator: torch.Generator | None = None,
    device: torch.device | None = None,
    amp: bool = True,
    drop_last: bool = False,
    history: dict[str, list] | None = None,
    phase: str = "",
    grad_clip: float | None = None,
) -> LoopResult:
    """Train ``modules`` by minimising ``loss_fn`` over mini-batches of ``data``.

    Args:
        modules: the networks being trained (put in train mode; their state is checkpointed).
        optimizer: built by the detector over the parameters that should move.
        loss_fn: maps a batch (tuple of tensors, already on ``device``) to a scalar loss, or to
            ``(loss, {name: value})`` for extra curves.
        data: tensors sharing their first dimension (inputs, indices, labels …), on any device.
        batch_size: samples per step (clipped to the data size).
        epochs / iterations: exactly one; epochs = shuffled passes; iterations = that many
            batches taken from consecutive shuffled passes (Toll's "random batches", drawn
            without replacement within a pass).
        scheduler: optional LR scheduler, stepped per ``"epoch"`` or per ``"step"``.
        validate: returns a value to minimise (e.g. validation-normal loss); called every
            ``eval_every`` steps (default: once per epoch, or every 20 iterations) and at the end.
        select: ``"last"`` keeps the final weights; ``"best"`` restores the weights with the
            lowest ``validate()`` value.
        phase: a prefix for history keys (LIS-AE's two phases share one history).
    """
    mods = [modules] if isinstance(modules, nn.Module) else list(modules)
    monitor = monitor or NullMonitor()
    if (epochs is None) == (iterations is None):
        raise BadParameterError("Give either epochs or iterations.")
    n = len(data[0])
    if n == 0:
        raise BadDataError("There is no training data.")
    if any(len(t) != n for t in data):
        raise BadDataError("Training tensors disagree in length.")
    if select not in ("last", "best"):
        raise BadParameterError("select must be 'last' or 'best'.")
    if select == "best" and validate is None:
        raise BadParameterError("Keeping the best checkpoint needs a validation criterion.")
    bs = max(1, min(int(batch_size), n))
    steps_per_epoch = n // bs if drop_last and n >= bs else math.ceil(n / bs)
    total = int(epochs) * steps_per_epoch if epochs is not None else int(iterations)
    if eval_every is None:
        eval_every = steps_per_epoch if epochs is not None else 20
    gen = generator or torch.Generator().manual_seed(0)
    dev = device or data[0].device
    pre = f"{phase}_" if phase else ""
    hist = history if history is not None else {}
    for key in ("step", "loss", "val_step", "val"):
        hist.setdefault(pre + key, [])
    res = LoopResult(history=hist)
    best_state: list[dict[str, torch.Tensor]] | None = None
    t0 = time.perf_counter()
    monitor.on_start(total)

    def batches():
        """(epoch, row indices) per step. Both modes draw batches from shuffled passes, so a
        sample never repeats within an epoch (docs/methods.md §1, §8); a batch size above the data size is
        one full batch. ``iterations`` chains as many passes as the step count needs."""
        if epochs is not None:
            for ep in range(int(epochs)):
                perm = torch.randperm(n, generator=gen)
                for i in range(steps_per_epoch):
                    yield ep, perm[i * bs:(i + 1) * bs]
        else:
            ep, i, perm = -1, steps_per_epoch, None
            for _ in range(int(iterations)):
                if i >= steps_per_epoch:
                    ep, i, perm = ep + 1, 0, torch.randperm(n, generator=gen)
                yield ep, perm[i * bs:(i + 1) * bs]
                i += 1

    def evaluate(step: int) -> None:
        nonlocal best_state
        if validate is None:
            return
        for m in mods:
            m.eval()
        with torch.no_grad():
            v = float(validate())
        for m in mods:
            m.train()
        hist[pre + "val_step"].append(step)
        hist[pre + "val"].append(v)
        if select == "best" and (v < res.best_value or best_state is None):
            res.best_value, res.best_step = v, step
            best_state = [copy.deepcopy({k: t.detach().clone() for k, t in m.state_dict().items()})
                          for m in mods]

    for m in mods:
        m.train()
    step = 0
    last_epoch = 0
    for ep, idx in batches():
        if monitor.should_stop():
            res.cancelled = True
            break
        if ep != last_epoch and scheduler is not None and scheduler_per == "epoch":
            scheduler.step()
        last_epoch = ep
        batch = tuple(t[idx.to(t.device)].to(dev, non_blocking=True) for t in data)
        with autocast(dev, amp):
            out = loss_fn(batch)
        loss, metrics = (out if isinstance(out, tuple) else (out, {}))
        if not torch.isfinite(loss):
            raise BadDataError(f"Training diverged (loss became {float(loss)} at step {step}): "
                               "lower the learning rate or check the data.")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            torch.nn.utils.clip_grad_norm_([p for m in mods for p in m.parameters()], grad_clip)
        optimizer.step()
        if scheduler is not None and scheduler_per == "step":
            scheduler.step()
        step += 1
        lv = float(loss.detach())
        hist[pre + "step"].append(step)
        hist[pre + "loss"].append(lv)
        for k, v in metrics.items():
            hist.setdefault(pre + k, []).append(float(v))
        monitor.on_step(step, lv, **{k: float(v) for k, v in metrics.items()})
        if step % eval_every == 0:
            evaluate(step)
    if step > 0 and (not hist[pre + "val_step"] or hist[pre + "val_step"][-1] != step):
        evaluate(step)
    if select == "best" and best_state is not None:
        for m, s in zip(mods, best_state):
            m.load_state_dict(s)
    for m in mods:
        m.eval()
    res.steps = step
    res.seconds = time.perf_counter() - t0
    if select == "last":
        res.best_step = step
        res.best_value = hist[pre + "val"][-1] if hist[pre + "val"] else math.nan
    hist[pre + "best_step"] = [res.best_step]
    hist[pre + "cancelled"] = [bool(res.cancelled)]
    hist[pre + "steps_per_epoch"] = [int(steps_per_epoch)]
    monitor.on_end()
    return res


@torch.inference_mode()
def predict_batches(fn: Callable[[torch.Tensor], torch.Tensor | dict[str, torch.Tensor]],
                    x: torch.Tensor, device: torch.device, batch_size: int = 512,
                    amp: bool = True) -> Any:
    """Run ``fn`` over ``x`` in batches on ``device`` under inference mode; results on CPU, fp32.

    ``fn`` returns a tensor (concatenated) or a dict of tensors (concatenated per key).
    """
    outs: list[Any] = []
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size].to(device, non_blocking=True)
        with autocast(device, amp):
            o = fn(xb)
        if isinstance(o, dict):
            outs.append({k: v.detach().float().cpu() for k, v in o.items()})
        else:
            outs.append(o.detach().float().cpu())
    if not outs:
        raise BadDataError("Nothing to score.")
    if isinstance(outs[0], dict):
        return {k: torch.cat([o[k] for o in outs]) for k in outs[0]}
    return torch.cat(outs)
