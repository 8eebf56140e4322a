"""Input preprocessing as fitted, saved state (a module with buffers, so safetensors stores it).

Modes (what the papers do to their inputs before the autoencoder sees them):
- ``none``: images stay in [0, 1] (the augmentation study, LIS-AE).
- ``standardize``: one mean and one standard deviation over all training pixels (Toll on MNIST /
  Fashion-MNIST: "zero mean and a standard deviation of 1 for pixel values").
- ``features``: per-column mean and standard deviation (tables).
- ``gcn``: global contrast normalisation with the L1 norm per image, then min–max scaling to
  [0, 1] with the training set's extremes (Toll on CIFAR).

``resize`` (H, W) resizes images bilinearly first (the augmentation study resizes 28 → 32).
:meth:`InputTransform.inverse` maps a model-space output back to input space (for display).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

MODES = ("none", "standardize", "features", "gcn")


def global_contrast_normalization(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-sample ``(x − mean(x)) / mean|x − mean(x)|``; returns the result, the means and scales."""
    flat = x.reshape(len(x), -1)
    mean = flat.mean(1)
    centred = flat - mean[:, None]
    scale = centred.abs().mean(1).clamp_min(1e-8)
    return (centred / scale[:, None]).reshape(x.shape), mean, scale


class InputTransform(nn.Module):
    """Fitted preprocessing: ``forward`` maps inputs to model space, ``inverse`` maps back."""

    def __init__(self, mode: str = "none", input_shape: Sequence[int] = (),
                 resize: Sequence[int] | None = None) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"unknown preprocessing {mode!r}")
        self.mode = mode
        self.input_shape = tuple(int(s) for s in input_shape)
        self.resize = tuple(int(s) for s in resize) if resize else None
        feat = (self.input_shape[0],) if mode == "features" and self.input_shape else ()
        self.register_buffer("mean", torch.zeros(feat))
        self.register_buffer("std", torch.ones(feat))
        self.register_buffer("lo", torch.zeros(()))
        self.register_buffer("hi", torch.ones(()))

    @property
    def model_shape(self) -> tuple[int, ...]:
        """Per-sample shape the network sees."""
        if self.resize and len(self.input_shape) == 3:
            return (self.input_shape[0], *self.resize)
        return self.input_shape

    def _resize(self, x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[2:]) == tuple(size):
            return x
        return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> InputTransform:
        """Learn the statistics from the training normals ``x`` (input space)."""
        x = self._resize(x.float(), self.resize) if self.resize else x.float()
        if self.mode == "standardize":
            self.mean.fill_(float(x.mean()))
            self.std.fill_(max(float(x.std()), 1e-8))
        elif self.mode == "features":
            self.mean.copy_(x.mean(0))
            self.std.copy_(torch.where(x.std(0) > 1e-8, x.std(0), torch.ones_like(x.std(0))))
        elif self.mode == "gcn":
            g, _, _ = global_contrast_normalization(x)
            self.lo.fill_(float(g.min()))
            self.hi.fill_(max(float(g.max()), float(g.min()) + 1e-8))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.resize:
            x = self._resize(x, self.resize)
        if self.mode in ("standardize", "features"):
            return (x - self.mean) / self.std
        if self.mode == "gcn":
            g, _, _ = global_contrast_normalization(x)
            return (g - self.lo) / (self.hi - self.lo)
        return x

    def inverse(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Model-space ``y`` (e.g. a reconstruction of ``x``) back in ``x``'s input space."""
        if self.mode in ("standardize", "features"):
            y = y * self.std + self.mean
        elif self.mode == "gcn":
            xr = self._resize(x, self.resize) if self.resize else x
            _, mean, scale = global_contrast_normalization(xr)
            g = y * (self.hi - self.lo) + self.lo
            y = g * scale.view(-1, *([1] * (g.ndim - 1))) + mean.view(-1, *([1] * (g.ndim - 1)))
        if self.resize and y.ndim == 4:
            y = self._resize(y, self.input_shape[1:])
        return y
