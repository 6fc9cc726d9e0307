"""Each loss against its textbook formula, computed independently in float64 numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import registry
from ganjax.engine import losses

RNG = np.random.default_rng(0)
REAL = RNG.normal(size=64).astype(np.float32) * 3
FAKE = RNG.normal(size=64).astype(np.float32) * 3


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def test_every_registered_loss_is_a_pair_of_functions():
    for name in registry.names("loss"):
        loss = losses.get_loss(name)
        assert isinstance(loss, losses.GANLoss) and callable(loss.generator)
    with pytest.raises(ValueError, match="unknown loss 'hing'; known: minimax"):
        losses.get_loss("hing")


def test_cross_entropy_discriminator_is_negative_log_likelihood():
    expected = -np.mean(np.log(sigmoid(REAL))) - np.mean(np.log(1 - sigmoid(FAKE)))
    for name in ("minimax", "non_saturating"):
        got = losses.get_loss(name).discriminator(REAL, FAKE)
        np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_undecided_discriminator_scores_log_4():
    # Goodfellow et al. 2014, Thm. 1: at D = 1/2 everywhere, -V(D, G) = log 4.
    zeros = jnp.zeros(8)
    np.testing.assert_allclose(losses.get_loss("minimax").discriminator(zeros, zeros),
                               np.log(4.0), rtol=1e-6)


def test_generator_objectives():
    np.testing.assert_allclose(losses.get_loss("minimax").generator(FAKE),
                               np.mean(np.log(1 - sigmoid(FAKE))), rtol=1e-5)
    np.testing.assert_allclose(losses.get_loss("non_saturating").generator(FAKE),
                               -np.mean(np.log(sigmoid(FAKE))), rtol=1e-5)


def test_non_saturating_keeps_gradient_where_minimax_saturates():
    # Early in training D rejects fakes confidently (logit -10): minimax's gradient vanishes
    # (sigmoid(-10) ~ 4.5e-5) while the non-saturating one stays ~1 (Goodfellow et al. 2014, Sec. 3).
    logit = jnp.array([-10.0])
    mm = jax.grad(losses.get_loss("minimax").generator)(logit)[0]
    ns = jax.grad(losses.get_loss("non_saturating").generator)(logit)[0]
    np.testing.assert_allclose(mm, -sigmoid(-10.0), rtol=1e-4)
    np.testing.assert_allclose(ns, -sigmoid(10.0), rtol=1e-4)


def test_least_squares_wasserstein_hinge():
    r, f = REAL.astype(np.float64), FAKE.astype(np.float64)
    cases = {
        "least_squares": (0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2),
                          0.5 * np.mean((f - 1) ** 2)),
        "wasserstein": (np.mean(f) - np.mean(r), -np.mean(f)),
        "hinge": (np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f)), -np.mean(f)),
    }
    for name, (d_expected, g_expected) in cases.items():
        loss = losses.get_loss(name)
        np.testing.assert_allclose(loss.discriminator(REAL, FAKE), d_expected, rtol=1e-5,
                                   err_msg=name)
        np.testing.assert_allclose(loss.generator(FAKE), g_expected, rtol=1e-5, err_msg=name)


@pytest.mark.parametrize("name", registry.names("loss"))
def test_losses_and_gradients_stay_finite_at_extreme_logits(name):
    extreme = jnp.array([-200.0, -50.0, 0.0, 50.0, 200.0])
    loss = losses.get_loss(name)
    values = [loss.discriminator(extreme, extreme[::-1]), loss.generator(extreme)]
    grads = jax.grad(lambda x: loss.discriminator(x, x) + loss.generator(x))(extreme)
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(grads))


def test_unknown_loss_lists_known_ones():
    with pytest.raises(ValueError, match="known: minimax, non_saturating"):
        losses.get_loss("wgan")
