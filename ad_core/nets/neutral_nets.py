"""NeuTraL AD networks (docs/methods.md §6): K learnable transformations and one shared encoder.

Pure ``nn.Module`` s, no training logic. The K transformation networks M_1 … M_K are independent
networks with their own weights; for speed they are evaluated at once as a *bank* (batched
matrix products for tables, grouped convolutions for images), which is exactly K separate
networks — :meth:`TabularTransformBank.member` and :meth:`ImageTransformBank.member` extract the
k-th one as a stand-alone module.

Parameterisations of a view (``transform_type``):

- ``feedforward``:    T_k(x) = M_k(x)   (tanh-squashed for images),
- ``residual``:       T_k(x) = M_k(x) + x,
- ``multiplicative``: T_k(x) = σ(M_k(x)) ⊙ x  (the authors' code squashes the mask with a sigmoid).
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

TRANSFORM_TYPES = ("feedforward", "residual", "multiplicative")


def apply_transformation(m: torch.Tensor, x: torch.Tensor, transform_type: str,
                         image: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Turn the raw outputs ``m`` = M_k(x) ``[N, K, ...]`` into the views T_k(x).

    ``x`` is ``[N, ...]`` (broadcast over K). Returns ``(views, masks)``: ``masks`` are σ(M_k(x))
    for the multiplicative parameterisation and ``None`` otherwise.
    """
    xk = x.unsqueeze(1)
    if transform_type == "feedforward":
        return (torch.tanh(m) if image else m), None
    if transform_type == "residual":
        return m + xk, None
    if transform_type == "multiplicative":
        mask = torch.sigmoid(m)
        return mask * xk, mask
    raise ValueError(f"unknown transform_type {transform_type!r}")


