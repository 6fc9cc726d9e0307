"""The conditional and InfoGAN experiments' shared settings: a DCGAN on 28x28 MNIST or on the
embedded 8x8 digits, with the conditioning or codes of one experiment file."""

from ganjax.config import base_config

MNIST_SOURCE = "tfds:mnist"


def dcgan_on(c, data: str):
    """DCGAN (Radford et al. 2015) sized for `data` ("mnist": 28x28, "digits": 8x8), Adam(2e-4,
    b1=0.5), non-saturating loss, EMA of G (decay 0.99) for samples and evaluation."""
    if data == "mnist":
        c.data.source, c.data.resolution = MNIST_SOURCE, 28
        c.model.noise_dim, c.model.width = 100, 64
    elif data == "digits":
        c.data.source, c.data.resolution = "digits", 8
        c.model.noise_dim, c.model.width = 32, 128
    else:
        raise ValueError(f"unknown data {data!r}")
    c.data.channels = 1
    c.optim.g_lr = c.optim.d_lr = 2e-4
    c.optim.b1 = 0.5
    c.optim.ema_decay = 0.99  # a window of ~100 steps: early evals are not dominated by init
    c.train.batch_size = 64
    c.train.scan_steps = 50
    c.eval.grid_size = 100  # ten rows: one per class for a conditional model
    c.eval.num_samples = 2000
    c.eval.cnn_metrics = True  # conditional / code accuracy and the classifier-feature FD
    return c


def conditional(g: str, d: str, data: str):
    """A DCGAN conditioned on the 10 digit classes: G by `g`, D by `d` (model.*_conditioning)."""
    c = dcgan_on(base_config(model="dcgan"), data)
    c.model.num_classes = 10
    c.model.g_conditioning = g
    c.model.d_conditioning = d
    return c


def schedule(c, steps: int, evals: int = 4):
    """`steps` training steps, logged 40 times and evaluated `evals` times."""
    c.train.steps = steps
    c.train.log_every = max(steps // 40, 1)
    c.train.eval_every = max(steps // evals, 1)
    return c


def quick(c):
    """20 steps: tests and smoke runs."""
    c.train.steps, c.train.scan_steps, c.train.log_every, c.train.eval_every = 20, 10, 10, 20
    c.eval.grid_size = 20
    c.eval.num_samples = 200
    return c
