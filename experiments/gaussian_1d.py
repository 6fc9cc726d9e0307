"""The seed's 1-D toy: G turns uniform noise into samples of N(4, 1.5^2).

The figure re-creates the idea of Goodfellow et al. 2014, Fig. 1: data density (black dots),
generator density (green) and D(x) (blue dashes), which should flatten to 1/2 on the data.

  ganjax train --config experiments/gaussian_1d.py            # D sees single samples
  ganjax train --config experiments/gaussian_1d.py:moments    # D sees (mean, std) of 64-sample groups
"""

from ganjax.config import base_config


def get_config(variant: str = "samples"):
    c = base_config()
    c.data.source = "gaussian_1d"
    c.data.mean = 4.0
    c.data.std = 1.5

    c.model.noise = "uniform"
    c.model.noise_dim = 1
    c.model.g_hidden = (32, 32)
    c.model.d_hidden = (32, 32)
    c.model.g_activation = "tanh"
    c.model.d_activation = "tanh"

    c.optim.g_lr = 1e-3
    c.optim.d_lr = 1e-3
    c.optim.b1 = 0.5
    c.optim.ema_decay = 0.999

    c.train.steps = 5_000
    c.train.batch_size = 256
    c.train.log_every = 500
    c.train.eval_every = 1_000
    c.eval.num_samples = 20_000

    if variant == "samples":
        pass
    elif variant == "moments":
        # The seed's minibatch-statistics D: it judges groups by their mean and std only.
        c.model.d_group = 64
        c.model.d_group_features = "moments"
    else:
        raise ValueError(f"unknown variant {variant!r}; known: samples, moments")
    return c
