"""The training step against closed forms (Dirac-GAN), and its purity, vmap, scan and options."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from ganjax import config as config_lib
from ganjax.engine.adversarial import make_train_step
from ganjax.engine.algorithm import init_state
from ganjax.engine.build import build_gan, gan_from_networks
from ganjax.engine.hparams import replace_hparams
from ganjax.engine.steps import make_train_n_steps
from ganjax.types import Networks


class PointMassGenerator(nn.Module):
    """Dirac-GAN's G (Mescheder et al. 2018): a point mass at theta, whatever the noise."""

    @nn.compact
    def __call__(self, latent, train=True):
        theta = self.param("theta", lambda _: jnp.array([1.0]))
        return jnp.broadcast_to(theta, (latent["z"].shape[0], 1))


class LinearDiscriminator(nn.Module):
    """Dirac-GAN's D: logit psi * x."""

    @nn.compact
    def __call__(self, x, y=None, train=True):
        return self.param("psi", lambda _: jnp.array(1.0)) * x[:, 0]


def dirac_gan(lr, penalty="none", weight=0.0, loss="non_saturating"):
    """The Dirac-GAN's modules with a config's loss, penalty and plain SGD at `lr`."""
    config = config_lib.apply_overrides(config_lib.base_config(), {
        "optim.name": "sgd", "optim.g_lr": str(lr), "optim.d_lr": str(lr), "loss.name": loss,
        "penalty.name": penalty, "penalty.weight": str(weight), "model.noise_dim": "1"})
    return gan_from_networks(config, Networks(PointMassGenerator(), LinearDiscriminator()), (1,))


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def dirac_reference(steps, lr, d_steps=1, gamma=0.0):
    """Alternating gradient descent on the Dirac-GAN, data at 0, in float64.

    D loss log 2 + softplus(psi*theta) (+ gamma/2 psi^2 from R1): d/dpsi = theta*s(psi*theta) + gamma*psi.
    G loss softplus(-psi*theta): d/dtheta = -psi*s(-psi*theta).
    """
    theta, psi = 1.0, 1.0
    for _ in range(steps):
        for _ in range(d_steps):
            psi -= lr * (theta * sigmoid(psi * theta) + gamma * psi)
        theta += lr * psi * sigmoid(-psi * theta)
    return theta, psi


def run_dirac(gan, steps, d_steps=1):
    state = init_state(gan, jax.random.PRNGKey(0))
    step = jax.jit(make_train_step(gan))
    batch = {"x": jnp.zeros((d_steps, 4, 1))}
    for _ in range(steps):
        state, metrics = step(state, batch)
    return state, metrics


@pytest.mark.parametrize("d_steps", [1, 3, 6])  # 6 exercises the rolled lax.scan path
def test_dirac_gan_matches_alternating_gradient_descent(d_steps):
    state, _ = run_dirac(dirac_gan(0.2), steps=20, d_steps=d_steps)
    theta, psi = dirac_reference(20, 0.2, d_steps=d_steps)
    np.testing.assert_allclose(state.params["g"]["theta"][0], theta, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state.params["d"]["psi"], psi, rtol=1e-5, atol=1e-6)
    assert int(state.step) == 20


def test_penalty_weight_enters_the_d_update():
    state, metrics = run_dirac(dirac_gan(0.2, "r1", 0.3), steps=20)
    theta, psi = dirac_reference(20, 0.2, gamma=0.3)
    np.testing.assert_allclose(state.params["g"]["theta"][0], theta, rtol=1e-5)
    np.testing.assert_allclose(state.params["d"]["psi"], psi, rtol=1e-5)
    np.testing.assert_allclose(metrics["d_penalty"], 0.5 * psi_before_last(0.3) ** 2, rtol=1e-4)


def psi_before_last(gamma):
    """psi at the start of step 20, where the logged penalty 1/2 psi^2 was measured."""
    return dirac_reference(19, 0.2, gamma=gamma)[1]


