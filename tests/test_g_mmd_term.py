"""Moment matching beside the adversary (`loss.g_mmd_weight`, `loss.g_mmd_bandwidths`).

* The built GAN's G objective is its adversarial loss plus weight x sqrt(MMD^2) of the
  generated against the real batch; checked against a float64 numpy computation written from
  the definitions (non-saturating loss softplus(-logit), every pair's Gaussian kernel).
* Weight 0 adds no term and no hyperparameter (the program is today's); the weight is a
  hyperparameter in the state, so a sweep or the playground changes it without recompiling.
* Bad values are one ConfigError line naming the key, and the GMMN (already moment matching,
  no discriminator) refuses the field.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import config as config_lib
from ganjax.engine.build import build_gan
from ganjax.engine.hparams import read_values
from ganjax.engine.objectives import GInputs, total
from ganjax.errors import ConfigError
from ganjax.types import DOut

BANDWIDTHS = (0.05, 0.5)


def ring_config(weight: float):
    c = config_lib.load_config("ring8")
    c.model.g_hidden = c.model.d_hidden = (8,)
    c.loss.g_mmd_weight = weight
    c.loss.g_mmd_bandwidths = BANDWIDTHS
    return config_lib.validate(c)


def reference_mmd(x, y, bandwidths):
    """sqrt of the biased MMD^2 under sum_s exp(-|a - b|^2 / (2 s^2)), float64, by broadcasting."""
    def kernel(a, b):
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return sum(np.exp(-d2 / (2.0 * s * s)) for s in bandwidths)
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return np.sqrt(kernel(x, x).mean() + kernel(y, y).mean() - 2.0 * kernel(x, y).mean())


def test_g_objective_is_the_adversarial_loss_plus_the_weighted_mmd():
    gan = build_gan(ring_config(0.7), (2,))
    assert [t.name for t in gan.g_terms] == ["loss", "mmd"]
    assert float(gan.hparam_values["loss.g_mmd_weight"]) == pytest.approx(0.7)
    rng = np.random.default_rng(0)
    fake_x = rng.normal(size=(24, 2)).astype(np.float32) * 0.3
    real_x = rng.normal(size=(24, 2)).astype(np.float32) * 0.3 + 0.1
    logits = rng.normal(size=24).astype(np.float32)
    inputs = GInputs(DOut(jnp.asarray(logits), None), jnp.asarray(fake_x),
                     {"x": jnp.asarray(real_x)}, {"z": jnp.zeros((24, 2))})
    loss, metrics = total(gan.g_terms, inputs, read_values(gan.hparam_values), "g")
    adversarial = np.mean(np.logaddexp(0.0, -logits.astype(np.float64)))  # softplus(-logit)
    mmd = reference_mmd(fake_x, real_x, BANDWIDTHS)
    np.testing.assert_allclose(float(metrics["g_loss"]), adversarial, rtol=1e-5)
    np.testing.assert_allclose(float(metrics["g_mmd"]), mmd, rtol=1e-4)
    np.testing.assert_allclose(float(loss), adversarial + 0.7 * mmd, rtol=1e-4)
    # The MMD pulls the generated batch towards the real one: its gradient is not zero.
    grad = jax.grad(lambda x: total(gan.g_terms, inputs._replace(fake_x=x),
                                    read_values(gan.hparam_values), "g")[0])(inputs.fake_x)
    assert float(jnp.abs(grad).max()) > 0


def test_weight_zero_adds_no_term_and_no_hyperparameter():
    gan = build_gan(ring_config(0.0), (2,))
    assert [t.name for t in gan.g_terms] == ["loss"]
    assert "loss.g_mmd_weight" not in gan.hparam_values


@pytest.mark.parametrize("key, value, message", [
    ("g_mmd_weight", -1.0, "config.loss.g_mmd_weight=-1.0: must be >= 0"),
    ("g_mmd_bandwidths", (), "config.loss.g_mmd_bandwidths=(): must be a tuple of positive"),
    ("g_mmd_bandwidths", (0.1, 0.0), "config.loss.g_mmd_bandwidths=(0.1, 0.0): must be a tuple"),
])
def test_bad_g_mmd_fields_are_one_line_config_errors(key, value, message):
    c = config_lib.load_config("ring8")
    c.loss[key] = value
    with pytest.raises(ConfigError) as error:
        config_lib.validate(c)
    assert "\n" not in str(error.value) and str(error.value).startswith(message), error.value


def test_the_gmmn_refuses_a_second_mmd_weight():
    c = config_lib.load_config("gmmn_mnist:quick")
    c.loss.g_mmd_weight = 1.0
    with pytest.raises(ConfigError, match=r"config.loss.g_mmd_weight=1.0: gmmn already is"):
        config_lib.validate(c)
