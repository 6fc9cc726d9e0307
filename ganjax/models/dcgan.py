"""DCGAN generator and discriminator (Radford et al. 2015) for square NHWC images.

Both networks follow the resolution: G projects z to a base grid (7x7 when 7 divides the
resolution, so 28 = 7 -> 14 -> 28; 4x4 otherwise, so 8 = 4 -> 8 in one step, 32 = 4 -> 8 -> 16
-> 32) and doubles it per 4x4 stride-2 transposed conv; D halves it per 4x4 stride-2 conv down
to the same base grid. Widths halve on G's way up and double on D's way down, so that G's last
hidden block and D's first block have `width` channels. Layers followed by BatchNorm have no
bias (BatchNorm's shift replaces it).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax.config import is_toy, require
from ganjax.models import packing
from ganjax.types import DOut, Latent, Networks
from ganjax.models.layers import (Conv, ConvTranspose2x, batch_norm, dense_norm_leaky_relu,
                                  generator_norm, maybe_spectral_norm)

Array = jax.Array

# The fields of config.model this module owns (base_config(model="dcgan") adds them).
CONFIG = {
    "width": 64,  # base channel count (G)
    "d_width": 0,  # D's base channel count; 0 = model.width
    "g_batch_norm": True,
    "d_batch_norm": True,
    "d_spectral_norm": False,
    # A fully connected hidden layer before G's projection / after D's last conv (0 = none):
    # the InfoGAN MNIST networks' FC-1024 layers (Chen et al. 2016, appendix). D's features
    # (where heads attach) are then that layer's activations.
    "g_dense": 0,
    "d_dense": 0,
    # Convs whose gradients are again canonical-layout convs (same function and parameters as
    # flax's Conv/ConvTranspose); XLA:CPU runs autodiff's layouts 20-100x slower inside scans.
    "fast_conv": True,
    # D may judge groups of images: PacDCGAN (Lin et al. 2018) packs them along channels
    # (`ganjax.models.packing`).
    **packing.CONFIG,
}


def base_grid(resolution: int) -> tuple[int, int]:
    """(base side, number of 2x resampling steps) for a square `resolution`."""
    base = 7 if resolution % 7 == 0 else 4
    steps = (resolution // base).bit_length() - 1
    if resolution < 2 * base or resolution != base << steps:
        raise ValueError(f"resolution {resolution} is not 4 * 2^n or 7 * 2^n with n >= 1")
    return base, steps


class DCGANGenerator(nn.Module):
    """latent {"z": [B, noise_dim]} -> images [B, resolution, resolution, channels] in [-1, 1].

    dense -> base x base x (width * 2^(n-1)) -> BN, ReLU -> [up 2x, BN, ReLU] * (n-1) -> up 2x
    to `channels` -> tanh, with n = log2(resolution / base). The BatchNorms are class-conditional
    when the latent carries one-hot labels (`ganjax.models.layers.generator_norm`).
    `fast_conv` picks ConvTranspose2x's hand-written backward pass (same function and
    parameters either way). `dense` adds a hidden dense layer (BN, ReLU) before the projection.
    """

    resolution: int = 32
    channels: int = 3
    width: int = 64
    batch_norm: bool = True
    fast_conv: bool = True
    dense: int = 0  # a hidden dense layer (+ BN, ReLU) before the projection; 0 = none

    @nn.compact
    def __call__(self, latent: Latent, train: bool = True) -> Array:
        z = latent["z"]
        base, steps = base_grid(self.resolution)
        features = self.width * 2 ** (steps - 1)
        if self.dense:
            z = nn.Dense(self.dense, use_bias=not self.batch_norm, name="dense")(z)
            z = self._norm_relu(z, train, "dense_bn", latent)
        x = nn.Dense(base * base * features, use_bias=not self.batch_norm, name="project")(z)
        x = self._norm_relu(x.reshape(z.shape[0], base, base, features), train, "project_bn",
                            latent)
        for i in range(steps - 1):
            features //= 2
            x = self._up(features, not self.batch_norm, f"up{i}")(x)
            x = self._norm_relu(x, train, f"up{i}_bn", latent)
        x = self._up(self.channels, True, f"up{steps - 1}")(x)
        return jnp.tanh(x)

    def _up(self, features: int, use_bias: bool, name: str) -> ConvTranspose2x:
        return ConvTranspose2x(features, 4, 2, use_bias=use_bias, fast=self.fast_conv,
                               name=name)

    def _norm_relu(self, x: Array, train: bool, name: str, latent: Latent) -> Array:
        if self.batch_norm:
            x = generator_norm(train, name, latent)(x)
        return nn.relu(x)


class DCGANDiscriminator(nn.Module):
    """Images [B, H, W, C] -> DOut(logits [B], features): [4x4 stride-2 conv, (BN), LeakyReLU
    0.2] * n -> dense; the features are the flattened last conv block (unconditional: heads in
    `ganjax.models.heads` add labels).

    BatchNorm (if on) follows every conv but the first; `spectral_norm` normalises every conv and
    the dense layer (its power-iteration vectors live in "batch_stats"; SN usually goes with
    batch_norm=False, as in Miyato et al. 2018). No pooling. `fast_conv` picks layers.Conv's
    canonical-layout gradients (same function and parameters as nn.Conv either way). `group`
    > 1 packs that many images along channels before the first conv (PacDCGAN): the logits and
    features are then one per group.
    """

    resolution: int = 32
    width: int = 64
    batch_norm: bool = True
    spectral_norm: bool = False
    fast_conv: bool = True
    dense: int = 0  # a hidden dense layer (+ BN, LeakyReLU) after the convs; 0 = none
    group: int = 1  # > 1: logits [B / group] of packed groups (`ganjax.models.packing`)
    group_features: str = "concat"

    @nn.compact
    def __call__(self, x: Array, y: Array | None = None, train: bool = True) -> DOut:
        del y
        _, steps = base_grid(self.resolution)
        if x.shape[1:3] != (self.resolution, self.resolution):
            raise ValueError(f"images of side {x.shape[1:3]} for a D of resolution "
                             f"{self.resolution}")
        if self.group > 1:
            x = packing.group_features(x, self.group, self.group_features)
        features = self.width
        for i in range(steps):
            norm = self.batch_norm and i > 0
            conv = Conv(features, 4, 2, use_bias=not norm, fast=self.fast_conv, name=f"down{i}")
            x = maybe_spectral_norm(conv, self.spectral_norm)(x, train)
            if norm:
                x = batch_norm(train, f"down{i}_bn")(x)
            x = nn.leaky_relu(x, 0.2)
            features *= 2
        features = x.reshape(x.shape[0], -1)
        if self.dense:
            features = dense_norm_leaky_relu(features, self.dense, "dense", train,
                                             self.batch_norm, self.spectral_norm)
        logit = maybe_spectral_norm(nn.Dense(1, name="logit"), self.spectral_norm)
        return DOut(logit(features, train)[:, 0], features)


def check_image_model(c) -> None:
    """What every image model needs: image data, positive widths."""
    require(not is_toy(c), "model.name", f"{c.model.name} is for image data; the toy sources "
            f"need model.name=mlp", c)
    require(c.model.width >= 1, "model.width", "must be >= 1", c)
    require(c.model.d_width >= 0, "model.d_width", "must be >= 0 (0 = model.width)", c)


def check(c) -> None:
    """ConfigError for a DCGAN field this model cannot use."""
    check_image_model(c)
    require(c.penalty.name == "none" or not c.model.d_batch_norm, "penalty.name",
            "gradient penalties need per-sample D outputs; set model.d_batch_norm=false", c)
    packing.check(c)
    for key in ("g_dense", "d_dense"):
        require(isinstance(c.model[key], int) and c.model[key] >= 0, f"model.{key}",
                "must be an integer >= 0 (0 = no dense hidden layer)", c)
    require(c.model.g_conditioning != "batch_norm" or c.model.g_batch_norm,
            "model.g_conditioning", "batch_norm needs model.g_batch_norm=true (or use concat)", c)


def build(config, data_shape: tuple[int, ...]) -> Networks:
    """DCGAN G and D at `config.data.resolution` with `config.data.channels` channels."""
    m, d = config.model, config.data
    return Networks(
        DCGANGenerator(resolution=d.resolution, channels=d.channels, width=m.width,
                       batch_norm=m.g_batch_norm, fast_conv=m.fast_conv, dense=m.g_dense),
        DCGANDiscriminator(resolution=d.resolution, width=m.d_width or m.width,
                           batch_norm=m.d_batch_norm, spectral_norm=m.d_spectral_norm,
                           fast_conv=m.fast_conv, dense=m.d_dense, group=m.d_group,
                           group_features=m.d_group_features),
        d_group=m.d_group)
