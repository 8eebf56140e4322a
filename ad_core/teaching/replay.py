"""The Teaching page's training replays: real runs of the quick start's task (mnist5k, normal
class 8, quick preset, seed 0) whose snapshots show a method's idea happening.

- **Toll's targeted collapse**: the same Toll network trained twice from the same seed, once
  with β = 0 (a plain auto-encoder: Toll's score is then its reconstruction error) and once with
  the quick preset's β. The latent-norm term β‖z‖ pulls the *normal* training codes towards the
  origin while anomalies, never seen in training, keep larger codes (Toll paper §3); the replay
  shows the distribution of ‖z‖ over a fixed test subsample, normals against anomalies, step by
  step, for both runs side by side.
- **NeuTraL AD's learned views**: one NeuTraL AD run; its K learned transformations of fixed test
  samples, step by step — they start as near-copies of the input and become distinct yet
  recognisable (the DCL's "diverse and semantic" views, NeuTraL AD paper §3).

Runs are found by their content key (:func:`ad_core.experiment.run_key`), so a second visitor
opens the runs the first one trained; the page submits them as ordinary jobs otherwise.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ad_core.experiment import ExperimentSpec, run_key
from ad_core.metrics import auroc
from ad_core.runs import Run, find_run

#: The two Toll runs of the collapse replay: β = 0 and the quick preset's β (same seed).
TOLL_PAIR = (ExperimentSpec("mnist5k", ["8"], "toll", params={"beta": 0.0}, seed=0),
             ExperimentSpec("mnist5k", ["8"], "toll", seed=0))
#: The NeuTraL AD run whose learned views are replayed.
NEUTRAL_RUN = ExperimentSpec("mnist5k", ["8"], "neutral", seed=0)


def existing_runs(specs: tuple[ExperimentSpec, ...]) -> list[Run | None]:
    """The saved run of each spec (same data, parameters, seed and code), or None where it has
    not been trained yet."""
    return [find_run(run_key(s)[0]) for s in specs]


def latent_norm_replay(replay: Any) -> Any:
    """A copy of ``replay`` whose "scores" are the latent-code norms ‖z‖ of its first samples
    (those whose codes were kept) and whose AUROC is that of ‖z‖ as a score — what Toll's β‖z‖
    term adds to the score, step by step. None when the snapshots kept no codes."""
    if replay is None or replay.codes is None:
        return None
    m = replay.codes.shape[1]
    norms = np.linalg.norm(replay.codes.astype(np.float32), axis=2)
    y = replay.y[:m]
    aucs = np.array([auroc(y, n) if len(np.unique(y)) == 2 else np.nan for n in norms])
    return replace(replay, scores=norms, y=y, index=replay.index[:m], kind=replay.kind[:m],
                   auroc=aucs)


def beta_of(run: Run) -> float:
    """The β a Toll run was trained with (its resolved parameters)."""
    return float(run.config.get("params_resolved", {}).get("beta", float("nan")))
