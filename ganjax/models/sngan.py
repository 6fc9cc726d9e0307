"""SNGAN ResNet generator and discriminator (Miyato et al. 2018, appendix, CIFAR-10 32x32).

G: z -> dense base x base x width -> [up ResBlock] * n -> BN, ReLU, 3x3 conv to C -> tanh, with
n = log2(resolution / base) (32 = 4 -> 8 -> 16 -> 32, the paper's three blocks).
D: optimised first ResBlock down -> ResBlock down -> ResBlock -> ResBlock -> ReLU -> global sum
pooling -> dense 1, with spectral normalisation on every layer. All convs are layers.Conv
(canonical-layout gradients; `fast=False` swaps in plain autodiff for comparison).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax.config import require
from ganjax.types import DOut, Latent, Networks
from ganjax.models.dcgan import base_grid, check_image_model
from ganjax.models.layers import (Conv, avg_pool2, generator_norm, maybe_spectral_norm,
                                  upsample_nearest)

Array = jax.Array

# The fields of config.model this module owns (base_config(model="sngan") adds them).
CONFIG = {
    "width": 256,  # G's channels
    "d_width": 0,  # D's channels; 0 = model.width
    "d_spectral_norm": True,
    "fast_conv": True,  # layers.Conv's canonical-layout gradients (see ganjax.models.dcgan)
}


class UpResBlock(nn.Module):
    """BN, ReLU, 2x nearest upsample, 3x3 conv, BN, ReLU, 3x3 conv; plus upsample, 1x1 conv.

    The BatchNorms are class-conditional when `latent` carries one-hot labels.
    """

    features: int
    fast: bool = True

    @nn.compact
    def __call__(self, x: Array, train: bool = True, latent: Latent | None = None) -> Array:
        latent = latent or {}
        h = upsample_nearest(nn.relu(generator_norm(train, "bn0", latent)(x)))
        h = Conv(self.features, 3, use_bias=False, fast=self.fast, name="conv0")(h)
        h = nn.relu(generator_norm(train, "bn1", latent)(h))
        h = Conv(self.features, 3, fast=self.fast, name="conv1")(h)
        return h + Conv(self.features, 1, fast=self.fast, name="shortcut")(upsample_nearest(x))


class DownResBlock(nn.Module):
    """D's ResBlock: [ReLU,] 3x3 conv, ReLU, 3x3 conv[, 2x2 avg pool] plus a shortcut.

    `first` is the paper's optimised first block (no leading ReLU on the image; shortcut pools
    before its 1x1 conv). Otherwise the shortcut is a 1x1 conv (then pool) when the block
    resamples or changes width, and the identity when it does neither.
    """

    features: int
    downsample: bool = True
    first: bool = False
    spectral_norm: bool = True
    fast: bool = True

    @nn.compact
    def __call__(self, x: Array, train: bool = True) -> Array:
        def conv(k: int, name: str):
            layer = Conv(self.features, k, fast=self.fast, name=name)
            return lambda h: maybe_spectral_norm(layer, self.spectral_norm)(h, train)

        pool = avg_pool2 if self.downsample else (lambda h: h)
        h = x if self.first else nn.relu(x)
        h = pool(conv(3, "conv1")(nn.relu(conv(3, "conv0")(h))))
        if self.first:
            shortcut = conv(1, "shortcut")(avg_pool2(x))
        elif self.downsample or x.shape[-1] != self.features:
            shortcut = pool(conv(1, "shortcut")(x))
        else:
            shortcut = x
        return h + shortcut


class SNGANGenerator(nn.Module):
    """latent {"z": [B, noise_dim]} -> images [B, resolution, resolution, channels] in [-1, 1]."""

    resolution: int = 32
    channels: int = 3
    width: int = 256
    fast: bool = True

    @nn.compact
    def __call__(self, latent: Latent, train: bool = True) -> Array:
        z = latent["z"]
        base, steps = base_grid(self.resolution)
        x = nn.Dense(base * base * self.width, name="project")(z)
        x = x.reshape(z.shape[0], base, base, self.width)
        for i in range(steps):
            x = UpResBlock(self.width, self.fast, name=f"block{i}")(x, train, latent)
        x = nn.relu(generator_norm(train, "out_bn", latent)(x))
        return jnp.tanh(Conv(self.channels, 3, fast=self.fast, name="out")(x))


class SNGANDiscriminator(nn.Module):
    """Images [B, H, W, C] -> DOut(logits [B], sum-pooled features [B, width]); every layer
    spectrally normalised by default."""

    width: int = 128
    spectral_norm: bool = True
    fast: bool = True

    @nn.compact
    def __call__(self, x: Array, y: Array | None = None, train: bool = True) -> DOut:
        del y
        block = lambda name, **kw: DownResBlock(  # noqa: E731
            self.width, spectral_norm=self.spectral_norm, fast=self.fast, name=name, **kw)
        x = block("block0", first=True)(x, train)
        x = block("block1")(x, train)
        x = block("block2", downsample=False)(x, train)
        x = block("block3", downsample=False)(x, train)
        x = jnp.sum(nn.relu(x), axis=(1, 2))  # global sum pooling
        dense = nn.Dense(1, name="logit")
        return DOut(maybe_spectral_norm(dense, self.spectral_norm)(x, train)[:, 0], x)


def check(c) -> None:
    """ConfigError for an SNGAN field this model cannot use."""
    check_image_model(c)
    require(c.data.resolution == 32, "data.resolution", "the SNGAN ResNets are built for 32", c)


def build(config, data_shape: tuple[int, ...]) -> Networks:
    """SNGAN ResNet G and D (32x32)."""
    m, d = config.model, config.data
    return Networks(
        SNGANGenerator(resolution=d.resolution, channels=d.channels, width=m.width,
                       fast=m.fast_conv),
        SNGANDiscriminator(width=m.d_width or m.width, spectral_norm=m.d_spectral_norm,
                           fast=m.fast_conv))
