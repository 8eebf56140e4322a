"""Dirichlet maximum-likelihood fit and GeoTrans's Dirichlet normality score (docs/methods.md §5).

GeoTrans models the softmax vector y(T_i(x)) of normal images under transformation i as
Dir(α_i). α_i is fitted by maximum likelihood with Minka's fixed point iteration (Minka 2000,
"Estimating a Dirichlet distribution"), started from Wicker et al.'s (2008) closed-form
approximation. The normality of x is then Σ_j (α_ij − 1) log y(T_i(x))_j per transformation (the
log-density up to constants), averaged over i.

All routines work in float64 on the trailing axis and broadcast over leading "transformation" axes,
so the 72 Dirichlets of a GeoTrans model are fitted together.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, polygamma

EULER_GAMMA = 0.5772156649015329
PROB_FLOOR = 1e-10


def clamp_simplex(p: np.ndarray, floor: float = PROB_FLOOR) -> np.ndarray:
    """Clamp probabilities to ≥ ``floor`` and renormalise each vector to sum to 1 (no log(0))."""
    q = np.maximum(np.asarray(p, dtype=np.float64), floor)
    return q / q.sum(-1, keepdims=True)


def inverse_digamma(y: np.ndarray, newton_steps: int = 5) -> np.ndarray:
    """ψ⁻¹(y): Minka's initial guess (exp(y) + ½ for y ≥ −2.22, else −1/(y − ψ(1))) refined by
    Newton's method x ← x − (ψ(x) − y)/ψ′(x)."""
    y = np.asarray(y, dtype=np.float64)
    # for y < −2.22, y − ψ(1) < −1.6; the clamp only keeps np.where's unused branch finite
    x = np.where(y >= -2.22, np.exp(np.minimum(y, 700.0)) + 0.5,
                 -1.0 / np.minimum(y - digamma(1.0), -1e-12))
    for _ in range(newton_steps):
        x = x - (digamma(x) - y) / polygamma(1, x)
        x = np.maximum(x, 1e-300)  # ψ is only defined for x > 0; Newton never needs to go below
    return x


def wicker_init(mean_p: np.ndarray, mean_log_p: np.ndarray) -> np.ndarray:
    """Wicker et al.'s starting point α⁰ = s₀·f with
    s₀ = (K − 1)γ_E / (Σ_j f_j log f_j − Σ_j f_j · mean_n log p_nj), f = column means of p."""
    k = mean_p.shape[-1]
    denom = (mean_p * np.log(mean_p)).sum(-1) - (mean_p * mean_log_p).sum(-1)
    # Jensen: log E[p] ≥ E[log p] so denom ≥ 0; it is 0 only when all samples coincide.
    s0 = (k - 1) * EULER_GAMMA / np.maximum(denom, 1e-12)
    return np.minimum(s0, 1e8)[..., None] * mean_p


def dirichlet_mle(p: np.ndarray, tol: float = 1e-9, max_iter: int = 1000) -> np.ndarray:
    """Maximum-likelihood Dirichlet parameters α of samples ``p`` ([N, ..., K] on the simplex).

    Probabilities are clamped to ≥ 1e-10 and renormalised; α starts at Wicker's approximation and
    follows Minka's fixed point α_j ← ψ⁻¹(ψ(Σ_k α_k) + mean_n log p_nj) until every vector changes by
    less than ``tol`` (max absolute change) or ``max_iter`` iterations. Returns α of shape [..., K].
    """
    p = clamp_simplex(p)
    if p.ndim < 2 or len(p) < 2:
        raise ValueError("dirichlet_mle needs at least 2 samples of shape [N, ..., K].")
    mean_log_p = np.log(p).mean(0)
    alpha = wicker_init(p.mean(0), mean_log_p)
    active = np.ones(alpha.shape[:-1], dtype=bool)
    for _ in range(max_iter):
        new = inverse_digamma(digamma(alpha.sum(-1, keepdims=True)) + mean_log_p)
        change = np.abs(new - alpha).max(-1)
        alpha = np.where(active[..., None], new, alpha)
        active &= change >= tol
        if not active.any():
            break
    return alpha


def dirichlet_normality(log_p: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Per-transformation normality summands Σ_j (α_ij − 1) log y_ij (the Dirichlet log-density of
    y_i without its constant normaliser). ``log_p`` [..., T, K], ``alpha`` [T, K] → [..., T]."""
    return ((np.asarray(alpha, dtype=np.float64) - 1.0) * np.asarray(log_p, np.float64)).sum(-1)
