"""Conditioning and InfoGAN codes for any architecture, chosen by config.

`condition(networks, config)` wraps the unconditional networks an architecture module built:
the generator in `ConditionedG` (labels concatenated to z, or handed to class-conditional
BatchNorms; InfoGAN's codes concatenated), the discriminator in the head of
`model.d_conditioning` and, with InfoGAN codes, in `InfoQ`. The objective terms that go with
the heads (ACGAN's class loss, InfoGAN's mutual-information bound) are added by the engine
(`ganjax.engine.head_terms`); the architectures never see the conditioning.

  model.num_classes       labels in [0, K) the model is conditioned on (0 = unconditional)
  model.g_conditioning    none | concat (one_hot(y) appended to z) | batch_norm (per-class BN)
  model.d_conditioning    none | concat (one_hot(y) appended to D's input) | projection | acgan
  model.info_categorical  InfoGAN categorical code sizes, e.g. (10,)
  model.info_continuous   InfoGAN continuous codes, each uniform on [-1, 1]
"""

from __future__ import annotations

from ganjax.errors import ConfigError
from ganjax.models.heads import (AuxClassifierD, ConcatConditionedD, ConditionedG, InfoQ,
                                 ProjectionD)
from ganjax.types import Networks

_D_HEADS = {"concat": ConcatConditionedD, "projection": ProjectionD, "acgan": AuxClassifierD}


def is_conditioned(config) -> bool:
    """Whether the config conditions the model on labels or gives it InfoGAN codes."""
    m = config.model
    return bool(m.num_classes or m.info_categorical or m.info_continuous)


def condition(nets: Networks, config) -> Networks:
    """`nets` wrapped in the heads `config.model` asks for (unchanged when it asks for none)."""
    if not is_conditioned(config):
        return nets
    m = config.model
    classes = m.num_classes if m.g_conditioning != "none" else 0
    categories = tuple(int(k) for k in m.info_categorical)
    generator = ConditionedG(nets.generator, classes,
                             m.g_conditioning if classes else "concat", categories)
    discriminator = nets.discriminator
    if discriminator is None and (m.d_conditioning != "none" or categories or m.info_continuous):
        raise ConfigError(f"config.model: {m.name} has no discriminator, so it takes no "
                          f"d_conditioning or InfoGAN codes (their heads sit on D); set "
                          f"model.d_conditioning=none and no model.info_* codes")
    if discriminator is not None and m.d_conditioning != "none":
        discriminator = _D_HEADS[m.d_conditioning](discriminator, m.num_classes)
    if discriminator is not None and (categories or m.info_continuous):
        discriminator = InfoQ(discriminator, categories, int(m.info_continuous),
                              hidden=int(m.info_q_hidden),
                              batch_norm=bool(m.info_q_batch_norm))
    return nets._replace(generator=generator, discriminator=discriminator,
                         num_classes=int(m.num_classes), code_dim=int(m.info_continuous),
                         code_categories=categories)
