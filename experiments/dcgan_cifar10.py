"""DCGAN on CIFAR-10 at 32x32, for GPU/TPU users.

The standard-CNN DCGAN baseline of the GAN literature: G z(100) -> 4x4x256 -> 8x8x128 ->
16x16x64 -> 32x32x3, D mirrored with LeakyReLU 0.2, BatchNorm, non-saturating loss,
Adam(2e-4, b1=0.5), batch 64.
Published reference points (CIFAR-10, 50k samples): DCGAN Inception score 6.16 +- .07
(Gulrajani et al. 2017, Table 3); standard-CNN SN-GAN IS 7.42, FID 29.3 (Miyato et al. 2018).
Score a run with `ganjax eval --workdir W --fid_weights pt_inception-2015-12-05-6726825d.pth`
(FID, KID, IS on the FID Inception; see docs/metrics.md). Not yet checked against those numbers.

  ganjax train --config experiments/dcgan_cifar10.py --workdir runs/dcgan_cifar10  # 100k steps
"""

from ganjax.config import base_config


def get_config():
    c = base_config(model="dcgan")
    c.data.source = "tfds:cifar10"
    c.data.resolution = 32
    c.data.channels = 3
    c.data.random_flip = True

    c.model.noise_dim = 100
    c.model.width = 64

    c.optim.g_lr = 2e-4
    c.optim.d_lr = 2e-4
    c.optim.b1 = 0.5
    c.optim.ema_decay = 0.999

    c.train.steps = 100_000
    c.train.batch_size = 64
    c.train.scan_steps = 100
    c.train.log_every = 500
    c.train.eval_every = 5_000
    return c
