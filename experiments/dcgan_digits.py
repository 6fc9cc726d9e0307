"""DCGAN on scikit-learn's bundled 8x8 digits: the image experiment with no download.

A DCGAN (Radford et al. 2015) at 8x8: G z(32) -> 4x4x128 -> 8x8x1, D 8x8 -> 4x4x128 -> logit,
BatchNorm, non-saturating loss, Adam(2e-4, b1=0.5), EMA of G for the samples. Writes a sample
grid at every eval (docs/images/dcgan_digits.png: seed 0).

  ganjax train --config experiments/dcgan_digits.py        # 10k steps (~1 min, 2 CPUs)
  ganjax train --config experiments/dcgan_digits.py:quick  # 100 steps: tests, laptops (~20 s)
"""

from ganjax.config import base_config


def get_config(variant: str = "default"):
    c = base_config(model="dcgan")
    c.data.source = "digits"
    c.data.resolution = 8
    c.data.channels = 1

    c.model.noise_dim = 32
    c.model.width = 128

    c.optim.g_lr = 2e-4
    c.optim.d_lr = 2e-4
    c.optim.b1 = 0.5
    c.optim.ema_decay = 0.999

    c.train.steps = 10_000
    c.train.batch_size = 64
    c.train.scan_steps = 50
    c.train.log_every = 250
    c.train.eval_every = 2_500
    c.eval.grid_size = 64
    if variant == "quick":  # tests and laptops
        c.train.steps = 100
        c.train.log_every = 50
        c.train.eval_every = 100
    elif variant != "default":
        raise ValueError(f"unknown variant {variant!r}; known: default, quick")
    return c
