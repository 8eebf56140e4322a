"""The papers' per-sample score terms as pure tensor functions (the anomalib split: ``nets/``
computes, ``detectors/`` optimise and persist, ``teaching/``/``benchmarks/`` experiment).

- :func:`reconstruction_error` — ``mse`` / ``l2`` error per sample (every autoencoder);
- :func:`latent_norm` and :func:`targeted_collapse` — Toll's ‖x̂ − x‖₂ and β‖z‖_p;
- :func:`lisae_phase2_loss` — LIS-AE's latent-shaping loss;
- :func:`dcl_loss` — NeuTraL AD's deterministic contrastive loss, one summand per transformation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ad_core.errors import BadParameterError


def reconstruction_error(x_hat: torch.Tensor, x: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-sample error: ``mse`` = mean (x̂ − x)², ``l2`` = ‖x̂ − x‖₂ over the flattened sample."""
    sq = (x_hat.float() - x.float()).pow(2).reshape(len(x), -1)
    return sq.mean(1) if kind == "mse" else sq.sum(1).clamp_min(0).sqrt()


def latent_norm(z: torch.Tensor, p: float) -> torch.Tensor:
    """‖z‖_p per sample (p ∈ {1, 2, ∞}); the L2 norm uses a safe square root at z = 0."""
    z = z.float().reshape(len(z), -1)
    if math.isinf(p):
        return z.abs().amax(1)
    if p == 1:
        return z.abs().sum(1)
    return (z.pow(2).sum(1) + 1e-12).sqrt() - 1e-6


def targeted_collapse(x_hat: torch.Tensor, x: torch.Tensor, z: torch.Tensor, beta: float,
                      p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Toll's two per-sample terms: ‖x̂ − x‖₂ and β·‖z‖_p (their sum is loss and score)."""
    return reconstruction_error(x_hat, x, "l2"), beta * latent_norm(z, p)


def lisae_phase2_loss(rec_pos: torch.Tensor, rec_neg: torch.Tensor, beta: float, gamma: float
                      ) -> torch.Tensor:
    """Algorithm 1's latent-shaping loss: mean‖x̂⁺ − x⁺‖₂ + β·mean|γ − ‖x̂⁻ − x⁻‖₂|."""
    return rec_pos.mean() + beta * (gamma - rec_neg).abs().mean()


def dcl_loss(z: torch.Tensor, tau: float, scale: bool = False) -> torch.Tensor:
    """The K per-transformation summands of NeuTraL AD's deterministic contrastive loss.

    ``z`` is ``[N, K+1, Z]``: ``z[:, 0]`` = f(x) (the original), ``z[:, k]`` = f(T_k(x)). With
    h(a, b) = exp(cos(z_a, z_b) / τ), the k-th summand of sample n is

        ℓ_k = log Σ_{l=0..K, l≠k} h(k, l) − log h(k, 0),

    i.e. the cross-entropy of "which of the other views is the original?" for view k: the positive
    is the original view z_0, the negatives are the other transformed views of the *same* sample,
    and the positive also sits in the denominator. L(x) = Σ_k ℓ_k. With ``scale`` the terms are
    divided by K·ln K (the authors' code), so identity transformations score exactly 1.

    Appendix edge cases (τ = 1, unscaled): identity transformations give K·log K; for K = 2 the
    counterexample z₁ ⊥ z₀, z₂ ⊥ z₀, z₁ = −z₂ gives 2·log(1 + e⁻¹) ≈ 0.627.

    Returns ``[N, K]`` (computed with log-sum-exp, stable for small τ).
    """
    if z.ndim != 3 or z.shape[1] < 2:
        raise BadParameterError("dcl_loss needs embeddings of shape [N, K+1, Z] with K ≥ 1.")
    if not tau > 0:
        raise BadParameterError(f"The temperature tau must be positive, got {tau}.")
    k = z.shape[1] - 1
    zn = F.normalize(z.float(), p=2, dim=-1)
    sim = zn @ zn.transpose(1, 2) / tau  # [N, K+1, K+1] cosine similarity / τ
    eye = torch.eye(k + 1, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(eye, float("-inf"))  # l ≠ k
    views = sim[:, 1:]  # rows k = 1..K
    terms = torch.logsumexp(views, dim=-1) - views[:, :, 0]
    if scale:
        if k < 2:
            raise BadParameterError("Scaling by 1/(K ln K) needs at least K = 2 transformations.")
        terms = terms / (k * math.log(k))
    return terms
