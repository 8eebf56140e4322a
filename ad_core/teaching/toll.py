"""Toll (targeted collapse, §3, Figure 2 and Theorem 1): a linear autoencoder with a 1-D latent
on a 2-D Gaussian (variances 4 and 1), trained with the norm penalty β through the project's
:func:`ad_core.train.fit_loop`; contour maps of the score ‖x̂ − x‖ + β‖z‖; and the gradient-flow
solution Z(t) = W(0) U exp(−Λt) Uᵀ X of the norm-only loss.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ad_core import metrics as M
from ad_core.errors import BadParameterError
from ad_core.teaching.common import gaussian_samples
from ad_core.train import fit_loop, seed_everything

TOLL_VARIANCES = (4.0, 1.0)


@dataclass
class LinearAE:
    """A trained bias-free linear autoencoder: z = W₁x, x̂ = W₂z (W₁ is ``[d, m]``, W₂ ``[m, d]``)."""

    encoder: np.ndarray
    decoder: np.ndarray
    beta: float
    loss: np.ndarray  # training loss per step

    def terms(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Toll's two score terms of ``points`` ``[N, m]``: ‖x̂ − x‖₂ and ‖z‖₂ (non-squared)."""
        z = points @ self.encoder.T
        rec = z @ self.decoder.T
        return np.linalg.norm(rec - points, axis=1), np.linalg.norm(z, axis=1)

    def score(self, points: np.ndarray) -> np.ndarray:
        """Toll's anomaly score s(x) = ‖x̂ − x‖₂ + β‖z‖₂."""
        rec, norm = self.terms(points)
        return rec + self.beta * norm


