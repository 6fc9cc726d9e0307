"""Generator and discriminator networks, built from `config.model`."""

from __future__ import annotations

import flax.linen as nn
import ml_collections

from ganjax.models.mlp import MLPDiscriminator, MLPGenerator


def build_models(config: ml_collections.ConfigDict, data_dim: int) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for `config.model`, producing samples of `data_dim` features."""
    m = config.model
    generator = MLPGenerator(hidden=tuple(m.g_hidden), out_dim=data_dim, activation=m.g_activation)
    discriminator = MLPDiscriminator(hidden=tuple(m.d_hidden), activation=m.d_activation,
                                     group=m.d_group, group_features=m.d_group_features)
    return generator, discriminator


__all__ = ["MLPDiscriminator", "MLPGenerator", "build_models"]
