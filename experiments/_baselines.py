"""Settings shared by several experiment files."""


def plain_gan(c, loss_name: str):
    """The literature's plain GAN baseline on the 2-D mixtures: no packing, penalty, EMA or lr
    schedule; Adam with PacGAN's settings (lr 1e-4, batch 100), 20k steps."""
    c.loss.name = loss_name
    c.optim.g_lr = 1e-4
    c.optim.d_lr = 1e-4
    c.train.batch_size = 100
    c.train.steps = 20_000
    return c


def mode_fidelity(c, bandwidths: tuple[float, ...], pack: int = 2):
    """The toy mixtures' `fidelity` recipe: PacGAN packing (`pack` samples per D input; the
    ring uses 2, the grid 4), PacGAN-sized nets (G 4x400,
    D 3x256), an EMA generator, linearly decaying learning rates, and an MMD between G's batch
    and the real batch added to G's loss (Gaussian kernels of `bandwidths`, in data units),
    which keeps each mode as wide as the data's where the adversarial gradient alone shrinks it."""
    c.model.d_group = pack  # gradient penalties would need a per-sample D
    c.model.g_hidden = (400, 400, 400, 400)
    c.model.d_hidden = (256, 256, 256)
    c.optim.ema_decay = 0.999
    c.optim.g_schedule = c.optim.d_schedule = "linear"
    c.loss.g_mmd_weight = 1.0
    c.loss.g_mmd_bandwidths = tuple(bandwidths)
