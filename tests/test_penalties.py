"""Penalties on discriminators whose input gradients are known in closed form."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import registry
from ganjax.engine import penalties

W = jnp.array([0.6, -1.7, 2.0])
REAL = jax.random.normal(jax.random.PRNGKey(0), (16, 3))
FAKE = jax.random.normal(jax.random.PRNGKey(1), (16, 3)) + 2.0
KEY = jax.random.PRNGKey(2)


def linear_d(x):
    """D(x) = w.x + 1: grad D = w everywhere."""
    return x @ W + 1.0


def quadratic_d(x):
    """D(x) = 1.5 |x|^2: grad D = 3x."""
    return 1.5 * jnp.sum(x ** 2, axis=1)


def test_every_registered_penalty_resolves():
    for name in registry.names("penalty"):
        assert callable(penalties.get_penalty(name))
    with pytest.raises(ValueError, match="unknown penalty 'r3'; known: none"):
        penalties.get_penalty("r3")


def test_linear_discriminator_closed_forms():
    norm = float(jnp.linalg.norm(W))
    expected = {
        "wgan_gp": (norm - 1) ** 2,
        "dragan": (norm - 1) ** 2,
        "r1": 0.5 * norm ** 2,
        "r2": 0.5 * norm ** 2,
        "none": 0.0,
    }
    for name, value in expected.items():
        got = penalties.get_penalty(name)(linear_d, REAL, FAKE, KEY)
        np.testing.assert_allclose(got, value, rtol=1e-5, atol=1e-7, err_msg=name)


def test_r1_and_r2_use_real_and_fake_data_respectively():
    # |grad|^2 = 9 |x|^2, so the penalty is 4.5 E|x|^2 on the respective set.
    r1 = penalties.r1(quadratic_d, REAL, FAKE, KEY)
    r2 = penalties.r2(quadratic_d, REAL, FAKE, KEY)
    np.testing.assert_allclose(r1, 4.5 * np.mean(np.sum(np.asarray(REAL) ** 2, 1)), rtol=1e-5)
    np.testing.assert_allclose(r2, 4.5 * np.mean(np.sum(np.asarray(FAKE) ** 2, 1)), rtol=1e-5)


def test_wgan_gp_evaluates_on_per_example_interpolates():
    eps = np.asarray(jax.random.uniform(KEY, (16, 1)))
    x_hat = eps * np.asarray(REAL) + (1 - eps) * np.asarray(FAKE)
    expected = np.mean((3 * np.linalg.norm(x_hat, axis=1) - 1) ** 2)
    np.testing.assert_allclose(penalties.wgan_gp(quadratic_d, REAL, FAKE, KEY), expected,
                               rtol=1e-5)


def test_dragan_perturbs_real_data_only():
    # A D that is linear near the data but whose slope depends on distance from it would
    # distinguish; here: the quadratic D's gradient norm at the perturbed points stays near 3|x|.
    value = penalties.dragan(quadratic_d, REAL, FAKE, KEY)
    noise_key, alpha_key = jax.random.split(KEY)
    delta = 0.5 * np.std(np.asarray(REAL)) * np.asarray(jax.random.uniform(noise_key, (16, 3)))
    alpha = np.asarray(jax.random.uniform(alpha_key, (16, 1)))
    x_hat = np.asarray(REAL) + alpha * delta
    expected = np.mean((3 * np.linalg.norm(x_hat, axis=1) - 1) ** 2)
    np.testing.assert_allclose(value, expected, rtol=1e-5)


@pytest.mark.parametrize("name", ["wgan_gp", "r1", "r2", "dragan"])
def test_penalties_are_differentiable_in_d_params(name):
    # The penalty must pass gradients to D's parameters (double backprop), e.g. r1 on a linear D:
    # d/dw (0.5 |w|^2) = w.
    def penalty_of(w):
        return penalties.get_penalty(name)(lambda x: x @ w, REAL, FAKE, KEY)

    grad = jax.grad(penalty_of)(W)
    norm = jnp.linalg.norm(W)
    expected = W if name in ("r1", "r2") else 2 * (norm - 1) * W / norm
    np.testing.assert_allclose(grad, expected, rtol=1e-4)


def test_gradient_norm_is_finite_where_gradient_vanishes():
    grads = jax.grad(lambda x: penalties.wgan_gp(lambda v: 0.0 * v.sum(1), x, x, KEY))(REAL)
    assert np.all(np.isfinite(grads))
