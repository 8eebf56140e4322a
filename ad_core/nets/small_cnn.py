"""A small convolutional classifier: GeoTrans's quick preset on a 2-core laptop.

Three conv → BN → ReLU → 2×2 max-pool stages (``width``, 2·``width``, 4·``width`` channels) and a
fully connected layer over the *flattened* feature map — not global pooling, so the position of a
stroke (which translations and rotations move) stays visible to the classifier — then a linear
layer to ``n_classes`` logits.
"""

from __future__ import annotations

import torch
from torch import nn


class SmallCNN(nn.Module):
    """conv(w) → conv(2w) → conv(4w), each BN + ReLU + max-pool 2, then FC(hidden) → linear.
    ``features`` returns the ``hidden``-dimensional penultimate representation."""

    def __init__(self, n_classes: int, in_channels: int = 1, height: int = 32, width_px: int = 32,
                 width: int = 16, hidden: int = 128) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c, h, w = in_channels, height, width_px
        for i in range(3):
            c_out = width * 2 ** i
            layers += [nn.Conv2d(c, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
                       nn.ReLU(inplace=True)]
            if h >= 2 and w >= 2:
                layers.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            c = c_out
        self.body = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, hidden), nn.ReLU(inplace=True))
        self.head = nn.Linear(hidden, n_classes)
        self.feature_dim = hidden

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
