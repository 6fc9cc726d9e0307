"""SNGAN ResNet on CIFAR-10 at 32x32 (Miyato et al. 2018), for GPU/TPU users.

ResNet G (z 128, 256 channels) and ResNet D (128 channels) with spectral normalisation on every layer, hinge
loss, Adam(2e-4, b1=0, b2=0.9), 5 D steps per G step, batch 64, 50k G updates, linear lr decay.
Published (CIFAR-10, reprint): ResNet SN-GAN IS 8.22, FID 21.7.
Score a run with `ganjax eval --workdir W --fid_weights pt_inception-2015-12-05-6726825d.pth`
(FID, KID, IS on the FID Inception; see docs/metrics.md). Not yet checked against those numbers.

  ganjax train --config experiments/sngan_cifar10.py --workdir runs/sngan_cifar10  # 50k G steps
"""

from ganjax.config import base_config


def get_config():
    c = base_config(model="sngan")
    c.data.source = "tfds:cifar10"
    c.data.resolution = 32
    c.data.channels = 3
    c.data.random_flip = True

    c.model.noise_dim = 128
    c.model.width = 256  # G: 256 channels, D: 128 (Miyato et al. 2018, Table 4)
    c.model.d_width = 128
    c.model.d_spectral_norm = True

    c.loss.name = "hinge"
    c.optim.g_lr = 2e-4
    c.optim.d_lr = 2e-4
    c.optim.b1 = 0.0
    c.optim.b2 = 0.9
    c.optim.g_schedule = "linear"
    c.optim.d_schedule = "linear"
    c.optim.ema_decay = 0.9999

    c.train.steps = 50_000
    c.train.batch_size = 64
    c.train.d_steps = 5
    c.train.scan_steps = 100
    c.train.log_every = 500
    c.train.eval_every = 5_000
    return c
