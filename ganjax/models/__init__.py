"""Generator and discriminator networks, built from `config.model`."""

from __future__ import annotations

import flax.linen as nn
import ml_collections

from ganjax.models.mlp import MLPDiscriminator, MLPGenerator


def build_models(config: ml_collections.ConfigDict, data_dim: int) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for `config.model`; toys' samples have `data_dim` features."""
    m, d = config.model, config.data
    d_width = m.d_width or m.width
    if m.name == "mlp":
        return (MLPGenerator(hidden=tuple(m.g_hidden), out_dim=data_dim, activation=m.g_activation),
                MLPDiscriminator(hidden=tuple(m.d_hidden), activation=m.d_activation,
                                 group=m.d_group, group_features=m.d_group_features))
    if m.name == "dcgan":
        from ganjax.models.dcgan import DCGANDiscriminator, DCGANGenerator

        return (DCGANGenerator(resolution=d.resolution, channels=d.channels, width=m.width,
                               batch_norm=m.g_batch_norm, fast_conv=m.fast_conv),
                DCGANDiscriminator(resolution=d.resolution, width=d_width,
                                   batch_norm=m.d_batch_norm, spectral_norm=m.d_spectral_norm,
                                   fast_conv=m.fast_conv))
    if m.name == "sngan":
        from ganjax.models.sngan import SNGANDiscriminator, SNGANGenerator

        return (SNGANGenerator(resolution=d.resolution, channels=d.channels, width=m.width,
                               fast=m.fast_conv),
                SNGANDiscriminator(width=d_width, spectral_norm=m.d_spectral_norm,
                                   fast=m.fast_conv))
    raise ValueError(f"unknown model.name {m.name!r}; known: mlp, dcgan, sngan")


__all__ = ["MLPDiscriminator", "MLPGenerator", "build_models"]
