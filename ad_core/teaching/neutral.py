"""NeuTraL AD (appendix A): DCL of the constant / identity / counterexample edge cases, and a
live toy of K learnable transformations on 2-D data. The appendix's numbers are in
:data:`ad_core.reference.NEUTRAL_APPENDIX`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ad_core.errors import BadParameterError
from ad_core.train import fit_loop, seed_everything


def edge_case_embeddings(case: str, k: int = 2) -> torch.Tensor:
    """Embeddings ``[1, K+1, Z]`` of the appendix-A edge cases (z[:, 0] = the original's).

    - ``constant``: f(T_k(x)) = C·c_k with one-hot c_k, independent of x; the original's z is
      orthogonal to every c_k (the views carry nothing about x).
    - ``identity``: T_k(x) = x, so every view equals the original.
    - ``counterexample`` (K = 2 only): z₁ ⊥ z, z₂ ⊥ z, z₁ = −z₂.
    """
    if k < 1:
        raise BadParameterError("K must be at least 1.")
    if case == "constant":
        z = torch.zeros(1, k + 1, k + 1)
        z[0, 0, k] = 1.0
        for i in range(1, k + 1):
            z[0, i, i - 1] = 10.0  # the constant C is irrelevant: cosines ignore scale
        return z
    if case == "identity":
        return torch.tensor([1.0, 0.5, -0.25]).expand(1, k + 1, 3).clone()
    if case == "counterexample":
        if k != 2:
            raise BadParameterError("The appendix's counterexample is for K = 2.")
        return torch.tensor([[[1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]])
    raise BadParameterError(f"Unknown edge case {case!r}: constant, identity or counterexample.")


def dcl_edge_cases(tau: float, k: int = 2) -> dict[str, float]:
    """NeuTraL AD's DCL L(x) = Σ_k ℓ_k (unscaled) of each appendix-A edge case at temperature τ.

    At τ = 1, K = 2 the appendix gives identity 2·log 2 = 1.386 > counterexample
    2·log(1 + e⁻¹) = 0.627, so identity transformations are not DCL's minimum.
    """
    from ad_core.nets.terms import dcl_loss

    cases = ["constant", "identity"] + (["counterexample"] if k == 2 else [])
    return {c: float(dcl_loss(edge_case_embeddings(c, k), tau).sum()) for c in cases}


def dcl_tau_curves(taus: Sequence[float], k: int = 2) -> dict[str, np.ndarray]:
    """:func:`dcl_edge_cases` over a range of temperatures (one array per case)."""
    rows = [dcl_edge_cases(float(t), k) for t in taus]
    return {"tau": np.asarray(taus, dtype=float),
            **{c: np.array([r[c] for r in rows]) for c in rows[0]}}


def ring_data(n: int = 256, seed: int = 0, noise: float = 0.08) -> np.ndarray:
    """Normal toy data: points on a noisy unit circle in the plane."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 2 * np.pi, n)
    r = 1.0 + noise * rng.standard_normal(n)
    return np.stack([r * np.cos(a), r * np.sin(a)], 1).astype(np.float32)


class ToyTransformation(nn.Module):
    """One learnable transformation T_k on 2-D points: feed-forward M(x), residual M(x) + x, or
    multiplicative σ(M(x)) ⊙ x (the authors' sigmoid mask)."""

    def __init__(self, kind: str, dim: int = 2, hidden: int = 16) -> None:
        super().__init__()
        self.kind = kind
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.net(x)
        if self.kind == "residual":
            return m + x
        if self.kind == "multiplicative":
            return torch.sigmoid(m) * x
        return m


def neutral_toy(k: int = 4, kind: str = "residual", *, steps: int = 300, tau: float = 0.1,
                n: int = 256, seed: int = 0, lr: float = 5e-3, extent: float = 2.0,
                grid: int = 41) -> dict[str, Any]:
    """Train K learnable transformations and a shared encoder with the DCL on a 2-D ring.

    Training goes through :func:`ad_core.train.fit_loop` (full batch, Adam). Returns the data,
    each transformation's outputs T_k(x) ``[K, n, 2]``, the loss curve, the DCL anomaly score on a
    grid over the plane and on a few test points (the centre and far out are anomalies).
    """
    from ad_core.nets.terms import dcl_loss

    if kind not in ("residual", "multiplicative", "feedforward"):
        raise BadParameterError("kind must be residual, multiplicative or feedforward.")
    if not 1 <= k <= 16:
        raise BadParameterError("K must be between 1 and 16.")
    gen = seed_everything(seed)
    x = torch.from_numpy(ring_data(n, seed))
    trans = nn.ModuleList([ToyTransformation(kind) for _ in range(k)])
    enc = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                        nn.Linear(32, 8))

    def embed(xb: torch.Tensor) -> torch.Tensor:
        views = torch.stack([xb] + [t(xb) for t in trans], 1)  # [N, K+1, 2]
        return enc(views)

    def loss_fn(batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return dcl_loss(embed(batch[0]), tau).sum(1).mean()

    opt = torch.optim.Adam([*trans.parameters(), *enc.parameters()], lr=lr)
    res = fit_loop(modules=[trans, enc], optimizer=opt, loss_fn=loss_fn, data=[x],
                   batch_size=n, iterations=steps, generator=gen, device=torch.device("cpu"),
                   amp=False)
    g = np.linspace(-extent, extent, grid)
    xx, yy = np.meshgrid(g, g)
    pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float32))
    with torch.inference_mode():
        views = torch.stack([t(x) for t in trans]).numpy()
        grid_s = dcl_loss(embed(pts), tau).sum(1).numpy().reshape(grid, grid)
        train_s = dcl_loss(embed(x), tau).sum(1).numpy()
    return {"samples": x.numpy(), "views": views, "loss": np.asarray(res.history["loss"]),
            "x1": g, "x2": g, "score": grid_s, "train_scores": train_s, "k": k, "kind": kind,
            "tau": tau, "k_log_k": k * math.log(k) if k > 1 else 0.0}
