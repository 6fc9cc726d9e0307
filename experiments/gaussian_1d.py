"""The seed's 1-D toy: G turns uniform noise into samples of N(4, 1.5^2).

The figure re-creates the idea of Goodfellow et al. 2014, Fig. 1: data density (black dots),
generator density (green) and D(x) (blue dashes), which should flatten to 1/2 on the data.

  ganjax train --config experiments/gaussian_1d.py            # D sees single samples (~20-30 s)
  ganjax train --config experiments/gaussian_1d.py:moments    # D sees 64-sample moments (~10-20 s)
  ganjax sweep --config experiments/gaussian_1d.py            # get_sweep(): 3 G lrs x 4 seeds

G is a ReLU MLP (it must stretch bounded uniform noise into Gaussian tails; a tanh G piles mass up
at its bounds) and D a leaky-ReLU MLP (a tanh D stays too flat to pull the tails out). The
per-sample D also gets a small R1 penalty, which damps the oscillation of G's std across seeds.
"""

from ganjax.config import base_config
from ganjax.config.sweep_space import product, seeds, values


def get_config(variant: str = "samples"):
    c = base_config()
    c.data.source = "gaussian_1d"
    c.data.mean = 4.0
    c.data.std = 1.5

    c.model.noise = "uniform"
    c.model.noise_dim = 1
    c.model.g_hidden = (64, 64)
    c.model.d_hidden = (64, 64)
    c.model.g_activation = "relu"
    c.model.d_activation = "leaky_relu"

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
        c.penalty.name = "r1"
        c.penalty.weight = 1.0
    elif variant == "moments":
        # The seed's minibatch-statistics D: it judges groups by their mean and std only.
        c.model.d_group = 64
        c.model.d_group_features = "moments"
    else:
        raise ValueError(f"unknown variant {variant!r}; known: samples, moments")
    return c


def get_sweep(variant: str = "samples"):
    """G's learning rate against seeds: 12 points, one vectorized program (`ganjax sweep`)."""
    del variant  # the same sweep for both variants
    return product(values("optim.g_lr", [3e-4, 1e-3, 3e-3]), seeds(4))
