"""25 Gaussians on a 5x5 grid (spacing 2, std 0.05): mode coverage of a 2-D MLP GAN.

The modes sit at {-4, -2, 0, 2, 4}^2. The setup and metric of VEEGAN (Srivastava et al. 2017,
Table 1) and PacGAN (Lin et al. 2018): 2,500 samples, a sample is high quality within 3 std of
its nearest mode.

  ganjax train --config experiments/grid25.py            # recommended settings (~70 s, 2 CPUs)
  ganjax train --config experiments/grid25.py:vanilla    # plain non-saturating GAN (~1 min)
  ganjax train --config experiments/grid25.py:minimax    # saturating minimax GAN (~1 min)
  ganjax train --config experiments/grid25.py:fidelity   # wide nets + G-side MMD (~9 min)

The recommended run (R1 penalty, an EMA generator, linearly decaying learning rates, batch 256
for 20k steps) covers 25/25 modes on seeds 0-4, with 48-68% high-quality samples. The plain
baselines use the literature's optimisation settings (Adam, lr 1e-4, batch 100; PacGAN, Lin et
al. 2018) with no packing, penalty, EMA or schedule; the non-saturating one keeps 17-21 of the
25 modes.

`fidelity` targets the within-mode shape too (the HQ fraction alone rewards shrunk modes):
PacGAN4 packing instead of R1, PacGAN-sized nets (G 4x400, D 3x256), batch 512 for 30k steps,
an EMA generator, cosine decay, and an MMD between G's batch and the real batch added to G's
loss (loss.g_mmd_weight 1, Gaussian kernels 1, 3, 10 and 30 mode stds wide). Its 10-seed
numbers are in `ganjax reproduce veegan2017_table1_grid` (docs/reproductions.md). How it was
chosen, one run per seed: with PacGAN2 and 10k steps, seed 0 25/25 modes, HQ 94.4%, mode KL
0.007, spread ratio 0.85, but seed 1 HQ 94.0%, KL 0.079, spread 0.73; a stronger MMD on seed 1
(weight 2 or 3) loses modes (21, 17), starting the MMD at step 5k loses them too (G without it
held 6 modes at 5k), and raising its weight to 3 from step 5k still leaves KL 0.073. PacGAN4
buys even, full-width modes (seed 1: 25/25, KL 0.008, spread 0.89) but at 10k steps leaves
about 9% of the samples on bridges between neighbouring modes (HQ 91.0%; seed 0 89.2%), and
neither 2 D steps per G step (90.8%), uniform noise (90.2%) nor 8 noise dims (83.2%) thin them.
Time does: the bridges thin out while the learning rate decays, and with 20k steps seed 1
reaches HQ 94.6%, KL 0.005, spread 0.90 (HQ 86% at 7.5k, 92% at 12.5k, 94% at 17.5k).
On 10 seeds that linear-decay recipe ended at HQ 93.7 +- 0.12%, short of PacGAN3's 94.2%, still
rising at the end (89.8% at 10k, 92.5% at 15k). Two trials on seeds 0 and 1 (93.6% and 93.4%
there): cosine decay (same cost; it spends twice as many steps below a tenth of the peak lr)
reached 93.6% and 94.6%, mixture MMD 0.049 against a perfect sampler's 0.050; batch 256 for 30k
steps (0.75x the time) only 93.3% and 93.1%. On all 10 seeds, though, cosine decay ends at
HQ 93.72 +- 0.16% (KL 0.006, spread 0.89): the same as linear, the two-seed gain was noise. The
bridges remain the gap to 94.2%, and time thins them: with 30k steps (cosine, batch 512; 7.3
CPU min a seed in groups of 2) seeds 0 and 1 reach HQ 94.8% and 94.8% (KL 0.004 and 0.006,
spread 0.90 and 0.89). On 10 seeds (7.2 CPU min a seed): 25/25 modes on 10/10, HQ 94.95 +-
0.14% (every seed 94.4-95.6%), KL 0.005, spread 0.90, above PacGAN3's 94.2% without shrinking
the modes.
"""

from ganjax.config import base_config
from ganjax.experiments._baselines import mode_fidelity, plain_gan


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
        c.penalty.name = "r1"  # per-sample D with a zero-centred gradient penalty on real data
        c.penalty.weight = 0.3
        c.optim.ema_decay = 0.999  # evaluate an EMA of G's weights
        c.optim.g_schedule = "linear"  # lr decays to 0: samples sharpen at the end
        c.optim.d_schedule = "linear"
        c.train.batch_size = 256
        c.train.steps = 20_000
    elif variant == "fidelity":
        mode_fidelity(c, bandwidths=(0.05, 0.15, 0.5, 1.5), pack=4)  # kernels 1-30 mode stds
        c.train.steps = 30_000  # the bridges between modes thin out while the lr decays
        c.optim.g_schedule = c.optim.d_schedule = "cosine"  # 10 seeds at 20k: as good as linear
    elif variant in ("vanilla", "minimax"):
        plain_gan(c, "non_saturating" if variant == "vanilla" else "minimax")
    else:
        raise ValueError(f"unknown variant {variant!r}; known: recommended, vanilla, minimax, "
                         "fidelity")
    return c
