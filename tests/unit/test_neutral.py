"""NeuTraL AD: the deterministic contrastive loss, the nets, and the detector (METHODS.md §5)."""

from __future__ import annotations

import math

import pytest
import torch

from ad_core.detectors.neutral import dcl_loss


def _slow_dcl(z: torch.Tensor, tau: float) -> torch.Tensor:
    """Reference DCL with Python loops: ℓ_k = log Σ_{l≠k} h(k,l) − log h(k,0), h = exp(cos/τ)."""
    n, kp1, _ = z.shape
    out = torch.zeros(n, kp1 - 1, dtype=torch.float64)
    for i in range(n):
        for k in range(1, kp1):
            def h(a: int, b: int, i: int = i) -> float:
                za, zb = z[i, a].double(), z[i, b].double()
                return math.exp(float(za @ zb / (za.norm() * zb.norm())) / tau)
            den = sum(h(k, l) for l in range(kp1) if l != k)
            out[i, k - 1] = math.log(den) - math.log(h(k, 0))
    return out


@pytest.mark.parametrize("tau", [1.0, 0.1])
def test_dcl_equals_slow_loop_on_random_embeddings(tau: float) -> None:
    z = torch.randn(5, 7, 4, generator=torch.Generator().manual_seed(1))
    fast = dcl_loss(z, tau).double()
    assert fast.shape == (5, 6)
    torch.testing.assert_close(fast, _slow_dcl(z, tau), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(dcl_loss(z, tau, scale=True).double(), fast / (6 * math.log(6)))


@pytest.mark.parametrize("k", [2, 5, 11])
def test_identity_edge_case_gives_k_log_k(k: int) -> None:
    z = torch.randn(3, 1, 8).repeat(1, k + 1, 1)  # T_k(x) = x for every k
    torch.testing.assert_close(dcl_loss(z, 1.0).sum(1), torch.full((3,), k * math.log(k)))
    torch.testing.assert_close(dcl_loss(z, 1.0, scale=True).sum(1), torch.ones(3))


def test_k2_counterexample_beats_identity() -> None:
    e0, e1 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    z = torch.stack([e0, e1, -e1])[None]  # z1 ⊥ z, z2 ⊥ z, z1 = −z2
    loss = float(dcl_loss(z, 1.0).sum())
    assert loss == pytest.approx(0.627, abs=1e-3)
    assert loss == pytest.approx(2 * math.log(1 + math.exp(-1)), abs=1e-6)
    assert loss < 2 * math.log(2)
