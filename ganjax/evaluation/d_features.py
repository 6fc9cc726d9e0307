"""How good a representation a trained discriminator learnt: its conv features under a linear
classifier.

Radford et al. (2015, section 5.1) judge a DCGAN's D by the features it has learnt without
labels: the activations of every conv layer, each max-pooled to a 4x4 grid, flattened and
concatenated, then a regularised linear L2-SVM trained on a few labelled images. Here:

* Features. Every conv layer of D (`layers.Conv` or `nn.Conv`, spectrally normalised or not) is
  tapped by flax method interception, so no model file changes. A layer's tap is the tensor that
  the next weight layer (conv or dense) reads when that tensor has the conv output's size; in the
  DCGAN D that is exactly LeakyReLU(BatchNorm(conv)) (the last block through the logit layer's
  flattened input). Otherwise (an SNGAN ResBlock's second conv, which is pooled and added to a
  shortcut first) it is the conv's raw, pre-activation output. BatchNorm runs in eval mode.
* Pooling. Each tap [H, W, C] is adaptively max-pooled to 4 x 4: bin i of a side n covers rows
  floor(i n / 4) to ceil((i + 1) n / 4) - 1, so 14 gives the overlapping windows 0-3, 3-6, 7-10,
  10-13 and 7 gives 0-1, 1-3, 3-5, 5-6 (2, 3, 3, 2 rows); a side of 4 is kept as is.
* Classifier. StandardScaler (fit on the labelled images) then L2-regularised multinomial
  logistic regression (sklearn, lbfgs); C picked from `C_GRID` by 3-fold stratified
  cross-validation on the labelled images alone. The paper used a linear L2-SVM; liblinear's
  LinearSVC was 5-10x slower here on 2 CPUs at about the same accuracy, and both are linear
  probes. The labelled images are a class-balanced draw from the run's training split
  (`balanced_draw`, one seed per draw); the score is accuracy on a separate test set.
* Baselines on the same labels: raw pixels (the run's preprocessing, [0, 1]) and the same D
  architecture with random initial weights (`init_variables` with PRNGKey(RANDOM_D_SEED)).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ganjax.engine.gan import GAN, init_variables
from ganjax.errors import ConfigError
from ganjax.models.layers import Conv

POOLED_SIDE = 4
C_GRID = (1e-3, 1e-2, 1e-1, 1.0)
CV_FOLDS = 3
MAX_ITER = 1000
RANDOM_D_SEED = 0
FEATURE_BATCH = 500
FEATURE_SETS = ("d_trained", "d_random", "pixels")
FEATURE_LABELS = {"d_trained": "D features (trained)", "d_random": "D features (random init)",
                  "pixels": "raw pixels"}
DESCRIPTION = (
    "every conv layer of D (its input to the next layer when that has the conv output's size, "
    "i.e. LeakyReLU(BN(conv)) in the DCGAN D; else the raw conv output), BatchNorm in eval "
    "mode, each adaptively max-pooled to 4x4 (bin i of side n: rows floor(i*n/4) .. "
    "ceil((i+1)*n/4)-1), flattened and concatenated; StandardScaler + sklearn "
    f"LogisticRegression (L2, multinomial, lbfgs, max_iter={MAX_ITER}), C from {list(C_GRID)} "
    f"by {CV_FOLDS}-fold stratified CV on the labelled images only")

Array = jax.Array
_WEIGHT_LAYERS = (Conv, nn.Conv, nn.Dense)
_CONV_LAYERS = (Conv, nn.Conv)


@dataclasses.dataclass(frozen=True)
class ConvTap:
    """One tapped conv layer: its module path, its output shape [H, W, C] and what was taken."""

    name: str
    shape: tuple[int, int, int]
    taken: str  # "activation (input of <next layer>)" or "raw conv output"

    def describe(self) -> dict[str, Any]:
        return {"layer": self.name, "shape": list(self.shape), "taken": self.taken,
                "pooled_features": POOLED_SIDE * POOLED_SIDE * self.shape[-1]}


@dataclasses.dataclass(frozen=True)
class _Call:
    name: str
    is_conv: bool
    input: Array
    output: Array


def pool_bins(size: int, bins: int = POOLED_SIDE) -> list[tuple[int, int]]:
    """[start, stop) of each adaptive-pooling bin along a side of `size` (PyTorch's rule)."""
    return [(i * size // bins, -(-(i + 1) * size // bins)) for i in range(bins)]


def adaptive_max_pool(x: Array, side: int = POOLED_SIDE) -> Array:
    """Max over each cell of a side x side grid of (possibly overlapping) windows:
    [B, H, W, C] -> [B, side, side, C]."""
    rows = [jnp.max(x[:, a:b], axis=1) for a, b in pool_bins(x.shape[1], side)]
    x = jnp.stack(rows, axis=1)  # [B, side, W, C]
    cols = [jnp.max(x[:, :, a:b], axis=2) for a, b in pool_bins(x.shape[2], side)]
    return jnp.stack(cols, axis=2)


def _module_name(module: nn.Module) -> str:
    path = module.path if hasattr(module, "path") else module.scope.path
    return "/".join(path) or type(module).__name__


def conv_taps(module: nn.Module, variables: Any, x: Array) -> tuple[list[ConvTap], list[Array]]:
    """(what was tapped, the tapped maps [B, H, W, C]) for every conv layer of D on images x in
    the model's range, BatchNorm in eval mode. ConfigError when D has no conv layer."""
    calls: list[_Call] = []

    def record(next_fun: Callable, args: tuple, kwargs: dict, context: Any) -> Any:
        out = next_fun(*args, **kwargs)
        if context.method_name == "__call__" and isinstance(context.module, _WEIGHT_LAYERS):
            calls.append(_Call(_module_name(context.module),
                               isinstance(context.module, _CONV_LAYERS), args[0], out))
        return out

    with nn.intercept_methods(record):
        module.apply(variables, x, None, train=False)
    taps, maps = [], []
    for i, call in enumerate(calls):
        if not call.is_conv:
            continue
        nxt = calls[i + 1] if i + 1 < len(calls) else None
        shape = tuple(call.output.shape[1:])
        if nxt is not None and math.prod(nxt.input.shape[1:]) == math.prod(shape):
            maps.append(nxt.input.reshape(call.output.shape))
            taps.append(ConvTap(call.name, shape, f"activation (input of {nxt.name})"))
        else:
            maps.append(call.output)
            taps.append(ConvTap(call.name, shape, "raw conv output"))
    if not taps:
        raise ConfigError(f"the discriminator ({type(module).__name__}) has no conv layer; D "
                          f"features need an image D (model.name=dcgan or sngan)")
    return taps, maps


def d_variables(gan: GAN, params: Any, batch_stats: Any) -> dict[str, Any]:
    """flax variables of D from a state's params["d"] and batch_stats["d"]."""
    return {"params": params, **({"batch_stats": batch_stats} if batch_stats else {})}


def random_d_variables(gan: GAN, seed: int = RANDOM_D_SEED) -> dict[str, Any]:
    """Freshly initialised variables of the run's D architecture (PRNGKey(seed))."""
    init = jax.jit(lambda key: init_variables(gan, key, key)["d"])  # eager init is slow
    return init(jax.random.PRNGKey(seed))


def require_discriminator(gan: GAN) -> nn.Module:
    """The run's D, or a ConfigError for a run trained without one."""
    if gan.discriminator is None:
        raise ConfigError(f"this run has no discriminator (algorithm {gan.algorithm!r}); D "
                          f"features need an adversarial run with a conv D (dcgan, sngan)")
    if gan.d_group > 1:
        raise ConfigError(f"this run's D judges packed groups of {gan.d_group} images "
                          f"(model.d_group={gan.d_group}), so it has no features of a single "
                          f"image; D features need a run trained with model.d_group=1")
    return gan.discriminator


def feature_extractor(gan: GAN) -> tuple[list[ConvTap],
                                          Callable[[Any, np.ndarray], np.ndarray]]:
    """(the taps, a function (D variables, images [n, R, R, C] in [0, 1]) -> pooled features
    [n, F] float32), compiled once for every set of variables of this D."""
    module = require_discriminator(gan)
    example = jnp.zeros((1,) + tuple(gan.data_shape), jnp.float32)
    variables = jax.eval_shape(
        lambda: init_variables(gan, jax.random.PRNGKey(0), jax.random.PRNGKey(0))["d"])
    taps: list[ConvTap] = []
    jax.eval_shape(lambda v: taps.extend(conv_taps(module, v, example)[0]), variables)
    width = sum(POOLED_SIDE * POOLED_SIDE * t.shape[-1] for t in taps)

    @jax.jit
    def pooled(v, x):
        _, maps = conv_taps(module, v, 2.0 * x - 1.0)
        return jnp.concatenate([adaptive_max_pool(m).reshape(len(x), -1) for m in maps], axis=1)

    def extract(variables: Any, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, np.float32)
        out = []
        for start in range(0, len(images), FEATURE_BATCH):
            chunk = images[start:start + FEATURE_BATCH]
            padded = np.zeros((FEATURE_BATCH,) + chunk.shape[1:], np.float32)
            padded[:len(chunk)] = chunk  # one compiled batch shape
            out.append(np.asarray(pooled(variables, padded))[:len(chunk)])
        return np.concatenate(out) if out else np.zeros((0, width), np.float32)

    return taps, extract


# --- labels, splits and the classifier ------------------------------------------------------

def balanced_draw(labels: np.ndarray, count: int, num_classes: int, seed: int) -> np.ndarray:
    """`count` rows with equal shares per class (the first count % k classes get one more),
    drawn without replacement by np.random.default_rng(seed); sorted."""
    rng = np.random.default_rng(seed)
    per, extra = divmod(count, num_classes)
    rows = []
    for c in range(num_classes):
        members = np.flatnonzero(labels == c)
        want = per + (c < extra)
        if len(members) < want:
            raise ConfigError(f"--labels {count}: class {c} has only {len(members)} labelled "
                              f"images, {want} needed; use fewer labels")
        rows.append(rng.choice(members, want, replace=False))
    return np.sort(np.concatenate(rows))


def held_out_split(size: int, test_fraction: float = 0.3,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(labelled pool, test rows) of a single split: the last `test_fraction` of
    np.random.default_rng(seed).permutation(size) is held out; both sorted."""
    order = np.random.default_rng(seed).permutation(size)
    cut = size - int(round(test_fraction * size))
    return np.sort(order[:cut]), np.sort(order[cut:])


def fit_and_score(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                  test_y: np.ndarray, seed: int) -> tuple[float, float]:
    """(test accuracy, chosen C) of StandardScaler + L2 logistic regression with C
    cross-validated on the training rows only (stratified folds shuffled by `seed`).

    BLAS runs on one thread: these problems are small, and on a shared machine many threads
    per fit make it several times slower.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=MAX_ITER))
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed)
    search = GridSearchCV(pipeline, {"logisticregression__C": list(C_GRID)}, cv=folds)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)  # CV rates a C as it stopped
        search.fit(train_x, train_y)
        accuracy = float(np.mean(search.predict(test_x) == test_y))
    return accuracy, float(search.best_params_["logisticregression__C"])


