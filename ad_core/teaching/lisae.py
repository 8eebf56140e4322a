"""LIS-AE (§4.2): PCA (a linear AE with r = 1) on a 3-D Gaussian with variances (1, 0.2, 0.01)
against the latent-shaped encoder Êᵀ = [1, 0, γ]: iso-score cylinders; and the same effect on a
saved ``lisae`` run (phase-1 vs phase-2 scores).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ad_core import metrics as M
from ad_core.errors import BadDataError, BadParameterError
from ad_core.runs import Run
from ad_core.teaching.common import gaussian_samples

LISAE_VARIANCES = (1.0, 0.2, 0.01)


def pca_encoder(x: np.ndarray, r: int = 1) -> np.ndarray:
    """The optimal linear AE with an r-D latent = PCA: the top-r eigenvectors ``[m, r]``.

    Signs are fixed so the largest component of each vector is positive.
    """
    xm = np.asarray(x, dtype=np.float64)
    lam, u = np.linalg.eigh(xm.T @ xm / len(xm))
    e = u[:, np.argsort(lam)[::-1][:r]]
    return e * np.sign(e[np.argmax(np.abs(e), axis=0), np.arange(r)])


def linear_ae_error(points: np.ndarray, encoder: np.ndarray, decoder: np.ndarray) -> np.ndarray:
    """Squared reconstruction error ‖x − D Eᵀ x‖² of a linear AE (E, D are ``[m, r]``)."""
    p = np.asarray(points, dtype=np.float64)
    rec = p @ encoder @ decoder.T
    return np.sum((p - rec) ** 2, axis=1)


def latent_shaped_encoder(encoder: np.ndarray, gamma: float, direction: np.ndarray) -> np.ndarray:
    """LIS-AE's *latent-shaping phase* in the linear case: Ê = E + γ·u (§4.2).

    The decoder stays fixed; the encoder is tilted by γ toward ``direction`` u, the direction in
    which the negatives live, so a negative no longer reconstructs. With E = [1, 0, 0]ᵀ and
    u = e_z this is the paper's Êᵀ = [1, 0, γ].
    """
    u = np.asarray(direction, dtype=np.float64).reshape(-1, 1)
    return np.asarray(encoder, dtype=np.float64) + gamma * u / np.linalg.norm(u)


def lisae_score(points: np.ndarray, gamma: float) -> np.ndarray:
    """The squashed score of §4.2 for D = [1,0,0]ᵀ, Êᵀ = [1, 0, γ]: ‖x − DÊᵀx‖².

    x − x̂ = (−γz, y, z), so the score is exactly y² + (1 + γ²) z² — the paper's y² + γ² z² up
    to the z² the paper drops (negligible when γ is large). Iso-score surfaces are elliptic
    cylinders along x whose z semi-axis is squashed by √(1 + γ²).
    """
    d = np.array([[1.0], [0.0], [0.0]])
    return linear_ae_error(points, latent_shaped_encoder(d, gamma, np.array([0.0, 0.0, 1.0])), d)


def lisae_intuition(gamma: float, *, n: int = 400, seed: int = 0, grid: int = 24,
                    extent: float = 1.5, level_quantile: float = 0.95) -> dict[str, Any]:
    """§4.2 of LIS-AE: PCA (r = 1) vs the latent-shaped encoder on N(0, diag(1, 0.2, 0.01)).

    The PCA encoder E is learned from the samples; the latent-shaped encoder tilts it by γ along
    the least-variance eigenvector (where the negatives are non-zero). Returns the samples, test
    anomalies (y and z both vary: variance 0.2 each), the score of both models on a
    ``grid³`` lattice (for iso-surfaces), the iso level (the ``level_quantile`` of the normal
    PCA scores, shared by both models) and both models' AUROC.
    """
    if gamma < 0:
        raise BadParameterError("γ must be non-negative.")
    x = gaussian_samples(n, LISAE_VARIANCES, seed).astype(np.float64)
    anomalies = gaussian_samples(n, (1.0, 0.2, 0.2), seed + 1).astype(np.float64)
    e = pca_encoder(x, 1)
    lam, u = np.linalg.eigh(x.T @ x / len(x))
    least = u[:, np.argmin(lam)]
    least = least * np.sign(least[np.argmax(np.abs(least))])
    e_hat = latent_shaped_encoder(e, gamma, least)
    g = np.linspace(-extent, extent, grid)
    gx = np.linspace(-2 * extent, 2 * extent, grid)  # the cylinders run along x
    xx, yy, zz = np.meshgrid(gx, g, g, indexing="ij")
    pts = np.stack([xx.ravel(), yy.ravel(), zz.ravel()], axis=1)
    y = np.r_[np.zeros(n), np.ones(n)]
    both = np.concatenate([x, anomalies])
    pca_s, lis_s = linear_ae_error(both, e, e), linear_ae_error(both, e_hat, e)
    return {"samples": x, "anomalies": anomalies, "encoder": e[:, 0], "shaped_encoder": e_hat[:, 0],
            "grid_x": xx.ravel(), "grid_y": yy.ravel(), "grid_z": zz.ravel(),
            "pca_grid": linear_ae_error(pts, e, e), "lisae_grid": linear_ae_error(pts, e_hat, e),
            "level": float(np.quantile(pca_s[:n], level_quantile)), "gamma": float(gamma),
            "auroc_pca": M.auroc(y, pca_s), "auroc_lisae": M.auroc(y, lis_s),
            "pca_scores": pca_s, "lisae_scores": lis_s, "labels": y}


def lisae_runs(runs: Sequence[Run] | None = None) -> list[Run]:
    """Saved runs of the ``lisae`` detector that stored phase-1 test scores, newest first."""
    if runs is None:
        from ad_core.runs import list_runs

        runs = list_runs()
    out = []
    for r in runs:
        try:
            if r.config.get("detector") == "lisae" and "extra_phase1_test" in r.scores:
                out.append(r)
        except (OSError, ValueError):
            continue
    return out


def lisae_phase_scores(run: Run) -> dict[str, Any]:
    """Phase-1 (feature extraction) vs phase-2 (latent shaping) test errors of a saved run.

    Returns both score arrays, the labels and the AUROC of each phase.
    """
    s = run.scores
    if "extra_phase1_test" not in s or "test" not in s:
        raise BadDataError(f"Run {run.run_id} did not store phase-1 scores.")
    y = np.asarray(s["test_y"])
    p1, p2 = np.asarray(s["extra_phase1_test"], float), np.asarray(s["test"], float)
    return {"phase1": p1, "phase2": p2, "labels": y, "auroc_phase1": M.auroc(y, p1),
            "auroc_phase2": M.auroc(y, p2), "title": run.title}
