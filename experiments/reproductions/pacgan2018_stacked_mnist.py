"""Stacked MNIST: how many of its 1,000 modes ganjax's DCGAN covers (PacGAN, VEEGAN Table 2).

Stacked MNIST puts three independently drawn MNIST digits into the R, G and B channels of one
28x28 image, so it has 10^3 = 1,000 modes (label 100 a + 10 b + c for the digits a, b, c of the
channels). It is built here from the MNIST this reproduction is given (`--mnist`; the offline
10k subset in tests) with a fixed seed, as an .npz in the folder (N_STACKS triples, the
protocol's 128k; --quick: fewer), and ganjax's DCGAN (experiments/dcgan_mnist.py at width 32,
sized for a CPU, with three channels) trains on it, one run per seed. Each run's generator
draws NUM_SAMPLES images (the protocol's 26,000), each channel is labelled by ganjax's digit
CNN trained on that MNIST, and the triples give the modes covered (distinct labels) and
KL(mode histogram || uniform over 1,000). The same count on as many real Stacked MNIST images
is the reference: what a perfect generator scores under this classifier.

The same runs with PacGAN's packed discriminator (PacDCGAN2: `model.d_group = 2`, two images
side by side along D's input channels, `ganjax.models.packing`) give the packed rows, once from
the DCGAN's 64 images a step (32 pairs) and once from 128 (64 pairs, PacGAN's code: its D sees a
batch of packed inputs as large as the unpacked D's batch of images).

Time, measured on 2 CPU cores (2026-12-07, the offline 10k subset, with light other work):
1721 s for 3 seeds of the three networks, the digit CNN read from its cache: 2.5 min a DCGAN
seed, 2-2.5 min a PacDCGAN2 seed at batch 64 and 4 min at batch 128, ~20 s to draw and label
26,000 samples. The CNN's 1,000 steps add ~4 min where it is not cached yet: ~35 min in all.
--quick (2,000 stacks, 20 steps, 400 samples, a 30-step CNN): ~1.5 min, most of it compiling.

What it found (3 seeds): ganjax's DCGAN already covers 934 +- 7 of the 1,000 modes (the papers'
DCGANs: 99 and 78.9), and packing did not add any here: PacDCGAN2 covers 915 and 917 (32 and 64
pairs a step) with a higher KL (0.79 and 0.77 against 0.64); the report states the seed-by-seed
differences. The papers' DCGAN rows are collapsed runs; this plain DCGAN (non-saturating loss,
Adam 2e-4, no EMA) does not collapse at this budget, which leaves packing little to fix.
"""

import numpy as np

PAPER = ("Lin, Khetan, Fanti & Oh 2018 (PacGAN), Table 2; Srivastava et al. 2017 (VEEGAN), "
         "Table 2: Stacked MNIST")
COMPARES = ("modes covered (of 1,000) and KL to uniform of DCGAN and PacDCGAN2 samples on "
            "Stacked MNIST, each channel labelled by a digit CNN; real Stacked MNIST as the "
            "reference")
FULL_TIME = "~35 min"  # measured (see the docstring)
QUICK_TIME = "~1.5 min"
SEEDS = 3


NUM_MODES = 1000
SPEC = "dcgan_mnist"
N_STACKS, QUICK_STACKS = 128_000, 2_000
NUM_SAMPLES, QUICK_SAMPLES = 26_000, 400
STEPS, QUICK_STEPS = 5_000, 20
CLASSIFIER_STEPS, QUICK_CLASSIFIER_STEPS = 1_000, 30
STACK_SEED = 0  # the draw of the training triples
SAMPLE_SEED = 1_000  # noise stream of the evaluated samples (seed s uses SAMPLE_SEED + s)
# Every run: DCGAN on the stacks at 28x28x3; width 32 (dcgan_mnist's 64 is ~2.5x slower on a
# CPU). No training-time label metrics: the stacks' 1,000 labels would make the logistic
# regression of eval.class_metrics the slowest part of every eval.
OVERRIDES = {"data.channels": 3, "model.width": 32, "eval.class_metrics": False,
             "eval.grid_size": 64}
# The networks compared: (label prefix, model.d_group, train.batch_size, name). One DCGAN and
# step count; PacDCGAN2 packs D's inputs in pairs, either from the DCGAN's 64 images a step (32
# pairs: the same images) or, as PacGAN's code does, from 128 (64 pairs: D judges as many
# inputs as the DCGAN's D, G makes twice the images).
MODELS = (("dcgan", 1, 64, "DCGAN"),
          ("pacdcgan2", 2, 64, "PacDCGAN2, 32 pairs a step"),
          ("pacdcgan2_b128", 2, 128, "PacDCGAN2, 64 pairs a step"))
