"""DCGAN discriminator features under a linear classifier (Radford et al. 2015, section 5.1).

The paper judges what D learnt without labels by its conv features: every conv layer
max-pooled to a 4x4 grid, flattened and concatenated, then a regularised linear L2-SVM fitted on
a few labelled images (CIFAR-10 with a D trained on ImageNet-1k, Table 1; SVHN with 1,000
labels, Table 2). The recipe trains `experiments/dcgan_mnist.py` (10k steps) once per seed and
runs `ganjax features`' protocol on each run's last checkpoint with 100 and 1,000 class-balanced
labels (one labelled draw per seed): D's features against the two baselines on the same labels,
raw pixels and the same D architecture with random weights. The paper has no MNIST numbers; its
CIFAR-10 and SVHN figures are listed beside ours for scale, not for comparison.
"""

from ganjax.experiments.reproductions import _mnist

PAPER = ("Radford, Metz & Chintala 2015, Unsupervised Representation Learning with Deep "
         "Convolutional GANs, section 5.1, Tables 1-2")
COMPARES = ("linear-probe test accuracy of a DCGAN D's features with 100 and 1,000 MNIST labels "
            "against raw pixels and a random-weight D")
# Measured (2026-12-07, 2 CPU cores, offline 10k subset): the three dcgan_mnist runs of
# goodfellow2014_table1 (~11 min each), copied from its folder when it has them, and 10-14 s of
# linear probes a run: 2032 s with the training, 36 s after goodfellow2014_table1.
FULL_TIME = "~35 min (~1 min after goodfellow2014_table1)"
QUICK_TIME = "~1.5 min"
SEEDS = 3


SPEC = "dcgan_mnist"
LABELS = (100, 1_000)
QUICK_LABELS = (30, 100)  # 30 = the fewest the 3-fold choice of C takes (3 per class)
QUICK_TEST = 500  # test images under --quick (full: every test image)
TABLE = "Linear probe on MNIST: test accuracy"
# What the paper reports, as independent reprints give it (not checked against the paper).
PUBLISHED = (
    ("CIFAR-10 (Table 1)", "DCGAN D (trained on ImageNet-1k) + L2-SVM", "all 50,000",
     "82.8% accuracy (reprint)"),
    ("CIFAR-10 (Table 1)", "1-layer K-means features (baseline)", "all 50,000",
     "80.6% accuracy (reprint)"),
    ("SVHN (Table 2)", "DCGAN D + L2-SVM", "1,000", "22.48% error (reprint)"))
PAPER_1000 = "SVHN, 1,000 labels: 22.48% error (Table 2; reprint)"


def features_of(run, label_counts, test_num):
    """`ganjax features`' result on `run`'s last checkpoint, labelled draw seed = run seed."""
    from ganjax.evaluation.d_features import default_test_data, run_d_features

    loaded = _mnist.load(run)
    result = run_d_features(loaded.config, loaded.gan, loaded.state, list(label_counts),
                            [run.seed], default_test_data(loaded.config), test_num)
    return {"step": loaded.step, **result}


def run(ctx) -> None:
    from ganjax.evaluation.d_features import FEATURE_LABELS, FEATURE_SETS, summarise
    from ganjax.outputs.feature_figures import plot_features

    runs = _mnist.train_seeds(ctx, "dcgan", SPEC, share=("goodfellow2014_table1",))  # the same runs
    counts = QUICK_LABELS if ctx.quick else LABELS
    test_num = QUICK_TEST if ctx.quick else None
    labels = "_".join(map(str, counts))
    results = [ctx.cached(f"features_{r.label}_labels{labels}",
                          lambda r=r: features_of(r, counts, test_num)) for r in runs]
    merged = {}
    for name in FEATURE_SETS:
        by_labels = {}
        for n in counts:
            values = [res["results"][name]["by_labels"][str(n)]["accuracy"][0]
                      for res in results]
            paper, note = "", "baseline, same labels"
            if name == "d_trained":
                paper = PAPER_1000 if n == 1_000 else ""
                note = "different dataset: MNIST here" if paper else "no such setting in the paper"
            ctx.compare(TABLE, f"{FEATURE_LABELS[name]}, {n:,} labels", "test accuracy",
                        values, paper, note)
            ctx.number(f"features/{name}/{n}", values)
            by_labels[str(n)] = {"accuracy": values, **summarise(values)}
        merged[name] = {"dims": results[0]["results"][name]["dims"], "by_labels": by_labels}
    ctx.table("The paper's numbers (other datasets and labels; for scale only)",
              ["dataset", "features", "labels", "paper"], [list(row) for row in PUBLISHED])
    protocol = results[0]["protocol"]
    test = protocol["test"]
    ctx.protocol("test accuracy", f"{protocol['features']}. Labels: {protocol['labels']}; one "
                 f"draw per seed (the run's seed). Test: {test['count']:,} images of "
                 f"{test['source']} ({test['rows']}). Baselines on the same draws: "
                 f"{protocol['pixels']}; random D: {protocol['random_d']}")
    layers = ", ".join(f"{t['layer']} {t['shape']}" for t in results[0]["layers"])
    ctx.text(f"D's tapped conv layers: {layers}; {merged['d_trained']['dims']:,} features. "
             f"The paper reports CIFAR-10 accuracy above K-means features (Table 1) and SVHN "
             f"with 1,000 labels (Table 2); the figures quoted here are as independent reprints "
             f"give them (not checked against the paper) and are on other datasets: they give "
             f"scale, not a target. The paper's classifier is a linear L2-SVM; ganjax's is an "
             f"L2-regularised logistic regression (both linear probes).")
    if "disjoint" in test["rows"]:  # the test rows come out of the training split
        ctx.text("This MNIST source has one split: the test images are rows held out of the "
                 "labelled pool, but the GAN trained on them without labels.")
    path = plot_features(merged, FEATURE_LABELS, list(counts),
                         f"Linear probe on 4x4-max-pooled features, {len(runs)} seed(s), test "
                         f"{test['count']:,} images", ctx.path("figures", "features.png"))
    ctx.figure(path, "Test accuracy per feature set and label count (mean, error bar: std over "
                     "seeds)")
