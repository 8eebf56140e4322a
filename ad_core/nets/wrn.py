"""Wide Residual Network (Zagoruyko & Komodakis 2016) as used by GeoTrans (docs/methods.md §5).

WRN-d-k: a 3×3 stem conv with 16 channels, three groups of n = (d − 4)/6 pre-activation residual
blocks with 16k, 32k, 64k channels and strides 1, 2, 2, then BN → ReLU → global average pooling →
a linear classifier. WRN-10-4 (one block per group, 64/128/256 channels) is GeoTrans's 32×32 model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PreActBlock(nn.Module):
    """BN → ReLU → conv(stride) → BN → ReLU → conv, plus a shortcut. When the shape changes the
    shortcut is a 1×1 conv on the *pre-activated* input, as in the authors' Keras WRN."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.shortcut = (nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False)
                         if c_in != c_out or stride != 1 else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = F.relu(self.bn1(x))
        h = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return h + (self.shortcut(a) if self.shortcut is not None else x)


class WideResNet(nn.Module):
    """WRN-``depth``-``width`` classifier over ``n_classes`` (GeoTrans: one class per
    transformation). ``features`` returns the pooled penultimate representation."""

    def __init__(self, n_classes: int, in_channels: int = 1, depth: int = 10, width: int = 4
                 ) -> None:
        super().__init__()
        if (depth - 4) % 6 or depth < 10:
            raise ValueError(f"WRN depth must be 6n + 4 with n ≥ 1 (10, 16, 22, …), got {depth}.")
        n = (depth - 4) // 6
        chans = [16 * width, 32 * width, 64 * width]
        self.stem = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        blocks: list[nn.Module] = []
        c = 16
        for c_out, stride in zip(chans, (1, 2, 2)):
            for b in range(n):
                blocks.append(PreActBlock(c, c_out, stride if b == 0 else 1))
                c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(c)
        self.head = nn.Linear(c, n_classes)
        self.feature_dim = c
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn(self.blocks(self.stem(x))))
        return h.mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
