"""Do class-conditional GAN samples help a classifier that has a few hundred labelled digits?

The question of GAN data augmentation in its simplest honest form. Per seed: PER_CLASS labelled
digits of each class (300 in all) are drawn from scikit-learn's embedded 8x8 digits; the rest
(1,497) are the test set. The conditional DCGAN of experiments/cgan_mnist.py:digits trains on
those 300 labelled digits only (an .npz of them in the folder: a GAN that saw more digits would
bring information the classifier is denied), and its EMA generator draws balanced labelled
samples (labels cycling 0..9). A classifier, scikit-learn's LogisticRegression on [0, 1] pixels
(`ganjax.evaluation.classifier.fit_classifier`, C = 1), is then trained on
  (a) the 300 real digits,
  (b) the 300 real digits and RATIOS x 300 generated ones, and
  (c) the generated ones alone (the "classification accuracy score" of Ravuri & Vinyals 2019),
and scored on the test digits. The result is the test-accuracy difference (b) - (a) per seed,
mean +- sem; its sign is stated as measured, whichever it is. Also reported: how often
classifier (a) agrees with the label G was asked for (is G drawing the right digit at all?).

Time: a seed (the CGAN's 5,000 steps, then the samples and classifiers) took ~85 s on 2 CPU
cores shared with other jobs (load ~5): ~15 min for 10 seeds. --quick (100 steps): 25 s there
for one seed.
"""

import numpy as np

PAPER = ("No single paper: few-label GAN data augmentation (issue #14); the generated-only "
         "score is the classification accuracy score of Ravuri & Vinyals 2019")
COMPARES = ("test accuracy of a logistic regression on 300 labelled 8x8 digits with and without "
            "class-conditional DCGAN samples (trained on the same 300), per seed")
FULL_TIME = "~15 min"
QUICK_TIME = "~30 s"
SEEDS = 10


SPEC = "cgan_mnist:digits"
SOURCE = "digits"
PER_CLASS = 30
RATIOS = (1, 4)  # generated samples per real one in (b)
STEPS, QUICK_STEPS = 5_000, 100  # cgan_mnist:digits trains 5,000 steps
SAMPLE_SEED = 2_000  # noise stream of the added samples (seed s uses SAMPLE_SEED + s)
# The training-time label metrics would train their own classifiers on the 300 digits; the
# recipe scores G itself (agreement with classifier (a)), so they are off.
OVERRIDES = {"eval.cnn_metrics": False, "eval.class_metrics": False}
SAME = 2.0  # "no difference" when |mean difference| <= SAME sem


def labelled_split(labels: np.ndarray, per_class: int, seed: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(labelled rows, test rows), both sorted: `per_class` rows of each class drawn without
    replacement by default_rng(seed), and every other row."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    chosen = [rng.choice(np.flatnonzero(labels == k), per_class, replace=False)
              for k in np.unique(labels)]
    train = np.sort(np.concatenate(chosen))
    return train, np.setdiff1d(np.arange(len(labels)), train)


def test_accuracy(train_x, train_y, test_x, test_y) -> float:
    """Accuracy on (test_x, test_y) of the logistic regression fitted on (train_x, train_y).
    BLAS runs on one thread: beside JAX's threads, a multi-threaded fit of these small
    problems was 40x slower on a 2-core machine (5 s instead of 0.1 s for 1,500 digits)."""
    from threadpoolctl import threadpool_limits

    from ganjax.evaluation.classifier import fit_classifier, predict

    with threadpool_limits(1):
        model = fit_classifier(np.asarray(train_x), np.asarray(train_y))
    return float(np.mean(predict(model, np.asarray(test_x)) == np.asarray(test_y)))


def sign_text(differences, what: str) -> str:
    """The measured sign of `differences` (one per seed) in words: helped / hurt beyond SAME
    sem, or no difference beyond the seed spread."""
    from ganjax.reproduce.context import difference_sign

    sign, said = difference_sign(differences, SAME)
    if sign == "?":
        return f"{what}: {said} on one seed; no seed spread to judge the sign by."
    if sign == "0":
        return (f"{what}: {said}, within {SAME:g} sem of zero: no difference beyond the seed "
                f"spread.")
    return (f"{what}: {said}: the GAN samples {'raised' if sign == '+' else 'lowered'} the "
            f"test accuracy by more than {SAME:g} sem.")


