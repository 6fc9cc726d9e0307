"""Generative moment matching networks (GMMN; Li, Swersky & Zemel 2015) for images.

No discriminator: an MLP maps uniform noise to images and is trained by one generator term,
"mmd", the MMD between its batch and a real batch under a sum of Gaussian kernels
(`ganjax.metrics.mmd.mmd_loss`, the square root of the biased MMD^2 the paper minimises),
weighted by the hyperparameter `model.mmd_weight`.

model.mmd_space picks where the moments are matched:
  "pixels"       the images themselves (the paper's GMMN): trained by the "generator_only"
                 algorithm. Li et al.'s MNIST net has hidden layers 64-256-256-1024 (ReLU) and
                 sigmoid outputs; here the output is 2 * sigmoid - 1, ganjax's image range.
  "autoencoder"  the codes of an autoencoder (GMMN+AE, the paper's best MNIST model): trained
                 by the "code_matching" algorithm (`ganjax.engine.code_matching`), which first
                 fits the autoencoder on reconstruction for model.ae_steps steps, then fits a
                 code generator by the MMD between its codes and the encoder's codes of real
                 images. The generator the rest of ganjax samples is decoder(code_gen(z)).

Bandwidths. `mmd_bandwidths` are in the paper's units, pixels in [0, 1] (Li et al.'s MNIST
mixture spans sigma 2..80): ganjax's images are in [-1, 1], where every distance is twice as
long, so the pixel term uses 2 * sigma. `code_bandwidths` are in the code space itself (sigmoid
codes in [0, 1]^ae_code_dim).
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ganjax.config import is_toy, layer_widths, one_of, positive_numbers, require
from ganjax.metrics.mmd import mmd_term
from ganjax.types import Array, Latent, Networks

SPACES = ("pixels", "autoencoder")
# Images are in [-1, 1]; the paper's bandwidths are for pixels in [0, 1].
PIXEL_SCALE = 2.0

# The fields of config.model this module owns (base_config(model="gmmn") adds them).
CONFIG = {
    "g_hidden": (64, 256, 256, 1024),  # the image generator (mmd_space=pixels)
    "mmd_bandwidths": (2.0, 5.0, 10.0, 20.0, 40.0, 80.0),  # Gaussian sigmas, [0, 1] pixels
    "mmd_weight": 1.0,
    "mmd_space": "pixels",  # pixels | autoencoder (GMMN+AE)
    # GMMN+AE: an MLP autoencoder with sigmoid codes, trained first, then a code generator.
    "ae_hidden": (1024,),  # encoder widths (the decoder mirrors them)
    "ae_code_dim": 32,
    "ae_steps": 2000,  # steps of autoencoder training before the code generator's
    "ae_lr": 1e-3,  # the autoencoder's learning rate (the code generator uses optim.g_lr)
    "code_hidden": (64, 256, 256),  # the code generator
    "code_bandwidths": (0.25, 0.5, 1.0, 2.0, 4.0),  # Gaussian sigmas in code space
}


def _dense_relu(x: Array, widths: Sequence[int]) -> Array:
    for width in widths:
        x = nn.relu(nn.Dense(width)(x))
    return x


def unit_to_model_range(logits: Array) -> Array:
    """2 * sigmoid(logits) - 1: a sigmoid output unit, read in ganjax's [-1, 1] image range."""
    return 2.0 * nn.sigmoid(logits) - 1.0


class MLPImageGenerator(nn.Module):
    """{"z": [B, noise_dim]} -> images [B, *shape] in [-1, 1]: ReLU layers of `hidden`, then a
    dense layer to every pixel and 2 * sigmoid - 1 (Li et al.'s sigmoid output)."""

    hidden: Sequence[int]
    shape: tuple[int, ...]

    @nn.compact
    def __call__(self, latent: Latent, train: bool = True) -> Array:
        del train  # no BatchNorm or dropout
        h = _dense_relu(latent["z"], self.hidden)
        logits = nn.Dense(int(np.prod(self.shape)))(h)
        return unit_to_model_range(logits).reshape((-1,) + tuple(self.shape))


