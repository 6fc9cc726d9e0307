"""DCGAN on MNIST at 28x28 (Radford et al. 2015 architecture, sized for MNIST).

G z(100) -> 7x7x128 -> 14x14x64 -> 28x28x1, D 28 -> 14x14x64 -> 7x7x128 -> logit; BatchNorm,
non-saturating loss, Adam(2e-4, b1=0.5), batch 64.

  ganjax train --config experiments/dcgan_mnist.py                    # TFDS mnist (prepared)
  ganjax train --config experiments/dcgan_mnist.py:quick              # 20 steps: a smoke test
  ganjax train --config experiments/dcgan_mnist.py \\
      --config.data.source=mnist_idx:/path/to/mnist                    # offline IDX files
  ganjax train --config experiments/dcgan_mnist.py \\
      --config.data.source=npz:/path/to/mnist.npz --config.data.split=train

First use of TFDS mnist needs `pip install 'ganjax[tfds-prepare]'` to download and prepare it.
"""

from ganjax.config import base_config


def get_config(variant: str = "default"):
    c = base_config(model="dcgan")
    c.data.source = "tfds:mnist"
    c.data.resolution = 28
    c.data.channels = 1

    c.model.noise_dim = 100
    c.model.width = 64

    c.optim.g_lr = 2e-4
    c.optim.d_lr = 2e-4
    c.optim.b1 = 0.5

    c.train.steps = 10_000
    c.train.batch_size = 64
    c.train.scan_steps = 50
    c.train.log_every = 250
    c.train.eval_every = 2_500
    if variant == "quick":  # tests and laptops
        c.train.steps = 20
        c.train.scan_steps = 10
        c.train.log_every = 10
        c.train.eval_every = 20
        c.eval.grid_size = 16
    elif variant != "default":
        raise ValueError(f"unknown variant {variant!r}; known: default, quick")
    return c
