"""The training step: k discriminator updates, then one generator update, as one pure function.

`step(state, batch) -> (state, metrics)` has no Python-side state and no host callbacks, so it can
be jitted, vmapped over a stacked state (sweeps), run under a device mesh (data parallelism), and
scanned over many steps (`train_n_steps`).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax

from ganjax.gan import GAN
from ganjax.state import GANState

Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]
StepFn = Callable[[GANState, Batch], tuple[GANState, Metrics]]

# Up to this many D steps are unrolled; more run as a lax.scan (one copy of the D update in HLO).
_MAX_UNROLLED_D_STEPS = 4


def _d_update(gan: GAN, state: GANState, real: jax.Array, rng: jax.Array) -> tuple[GANState,
                                                                                    Metrics]:
    """One D step on a fresh real minibatch and a fresh fake one (Algorithm 1's inner loop)."""
    z_rng, penalty_rng = jax.random.split(rng)
    z = gan.sample_noise(z_rng, real.shape[0])
    fake, g_batch_stats = gan.generate(state.g_params, state.g_batch_stats, z, train=True)
    fake = jax.lax.stop_gradient(fake)

    def loss_fn(d_params):
        real_logits, stats = gan.discriminate(d_params, state.d_batch_stats, real, train=True)
        fake_logits, stats = gan.discriminate(d_params, stats, fake, train=True)
        adversarial = gan.loss.discriminator(real_logits, fake_logits)
        d_fn = lambda x: gan.discriminate(d_params, stats, x, train=True)[0]  # noqa: E731
        penalty = gan.penalty(d_fn, real, fake, penalty_rng)
        metrics = {
            "d_loss": adversarial,
            "d_penalty": penalty,
            "d_real_logit": jnp.mean(real_logits),
            "d_fake_logit": jnp.mean(fake_logits),
        }
        return adversarial + gan.penalty_weight * penalty, (stats, metrics)

    grads, (d_batch_stats, metrics) = jax.grad(loss_fn, has_aux=True)(state.d_params)
    updates, d_opt_state = gan.d_tx.update(grads, state.d_opt_state, state.d_params)
    d_params = optax.apply_updates(state.d_params, updates)
    if gan.d_weight_clip > 0:
        clip = gan.d_weight_clip
        d_params = jax.tree.map(lambda p: jnp.clip(p, -clip, clip), d_params)
    metrics["d_grad_norm"] = optax.tree.norm(grads)
    state = state.replace(d_params=d_params, d_opt_state=d_opt_state,
                          d_batch_stats=d_batch_stats, g_batch_stats=g_batch_stats)
    return state, metrics


def _g_update(gan: GAN, state: GANState, batch_size: int, rng: jax.Array) -> tuple[GANState,
                                                                                   Metrics]:
    """One G step against the current D."""
    z = gan.sample_noise(rng, batch_size)

    def loss_fn(g_params):
        fake, g_batch_stats = gan.generate(g_params, state.g_batch_stats, z, train=True)
        logits, d_batch_stats = gan.discriminate(state.d_params, state.d_batch_stats, fake,
                                                 train=True)
        return gan.loss.generator(logits), (g_batch_stats, d_batch_stats)

    (g_loss, (g_batch_stats, d_batch_stats)), grads = jax.value_and_grad(
        loss_fn, has_aux=True)(state.g_params)
    updates, g_opt_state = gan.g_tx.update(grads, state.g_opt_state, state.g_params)
    g_params = optax.apply_updates(state.g_params, updates)
    g_ema_params = state.g_ema_params
    if gan.ema_decay > 0:
        g_ema_params = optax.incremental_update(g_params, g_ema_params, 1.0 - gan.ema_decay)
    state = state.replace(g_params=g_params, g_opt_state=g_opt_state, g_ema_params=g_ema_params,
                          g_batch_stats=g_batch_stats, d_batch_stats=d_batch_stats)
    return state, {"g_loss": g_loss, "g_grad_norm": optax.tree.norm(grads)}


def make_train_step(gan: GAN) -> StepFn:
    """The pure step for `gan`. `batch["x"]` holds k = d_steps real minibatches: [k, B, ...]."""

    def step(state: GANState, batch: Batch) -> tuple[GANState, Metrics]:
        real = batch["x"]
        d_steps = real.shape[0]
        rng, d_rng, g_rng = jax.random.split(state.rng, 3)

        def d_body(carry, inputs):
            minibatch, key = inputs
            return _d_update(gan, carry, minibatch, key)

        unroll = d_steps if d_steps <= _MAX_UNROLLED_D_STEPS else 1
        state, d_metrics = jax.lax.scan(d_body, state, (real, jax.random.split(d_rng, d_steps)),
                                        unroll=unroll)
        d_metrics = jax.tree.map(lambda m: m[-1], d_metrics)  # the last D step's view
        state, g_metrics = _g_update(gan, state, real.shape[1], g_rng)
        state = state.replace(step=state.step + 1, rng=rng)
        return state, {**d_metrics, **g_metrics}

    return step


def skip_nonfinite(step: StepFn) -> StepFn:
    """`step` that keeps the old parameters when a loss or a new parameter is NaN/Inf.

    The step counter and key still advance, so the next step sees a new batch; `metrics["skipped"]`
    is 1 for a skipped step (its other metrics show the non-finite values that caused it).
    """

    def guarded(state: GANState, batch: Batch) -> tuple[GANState, Metrics]:
        new, metrics = step(state, batch)
        leaves = jax.tree.leaves((metrics, new.g_params, new.d_params))
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))
        kept = jax.tree.map(lambda n, o: jnp.where(finite, n, o), new, state)
        kept = kept.replace(step=new.step, rng=new.rng)
        return kept, {**metrics, "skipped": 1.0 - finite.astype(jnp.float32)}

    return guarded


def make_train_n_steps(step: StepFn) -> Callable[[GANState, Batch], tuple[GANState, Metrics]]:
    """Runs `step` over batches stacked on a leading axis [n, k, B, ...] in one lax.scan."""

    def train_n_steps(state: GANState, batches: Batch) -> tuple[GANState, Metrics]:
        return jax.lax.scan(step, state, batches)

    return train_n_steps


def make_sampled_train_n_steps(step: StepFn, sample_batch: Callable[[jax.Array], Batch],
                               num_steps: int) -> Callable[[GANState], tuple[GANState, Metrics]]:
    """`num_steps` steps whose batches are drawn on device by `sample_batch(state.step)`.

    For sources that sample from a key (the toy distributions) this fuses data and update into
    one compiled loop with no host round trip; batch i depends only on i, so resuming is exact.
    """

    def body(state: GANState, _: Any) -> tuple[GANState, Metrics]:
        return step(state, sample_batch(state.step))

    def train_n_steps(state: GANState) -> tuple[GANState, Metrics]:
        return jax.lax.scan(body, state, None, length=num_steps)

    return train_n_steps
