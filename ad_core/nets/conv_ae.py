"""Autoencoders for the reconstruction detectors (docs/methods.md §2–4): pure ``nn.Module``s.

Every network here is an :class:`AutoEncoder` made of three named parts,

    x ──encoder──▶ h ──latent (fc → act)──▶ z ──decoder──▶ x̂

so that the detectors can read the latent code ``z`` (Toll's norm penalty, embeddings), the
latent layer's pre-activation ``fc(h)`` (LinSep-LIS-AE's linear classifier) and train the
``latent`` submodule alone (LIS-AE's latent-shaping phase).

Builders:
- :func:`conv_ae` — a conv encoder/decoder family sized from the input shape (8×8, 28×28, 32×32,
  any size, 1 or 3 channels); with ``widths=(32, 64)``, LeakyReLU, a tanh latent and a sigmoid
  output it is LIS-AE's architecture; with 4 BN+ReLU layers of 64…512 channels it is the
  augmentation study's DAE (:func:`dae_paper_ae`).
- :func:`toll_mnist_ae`, :func:`toll_cifar_ae`, :func:`mlp_ae` — Toll's appendix B networks
  (MNIST/FMNIST, CIFAR with a learnable per-pixel output bias, tabular MLP).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class LatentLayer(nn.Module):
    """The bottleneck: a fully connected layer ``fc`` followed by ``act`` (identity or tanh)."""

    def __init__(self, in_features: int, latent_dim: int, act: str = "none") -> None:
        super().__init__()
        self.fc = nn.Linear(in_features, latent_dim)
        self.act = _latent_act(act)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.act(self.fc(h))


class OutputBias(nn.Module):
    """A learnable bias per output element (Toll's CIFAR generator adds one per pixel)."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(*shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias


class AutoEncoder(nn.Module):
    """``decoder(latent(encoder(x)))``; ``forward`` returns ``(x̂, z)``."""

    def __init__(self, encoder: nn.Module, latent: LatentLayer, decoder: nn.Module,
                 arch: str = "") -> None:
        super().__init__()
        self.encoder = encoder
        self.latent = latent
        self.decoder = decoder
        self.arch = arch

    @property
    def latent_dim(self) -> int:
        return int(self.latent.fc.out_features)

    def latent_pre(self, x: torch.Tensor) -> torch.Tensor:
        """The latent layer's pre-activation ``fc(encoder(x))`` (LinSep's classifier input)."""
        return self.latent.fc(self.encoder(x))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The latent code z."""
        return self.latent(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return self.decoder(z), z


# ------------------------------------------------------------------------------ helpers
def _latent_act(name: str) -> nn.Module:
    if name == "tanh":
        return nn.Tanh()
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown latent activation {name!r}")


def _act(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "lrelu":
        return nn.LeakyReLU(0.2, inplace=True)
    raise ValueError(f"unknown activation {name!r}")


def _out_act(name: str) -> nn.Module:
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown output activation {name!r}")


def _down(size: int) -> int:
    """Spatial size after a 3×3 conv with stride 2 and padding 1."""
    return (size + 2 - 3) // 2 + 1


def _up_padding(small: int, big: int) -> int:
    """Output padding that makes a 3×3 stride-2 pad-1 transposed conv map ``small`` → ``big``."""
    return big - ((small - 1) * 2 - 2 + 3)


# ------------------------------------------------------------------------------ builders
def conv_ae(input_shape: Sequence[int], latent_dim: int = 32, widths: Sequence[int] = (16, 32), *,
            act: str = "lrelu", batchnorm: bool = False, latent_act: str = "none",
            out_act: str = "sigmoid", decoder_fc_bn: bool = False, final_conv: bool = True,
            min_size: int = 4) -> AutoEncoder:
    """A conv AE sized from ``input_shape`` = (C, H, W).

    Encoder: one 3×3 stride-2 conv per entry of ``widths`` (stopping the halving at ``min_size``;
    further layers keep the size with stride 1), ``act`` (+BN), flatten; latent: linear → z
    (+ ``latent_act``). Decoder: linear (+BN1d) + ``act``, unflatten, transposed convs mirroring the
    encoder exactly back to (H, W); then either a 3×3 conv to C channels (``final_conv``, LIS-AE) or
    a last transposed conv to C channels (the DAE), and ``out_act``.
    """
    c, h, w = (int(s) for s in input_shape)
    sizes = [(h, w)]
    strides = []
    for _ in widths:
        hh, ww = sizes[-1]
        s = 2 if min(_down(hh), _down(ww)) >= min_size and min(hh, ww) > min_size else 1
        strides.append(s)
        sizes.append((_down(hh), _down(ww)) if s == 2 else (hh, ww))
    enc: list[nn.Module] = []
    ch = c
    for wdt, s in zip(widths, strides):
        enc.append(nn.Conv2d(ch, wdt, 3, s, 1, bias=not batchnorm))
        if batchnorm:
            enc.append(nn.BatchNorm2d(wdt))
        enc.append(_act(act))
        ch = wdt
    enc.append(nn.Flatten())
    fh, fw = sizes[-1]
    flat = ch * fh * fw
    dec: list[nn.Module] = [nn.Linear(latent_dim, flat, bias=not decoder_fc_bn)]
    if decoder_fc_bn:
        dec.append(nn.BatchNorm1d(flat))
    dec += [_act(act), nn.Unflatten(1, (ch, fh, fw))]
    rev = list(widths)[::-1]
    outs = rev[1:] + ([rev[-1]] if final_conv else [c])
    for i, (wdt, s) in enumerate(zip(outs, strides[::-1])):
        small, big = sizes[len(widths) - i], sizes[len(widths) - i - 1]
        last = (i == len(widths) - 1) and not final_conv
        if s == 2:
            op = (_up_padding(small[0], big[0]), _up_padding(small[1], big[1]))
            dec.append(nn.ConvTranspose2d(ch, wdt, 3, 2, 1, output_padding=op, bias=not batchnorm
                                          or last))
        else:
            dec.append(nn.ConvTranspose2d(ch, wdt, 3, 1, 1, bias=not batchnorm or last))
        if not last:
            if batchnorm:
                dec.append(nn.BatchNorm2d(wdt))
            dec.append(_act(act))
        ch = wdt
    if final_conv:
        dec.append(nn.Conv2d(ch, c, 3, 1, 1))
    dec.append(_out_act(out_act))
    return AutoEncoder(nn.Sequential(*enc), LatentLayer(flat, latent_dim, latent_act),
                       nn.Sequential(*dec), arch="conv")


def lisae_ae(input_shape: Sequence[int], latent_dim: int = 32, width: int = 32) -> AutoEncoder:
    """LIS-AE (§5.1): two convs with LeakyReLU, FC latent with tanh; FC + LeakyReLU, two transposed
    convs with LeakyReLU and a final conv with sigmoid. ``width`` = channels of the first conv
    (the second has twice as many); wider for SVHN/CIFAR."""
    ae = conv_ae(input_shape, latent_dim, (width, 2 * width), act="lrelu", latent_act="tanh",
                 out_act="sigmoid", final_conv=True)
    ae.arch = "lisae"
    return ae


def dae_paper_ae(input_shape: Sequence[int] = (1, 32, 32), latent_dim: int = 256) -> AutoEncoder:
    """The augmentation study's DAE for 32×32 inputs: 4 × [conv 3×3 s2 → BN → ReLU] with 64…512
    channels, linear → 256 + tanh; linear → 2048 + BN1d + ReLU, 4 transposed convs (BN+ReLU
    between), sigmoid."""
    ae = conv_ae(input_shape, latent_dim, (64, 128, 256, 512), act="relu", batchnorm=True,
                 latent_act="tanh", out_act="sigmoid", decoder_fc_bn=True, final_conv=False,
                 min_size=2)
    ae.arch = "dae32"
    return ae


def toll_mnist_ae(input_shape: Sequence[int] = (1, 28, 28), latent_dim: int = 128) -> AutoEncoder:
    """Toll appendix B.1 (MNIST/Fashion-MNIST, 28×28, standardised inputs, no output activation)."""
    c = int(input_shape[0])

    def block(conv: nn.Module, ch: int) -> list[nn.Module]:
        return [conv, nn.BatchNorm2d(ch), nn.LeakyReLU(0.2, inplace=True)]

    enc = nn.Sequential(*block(nn.Conv2d(c, 64, 4, 1), 64), *block(nn.Conv2d(64, 128, 4, 1), 128),
                        *block(nn.Conv2d(128, 256, 4, 2), 256), *block(nn.Conv2d(256, 512, 4, 1), 512),
                        nn.Conv2d(512, 64, 4, 1), nn.Flatten())
    dec = nn.Sequential(nn.Linear(latent_dim, 1024), nn.Unflatten(1, (64, 4, 4)),
                        *block(nn.ConvTranspose2d(64, 512, 4, 1), 512),
                        *block(nn.ConvTranspose2d(512, 256, 4, 1), 256),
                        *block(nn.ConvTranspose2d(256, 128, 4, 2), 128),
                        *block(nn.ConvTranspose2d(128, 64, 4, 1), 64),
                        nn.ConvTranspose2d(64, c, 4, 1))
    return AutoEncoder(enc, LatentLayer(1024, latent_dim), dec, arch="toll_mnist")


def toll_cifar_ae(input_shape: Sequence[int] = (3, 32, 32), latent_dim: int = 64) -> AutoEncoder:
    """Toll appendix B.2 (CIFAR, 32×32×3): convs without bias + BN + LeakyReLU(0.1); the last 1×1
    conv 512→z (with bias) is the latent layer (a linear map on the 1×1 feature); the decoder ends
    with a 1×1 conv and a learnable per-pixel output bias."""
    c = int(input_shape[0])

    def block(conv: nn.Module, ch: int) -> list[nn.Module]:
        return [conv, nn.BatchNorm2d(ch), nn.LeakyReLU(0.1, inplace=True)]

    enc = nn.Sequential(*block(nn.Conv2d(c, 32, 5, 1, bias=False), 32),
                        *block(nn.Conv2d(32, 64, 4, 2, bias=False), 64),
                        *block(nn.Conv2d(64, 128, 4, 1, bias=False), 128),
                        *block(nn.Conv2d(128, 256, 4, 2, bias=False), 256),
                        *block(nn.Conv2d(256, 512, 4, 1, bias=False), 512),
                        *block(nn.Conv2d(512, 512, 1, 1, bias=False), 512), nn.Flatten())
    dec = nn.Sequential(nn.Unflatten(1, (latent_dim, 1, 1)),
                        *block(nn.ConvTranspose2d(latent_dim, 256, 4, 1, bias=False), 256),
                        *block(nn.ConvTranspose2d(256, 128, 4, 2, bias=False), 128),
                        *block(nn.ConvTranspose2d(128, 64, 4, 1, bias=False), 64),
                        *block(nn.ConvTranspose2d(64, 32, 4, 2, bias=False), 32),
                        *block(nn.ConvTranspose2d(32, 32, 5, 1, bias=False), 32),
                        *block(nn.Conv2d(32, 32, 1, 1, bias=False), 32),
                        nn.Conv2d(32, c, 1, 1), OutputBias((c, 32, 32)))
    return AutoEncoder(enc, LatentLayer(512, latent_dim), dec, arch="toll_cifar")


def mlp_ae(in_dim: int, latent_dim: int = 16, hidden: Sequence[int] = (256, 128), *,
           batchnorm: bool = True, latent_act: str = "none") -> AutoEncoder:
    """MLP AE for tables (Toll B.3: 274→256→128→16 with BN+ReLU, mirrored decoder)."""
    enc: list[nn.Module] = []
    d = int(in_dim)
    for h in hidden:
        enc += [nn.Linear(d, h), *([nn.BatchNorm1d(h)] if batchnorm else []), nn.ReLU(inplace=True)]
        d = h
    dec: list[nn.Module] = []
    d2 = latent_dim
    for h in list(hidden)[::-1]:
        dec += [nn.Linear(d2, h), *([nn.BatchNorm1d(h)] if batchnorm else []), nn.ReLU(inplace=True)]
        d2 = h
    dec.append(nn.Linear(d2, int(in_dim)))
    return AutoEncoder(nn.Sequential(*enc), LatentLayer(d, latent_dim, latent_act),
                       nn.Sequential(*dec), arch="mlp")
