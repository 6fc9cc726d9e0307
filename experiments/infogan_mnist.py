"""InfoGAN on MNIST (Chen et al. 2016): codes beside z, recovered by Q on D's features.

The paper's setup: c1 ~ Cat(10), c2, c3 ~ U(-1, 1), 62 noise dimensions (uniform on [-1, 1], as
in the authors' code), lambda = 1 for c1 and a smaller one (0.1) for the continuous codes (the
paper: their bound involves differential entropy, so a smaller lambda keeps it on the GAN's
scale), Adam with D 2e-4 and G 1e-3 (b1 = 0.5), batch 128; Q is a 128-unit hidden layer with
BatchNorm on D's features, a softmax over c1 and unit-variance Gaussians over c2, c3. The
networks are the paper's at half width: G has its FC-1024 hidden layer before the 7x7
projection, D its FC-1024 layer after the convs (Q and D's logit read that layer). No labels
are used in training. The bound L_I of c1 is logged as g_mi_bound (it should approach
ln 10 = 2.30 nats, the paper's Figure 1); evaluations report the code-to-class accuracy (the
best one-to-one matching of c1's ten values to the evaluation CNN's digit classes; the paper:
5% error). What mattered, measured on seed 0 (code-to-class accuracy of the training-time
evaluations): the DCGAN without the FC-1024 layers, Gaussian noise and lambda 1 for the
continuous codes: 0.33 after 5k steps; uniform noise and lambda 0.1: 0.56 after 5k (0.67 after
9k); with the FC-1024 layers: 0.65, 0.76, 0.77 after 1k, 2k, 3k; and BatchNorm in Q: 0.76 and
0.96 after 1k and 2k.

  ganjax train --config experiments/infogan_mnist.py          # TFDS mnist, 4k steps (~11 min)
  ganjax train --config experiments/infogan_mnist.py \\
      --config.data.source=npz:/path/to/mnist-train.npz       # offline: numpy.savez(x=, y=)
  ganjax train --config experiments/infogan_mnist.py:digits   # embedded 8x8 digits (~1 min)
  ganjax train --config experiments/infogan_mnist.py:quick    # 20 steps on digits (~20 s)
  ganjax sample --workdir W --num 100 --codes 0,1,2,3,4,5,6,7,8,9   # ten of each c1 value

Times: the 10k-digit offline subset, 2-core CPU, evaluations included, measured alone (MNIST:
10.8 min for seed 0, code-to-class accuracy 0.994).
"""

from ganjax.config import base_config
from ganjax.experiments._conditional import dcgan_on, quick, schedule

VARIANTS = ("default", "digits", "quick")


def get_config(variant: str = "default"):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    data = "mnist" if variant == "default" else "digits"
    c = dcgan_on(base_config(model="dcgan"), data)
    c.model.info_categorical = (10,)
    c.model.info_continuous = 2
    c.model.info_weight = 1.0
    c.model.info_continuous_weight = 0.1
    c.model.info_q_batch_norm = True
    c.model.noise = "uniform"
    c.optim.d_lr = 2e-4
    c.optim.g_lr = 1e-3
    c.train.batch_size = 128
    if data == "mnist":
        c.model.noise_dim = 62
        c.model.width = 32
        c.model.g_dense = c.model.d_dense = 1024
    schedule(c, 4_000 if data == "mnist" else 5_000)
    return quick(c) if variant == "quick" else c
