"""GAN: the static description of one model family instance (networks, latent, objectives,
optimizers), and how to apply its networks. It holds no arrays: those are in `TrainState`.

The same description serves every algorithm: an adversarial GAN has a discriminator and terms
for both players, a generator-only one (moment matching) has `discriminator=None` and G terms
that compare samples with the batch directly.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import flax.linen as nn
import jax

from ganjax.engine.latent import LatentSpec
from ganjax.engine.objectives import Term
from ganjax.engine.optimizers import Optimizer
from ganjax.types import Array, DOut, Latent, PyTree


@dataclasses.dataclass(frozen=True)
class GAN:
    """Pure functions and modules, no arrays.

    `hparam_values` are the starting values of the numeric hyperparameters (config key ->
    float); they enter the state at init and may change later without recompiling.
    `ema` and `d_weight_clip` say whether the EMA of G and WGAN weight clipping exist at all
    (their decay and clip value are hyperparameters). `d_group` is how many samples D folds
    into one judgement (PacGAN packing; 1 for a per-sample D).
    """

    generator: nn.Module
    discriminator: nn.Module | None
    latent: LatentSpec
    data_shape: tuple[int, ...]
    g_optimizer: Optimizer
    d_optimizer: Optimizer | None
    g_terms: tuple[Term, ...]
    d_terms: tuple[Term, ...] = ()
    hparam_values: Mapping[str, float] = dataclasses.field(default_factory=dict)
    algorithm: str = "adversarial"
    ema: bool = False
    d_weight_clip: bool = False
    d_group: int = 1
    num_classes: int = 0  # > 0: batches carry labels "y" in [0, num_classes)

    def sample_latent(self, rng: Array, n: int, labels: Array | None = None,
                      codes: Array | None = None) -> Latent:
        """The generator's input for n samples (see `LatentSpec.sample`)."""
        return self.latent.sample(rng, n, labels, codes)

    def generate(self, params: PyTree, batch_stats: PyTree, latent: Latent,
                 train: bool) -> tuple[Array, PyTree]:
        """G(latent) and G's updated batch statistics."""
        return apply(self.generator, params, batch_stats, (latent,), train)

    def discriminate(self, params: PyTree, batch_stats: PyTree, x: Array, y: Array | None,
                     train: bool) -> tuple[DOut, PyTree]:
        """D's outputs on x (with labels y for a conditional D) and its updated batch statistics.

        A module that returns a bare logit array is read as `DOut(logit)`.
        """
        out, stats = apply(self.discriminator, params, batch_stats, (x, y), train)
        return (out if isinstance(out, DOut) else DOut(out)), stats


def apply(module: nn.Module, params: PyTree, batch_stats: PyTree, args: tuple[Any, ...],
          train: bool) -> tuple[Any, PyTree]:
    """Applies a module; only models with BatchNorm (or spectral norm) carry batch statistics."""
    if not batch_stats:
        return module.apply({"params": params}, *args, train=train), batch_stats
    variables = {"params": params, "batch_stats": batch_stats}
    if not train:
        return module.apply(variables, *args, train=False), batch_stats
    out, updates = module.apply(variables, *args, train=True, mutable=["batch_stats"])
    return out, updates["batch_stats"]


def init_variables(gan: GAN, g_rng: Array, d_rng: Array,
                   init_batch: int = 2) -> dict[str, dict[str, PyTree]]:
    """{player: flax variables} of fresh networks (shapes from the latent and data_shape)."""
    variables = {"g": gan.generator.init(g_rng, gan.latent.example(init_batch), train=False)}
    if gan.discriminator is not None:
        x = jax.numpy.zeros((init_batch * gan.d_group,) + gan.data_shape, jax.numpy.float32)
        y = jax.numpy.zeros((init_batch * gan.d_group,), jax.numpy.int32)
        variables["d"] = gan.discriminator.init(d_rng, x, y if gan.num_classes else None,
                                                train=False)
    return variables
