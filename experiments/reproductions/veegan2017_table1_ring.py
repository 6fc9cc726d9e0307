"""Mode coverage on the ring of 8 Gaussians (VEEGAN Table 1, PacGAN Table 1).

The ring half of VEEGAN's Table 1 with PacGAN's and GDPP's rows: 8 Gaussians of std 0.01 on the
unit circle, ganjax's plain GAN, recommended and fidelity setups (experiments/ring8.py) over 10
seeds each, under the papers' protocol (the shared code and its protocol: _mixtures.py).
"""

from ganjax.experiments.reproductions import _mixtures

PAPER = ("Srivastava et al. 2017 (VEEGAN), Table 1; Lin et al. 2018 (PacGAN), Table 1; "
         "Elfeki et al. 2019 (GDPP), Table 1")
COMPARES = "modes captured, high-quality fraction and mode KL over 10 seeds on the ring of 8"
# Measured: 39 min on 2 CPU cores (the fidelity sweep 31 min, plain + recommended 8 min).
FULL_TIME = "~40 min"
QUICK_TIME = "~30 s"
SEEDS = 10


def run(ctx) -> None:
    _mixtures.compare_setups(ctx, "ring8", 8)
