"""Conditional GAN on MNIST (Mirza & Osindero 2014): class grid, conditional accuracy, Parzen.

The paper conditions both networks on the one-hot digit label, shows one row of samples per
class (Fig. 2) and reports a Gaussian Parzen-window log-likelihood of 132 +- 1.8 nats, fitted
to 1,000 samples of each of the ten classes (against 225 +- 2 for the unconditional GAN of
Goodfellow et al. 2014). The recipe trains `experiments/cgan_mnist.py` (a conditional DCGAN:
one_hot(y) beside G's noise and as ten constant input channels of D, 10k steps) once per seed;
it scores each run's last checkpoint with the Parzen protocol on exactly 1,000 samples per class
and reads the conditional accuracy (does a digit CNN see the class G was asked for?) from the
run's final evaluation, which the paper does not measure.
"""

from ganjax.experiments.reproductions import _mnist

PAPER = ("Mirza & Osindero 2014, Conditional Generative Adversarial Nets, Table 1 and Fig. 2 "
         "(MNIST)")
COMPARES = ("Parzen log-likelihood of 1,000 samples per class against the paper's 132 +- 1.8; "
            "conditional accuracy; the class grid")
# Measured (2026-12-07, 2 CPU cores, offline 10k subset, with light other work): 1240 s for 3
# seeds: 6.3-7.6 min a seed (training with its evaluations; the first also trains the
# evaluation CNN), ~10 s of Parzen each.
FULL_TIME = "~21 min"
QUICK_TIME = "~1 min"
SEEDS = 3


SPEC = "cgan_mnist"
# The paper's Table 1 rows for MNIST (nats), as printed.
PUBLISHED = (("Adversarial nets (Goodfellow et al. 2014)", "225 +- 2"),
             ("Conditional adversarial nets", "132 +- 1.8"))
TABLE = "Conditional GAN on MNIST"
ROW = "ganjax conditional DCGAN (experiments/cgan_mnist.py)"


def run(ctx) -> None:
    runs = _mnist.train_seeds(ctx, "cgan", SPEC, quick_spec=f"{SPEC}:quick")
    evaluations = [_mnist.parzen(ctx, r, per_class=True) for r in runs]
    _mnist.report_parzen(ctx, TABLE, ROW, "cgan", runs, evaluations,
                         "132 +- 1.8 (conditional adversarial nets; reprint)",
                         "a conditional DCGAN, not the paper's MLPs; +- over seeds")
    accuracy = [r.summary["eval/conditional_accuracy"] for r in runs]
    cnn = runs[0].summary["eval/cnn_protocol"]
    ctx.compare(TABLE, ROW, "conditional accuracy", accuracy, "",
                "not measured in the paper; ganjax's evaluation CNN")
    ctx.number("cgan/conditional_accuracy", accuracy)
    ctx.protocol("conditional accuracy", f"the share of {cnn['num_generated']:,} samples of "
                 f"the run's last evaluation (requested labels: {cnn['requested']}) that the "
                 f"evaluation CNN puts in the class G was asked for; the CNN: "
                 f"{cnn['classifier']}")
    ctx.table("The paper's Table 1, MNIST (Parzen log-likelihood, nats)", ["model", "paper"],
              [list(row) for row in PUBLISHED])
    ctx.text("Labels of the Parzen samples: `ganjax eval` draws a conditional model's labels "
             "uniformly at random, so its 10,000 samples hold about 1,000 of each class (a "
             "binomial spread of about +- 30); this reproduction cycles the labels instead, so "
             "that every class gets exactly samples / 10, as in the paper's protocol.")
    figures = _mnist.latent_figures(ctx, runs[0], "classes")
    ctx.figure(figures["classes"], f"{runs[0].label}: one row per requested class, one noise "
                                   f"vector per column shared by all rows (the paper's Fig. 2)")
