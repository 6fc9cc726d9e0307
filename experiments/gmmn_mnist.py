"""Generative moment matching networks on MNIST (Li, Swersky & Zemel 2015): no D at all.

Pixel GMMN: uniform noise z(10) -> 64-256-256-1024 ReLU -> 784 sigmoid units (read in [-1, 1]),
trained by the MMD between a batch of 1000 samples and 1000 real digits under a mixture of
Gaussian kernels with sigma 2, 5, 10, 20, 40, 80 (pixels in [0, 1]), Adam(1e-3).
GMMN+AE (`:ae`): an autoencoder 784-1024-32-1024-784 (sigmoid codes) fitted first, then a code
generator z(10) -> 64-256-256 -> 32 by the MMD in code space; samples are decoder(code_gen(z)).

  ganjax train --config experiments/gmmn_mnist.py         # pixel GMMN, 2k steps (~8 CPU-min)
  ganjax train --config experiments/gmmn_mnist.py:ae      # GMMN+AE, 1.5k + 3k steps (~10 CPU-min)
  ganjax train --config experiments/gmmn_mnist.py:digits  # pixel GMMN on 8x8 digits (~2 CPU-min)
  ganjax train --config experiments/gmmn_mnist.py:quick   # 20 steps on 8x8 digits: tests (~25 s)

Times are CPU time (user + sys) on a 2-core CPU, evaluations and figures included: wall time
on an idle machine is at most about that. Measured on the 10k-digit subset below, on a machine
shared with other jobs (load 8-16 on 2 cores): the default took 36 min wall (8.1 CPU-min; its
samples cover all 10 classes, class KL 0.023), `:ae` 40 min wall (9.6 CPU-min; 10 classes,
class KL 0.034), `:digits` 3 min wall (1.9 CPU-min), `:quick` 49 s wall (24 s CPU, mostly
compiling).

Data: TFDS mnist by default (first use needs `pip install 'ganjax[tfds-prepare]'`). Offline,
e.g. with the first 10k training digits as an .npz (`x` uint8 [N, 28, 28], `y` labels):
  ganjax train --config experiments/gmmn_mnist.py \\
      --config.data.source=npz:/path/train-first10k.npz
"""

from ganjax.config import base_config

VARIANTS = ("default", "ae", "digits", "quick")


def get_config(variant: str = "default"):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    c = base_config(model="gmmn")
    c.data.source = "tfds:mnist"
    c.data.resolution = 28
    c.data.channels = 1

    c.model.noise = "uniform"
    c.model.noise_dim = 10
    c.model.mmd_space = "autoencoder" if variant == "ae" else "pixels"

    c.optim.g_lr = 1e-3
    c.optim.b1 = 0.5

    c.train.steps = 2000
    c.train.batch_size = 1000
    c.train.scan_steps = 25
    c.train.log_every = 100
    c.train.eval_every = 1000
    c.eval.num_samples = 1000
    c.eval.grid_size = 64
    # The evaluation CNN's Frechet distance, comparable with the DCGAN's on the same data.
    c.eval.cnn_metrics = variant != "quick"
    if variant == "ae":
        c.train.steps = 4500
        c.model.ae_steps = 1500
        c.train.eval_every = 1500
    elif variant in ("digits", "quick"):
        c.data.source = "digits"
        c.data.resolution = 8
        c.train.batch_size = 500
        c.train.steps = 3000
        c.train.log_every = 250
        c.train.eval_every = 1500
        if variant == "quick":
            c.train.batch_size = 128
            c.train.steps = 20
            c.train.scan_steps = 10
            c.train.log_every = 10
            c.train.eval_every = 20
            c.eval.num_samples = 256
            c.eval.grid_size = 16
    return c