def summarise(accuracies: Sequence[float]) -> dict[str, float]:
    """mean and sample std (ddof=1; 0 for one value) of per-seed accuracies."""
    a = np.asarray(accuracies, np.float64)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0}


def evaluate_features(extractors: dict[str, Callable[[np.ndarray], np.ndarray]],
                      read_pool: Callable[[np.ndarray], np.ndarray], pool_labels: np.ndarray,
                      num_classes: int,
                      test_images: np.ndarray, test_labels: np.ndarray,
                      label_counts: Sequence[int], seeds: Sequence[int],
                      log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """{feature set: {count: {"accuracy": [per seed], "C": [...], "mean", "std"}}} for every
    extractor (name -> images in [0, 1] -> features), on the same labelled draws from the pool
    (`read_pool(rows)`: its images in [0, 1]; `pool_labels`: all its labels).

    The drawn images are read once (the union of all draws); each set's features are computed
    once for them and once for the test images.
    """
    too_few = [n for n in label_counts if n < CV_FOLDS * num_classes]
    if too_few:
        raise ConfigError(f"--labels {too_few[0]}: need >= {CV_FOLDS * num_classes} labelled "
                          f"images ({CV_FOLDS} per class for the {CV_FOLDS}-fold choice of C)")
    draws = {(n, s): balanced_draw(pool_labels, n, num_classes, s)
             for n in label_counts for s in seeds}
    used = np.unique(np.concatenate(list(draws.values())))
    position = np.full(len(pool_labels), -1)
    position[used] = np.arange(len(used))
    labelled_images = read_pool(used)
    results: dict[str, Any] = {}
    for name, extract in extractors.items():
        log(f"{name}: features of {len(used)} labelled and {len(test_images)} test images")
        train_features, test_features = extract(labelled_images), extract(test_images)
        per_count = {}
        for n in label_counts:
            scores = [fit_and_score(train_features[position[draws[n, s]]],
                                    pool_labels[draws[n, s]], test_features, test_labels, s)
                      for s in seeds]
            per_count[str(n)] = {"accuracy": [a for a, _ in scores], "C": [c for _, c in scores],
                                 **summarise([a for a, _ in scores])}
            log(f"{name}, {n} labels: {per_count[str(n)]['mean']:.4f} "
                f"+- {per_count[str(n)]['std']:.4f}")
        results[name] = {"dims": int(train_features.shape[1]), "by_labels": per_count}
    return results


def pixel_features(images: np.ndarray) -> np.ndarray:
    """Flattened [0, 1] pixels [n, R * R * C]: the raw-pixel baseline."""
    return np.asarray(images, np.float32).reshape(len(images), -1)


# --- the whole protocol on a run -------------------------------------------------------------

TWO_SPLIT_SOURCES = ("mnist_idx", "tfds")  # sources with a real "test" split
TEST_FRACTION = 0.3  # held out of a single-split source when it is also the test data
HELD_OUT_SEED = 0


@dataclasses.dataclass(frozen=True)
class TestData:
    """Where the test images come from: a source spec and split, and whether the rows are held
    out of the labelled pool (when the test data is the training split itself)."""

    source: str
    split: str
    held_out: bool


def default_test_data(config: Any, source: str | None = None,
                      split: str | None = None) -> TestData:
    """The test set for a run: `source` (default: the run's data source) in `split` (default
    "test" for mnist_idx / tfds, else "train"); held out of the pool when it is the run's own
    training split (digits, npz, folder without --test-data)."""
    source = source or config.data.source
    if split is None:
        split = "test" if source.partition(":")[0] in TWO_SPLIT_SOURCES else "train"
    same = source == config.data.source and split == config.data.split
    return TestData(source, split, same)


def _labels_of(dataset: Any) -> np.ndarray:
    labels = getattr(dataset, "labels", None)
    if labels is None:
        labels = dataset.get(np.arange(len(dataset)))[1]
    return np.asarray(labels, np.int64)


def run_d_features(config: Any, gan: GAN, state: Any, label_counts: Sequence[int],
                   seeds: Sequence[int], test: TestData, test_num: int | None = None,
                   log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The section-5.1 protocol on a run (config, GAN, TrainState): the accuracies of every
    feature set in FEATURE_SETS, the layers tapped and the protocol, as a JSON-able dict."""
    from ganjax.data import load_dataset, open_dataset
    from ganjax.errors import DataError
    from ganjax.evaluation.reference import read_rows

    require_discriminator(gan)
    taps, extract = feature_extractor(gan)
    trained_d = d_variables(gan, state.params["d"], state.batch_stats.get("d", {}))
    random_d = random_d_variables(gan)
    train_set = open_dataset(config)
    if train_set.num_classes < 2:
        raise ConfigError(f"data.source={config.data.source} has no class labels; the linear "
                          f"probe needs a labelled dataset")
    labels = _labels_of(train_set)
    pool_rows = np.arange(len(train_set))
    try:
        test_set = train_set if test.held_out else load_dataset(
            test.source, split=test.split, data_dir=config.data.data_dir or None)
    except (ValueError, OSError) as e:
        raise DataError(f"--test-data {test.source} (split {test.split}): {e}") from None
    test_rows = np.arange(len(test_set))
    if test.held_out:
        pool_rows, test_rows = held_out_split(len(train_set), TEST_FRACTION, HELD_OUT_SEED)
    if test_num is not None:
        test_rows = test_rows[:test_num]
    test_real = read_rows(test_set, test_rows, config, test.split, "")
    test_images, test_labels = test_real.images, test_real.labels
    if test_labels.max(initial=0) >= train_set.num_classes:
        raise DataError(f"--test-data {test.source}: labels up to {test_labels.max()} but the "
                        f"training data has {train_set.num_classes} classes")
    read_pool = lambda rows: read_rows(  # noqa: E731
        train_set, pool_rows[rows], config, config.data.split, "").images
    extractors = {"d_trained": lambda x: extract(trained_d, x),
                  "d_random": lambda x: extract(random_d, x), "pixels": pixel_features}
    results = evaluate_features(extractors, read_pool, labels[pool_rows],
                                train_set.num_classes, test_images, test_labels, label_counts,
                                seeds, log)
    return {"results": results, "layers": [t.describe() for t in taps],
            "protocol": protocol(config, test, len(pool_rows), len(test_rows), label_counts,
                                 seeds)}


def protocol(config: Any, test: TestData, pool_size: int, test_size: int,
             label_counts: Sequence[int], seeds: Sequence[int]) -> dict[str, Any]:
    """How the numbers were made, in words and numbers, for features.json."""
    d = config.data
    if test.held_out:
        rows = (f"the last {TEST_FRACTION:.0%} of np.random.default_rng({HELD_OUT_SEED})"
                f".permutation of {d.source} ({d.split}), disjoint from the labelled pool")
    else:
        rows = f"split {test.split!r}, first {test_size} rows"
    return {
        "features": DESCRIPTION,
        "feature_sets": {k: FEATURE_LABELS[k] for k in FEATURE_SETS},
        "random_d": f"the run's D architecture, init_variables with PRNGKey({RANDOM_D_SEED})",
        "pixels": "flattened [0, 1] pixels at the run's resolution (its preprocessing)",
        "labels": (f"class-balanced draw without replacement from {pool_size} rows of "
                   f"{d.source} ({d.split}); np.random.default_rng(seed) per draw"),
        "label_counts": list(label_counts), "seeds": list(seeds),
        "test": {"source": test.source, "split": test.split, "rows": rows, "count": test_size},
        "summary": "mean and sample std (ddof=1) of test accuracy over the seeds",
    }