class CodeSpaceGenerator(nn.Module):
    """GMMN+AE as one module: a code generator, an encoder and a decoder.

    `__call__(latent)` = decoder(code_gen(z)), the images the rest of ganjax samples; `codes`,
    `encode` and `reconstruction_loss` are what `ganjax.engine.code_matching` trains. Codes are
    sigmoid units in [0, 1]^code_dim; the decoder mirrors the encoder's widths. Initialising
    through `__call__` also creates the encoder, so one `init` gives every parameter.
    """

    shape: tuple[int, ...]
    code_hidden: Sequence[int]
    ae_hidden: Sequence[int]
    code_dim: int

    def setup(self):
        self.code_gen = _MLP(tuple(self.code_hidden), self.code_dim)
        self.encoder = _MLP(tuple(self.ae_hidden), self.code_dim)
        self.decoder = _MLP(tuple(reversed(self.ae_hidden)), int(np.prod(self.shape)))

    def codes(self, latent: Latent, train: bool = True) -> Array:
        """Generated codes [B, code_dim] in [0, 1]."""
        del train
        return nn.sigmoid(self.code_gen(latent["z"]))

    def encode(self, x: Array, train: bool = True) -> Array:
        """The codes [B, code_dim] in [0, 1] of images x [B, *shape] in [-1, 1]."""
        del train
        return nn.sigmoid(self.encoder(x.reshape(x.shape[0], -1)))

    def decode(self, h: Array, train: bool = True) -> Array:
        """Images [B, *shape] in [-1, 1] of codes h [B, code_dim]."""
        del train
        return unit_to_model_range(self.decoder(h)).reshape((-1,) + tuple(self.shape))

    def reconstruction_loss(self, x: Array, train: bool = True) -> Array:
        """Mean per-pixel binary cross-entropy of decode(encode(x)) against x read in [0, 1]
        (the decoder's sigmoid units are Bernoulli means)."""
        logits = self.decoder(self.encode(x, train))
        target = (x.reshape(x.shape[0], -1) + 1.0) / 2.0
        return optax.sigmoid_binary_cross_entropy(logits, target).mean()

    def __call__(self, latent: Latent, train: bool = True) -> Array:
        images = self.decode(self.codes(latent, train), train)
        if self.is_initializing():
            self.encode(images, train)  # creates the encoder's parameters too
        return images


class _MLP(nn.Module):
    """ReLU layers of `hidden`, then a linear layer of `out_dim` units (logits)."""

    hidden: tuple[int, ...]
    out_dim: int

    @nn.compact
    def __call__(self, x: Array) -> Array:
        return nn.Dense(self.out_dim)(_dense_relu(x, self.hidden))


def check(c) -> None:
    """ConfigError for a GMMN field (or a common field) this model cannot use."""
    m = c.model
    require(not is_toy(c), "model.name", "gmmn is for image data; the toy sources need "
            "model.name=mlp", c)
    require(m.mmd_space in SPACES, "model.mmd_space", one_of(SPACES), c)
    for key in ("g_hidden", "ae_hidden", "code_hidden"):
        require(layer_widths(m[key], min_layers=1), f"model.{key}",
                "must be a tuple of positive layer widths, e.g. (256, 256)", c)
    for key in ("mmd_bandwidths", "code_bandwidths"):
        require(positive_numbers(m[key]), f"model.{key}",
                "must be a tuple of positive kernel bandwidths, e.g. (2.0, 5.0, 10.0)", c)
    require(m.mmd_weight > 0, "model.mmd_weight", "must be > 0", c)
    require(c.loss.g_mmd_weight == 0, "loss.g_mmd_weight", "gmmn already is moment matching "
            "(no discriminator); its MMD is weighted by model.mmd_weight, set this to 0", c)
    require(c.penalty.name == "none", "penalty.name",
            "gmmn has no discriminator to penalise; set penalty.name=none", c)
    require(c.train.d_steps == 1, "train.d_steps", "gmmn has no discriminator; set it to 1", c)
    require(c.train.batch_size >= 2, "train.batch_size", "the MMD needs batches of >= 2", c)
    if m.mmd_space == "autoencoder":
        require(m.ae_code_dim >= 1, "model.ae_code_dim", "must be >= 1", c)
        require(m.ae_lr > 0, "model.ae_lr", "must be > 0", c)
        require(isinstance(m.ae_steps, int) and 1 <= m.ae_steps < c.train.steps,
                "model.ae_steps", f"must be in [1, train.steps={c.train.steps}): the "
                "autoencoder trains first, then the code generator", c)


def build(config, data_shape: tuple[int, ...]) -> Networks:
    """The GMMN of `config.model.mmd_space` for images of `data_shape` ([H, W, C])."""
    m = config.model
    shape = tuple(data_shape)
    weights = {"model.mmd_weight": float(m.mmd_weight)}
    if m.mmd_space == "pixels":
        sigmas = [PIXEL_SCALE * s for s in m.mmd_bandwidths]
        return Networks(MLPImageGenerator(hidden=tuple(m.g_hidden), shape=shape), None,
                        g_terms=(mmd_term(sigmas),), hparam_values=weights)
    generator = CodeSpaceGenerator(shape=shape, code_hidden=tuple(m.code_hidden),
                                   ae_hidden=tuple(m.ae_hidden), code_dim=m.ae_code_dim)
    return Networks(generator, None, g_terms=(mmd_term(m.code_bandwidths),),
                    hparam_values={**weights, "model.ae_steps": float(m.ae_steps),
                                   "model.ae_lr": float(m.ae_lr)},
                    algorithm="code_matching")
