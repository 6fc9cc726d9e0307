"""Mode coverage on the grid of 25 Gaussians (VEEGAN Table 1, PacGAN Table 1).

The grid half of VEEGAN's Table 1 with PacGAN's and GDPP's rows: 25 Gaussians of std 0.05 at
{-4, -2, 0, 2, 4}^2, ganjax's plain GAN, recommended and fidelity setups (experiments/grid25.py)
over 10 seeds each, under the papers' protocol (the shared code and its protocol:
_mixtures.py).
"""

from ganjax.experiments.reproductions import _mixtures

PAPER = ("Srivastava et al. 2017 (VEEGAN), Table 1; Lin et al. 2018 (PacGAN), Table 1; "
         "Elfeki et al. 2019 (GDPP), Table 1")
COMPARES = "modes captured, high-quality fraction and mode KL over 10 seeds on the grid of 25"
# Measured on 2 CPU cores, 10 seeds each: plain + recommended 8 min, fidelity 72 min (30k steps
# in vectorized groups of 2 seeds, 7.2 CPU min a seed).
FULL_TIME = "~1.5 h"
QUICK_TIME = "~30 s"
SEEDS = 10


def run(ctx) -> None:
    _mixtures.compare_setups(ctx, "grid25", 25)