def run(ctx) -> None:
    from ganjax import config as config_lib
    from ganjax.evaluation.reference import preprocess
    from ganjax.experiments.reproductions._images import built_dataset, labelled_images, samples_of
    from ganjax.outputs.study_figures import plot_paired

    steps = QUICK_STEPS if ctx.quick else STEPS
    schedule = {"train.steps": steps, "train.eval_every": steps,
                "train.log_every": max(steps // 20, 1), "train.scan_steps": min(50, steps)}
    images, labels = labelled_images(SOURCE)
    config = config_lib.load_config(SPEC)
    pixels = preprocess(images, config)  # [0, 1], exactly as the GAN sees the digits
    setups = ["real only"] + [f"real + {r}x generated" for r in RATIOS] + ["generated only"]
    results, figure = [], None
    for seed in ctx.seeds:
        train_rows, test_rows = labelled_split(labels, PER_CLASS, seed)
        data = built_dataset(
            ctx.path("data", f"labelled_seed{seed}.npz"),
            {"source": SOURCE, "per_class": PER_CLASS, "seed": seed},
            lambda: {"x": images[train_rows], "y": labels[train_rows], "rows": train_rows})
        label = f"cgan_seed{seed}"
        summary = ctx.train(label, SPEC, {**OVERRIDES, **schedule, "seed": seed,
                                          "data.source": f"npz:{data}"})
        figure = figure or summary.get("figure")
        workdir = ctx.path("runs", label)

        def scores():
            real_x, real_y = pixels[train_rows], labels[train_rows]
            test_x, test_y = pixels[test_rows], labels[test_rows]
            count = max(RATIOS) * len(train_rows)
            asked = np.arange(count) % 10  # what samples_of's cycled labels ask G for
            fake = samples_of(workdir, count, SAMPLE_SEED + seed, labels=list(range(10)))
            out = {"real only": test_accuracy(real_x, real_y, test_x, test_y),
                   "agreement": test_accuracy(real_x, real_y, fake, asked)}
            for r in RATIOS:
                m = r * len(train_rows)
                out[f"real + {r}x generated"] = test_accuracy(
                    np.concatenate([real_x, fake[:m]]), np.concatenate([real_y, asked[:m]]),
                    test_x, test_y)
            out["generated only"] = test_accuracy(fake, asked, test_x, test_y)
            return {**out, "num_train": len(train_rows), "num_test": len(test_rows)}

        results.append(ctx.cached(f"scores_{label}", scores))
    table = "Test accuracy with and without GAN samples (logistic regression, 8x8 digits)"
    n_real = results[0]["num_train"]
    trained_on = {"real only": f"{n_real} real digits",
                  **{f"real + {r}x generated": f"{n_real} real + {r * n_real} generated"
                     for r in RATIOS}, "generated only": f"{max(RATIOS) * n_real} generated"}
    for setup in setups:
        ctx.compare(table, setup, "test accuracy", [r[setup] for r in results], "",
                    f"trained on {trained_on[setup]}")
    texts = []
    for r in RATIOS:
        setup = f"real + {r}x generated"
        differences = [x[setup] - x["real only"] for x in results]
        ctx.compare(table, f"difference: {setup} - real only", "test accuracy", differences,
                    "", "(b) - (a) per seed")
        ctx.number(f"difference/{r}x", differences)
        texts.append(sign_text(differences, f"Adding {r} x {n_real} generated digits"))
    ctx.compare(table, "classifier (a) on G's samples", "agreement with the asked label",
                [r["agreement"] for r in results], "", "does G draw the digit it is asked for")
    for setup in setups + ["agreement"]:
        ctx.number(f"accuracy/{setup}", [r[setup] for r in results])
    ctx.text("**Measured:** " + " ".join(texts))
    ctx.figure(plot_paired({s: [r[s] for r in results] for s in setups}, ctx.seeds,
                           ctx.path("figures", "accuracy_per_seed.png"), "test accuracy",
                           f"{n_real} labelled digits, with and without CGAN samples"),
               "Test accuracy per seed (grey lines) under each training set")
    if figure:
        ctx.figure(figure, f"Samples of the CGAN of seed {ctx.seeds[0]} (one row per class), "
                           f"trained on its {n_real} labelled digits")
    ctx.protocol("test accuracy", f"LogisticRegression(C=1, max_iter=500) on flattened [0, 1] "
                 f"pixels (ganjax.evaluation.classifier.fit_classifier), scored on the "
                 f"{results[0]['num_test']} digits not drawn as labelled; generated samples "
                 f"from the EMA generator at step {steps}, noise stream {SAMPLE_SEED} + seed, "
                 f"labels cycling 0..9 and used as their labels")
    ctx.protocol("data", f"scikit-learn's 1,797 8x8 digits; per seed, {PER_CLASS} per class "
                 f"drawn by numpy default_rng(seed) are labelled (and all the CGAN sees), the "
                 f"rest are the test set")