def test_r1_makes_the_dirac_gan_converge_where_plain_gan_does_not():
    # Mescheder et al. 2018, Sec. 3-4: for the minimax game, unregularised alternating GD circles
    # the equilibrium (0, 0) (start radius sqrt 2); R1 (gamma 0.3, the authors' notebook
    # setting) converges to it.
    plain, _ = run_dirac(dirac_gan(0.2, loss="minimax"), steps=500)
    r1, _ = run_dirac(dirac_gan(0.2, "r1", 0.3, loss="minimax"), steps=500)
    radius = lambda s: float(np.hypot(s.params["g"]["theta"][0], s.params["d"]["psi"]))  # noqa: E731
    assert radius(plain) > 1.0
    assert radius(r1) < 1e-3


def ring_config(**overrides):
    config = config_lib.apply_overrides(config_lib.base_config(), {
        "train.batch_size": "32", "model.g_hidden": "16,16", "model.d_hidden": "16,16",
        **overrides})
    return config_lib.validate(config)


def ring_batch(k=1, batch=32, seed=5):
    return {"x": jax.random.normal(jax.random.PRNGKey(seed), (k, batch, 2))}


def test_step_is_a_pure_function_of_state_and_batch():
    gan = build_gan(ring_config(), (2,))
    state = init_state(gan, jax.random.PRNGKey(0))
    step = jax.jit(make_train_step(gan))
    first, m1 = step(state, ring_batch())
    second, m2 = step(state, ring_batch())
    jax.tree.map(np.testing.assert_array_equal, first, second)
    jax.tree.map(np.testing.assert_array_equal, m1, m2)
    assert not np.array_equal(first.rng, state.rng)


def test_d_steps_gives_k_discriminator_updates_per_generator_update():
    gan = build_gan(ring_config(**{"train.d_steps": "3"}), (2,))
    state = init_state(gan, jax.random.PRNGKey(0))
    step = jax.jit(make_train_step(gan))
    for _ in range(2):
        state, _ = step(state, ring_batch(k=3))
    assert int(state.opt_state["d"].inner_state[0].count) == 6
    assert int(state.opt_state["g"].inner_state[0].count) == 2


def test_vmap_over_stacked_replicas_equals_separate_runs():
    gan = build_gan(ring_config(), (2,))
    states = [init_state(gan, jax.random.PRNGKey(seed)) for seed in range(3)]
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *states)
    step = make_train_step(gan)
    vmapped, _ = jax.jit(jax.vmap(step, in_axes=(0, None)))(stacked, ring_batch())
    for i, state in enumerate(states):
        single, _ = jax.jit(step)(state, ring_batch())
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a[i], b, rtol=1e-5, atol=1e-6),
                     vmapped, single)


def test_vmap_over_learning_rates_in_the_optimizer_state():
    # Learning rates live in the state's hparams, so a sweep can stack different ones.
    gan = build_gan(ring_config(), (2,))
    state = init_state(gan, jax.random.PRNGKey(0))
    stacked = jax.tree.map(lambda x: jnp.stack([x, x]), state)
    lrs = jnp.array([1e-4, 1e-2])
    stacked = replace_hparams(stacked, {"optim.g_lr": lrs, "optim.d_lr": lrs})
    out, _ = jax.jit(jax.vmap(make_train_step(gan), in_axes=(0, None)))(stacked, ring_batch())
    moved = [float(optax.tree.norm(jax.tree.map(lambda a, b: a[i] - b, out.params["g"],
                                                  state.params["g"]))) for i in range(2)]
    # Adam's first step moves each parameter by ~lr, so the distance scales with lr.
    np.testing.assert_allclose(moved[1] / moved[0], 100.0, rtol=0.05)