# ------------------------------------------------------------------------------------------ tables
class TabularEncoder(nn.Module):
    """The shared encoder f for tables: 4 × [linear h (+BN) + ReLU] + linear z, without bias."""

    def __init__(self, x_dim: int, hidden: int, z_dim: int, batch_norm: bool = False,
                 n_hidden_layers: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        d = x_dim
        for _ in range(n_hidden_layers):
            layers.append(nn.Linear(d, hidden, bias=False))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden, affine=False))
            layers.append(nn.ReLU())
            d = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(d, z_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class TabularTransformBank(nn.Module):
    """K tabular transformation networks M_k: linear → ReLU → linear back to D, without bias.

    ``forward(x [N, D]) -> [N, K, D]`` = (M_1(x), …, M_K(x)).
    """

    def __init__(self, n_transforms: int, x_dim: int, hidden: int) -> None:
        super().__init__()
        self.n_transforms, self.x_dim, self.hidden = n_transforms, x_dim, hidden
        self.w1 = nn.Parameter(torch.empty(n_transforms, hidden, x_dim))
        self.w2 = nn.Parameter(torch.empty(n_transforms, x_dim, hidden))
        for w in (self.w1, self.w2):  # nn.Linear's default init: U(±1/√fan_in), per member
            nn.init.uniform_(w, -1.0 / math.sqrt(w.shape[-1]), 1.0 / math.sqrt(w.shape[-1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(torch.einsum("khd,nd->nkh", self.w1, x))
        return torch.einsum("kdh,nkh->nkd", self.w2, h)

    def member(self, k: int) -> nn.Sequential:
        """M_k as a stand-alone ``Linear → ReLU → Linear`` (a copy sharing no storage)."""
        a = nn.Linear(self.x_dim, self.hidden, bias=False)
        b = nn.Linear(self.hidden, self.x_dim, bias=False)
        with torch.no_grad():
            a.weight.copy_(self.w1[k])
            b.weight.copy_(self.w2[k])
        return nn.Sequential(a, nn.ReLU(), b)


# ------------------------------------------------------------------------------------------ images
def _pad_conv(c_in: int, c_out: int, groups: int = 1) -> nn.Sequential:
    """Reflect-padded 3×3 convolution without bias (size preserving)."""
    return nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3, groups=groups, bias=False))


class ImageTransformBank(nn.Module):
    """K image transformation networks, each a small conv encoder–decoder (the authors' code):

    reflect-pad conv C→8, BN, ReLU; conv 8→16, BN, ReLU; 2×2 max-pool; one residual block
    (conv–BN–ReLU–conv–BN + skip, ReLU); upsample to the input size; conv 16→8, BN, ReLU;
    conv 8→C. No biases; batch norms without affine parameters. The K members run as grouped
    convolutions (groups = K) and per-channel batch norms, which is exactly K independent networks.
    ``forward(x [N, C, H, W]) -> [N, K, C, H, W]`` = (M_1(x), …, M_K(x)).
    """

    widths: ClassVar[dict[str, int]] = {"conv1": 8, "conv2": 16, "res1": 16, "res2": 16, "conv3": 8}

    def __init__(self, n_transforms: int, channels: int) -> None:
        super().__init__()
        k = n_transforms
        self.n_transforms, self.channels = k, channels
        self.conv1 = _pad_conv(channels, 8 * k)  # every member sees the same input
        self.conv2 = _pad_conv(8 * k, 16 * k, groups=k)
        self.res1 = _pad_conv(16 * k, 16 * k, groups=k)
        self.res2 = _pad_conv(16 * k, 16 * k, groups=k)
        self.conv3 = _pad_conv(16 * k, 8 * k, groups=k)
        self.conv4 = _pad_conv(8 * k, channels * k, groups=k)
        self.bn1, self.bn2 = nn.BatchNorm2d(8 * k, affine=False), nn.BatchNorm2d(16 * k, affine=False)
        self.bn_res1 = nn.BatchNorm2d(16 * k, affine=False)
        self.bn_res2 = nn.BatchNorm2d(16 * k, affine=False)
        self.bn3 = nn.BatchNorm2d(8 * k, affine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, hh, ww = x.shape
        h = torch.relu(self.bn1(self.conv1(x)))
        h = F.max_pool2d(torch.relu(self.bn2(self.conv2(h))), 2, ceil_mode=True)
        h = torch.relu(h + self.bn_res2(self.res2(torch.relu(self.bn_res1(self.res1(h))))))
        h = F.interpolate(h, size=(hh, ww), mode="nearest")
        h = torch.relu(self.bn3(self.conv3(h)))
        return self.conv4(h).view(n, self.n_transforms, c, hh, ww)

    def member(self, k: int) -> ImageTransformBank:
        """M_k as a stand-alone bank of one network (a copy sharing no storage)."""
        one = ImageTransformBank(1, self.channels).train(self.training)
        widths = {**self.widths, "conv4": self.channels}
        with torch.no_grad():
            for name, w in widths.items():
                getattr(one, name)[1].weight.copy_(getattr(self, name)[1].weight[k * w:(k + 1) * w])
            for name in ("bn1", "bn2", "bn_res1", "bn_res2", "bn3"):
                src, dst = getattr(self, name), getattr(one, name)
                w = dst.num_features
                dst.running_mean.copy_(src.running_mean[k * w:(k + 1) * w])
                dst.running_var.copy_(src.running_var[k * w:(k + 1) * w])
        return one


class _ResBlock(nn.Module):
    """Basic ResNet block: 3×3 conv (stride s) (+BN) + ReLU, 3×3 conv (+BN), plus a 1×1 shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int, batch_norm: bool) -> None:
        super().__init__()

        def norm(c: int) -> nn.Module:
            return nn.BatchNorm2d(c, affine=False) if batch_norm else nn.Identity()

        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = norm(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = norm(c_out)
        self.short = nn.Conv2d(c_in, c_out, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + self.short(x))


class ImageEncoder(nn.Module):
    """The shared encoder f for images: a small ResNet (conv C→16, strided blocks 16→32→48), then
    the flattened feature map → linear ``z_dim`` (64 in the authors' FMNIST config), no biases."""

    def __init__(self, channels: int, height: int, width: int, z_dim: int = 64,
                 batch_norm: bool = False) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(channels, 16, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(16, affine=False) if batch_norm else nn.Identity(),
                                  nn.ReLU())
        self.blocks = nn.Sequential(_ResBlock(16, 32, 2, batch_norm), _ResBlock(32, 48, 2, batch_norm))
        h, w = math.ceil(math.ceil(height / 2) / 2), math.ceil(math.ceil(width / 2) / 2)
        self.head = nn.Linear(48 * h * w, z_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).flatten(1))


# ------------------------------------------------------------------------------------------ model
class NeutralNet(nn.Module):
    """NeuTraL AD's model: a bank of K transformations and the shared encoder.

    ``forward(x) -> z [N, K+1, Z]`` with z_0 = f(x) and z_k = f(T_k(x)) (not yet normalised);
    :meth:`views` returns the transformed inputs (and multiplicative masks).
    """

    def __init__(self, transforms: nn.Module, encoder: nn.Module, transform_type: str,
                 image: bool) -> None:
        super().__init__()
        if transform_type not in TRANSFORM_TYPES:
            raise ValueError(f"unknown transform_type {transform_type!r}")
        self.transforms, self.encoder = transforms, encoder
        self.transform_type, self.image = transform_type, image

    def views(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """T_1(x) … T_K(x) as ``[N, K, ...]`` and σ(M_k(x)) for multiplicative (else ``None``)."""
        return apply_transformation(self.transforms(x), x, self.transform_type, self.image)

    def encode_views(self, x: torch.Tensor, views: torch.Tensor) -> torch.Tensor:
        """Embeddings ``[N, K+1, Z]`` of the original (index 0) and its K views."""
        allx = torch.cat([x.unsqueeze(1), views], 1)
        n, kp1 = allx.shape[:2]
        return self.encoder(allx.reshape(n * kp1, *allx.shape[2:])).view(n, kp1, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_views(x, self.views(x)[0])


def tabular_neutral_net(x_dim: int, n_transforms: int, transform_type: str, hidden: int,
                        z_dim: int, trans_hidden: int, batch_norm: bool) -> NeutralNet:
    """The authors' tabular model (encoder with 4 hidden layers, 2-layer transformations)."""
    return NeutralNet(TabularTransformBank(n_transforms, x_dim, trans_hidden),
                      TabularEncoder(x_dim, hidden, z_dim, batch_norm), transform_type, image=False)


def image_neutral_net(shape: tuple[int, int, int], n_transforms: int, transform_type: str,
                      z_dim: int, batch_norm: bool) -> NeutralNet:
    """The authors' image extension (conv encoder–decoder transformations, small ResNet f)."""
    c, h, w = shape
    return NeutralNet(ImageTransformBank(n_transforms, c), ImageEncoder(c, h, w, z_dim, batch_norm),
                      transform_type, image=True)