PAPER_MODES = {"dcgan": "99 (DCGAN, VEEGAN); 78.9 +- 6.5 (DCGAN, PacGAN, as quoted)",
               "pacdcgan2": "1000 (PacDCGAN2, PacGAN)",
               "pacdcgan2_b128": "1000 (PacDCGAN2, PacGAN)"}
PAPER_KL = {"dcgan": "3.40 (DCGAN, VEEGAN)", "pacdcgan2": "0.06 (PacDCGAN2, PacGAN)",
            "pacdcgan2_b128": "0.06 (PacDCGAN2, PacGAN)"}
# Published rows: (method, modes, KL, where).
PUBLISHED = (("DCGAN", "99", "3.40", "VEEGAN Table 2"), ("ALI", "16", "", "VEEGAN Table 2"),
             ("Unrolled GAN", "48.7", "", "VEEGAN Table 2"),
             ("VEEGAN", "150", "2.95", "VEEGAN Table 2"),
             ("DCGAN", "78.9 +- 6.5", "", "PacGAN Table 2, as issue #14 quotes it"),
             ("PacDCGAN2/3/4", "1000", "0.06-0.07", "PacGAN Table 2"))


def stack_digits(images: np.ndarray, labels: np.ndarray, count: int,
                 seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stacked MNIST: (x uint8 [count, H, W, 3], y [count], rows [count, 3]). Triple i takes
    the digits rows[i] (drawn independently, uniformly, with replacement) of `images`
    [N, H, W] or [N, H, W, 1] as its R, G, B channels; y = 100 a + 10 b + c of their labels."""
    images = np.asarray(images)
    if images.ndim == 4:
        if images.shape[-1] != 1:
            raise ValueError(f"stacking needs one-channel digits, got shape {images.shape}")
        images = images[..., 0]
    rows = np.random.default_rng(seed).integers(0, len(images), (count, 3))
    x = np.stack([images[rows[:, k]] for k in range(3)], axis=-1).astype(np.uint8)
    digits = np.asarray(labels, np.int64)[rows]
    return x, 100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2], rows


def channel_triples(classifier, images: np.ndarray) -> np.ndarray:
    """The mode labels int64 [N] of stacked images [N, H, W, 3] in [0, 1]: each channel
    labelled by `classifier` (a one-channel `DigitClassifier`), 100 a + 10 b + c."""
    digits = [classifier.predict(images[..., k:k + 1]) for k in range(3)]
    return 100 * digits[0] + 10 * digits[1] + digits[2]


def mode_stats(modes, num_modes: int = NUM_MODES) -> dict[str, float]:
    """{"modes": distinct labels among `modes`, "kl": KL(their histogram || uniform over
    num_modes) in nats}."""
    from ganjax.evaluation.classifier import kl_divergence, label_histogram

    histogram = label_histogram(np.asarray(modes, np.int64), num_modes)
    return {"modes": int(np.count_nonzero(histogram)),
            "kl": kl_divergence(histogram, np.full(num_modes, 1.0 / num_modes))}


def packing_findings(stats: dict[str, list[dict[str, float]]]) -> str:
    """**Ours:** what packing changed against the DCGAN, from the per-seed differences (packed
    minus DCGAN, seed by seed) of modes and KL: beyond 2 sem of zero, or within the seed spread."""
    from ganjax.reproduce.context import difference_sign

    verdicts = {"+": "up beyond 2 sem", "-": "down beyond 2 sem", "0": "within the seed spread",
                "?": "one seed: no spread to judge by"}
    parts = []
    for model, _, _, name in MODELS[1:]:
        said = []
        for key in ("modes", "KL"):
            sign, value = difference_sign([p[key.lower()] - d[key.lower()] for p, d in
                                           zip(stats[model], stats["dcgan"])])
            said.append(f"{key} {value}, {verdicts[sign]}")
        parts.append(f"{name}: " + "; ".join(said))
    return ("**Ours:** packed minus DCGAN, seed by seed (mean +- sem): " + ". ".join(parts)
            + ".")


def run(ctx) -> None:
    from ganjax import config as config_lib
    from ganjax.evaluation.digit_classifier import load_digit_classifier
    from ganjax.evaluation.reference import preprocess
    from ganjax.experiments.reproductions._images import built_dataset, labelled_images, samples_of
    from ganjax.outputs.study_figures import plot_mode_histogram

    q = ctx.quick
    n_stacks, n_samples = (QUICK_STACKS, QUICK_SAMPLES) if q else (N_STACKS, NUM_SAMPLES)
    steps, clf_steps = (QUICK_STEPS, QUICK_CLASSIFIER_STEPS) if q else (STEPS, CLASSIFIER_STEPS)
    mnist = ctx.mnist_overrides()["data.source"]

    def build():
        x, y, rows = stack_digits(*labelled_images(mnist), n_stacks, STACK_SEED)
        return {"x": x, "y": y, "rows": rows}

    data = built_dataset(ctx.path("data", "stacked_mnist.npz"),
                         {"mnist": mnist, "count": n_stacks, "seed": STACK_SEED}, build)

    judge_config = config_lib.load_config(SPEC)  # MNIST at 28x28x1, as the channels are
    judge_config.data.source = mnist
    judge = load_digit_classifier(judge_config, steps=clf_steps, log=ctx.log)

    def real_modes():  # the first n_samples stacks, each channel read as the judge reads MNIST
        with np.load(data) as npz:
            x = npz["x"][:n_samples]
        return channel_triples(judge, np.concatenate(
            [preprocess(x[..., k:k + 1], judge_config) for k in range(3)], axis=-1)).tolist()

    real = ctx.cached("modes_real", real_modes)
    schedule = {"train.steps": steps, "train.eval_every": steps,
                "train.log_every": max(steps // 20, 1), "train.scan_steps": min(50, steps)}
    overrides = {**OVERRIDES, **schedule, "data.source": f"npz:{data}"}
    table = "Stacked MNIST: modes covered (of 1,000) and KL to uniform"
    first, counts, samples_figures, stats = ctx.seeds[0], {}, [], {}
    for model, group, batch, name in MODELS:
        per_seed = stats[model] = []
        for seed in ctx.seeds:
            label = f"{model}_seed{seed}"
            summary = ctx.train(label, SPEC, {**overrides, "model.d_group": group,
                                              "train.batch_size": batch, "seed": seed})
            workdir = ctx.path("runs", label)
            modes = ctx.cached(f"modes_{label}", lambda: channel_triples(
                judge, samples_of(workdir, n_samples, SAMPLE_SEED + seed)).tolist())
            per_seed.append(mode_stats(modes))
            if seed == first:
                counts[f"{name}, seed {first}"] = np.bincount(modes, minlength=NUM_MODES)
                samples_figures.append((summary.get("figure"), name))
            ctx.number(f"modes/{label}", per_seed[-1]["modes"])
            ctx.number(f"kl/{label}", per_seed[-1]["kl"])
        row = f"ganjax {name} (width 32, {steps} steps)"
        ctx.compare(table, row, "modes", [s["modes"] for s in per_seed], PAPER_MODES[model])
        ctx.compare(table, row, "KL", [s["kl"] for s in per_seed], PAPER_KL[model])
        ctx.number(f"{model}/modes", [s["modes"] for s in per_seed])
        ctx.number(f"{model}/kl", [s["kl"] for s in per_seed])
    ctx.text(packing_findings(stats))
    real_stats = mode_stats(real)
    ctx.compare(table, "real Stacked MNIST (this classifier)", "modes", real_stats["modes"],
                "1000 (every mode)", f"{len(real)} real triples: the ceiling")
    ctx.compare(table, "real Stacked MNIST (this classifier)", "KL", real_stats["kl"], "",
                "a perfect generator's value with this classifier and sample count")
    ctx.table("Published Stacked MNIST rows", ["method", "modes", "KL", "source"],
              [list(row) for row in PUBLISHED])
    ctx.number("real", real_stats)
    ctx.number("classifier_accuracy", judge.accuracy)
    counts["real Stacked MNIST"] = np.bincount(real, minlength=NUM_MODES)
    ctx.figure(plot_mode_histogram(counts, ctx.path("figures", "mode_histogram.png"),
                                   f"Stacked MNIST: samples per mode ({n_samples} generated)"),
               f"Samples per mode, modes sorted by count: each network's run of seed {first} "
               f"and as many real Stacked MNIST images")
    for figure, name in samples_figures:
        if figure:
            ctx.figure(figure, f"Samples of the {name} of seed {first} (the channels as RGB)")
    ctx.protocol("modes, KL", f"{n_samples} samples of each run's generator at the last step "
                 f"(noise stream {SAMPLE_SEED} + seed); each channel labelled by the digit "
                 f"CNN: {judge.description}; modes = distinct triples; KL(histogram || "
                 f"uniform over 1,000), nats")
    ctx.protocol("data", f"{n_stacks} triples of {mnist} digits drawn uniformly with "
                 f"replacement (numpy default_rng({STACK_SEED})), channel k = digit k; the "
                 f"protocol's 128k triples from all 60k MNIST digits")
    ctx.text(f"Every network is dcgan_mnist at width 32 with {steps} steps, not the papers' "
             f"network and schedule. PacDCGAN2 is the same DCGAN with model.d_group = 2: D's "
             f"first conv reads two images packed along channels. With the DCGAN's batch of 64 "
             f"images it judges 32 real and 32 generated pairs a step; with a batch of 128, as "
             f"in PacGAN's code, 64 pairs, as many inputs as the DCGAN's D judges, while G makes "
             f"twice the images a step.")
