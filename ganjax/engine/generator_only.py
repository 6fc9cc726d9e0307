"""The generator-only algorithm: G minimises its terms against real batches, with no D at all.

For generators trained by a statistic of two samples (moment matching / MMD, Li et al. 2015;
Dziugaite et al. 2015): each step draws a latent, generates a batch and takes one optimizer
step on the sum of G's terms, which see the samples and the real minibatch (`GInputs.fake` is
None). The state has only the "g" player, and checkpoints, runners, sampling and evaluation
treat it like any other `TrainState`.
"""

from __future__ import annotations

import jax
import optax

from ganjax.engine.algorithm import GANAlgorithm, ema_update, init_state, no_probe
from ganjax.engine.gan import GAN
from ganjax.engine.objectives import GInputs, total
from ganjax.engine.state import TrainState
from ganjax.types import Batch, Metrics, StepFn


def make_train_step(gan: GAN) -> StepFn:
    """The pure generator-only step; `batch["x"]` is [1, B, ...] like the adversarial step's."""

    def step(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        rng, g_rng = jax.random.split(state.rng)
        real = jax.tree.map(lambda v: v[-1], batch)
        latent = gan.sample_latent(g_rng, real["x"].shape[0])

        def loss_fn(g_params):
            fake, g_stats = gan.generate(g_params, state.batch_stats["g"], latent, train=True)
            loss, metrics = total(gan.g_terms, GInputs(None, fake, real, latent), state.hparams,
                                  "g")
            return loss, (g_stats, metrics)

        (_, (g_stats, metrics)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.params["g"])
        updates, opt_state = gan.g_optimizer.update(grads, state.opt_state["g"],
                                                    state.params["g"], state.hparams)
        g_params = optax.apply_updates(state.params["g"], updates)
        state = state.replace(params={"g": g_params}, opt_state={"g": opt_state},
                              batch_stats={"g": g_stats}, step=state.step + 1, rng=rng)
        return ema_update(state, g_params), {**metrics, "g_grad_norm": optax.tree.norm(grads),
                                             "g_lr": gan.g_optimizer.learning_rate(opt_state)}

    return step


def make_generator_only(gan: GAN) -> GANAlgorithm:
    """The generator-only algorithm (registered as "generator_only")."""
    if gan.discriminator is not None or gan.d_terms:
        raise ValueError("the generator-only algorithm trains no discriminator; build the GAN "
                         "with discriminator=None and no D terms")
    return GANAlgorithm("generator_only", gan, lambda rng: init_state(gan, rng),
                        make_train_step(gan), no_probe)
