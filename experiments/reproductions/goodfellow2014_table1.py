"""The Parzen-window log-likelihood of a GAN on MNIST (Goodfellow et al. 2014, Table 1), over seeds.

The paper fits a Gaussian Parzen window to 10,000 samples of its MNIST GAN (an MLP generator,
1200-1200 ReLU units, against a maxout discriminator), picks sigma on 1,000 validation digits
and reports the mean log-likelihood of the test digits: 225 +- 2 nats (the +- is the standard
error over test digits). ganjax has no MLP image GAN, so the closest model trained here is
`experiments/dcgan_mnist.py` (the DCGAN of Radford et al. 2015 at 28x28, 10k steps), once per
seed; each run's last checkpoint is scored by `ganjax eval`'s Parzen estimate under the paper's
protocol. The paper's other MNIST rows are listed beside ours.
"""

from ganjax.experiments.reproductions import _mnist

PAPER = "Goodfellow et al. 2014, Generative Adversarial Nets, Table 1 (MNIST)"
COMPARES = ("Parzen-window log-likelihood of 10,000 DCGAN samples on MNIST test digits "
            "against the paper's 225 +- 2 nats")
# Measured (2026-12-07, 2 CPU cores, offline 10k subset, with light other work): 2033 s for 3
# seeds: 10.3-12.4 min a dcgan_mnist run (10k steps at ~16 steps/s, evaluations included), ~10 s
# of Parzen each. radford2015_features copies these runs when it finds them beside it.
FULL_TIME = "~35 min"
QUICK_TIME = "~1 min"
SEEDS = 3


SPEC = "dcgan_mnist"
# Table 1 of the paper, its MNIST column (nats), as printed.
PUBLISHED = (("DBN", "138 +- 2"), ("Stacked CAE", "121 +- 1.6"), ("Deep GSN", "214 +- 1.1"),
             ("Adversarial nets (the paper's GAN)", "225 +- 2"))
TABLE = "Parzen-window log-likelihood of MNIST test digits"


def run(ctx) -> None:
    runs = _mnist.train_seeds(ctx, "dcgan", SPEC, share=("radford2015_features",))  # the same runs
    evaluations = [_mnist.parzen(ctx, r) for r in runs]
    _mnist.report_parzen(ctx, TABLE, "ganjax DCGAN (experiments/dcgan_mnist.py)", "dcgan",
                         runs, evaluations, "225 +- 2 (adversarial nets)",
                         "a DCGAN, not the paper's MLP G / maxout D; +- over seeds")
    ctx.table("The paper's Table 1, MNIST (Parzen log-likelihood, nats)",
              ["model", "paper"], [list(row) for row in PUBLISHED])
    ctx.text("A caveat that applies to every number in these tables: in 784 dimensions a "
             "Parzen window fitted to 10,000 samples is a poor estimate of a model's "
             "likelihood. Its value is dominated by the distance from each test digit to its "
             "nearest few samples, so it rewards generators that place samples close to "
             "typical digits and says little about how much probability the model gives the "
             "digits as a whole; far more samples would be needed for the estimate to "
             "converge, and Theis, van den Oord and Bethge (2016) show that it can rank "
             "models in the opposite order to their true log-likelihoods (even a k-means "
             "style set of prototypes can score well). Read it as the paper's yardstick, "
             "reproduced, not as a likelihood.")
    _mnist.run_figure(ctx, runs[0], f"{runs[0].label}: samples of the generator at the last "
                                    f"step (the run's final grid)")
