"""The adversarial algorithm: k discriminator updates, then one generator update, as one pure step.

`step(state, batch) -> (state, metrics)` has no Python-side state and no host callbacks, so it can
be jitted, vmapped over a stacked state (sweeps), run under a device mesh (data parallelism), and
scanned over many steps. `batch["x"]` holds k = d_steps real minibatches [k, B, ...] (and
`batch["y"]` their labels [k, B] for a conditional GAN): Goodfellow et al. 2014, Algorithm 1.
Each player minimises the sum of its objective terms (`ganjax.engine.objectives`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from ganjax.engine.algorithm import GANAlgorithm, ema_update, init_state
from ganjax.engine.gan import GAN
from ganjax.engine.objectives import DInputs, GInputs, logit_means, total
from ganjax.engine.state import TrainState
from ganjax.types import Array, Batch, Metrics, StepFn

# Up to this many D steps are unrolled; more run as a lax.scan (one copy of the D update in HLO).
_MAX_UNROLLED_D_STEPS = 4


def _d_update(gan: GAN, state: TrainState, real: Batch, rng: Array) -> tuple[TrainState,
                                                                             Metrics]:
    """One D step on a fresh real minibatch and a fresh fake one (Algorithm 1's inner loop)."""
    z_rng, term_rng = jax.random.split(rng)
    x, y = real["x"], real.get("y")
    latent = gan.sample_latent(z_rng, x.shape[0])
    fake, g_stats = gan.generate(state.params["g"], state.batch_stats["g"], latent, train=True)
    fake = jax.lax.stop_gradient(fake)
    diagnostics = logit_means()

    def loss_fn(d_params):
        real_out, stats = gan.discriminate(d_params, state.batch_stats["d"], x, y, train=True)
        fake_out, stats = gan.discriminate(d_params, stats, fake, latent.get("y"), train=True)
        d_fn = lambda inputs: gan.discriminate(d_params, stats, inputs, y, train=True)[0].logit  # noqa: E731
        inputs = DInputs(real_out, fake_out, real, latent, fake, d_fn, term_rng)
        loss, metrics = total(gan.d_terms, inputs, state.hparams, "d")
        return loss, (stats, {**metrics, **diagnostics(inputs)})

    grads, (d_stats, metrics) = jax.grad(loss_fn, has_aux=True)(state.params["d"])
    updates, d_opt_state = gan.d_optimizer.update(grads, state.opt_state["d"], state.params["d"],
                                                  state.hparams)
    d_params = optax.apply_updates(state.params["d"], updates)
    if gan.d_weight_clip:
        clip = state.hparams["optim.d_weight_clip"]
        d_params = jax.tree.map(lambda p: jnp.clip(p, -clip, clip), d_params)
    metrics["d_grad_norm"] = optax.tree.norm(grads)  # of the raw gradients; ganjax clips none
    metrics["d_lr"] = gan.d_optimizer.learning_rate(d_opt_state)
    state = state.replace(params={**state.params, "d": d_params},
                          opt_state={**state.opt_state, "d": d_opt_state},
                          batch_stats={"g": g_stats, "d": d_stats})
    return state, metrics


def _g_update(gan: GAN, state: TrainState, real: Batch, rng: Array) -> tuple[TrainState,
                                                                             Metrics]:
    """One G step against the current D."""
    latent = gan.sample_latent(rng, real["x"].shape[0])

    def loss_fn(g_params):
        fake, g_stats = gan.generate(g_params, state.batch_stats["g"], latent, train=True)
        out, d_stats = gan.discriminate(state.params["d"], state.batch_stats["d"], fake,
                                        latent.get("y"), train=True)
        loss, metrics = total(gan.g_terms, GInputs(out, fake, real, latent), state.hparams, "g")
        return loss, (g_stats, d_stats, metrics)

    (_, (g_stats, d_stats, metrics)), grads = jax.value_and_grad(
        loss_fn, has_aux=True)(state.params["g"])
    updates, g_opt_state = gan.g_optimizer.update(grads, state.opt_state["g"], state.params["g"],
                                                  state.hparams)
    g_params = optax.apply_updates(state.params["g"], updates)
    state = state.replace(params={**state.params, "g": g_params},
                          opt_state={**state.opt_state, "g": g_opt_state},
                          batch_stats={"g": g_stats, "d": d_stats})
    return ema_update(state, g_params), {**metrics, "g_grad_norm": optax.tree.norm(grads),
                                         "g_lr": gan.g_optimizer.learning_rate(g_opt_state)}


def make_train_step(gan: GAN) -> StepFn:
    """The pure adversarial step for `gan`: d_steps D updates (one per minibatch), one G update."""

    def step(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        d_steps = batch["x"].shape[0]
        rng, d_rng, g_rng = jax.random.split(state.rng, 3)

        def d_body(carry, inputs):
            minibatch, key = inputs
            return _d_update(gan, carry, minibatch, key)

        unroll = d_steps if d_steps <= _MAX_UNROLLED_D_STEPS else 1
        state, d_metrics = jax.lax.scan(d_body, state, (batch, jax.random.split(d_rng, d_steps)),
                                        unroll=unroll)
        d_metrics = jax.tree.map(lambda m: m[-1], d_metrics)  # the last D step's view
        # G sees the last real minibatch (only terms that compare with data read it).
        last = jax.tree.map(lambda v: v[-1], batch)
        state, g_metrics = _g_update(gan, state, last, g_rng)
        state = state.replace(step=state.step + 1, rng=rng)
        return state, {**d_metrics, **g_metrics}

    return step


def make_probe(gan: GAN):
    """state, x, y=None -> {"d_prob": sigmoid(D(x, y))}; a conditional D judges x with labels
    y (without them, its unconditional view: see `ganjax.models.heads`)."""

    def probe(state: TrainState, x: Array, y: Array | None = None) -> dict[str, Array]:
        out, _ = gan.discriminate(state.params["d"], state.batch_stats["d"], x, y, train=False)
        return {"d_prob": jax.nn.sigmoid(out.logit)}

    return probe


def make_adversarial(gan: GAN) -> GANAlgorithm:
    """The adversarial algorithm (registered as "adversarial")."""
    if gan.discriminator is None or gan.d_optimizer is None:
        raise ValueError("the adversarial algorithm needs a discriminator and its optimizer")
    return GANAlgorithm("adversarial", gan, lambda rng: init_state(gan, rng),
                        make_train_step(gan), make_probe(gan))
