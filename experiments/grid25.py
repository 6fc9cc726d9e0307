"""Grid of 25 Gaussians at {-4, -2, 0, 2, 4}^2 (std 0.05): mode coverage of a 2-D MLP GAN.

The setup and metric of VEEGAN (Srivastava et al. 2017, Table 1) and PacGAN (Lin et al. 2018):
2,500 samples, a sample is high quality within 3 std of its nearest mode.

  ganjax train --config experiments/grid25.py            # recommended settings
  ganjax train --config experiments/grid25.py:vanilla    # plain non-saturating GAN
"""

from ganjax.config import base_config


def get_config(variant: str = "recommended"):
    c = base_config()
    c.data.source = "grid"
    c.data.num_modes = 25
    c.data.spacing = 2.0
    c.data.std = 0.05

    c.model.noise_dim = 2
    c.model.g_hidden = (128, 128)
    c.model.d_hidden = (128, 128)

    c.optim.g_lr = 1e-3
    c.optim.d_lr = 1e-3

    c.train.steps = 10_000
    c.train.batch_size = 512
    c.train.log_every = 500
    c.train.eval_every = 2_500
    c.eval.num_samples = 2_500

    if variant == "recommended":
        c.model.d_group = 2
    elif variant == "vanilla":
        pass
    elif variant == "minimax":
        c.loss.name = "minimax"
    else:
        raise ValueError(f"unknown variant {variant!r}; known: recommended, vanilla, minimax")
    return c
