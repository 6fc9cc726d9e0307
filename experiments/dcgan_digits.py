"""DCGAN on scikit-learn's bundled 8x8 digits: the embedded image experiment (no download).

A DCGAN (Radford et al. 2015) at 8x8: G z(64) -> 4x4x128 -> 8x8x1, D 8x8 -> 4x4x64 -> logit,
non-saturating loss, Adam(2e-4, b1=0.5). Writes a sample grid at every eval.

  ganjax train --config experiments/dcgan_digits.py      # a few minutes on a 2-core CPU
"""

from ganjax.config import base_config


def get_config(variant: str = "default"):
    c = base_config()
    c.data.source = "digits"
    c.data.resolution = 8
    c.data.channels = 1

    c.model.name = "dcgan"
    c.model.noise_dim = 64
    c.model.width = 64

    c.optim.g_lr = 2e-4
    c.optim.d_lr = 2e-4
    c.optim.b1 = 0.5

    c.train.steps = 3_000
    c.train.batch_size = 64
    c.train.scan_steps = 50
    c.train.log_every = 250
    c.train.eval_every = 1_000
    c.eval.grid_size = 64
    if variant == "quick":  # tests and laptops
        c.train.steps = 100
        c.train.log_every = 50
        c.train.eval_every = 100
    elif variant != "default":
        raise ValueError(f"unknown variant {variant!r}; known: default, quick")
    return c
