"""Building a GAN and its algorithm from a validated config.

The model module gives the networks and any terms its family adds; the config's loss and
penalty give the adversarial terms; `ganjax.engine.hparams.read` gives the starting values of
every numeric hyperparameter those pieces read. The algorithm follows from the networks: the one
`Networks.algorithm` names, else with a discriminator "adversarial", without one
"generator_only".
"""

from __future__ import annotations

import ml_collections

from ganjax import registry
from ganjax.engine.algorithm import GANAlgorithm, build_algorithm
from ganjax.engine.gan import GAN
from ganjax.engine.head_terms import head_terms
from ganjax.engine.hparams import read
from ganjax.engine.latent import LatentSpec
from ganjax.engine.objectives import adversarial_terms, penalty_term
from ganjax.engine.optimizers import Optimizer
from ganjax.metrics.mmd import mmd_term
from ganjax.models import build_networks
from ganjax.types import Networks

# The optimizer hyperparameters every player reads (Adam's betas are read even by SGD-only
# configs' states, so that a sweep can switch them on without changing the state's shape).
_OPTIM_KEYS = ("optim.b1", "optim.b2", "optim.momentum")


def build_gan(config: ml_collections.ConfigDict, data_shape: tuple[int, ...]) -> GAN:
    """The GAN that `config` (validated) describes, for data examples of shape `data_shape`:
    the model's networks in the config's heads, plus the heads' terms (ACGAN, InfoGAN)."""
    nets = build_networks(config, data_shape)
    g_terms, d_terms, keys = head_terms(config)
    nets = nets._replace(g_terms=tuple(nets.g_terms) + g_terms,
                         d_terms=tuple(nets.d_terms) + d_terms,
                         hparam_values={**nets.hparam_values, **read(config, keys)})
    return gan_from_networks(config, nets, data_shape)


def gan_from_networks(config: ml_collections.ConfigDict, nets: Networks,
                      data_shape: tuple[int, ...]) -> GAN:
    """The GAN of `config` around given networks (what `build_gan` does after building them;
    tests and notebooks use it to train hand-written modules with a config's objectives)."""
    o, t = config.optim, config.train
    momentum = o.name == "sgd" and o.momentum > 0
    g_opt = Optimizer(o.name, "optim.g_lr", o.g_schedule, t.steps, o.warmup_steps, momentum)
    keys = ["optim.g_lr", *_OPTIM_KEYS, "optim.ema_decay"]
    g_terms, d_terms, d_opt = tuple(nets.g_terms), (), None
    if nets.discriminator is not None:
        d_term, g_term = adversarial_terms(registry.resolve("loss", config.loss.name))
        penalty = penalty_term(registry.resolve("penalty", config.penalty.name))
        d_terms = (d_term, penalty) + tuple(nets.d_terms)
        g_terms = (g_term,) + g_terms
        if config.loss.g_mmd_weight > 0:  # moment matching beside the adversary
            g_terms += (mmd_term(config.loss.g_mmd_bandwidths, "loss.g_mmd_weight"),)
            keys.append("loss.g_mmd_weight")
        # D's schedule counts its d_steps updates per training step.
        d_opt = Optimizer(o.name, "optim.d_lr", o.d_schedule, t.steps * t.d_steps,
                          o.warmup_steps, momentum)
        keys += ["optim.d_lr", "optim.d_weight_clip", "penalty.weight"]
    return GAN(
        generator=nets.generator,
        discriminator=nets.discriminator,
        latent=LatentSpec(config.model.noise_dim, config.model.noise, nets.num_classes,
                          nets.code_dim, tuple(nets.code_categories)),
        data_shape=tuple(data_shape),
        g_optimizer=g_opt,
        d_optimizer=d_opt,
        g_terms=g_terms,
        d_terms=d_terms,
        hparam_values={**read(config, keys), **nets.hparam_values},
        algorithm=nets.algorithm or ("adversarial" if nets.discriminator is not None
                                     else "generator_only"),
        ema=config.optim.ema_decay > 0,
        d_weight_clip=nets.discriminator is not None and config.optim.d_weight_clip > 0,
        d_group=nets.d_group,
        num_classes=nets.num_classes,
    )


def build(config: ml_collections.ConfigDict, data_shape: tuple[int, ...]) -> GANAlgorithm:
    """The algorithm (with its GAN) that `config` describes."""
    return build_algorithm(build_gan(config, data_shape))