def test_scan_over_steps_equals_repeated_steps():
    gan = build_gan(ring_config(), (2,))
    state = init_state(gan, jax.random.PRNGKey(0))
    step = make_train_step(gan)
    batches = {"x": jax.random.normal(jax.random.PRNGKey(1), (5, 1, 32, 2))}
    scanned, metrics = jax.jit(make_train_n_steps(step))(state, batches)
    looped = state
    for i in range(5):
        looped, _ = jax.jit(step)(looped, {"x": batches["x"][i]})
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                 scanned, looped)
    assert metrics["d_loss"].shape == (5,)


def test_donated_state_is_consumed():
    gan = build_gan(ring_config(), (2,))
    state = init_state(gan, jax.random.PRNGKey(0))
    step = jax.jit(make_train_step(gan), donate_argnums=0)
    new_state, _ = step(state, ring_batch())
    assert state.params["g"]["Dense_0"]["kernel"].is_deleted()
    assert not new_state.params["g"]["Dense_0"]["kernel"].is_deleted()


def test_ema_of_generator_params():
    gan = build_gan(ring_config(**{"optim.ema_decay": "0.9"}), (2,))
    state = init_state(gan, jax.random.PRNGKey(0))
    new, _ = jax.jit(make_train_step(gan))(state, ring_batch())
    expected = jax.tree.map(lambda old, p: 0.9 * old + 0.1 * p, state.ema_params, new.params["g"])
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), new.ema_params,
                 expected)
    assert init_state(build_gan(ring_config(), (2,)), jax.random.PRNGKey(0)).ema_params is None


def test_wgan_weight_clipping_bounds_every_d_parameter():
    config = ring_config(**{"loss.name": "wasserstein", "optim.d_weight_clip": "0.01",
                            "optim.d_lr": "0.1"})
    gan = build_gan(config, (2,))
    state, _ = jax.jit(make_train_step(gan))(init_state(gan, jax.random.PRNGKey(0)), ring_batch())
    leaves = jax.tree.leaves(state.params["d"])
    assert max(float(jnp.abs(p).max()) for p in leaves) <= 0.01 + 1e-9
    assert any(float(jnp.abs(p).max()) == pytest.approx(0.01) for p in leaves)


def g_learning_rates(config, steps):
    """(G's learning rate at each of `steps` steps, the final state)."""
    gan = build_gan(config, (2,))
    state = init_state(gan, jax.random.PRNGKey(0))
    step = jax.jit(make_train_step(gan))
    lrs = []
    for _ in range(steps):
        state, _ = step(state, ring_batch())
        lrs.append(float(state.opt_state["g"].hyperparams["learning_rate"]))
    return lrs, state


@pytest.mark.parametrize("schedule", ["constant", "linear", "cosine"])
def test_learning_rate_schedules(schedule):
    config = ring_config(**{"optim.g_lr": "1e-3", "optim.g_schedule": schedule,
                            "train.steps": "4"})
    lrs, _ = g_learning_rates(config, 4)
    # inject_hyperparams records the lr it used for the update just made: step 0 used lr(0).
    assert lrs[0] == pytest.approx(1e-3)
    assert lrs[-1] == pytest.approx({"constant": 1e-3, "linear": 2.5e-4,
                                     "cosine": 1e-3 * 0.5 * (1 + np.cos(np.pi * 3 / 4))}[schedule])



def test_warmup_cosine_schedule_scales_the_lr_hyperparameter():
    config = ring_config(**{"optim.g_lr": "1e-3", "optim.g_schedule": "warmup_cosine",
                            "optim.warmup_steps": "2", "train.steps": "4"})
    lrs, state = g_learning_rates(config, 4)
    # 0 -> peak over 2 updates, then cosine to 0 over the last 2: lr(t) for t = 0..3.
    np.testing.assert_allclose(lrs, [0.0, 5e-4, 1e-3, 5e-4], rtol=1e-6, atol=1e-12)
    state = replace_hparams(state, {"optim.g_lr": 2e-3})  # the peak is a hyperparameter
    assert float(state.hparams["optim.g_lr"]) == pytest.approx(2e-3)
