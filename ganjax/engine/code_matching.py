"""The code-matching algorithm: fit an autoencoder, then fit a generator of its codes (GMMN+AE).

Li, Swersky & Zemel 2015 (GMMN+AE) match moments in the code space of an autoencoder trained
first: there, a few dozen dimensions carry what matters and a Gaussian kernel's distances mean
more than between raw pixels. The generator that ganjax samples is decoder(code_gen(z)).

One pure step serves both phases, chosen inside the compiled step by `lax.cond` on
`state.step < hparams["model.ae_steps"]`:
  * autoencoder phase: one update of the encoder and decoder on the generator module's
    `reconstruction_loss` of the real batch (optimizer over hparams["model.ae_lr"]);
  * code phase: one update of the code generator on G's terms (`gan.g_terms`, e.g. the MMD),
    which see the generated codes as `fake_x` and the encoder's codes of the real batch (no
    gradient) as `batch["x"]` (optimizer over "optim.g_lr"; the autoencoder stays fixed).
Both phases log the same metrics (the inactive player's loss as a diagnostic, its gradient norm
as 0), so a run's logs, scans and checkpoints look alike throughout, and resuming across the
phase boundary is exact: the phase is a function of the state's step.

The generator module (e.g. `ganjax.models.gmmn.CodeSpaceGenerator`) must have parameter
subtrees "code_gen", "encoder" and "decoder", no batch statistics, and methods `codes(latent)`,
`encode(x)` and `reconstruction_loss(x)`; `__call__(latent)` gives images. All of its
parameters are the "g" player's (so sampling, the EMA and checkpoints need nothing new), and
`opt_state["g"]` holds the two optimizer states: {"autoencoder": ..., "code_gen": ...}.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import optax

from ganjax.engine.algorithm import GANAlgorithm, ema_update, init_state, no_probe
from ganjax.engine.gan import GAN
from ganjax.engine.objectives import GInputs, total
from ganjax.engine.optimizers import Optimizer
from ganjax.engine.state import TrainState
from ganjax.types import Array, Batch, Metrics, StepFn

AE_PARTS = ("encoder", "decoder")
CODE_PART = "code_gen"
PHASE_KEY = "model.ae_steps"
AE_LR_KEY = "model.ae_lr"


def autoencoder_optimizer(gan: GAN) -> Optimizer:
    """G's optimizer kind at a constant learning rate hparams["model.ae_lr"]."""
    return dataclasses.replace(gan.g_optimizer, lr_key=AE_LR_KEY, schedule="constant",
                               total_updates=1, warmup=0)


def _autoencoder_params(g_params) -> dict:
    return {part: g_params[part] for part in AE_PARTS}


def init(gan: GAN, rng: Array) -> TrainState:
    """`init_state`'s networks, hyperparameters and key, with the two optimizer states."""
    state = init_state(gan, rng)
    if state.batch_stats["g"]:
        raise ValueError("the code-matching algorithm needs a generator without batch "
                         "statistics (no BatchNorm or spectral norm)")
    g_params = state.params["g"]
    opt_state = {"autoencoder": autoencoder_optimizer(gan).init(_autoencoder_params(g_params),
                                                                state.hparams),
                 "code_gen": gan.g_optimizer.init(g_params[CODE_PART], state.hparams)}
    return state.replace(opt_state={"g": opt_state})


def make_train_step(gan: GAN) -> StepFn:
    """The pure two-phase step; `batch["x"]` is [1, B, ...] like the other algorithms'."""
    ae_optimizer = autoencoder_optimizer(gan)

    def call(params, method: str, *args):
        return gan.generator.apply({"params": params}, *args, train=True, method=method)

    def step(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        rng, g_rng = jax.random.split(state.rng)
        real = jax.tree.map(lambda v: v[-1], batch)
        latent = gan.sample_latent(g_rng, real["x"].shape[0])
        params, opt, hparams = state.params["g"], state.opt_state["g"], state.hparams

        def code_loss(code_params):
            p = {**params, CODE_PART: code_params}
            target = jax.lax.stop_gradient(call(p, "encode", real["x"]))
            inputs = GInputs(None, call(p, "codes", latent), {**real, "x": target}, latent)
            return total(gan.g_terms, inputs, hparams, "g")

        def reconstruction(ae_params):
            return call({**params, **ae_params}, "reconstruction_loss", real["x"])

        def train_autoencoder(_):
            ae_params = _autoencoder_params(params)
            recon, grads = jax.value_and_grad(reconstruction)(ae_params)
            updates, ae_opt = ae_optimizer.update(grads, opt["autoencoder"], ae_params, hparams)
            new = {**params, **optax.apply_updates(ae_params, updates)}
            _, g_metrics = code_loss(params[CODE_PART])  # a diagnostic: no code update
            metrics = {**g_metrics, "ae_reconstruction": recon,
                       "ae_grad_norm": optax.tree.norm(grads),
                       "g_grad_norm": jnp.zeros((), jnp.float32)}
            return new, {**opt, "autoencoder": ae_opt}, metrics

        def train_code_generator(_):
            (_, g_metrics), grads = jax.value_and_grad(code_loss, has_aux=True)(
                params[CODE_PART])
            updates, code_opt = gan.g_optimizer.update(grads, opt["code_gen"],
                                                       params[CODE_PART], hparams)
            new = {**params, CODE_PART: optax.apply_updates(params[CODE_PART], updates)}
            metrics = {**g_metrics, "ae_reconstruction": reconstruction(
                           _autoencoder_params(params)),
                       "ae_grad_norm": jnp.zeros((), jnp.float32),
                       "g_grad_norm": optax.tree.norm(grads)}
            return new, {**opt, "code_gen": code_opt}, metrics

        in_ae_phase = state.step < hparams[PHASE_KEY]
        g_params, g_opt, metrics = jax.lax.cond(in_ae_phase, train_autoencoder,
                                                train_code_generator, None)
        state = state.replace(params={"g": g_params}, opt_state={"g": g_opt},
                              step=state.step + 1, rng=rng)
        return ema_update(state, g_params), {
            **metrics, "ae_phase": in_ae_phase.astype(jnp.float32),
            "g_lr": gan.g_optimizer.learning_rate(g_opt["code_gen"]),
            "ae_lr": ae_optimizer.learning_rate(g_opt["autoencoder"])}

    return step


def make_code_matching(gan: GAN) -> GANAlgorithm:
    """The code-matching algorithm (registered as "code_matching")."""
    if gan.discriminator is not None or gan.d_terms:
        raise ValueError("the code-matching algorithm trains no discriminator; build the GAN "
                         "with discriminator=None and no D terms")
    missing = [key for key in (PHASE_KEY, AE_LR_KEY) if key not in gan.hparam_values]
    if missing:
        raise ValueError(f"the code-matching algorithm reads hyperparameters "
                         f"{', '.join(missing)}; give them in Networks.hparam_values")
    return GANAlgorithm("code_matching", gan, lambda rng: init(gan, rng),
                        make_train_step(gan), no_probe)
