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
