"""Ring of 8 Gaussians (radius 1, std 0.01): mode coverage of a 2-D MLP GAN.

Reproduces the setup of VEEGAN (Srivastava et al. 2017, Table 1) and PacGAN (Lin et al. 2018,
Table 1): 2,500 samples, a sample is high quality within 3 std of its nearest mode.

  ganjax train --config experiments/ring8.py            # recommended settings (~1 min, 2-core CPU)
  ganjax train --config experiments/ring8.py:vanilla    # plain non-saturating GAN
  ganjax train --config experiments/ring8.py:minimax    # saturating minimax GAN
"""

from ganjax.config import base_config


def get_config(variant: str = "recommended"):
    c = base_config()
    c.data.source = "ring"
    c.data.num_modes = 8
    c.data.radius = 1.0
    c.data.std = 0.01

    c.model.noise_dim = 2
    c.model.g_hidden = (128, 128)
    c.model.d_hidden = (128, 128)

    c.optim.g_lr = 1e-3
    c.optim.d_lr = 1e-3
    c.optim.b1 = 0.5
    c.optim.b2 = 0.999

    c.train.steps = 10_000
    c.train.batch_size = 512
    c.train.log_every = 500
    c.train.eval_every = 2_500
    c.eval.num_samples = 2_500

    if variant == "recommended":
        c.model.d_group = 2  # PacGAN2 packing
    elif variant == "vanilla":
        c.loss.name = "non_saturating"
    elif variant == "minimax":
        c.loss.name = "minimax"
    else:
        raise ValueError(f"unknown variant {variant!r}; known: recommended, vanilla, minimax")
    return c