def train_linear_toll(x: np.ndarray, beta: float, *, latent: int = 1, steps: int = 400,
                      lr: float = 0.02, seed: int = 0) -> LinearAE:
    """Train a linear AE with Toll's *targeted collapse* loss mean‖x̂ − x‖₂ + β·mean‖z‖₂.

    Full-batch Adam for ``steps`` iterations through :func:`ad_core.train.fit_loop`. The latent
    norm can always shrink (W₁ → cW₁, W₂ → W₂/c leaves x̂ unchanged), so the penalty acts through
    the training dynamics, exactly as in the paper: a finite number of steps, not an optimum.
    """
    if beta < 0:
        raise BadParameterError("β must be non-negative.")
    if not 1 <= steps <= 20000:
        raise BadParameterError("steps must be between 1 and 20000.")
    gen = seed_everything(seed)
    m = x.shape[1]
    enc = nn.Linear(m, latent, bias=False)
    dec = nn.Linear(latent, m, bias=False)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=lr)

    def loss_fn(batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        (xb,) = batch
        z = enc(xb)
        return (dec(z) - xb).norm(dim=1).mean() + beta * z.norm(dim=1).mean()

    xt = torch.from_numpy(np.asarray(x, dtype=np.float32))
    res = fit_loop(modules=[enc, dec], optimizer=opt, loss_fn=loss_fn, data=[xt],
                   batch_size=len(xt), iterations=steps, generator=gen,
                   device=torch.device("cpu"), amp=False)
    return LinearAE(enc.weight.detach().numpy().astype(np.float64),
                    dec.weight.detach().numpy().astype(np.float64), float(beta),
                    np.asarray(res.history["loss"], dtype=np.float64))


def score_grid(model: LinearAE, extent: float = 6.0, n: int = 81
               ) -> dict[str, np.ndarray]:
    """Toll's score and its two terms on an ``n × n`` grid over ``[-extent, extent]²``."""
    g = np.linspace(-extent, extent, n)
    xx, yy = np.meshgrid(g, g)
    pts = np.stack([xx.ravel(), yy.ravel()], axis=1)
    rec, norm = model.terms(pts)
    return {"x1": g, "x2": g, "reconstruction": rec.reshape(n, n),
            "latent_norm": norm.reshape(n, n), "score": (rec + model.beta * norm).reshape(n, n)}


def toll_contours(beta: float, *, n: int = 400, steps: int = 400, seed: int = 0,
                  extent: float = 6.0, grid: int = 81) -> dict[str, Any]:
    """Figure 2 of the Toll paper: train on N(0, diag(4, 1)) with β and map the score.

    Returns the samples, the grids (``score``, ``reconstruction``, ``latent_norm``), the learned
    encoder row and the angle (degrees) between the encoder and the first principal axis x₁.
    """
    x = gaussian_samples(n, TOLL_VARIANCES, seed)
    model = train_linear_toll(x, beta, steps=steps, seed=seed)
    out: dict[str, Any] = score_grid(model, extent, grid)
    w = model.encoder[0]
    out.update({"samples": x, "beta": float(beta), "encoder": model.encoder,
                "decoder": model.decoder, "loss": model.loss,
                "encoder_angle_deg": float(np.degrees(np.arctan2(abs(w[1]), abs(w[0])))),
                "auroc_axis": toll_axis_auroc(model, seed)})
    return out


def toll_axis_auroc(model: LinearAE, seed: int = 0, n: int = 400) -> dict[str, float]:
    """AUROC of the score for anomalies displaced along each axis (x₁: high-variance, x₂: low).

    Anomalies are normal samples pushed out by 3 standard deviations of that axis, in a random
    direction, so the two AUROCs say which deviations the score can see.
    """
    rng = np.random.default_rng(seed + 1)
    normal = gaussian_samples(n, TOLL_VARIANCES, seed + 2).astype(np.float64)
    out = {}
    for axis, name in ((0, "along x1"), (1, "along x2")):
        anom = gaussian_samples(n, TOLL_VARIANCES, seed + 3).astype(np.float64)
        anom[:, axis] += rng.choice([-1.0, 1.0], n) * 3 * math.sqrt(TOLL_VARIANCES[axis])
        s = np.concatenate([model.score(normal), model.score(anom)])
        y = np.r_[np.zeros(n), np.ones(n)]
        out[name] = M.auroc(y, s)
    return out


def gradient_flow_latents(x: np.ndarray, times: Sequence[float], w0: np.ndarray | None = None
                          ) -> np.ndarray:
    """Theorem 1 (Toll): latents under gradient flow of the norm-only loss (1/2n)Σ Z²ᵢⱼ.

    With S = XXᵀ/n = UΛUᵀ, W(t) = W(0) U exp(−Λt) Uᵀ, so Z(t) = W(0) U exp(−Λt) Uᵀ X: each
    eigen-direction shrinks at a rate equal to its eigenvalue, so high-variance directions
    collapse first. ``x`` is ``[n, m]`` (rows = samples, i.e. Xᵀ); ``w0`` defaults to the identity
    (the paper's reading). Returns ``[T, n, d]``.
    """
    xm = np.asarray(x, dtype=np.float64)
    w0 = np.eye(xm.shape[1]) if w0 is None else np.asarray(w0, dtype=np.float64)
    s = xm.T @ xm / len(xm)
    lam, u = np.linalg.eigh(s)
    out = []
    for t in times:
        w = w0 @ u @ np.diag(np.exp(-lam * float(t))) @ u.T
        out.append(xm @ w.T)
    return np.stack(out)


def collapse_profile(x: np.ndarray, times: Sequence[float]) -> dict[str, np.ndarray]:
    """Spread (std) of Z(t) along each eigenvector of S over time, relative to t = 0 (W(0) = I).

    Returns ``times``, ``eigenvalues`` (descending), ``spread`` ``[T, m]`` (absolute) and
    ``relative`` ``[T, m]`` (= exp(−λᵢt) in theory).
    """
    xm = np.asarray(x, dtype=np.float64)
    s = xm.T @ xm / len(xm)
    lam, u = np.linalg.eigh(s)
    order = np.argsort(lam)[::-1]
    lam, u = lam[order], u[:, order]
    z = gradient_flow_latents(xm, times)
    spread = np.sqrt(np.mean((z @ u) ** 2, axis=1))  # [T, m]
    return {"times": np.asarray(times, dtype=np.float64), "eigenvalues": lam, "spread": spread,
            "relative": spread / spread[0]}


def toll_gradient_flow(t_max: float = 1.5, frames: int = 31, n: int = 300, seed: int = 0
                       ) -> dict[str, Any]:
    """Frames of Theorem 1's latent shrinkage on the Figure 2 Gaussian, with the spread curves."""
    x = gaussian_samples(n, TOLL_VARIANCES, seed)
    times = np.linspace(0.0, t_max, frames)
    return {"samples": x, "times": times, "latents": gradient_flow_latents(x, times),
            **{k: v for k, v in collapse_profile(x, times).items() if k != "times"}}
