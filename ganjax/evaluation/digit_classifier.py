"""A small Flax CNN that labels a run's images: the judge of conditional and InfoGAN samples.

The logistic regression of `ganjax.evaluation.classifier` is enough to count covered classes,
but asking "did G draw the digit it was told to draw?" (cGAN, AC-GAN) or "do InfoGAN's codes
pick out the digits?" needs a classifier whose mistakes are rare next to the generator's. This
one is a four-layer CNN:

    conv32 3x3 -> ReLU -> (conv64 3x3 stride 2 -> ReLU) x D -> flatten -> dense128 -> ReLU
    (the features) -> dense K (the logits)

with D = 2 stride-2 stages up to 32x32 (8 -> 2, 28 -> 7, 32 -> 8) and one more per doubling
above. It is trained with Adam (cosine-decayed learning rate) and random translations of up to
`max_shift` pixels (1 at 8x8, 2 at 28x28) on the run's training split, read and preprocessed
exactly as the GAN sees it (`ganjax.evaluation.reference`), all in [0, 1]: resolution, channels
and fit come from `config.data`. Rows are split by a fixed permutation:
up to `HELD_OUT` rows (at most a fifth) are held out for the reported accuracy, the rest (at
most `MAX_TRAIN_ROWS`) are trained on. When the source has a test split the GAN did not train
on (`mnist_idx:` and TFDS `test`) the classifier is scored on it too. Everything is seeded, so
one key gives one set of weights; they are cached as flat .npz arrays by `ganjax.evaluation.cache`
and trained only on a cache miss.

Accuracies are not claimed here; they are measured by
`ganjax train-classifier --config SPEC [--test_source SPEC]` (see that command).
"""

from __future__ import annotations

import math
import time
from typing import Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from flax import linen as nn
from flax import traverse_util

from ganjax.data import open_dataset
from ganjax.data.images import ImageDataset
from ganjax.errors import DataError
from ganjax.evaluation import cache
from ganjax.evaluation.reference import permuted_rows, read_rows

KIND = "digit_classifier"
DEFAULT_STEPS = 1000
DEFAULT_SEED = 0
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
HELD_OUT = 1000  # held-out rows, at most a fifth of the split
MAX_TRAIN_ROWS = 50_000  # bounds host memory on large datasets (CelebA)
MAX_TEST_ROWS = 10_000
SPLIT_SEED = 1  # the permutation that separates training and held-out rows
RECIPE_VERSION = 2  # bump when training changes in a way the key does not show
LOG_EVERY = 500
_EVAL_BATCH = 500  # images per compiled forward pass; the last batch is padded

Log = Callable[[str], None]


def print_progress(line: str) -> None:
    """The default `log`: the line on stdout, flushed (training takes a minute on MNIST)."""
    print(line, flush=True)


def downsamplings(resolution: int) -> int:
    """Stride-2 stages: 2 up to 32x32, one more for each doubling above (64 -> 3, 128 -> 4)."""
    return max(2, math.ceil(math.log2(max(resolution, 1) / 8)))


def architecture(resolution: int) -> str:
    """The network at `resolution` in words, as stored in the cache key and the description."""
    stages = " > ".join(["conv64-3x3/2"] * downsamplings(resolution))
    return f"conv32-3x3 > {stages} > dense128 > denseK, ReLU"


class DigitCNN(nn.Module):
    """The classifier: images [N, R, R, C] in [0, 1] -> (logits [N, K], features [N, 128])."""

    num_classes: int
    num_downsamplings: int

    @nn.compact
    def __call__(self, images: jax.Array) -> tuple[jax.Array, jax.Array]:
        x = nn.relu(nn.Conv(32, (3, 3))(images))
        for _ in range(self.num_downsamplings):
            x = nn.relu(nn.Conv(64, (3, 3), strides=(2, 2))(x))
        features = nn.relu(nn.Dense(128)(x.reshape(x.shape[0], -1)))
        return nn.Dense(self.num_classes)(features), features


class DigitClassifier:
    """A trained `DigitCNN` with its held-out (and test) accuracy; images in [0, 1] [N, R, R, C].

    `logits`, `features` and `predict` run in batches of `_EVAL_BATCH` through one compiled
    function, so any number of images costs one compilation.
    """

    def __init__(self, params: dict, num_classes: int, image_shape: tuple[int, int, int],
                 stats: dict[str, float], data_words: str, path: str = "",
                 from_cache: bool = False):
        self.params = params
        self.num_classes = num_classes
        self.image_shape = image_shape
        self.accuracy = float(stats["accuracy"])
        test = float(stats["test_accuracy"])
        self.test_accuracy: float | None = None if math.isnan(test) else test
        self.num_train = int(stats["num_train"])
        self.num_held_out = int(stats["num_held_out"])
        self.num_test = int(stats["num_test"])
        self.steps = int(stats["steps"])
        self.path = path
        self.from_cache = from_cache
        self.description = (
            f"flax CNN ({architecture(image_shape[0])}, K={num_classes}), Adam({LEARNING_RATE}, "
            f"cosine) {self.steps} steps x batch {BATCH_SIZE}, random shifts of up to "
            f"{max_shift(image_shape[0])} px, on {self.num_train} rows of "
            f"{data_words}; held-out accuracy {self.accuracy:.4f} on {self.num_held_out} rows"
            + (f", test accuracy {self.test_accuracy:.4f} on {self.num_test} rows of the test "
               f"split" if self.test_accuracy is not None else ""))
        module = DigitCNN(num_classes, downsamplings(image_shape[0]))
        self._forward = jax.jit(lambda p, x: module.apply({"params": p}, x))

    def outputs(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(logits [N, K], features [N, 128]) of images [N, R, R, C] in [0, 1], in one pass."""
        x = np.asarray(images, np.float32)
        if x.ndim != 4 or x.shape[1:] != self.image_shape:
            shape = ", ".join(map(str, self.image_shape))
            raise ValueError(f"the classifier takes images [N, {shape}] in [0, 1] (the run's "
                             f"data.resolution and data.channels); "
                             f"got shape {x.shape}")
        logits, features = [], []
        for start in range(0, len(x), _EVAL_BATCH):
            chunk = x[start:start + _EVAL_BATCH]
            padded = np.zeros((_EVAL_BATCH, *self.image_shape), np.float32)
            padded[:len(chunk)] = chunk
            out_logits, out_features = self._forward(self.params, padded)
            logits.append(np.asarray(out_logits)[:len(chunk)])
            features.append(np.asarray(out_features)[:len(chunk)])
        if not logits:
            return np.zeros((0, self.num_classes), np.float32), np.zeros((0, 128), np.float32)
        return np.concatenate(logits), np.concatenate(features)

    def logits(self, images: np.ndarray) -> np.ndarray:
        """Class scores float32 [N, K] of images [N, R, R, C] in [0, 1]."""
        return self.outputs(images)[0]

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate-layer (dense128, after ReLU) features float32 [N, 128]."""
        return self.outputs(images)[1]

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Labels int64 [N] in 0..K-1 of images [N, R, R, C] in [0, 1]."""
        return labels_of(self.logits(images))


def labels_of(logits: np.ndarray) -> np.ndarray:
    """The predicted labels int64 [N] of logits [N, K] (what `DigitClassifier.predict` gives)."""
    return np.argmax(logits, axis=1).astype(np.int64)


def cache_key(config: ml_collections.ConfigDict, steps: int, seed: int) -> dict[str, object]:
    """What the weights depend on: the data as the run reads it and the training recipe."""
    d = config.data
    return {"kind": KIND, "source": d.source, "split": d.split, "data_dir": d.data_dir,
            "resolution": d.resolution, "channels": d.channels, "fit": d.fit,
            "architecture": architecture(d.resolution), "steps": steps, "seed": seed,
            "batch_size": BATCH_SIZE, "learning_rate": LEARNING_RATE, "held_out": HELD_OUT,
            "max_train_rows": MAX_TRAIN_ROWS, "max_test_rows": MAX_TEST_ROWS,
            "split_seed": SPLIT_SEED, "recipe": RECIPE_VERSION}


def _open(config: ml_collections.ConfigDict, split: str | None = None) -> ImageDataset:
    try:
        return open_dataset(config, split)
    except (OSError, ValueError, ImportError) as e:
        raise DataError(f"data.source={config.data.source}: {e}") from e


def _open_test_split(config: ml_collections.ConfigDict) -> ImageDataset | None:
    """The "test" split of `config.data.source`, or None when it has none that opens."""
    try:
        return open_dataset(config, "test")
    except (OSError, ValueError, KeyError, ImportError):
        return None


def accuracy_on_test_split(classifier: DigitClassifier,
                        config: ml_collections.ConfigDict) -> tuple[float, int] | None:
    """(accuracy, rows) of `classifier` on up to MAX_TEST_ROWS rows of the "test" split of
    `config.data.source` (preprocessed by `config.data`), or None when it has no such split."""
    dataset = _open_test_split(config)
    if dataset is None:
        return None
    rows = np.sort(permuted_rows(len(dataset), MAX_TEST_ROWS, SPLIT_SEED))
    test = read_rows(dataset, rows, config, "test", "")
    if len(test.labels) == 0:
        return None
    return float(np.mean(classifier.predict(test.images) == test.labels)), len(test.labels)


def max_shift(resolution: int) -> int:
    """The largest random translation in training, in pixels: 1 at 8x8, 2 at 28 and 32."""
    return max(1, resolution // 14)


def random_shifts(images: jax.Array, key: jax.Array, shift: int) -> jax.Array:
    """Each image [R, R, C] of `images` moved by its own random offset in -shift..shift along
    both axes, zeros (black, the MNIST background) moved in: the augmentation that keeps a
    10k-image training set from being memorised."""
    size = images.shape[1:]
    padded = jnp.pad(images, ((0, 0), (shift, shift), (shift, shift), (0, 0)))
    offsets = jax.random.randint(key, (images.shape[0], 2), 0, 2 * shift + 1)
    crop = lambda image, o: jax.lax.dynamic_slice(image, (o[0], o[1], 0), size)  # noqa: E731
    return jax.vmap(crop)(padded, offsets)


def _train_step(module: DigitCNN, optimizer: optax.GradientTransformation):
    """One compiled Adam step on the device-resident training rows `rows` [BATCH_SIZE].

    A Python loop over this beats `lax.scan` by ~5x on XLA:CPU, whose convolutions inside a
    while loop take a slow path (measured on jax 0.10).
    """

    def loss_fn(params, x, y):
        logits, _ = module.apply({"params": params}, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @jax.jit
    def step(params, opt_state, images, labels, rows, key):
        x = random_shifts(images[rows], key, max_shift(images.shape[1]))
        loss, grads = jax.value_and_grad(loss_fn)(params, x, labels[rows])
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return step


def _batch_rows(num_rows: int, steps: int, seed: int) -> np.ndarray:
    """Row indices [steps, BATCH_SIZE]: epochs of seeded permutations, concatenated."""
    rng = np.random.default_rng(seed)
    needed = steps * BATCH_SIZE
    order = np.concatenate([rng.permutation(num_rows)
                            for _ in range(-(-needed // num_rows))])[:needed]
    return order.reshape(steps, BATCH_SIZE).astype(np.int32)


def train(config: ml_collections.ConfigDict, steps: int = DEFAULT_STEPS, seed: int = DEFAULT_SEED,
          log: Log | None = print_progress) -> dict[str, np.ndarray]:
    """Trains the classifier on the run's training split: flat arrays (weights under "params/...",
    plus accuracy, test_accuracy (NaN without a test split), row counts and num_classes)."""
    dataset = _open(config)
    num_classes = int(getattr(dataset, "num_classes", 0) or 0)
    if num_classes < 2:
        raise DataError(f"data.source={config.data.source}: the classifier needs labelled images "
                        f"of at least 2 classes; this dataset has {num_classes} (give an npz "
                        f"with labels 'y' or a folder with one subfolder per class)")
    order = permuted_rows(len(dataset), len(dataset), SPLIT_SEED)
    num_held = min(HELD_OUT, len(order) // 5)
    held = read_rows(dataset, np.sort(order[:num_held]), config, config.data.split, "")
    fit = read_rows(dataset, np.sort(order[num_held:num_held + MAX_TRAIN_ROWS]), config,
                    config.data.split, "")
    if len(fit.labels) < BATCH_SIZE:
        raise DataError(f"data.source={config.data.source}: {len(dataset)} rows are too few to "
                        f"train the classifier (it needs {BATCH_SIZE} after holding out a fifth)")
    module = DigitCNN(num_classes, downsamplings(config.data.resolution))
    init_key, shift_key = jax.random.split(jax.random.key(seed))
    params = module.init(init_key, fit.images[:1])["params"]
    optimizer = optax.adam(optax.cosine_decay_schedule(LEARNING_RATE, steps))
    opt_state = optimizer.init(params)
    step = _train_step(module, optimizer)
    images, labels = jnp.asarray(fit.images), jnp.asarray(fit.labels)
    rows = _batch_rows(len(fit.labels), steps, seed)
    start = time.perf_counter()
    for done in range(1, steps + 1):
        params, opt_state, loss = step(params, opt_state, images, labels, rows[done - 1],
                                       jax.random.fold_in(shift_key, done))
        if log is not None and (done % LOG_EVERY == 0 or done == steps):
            rate = done / (time.perf_counter() - start)
            log(f"ganjax: digit classifier step {done}/{steps}, loss {float(loss):.4f}, "
                f"{rate:.0f} steps/s")
    arrays = {f"params/{'/'.join(k)}": np.asarray(v)
              for k, v in traverse_util.flatten_dict(jax.device_get(params)).items()}
    model = _classifier(arrays, num_classes, config, steps)
    accuracy = float(np.mean(model.predict(held.images) == held.labels))
    test = accuracy_on_test_split(model, config) if config.data.split != "test" else None
    return {**arrays, "accuracy": np.float64(accuracy),
            "test_accuracy": np.float64(test[0] if test else np.nan),
            "num_test": np.int64(test[1] if test else 0), "num_train": np.int64(len(fit.labels)),
            "num_held_out": np.int64(num_held), "num_classes": np.int64(num_classes),
            "steps": np.int64(steps)}


def _data_words(config: ml_collections.ConfigDict) -> str:
    d = config.data
    return (f"{d.source} (split {d.split}, {d.resolution}x{d.resolution}x{d.channels}, "
            f"fit={d.fit}, [0, 1])")


def _classifier(arrays: dict[str, np.ndarray], num_classes: int,
                config: ml_collections.ConfigDict, steps: int, path: str = "",
                from_cache: bool = False) -> DigitClassifier:
    """A DigitClassifier from flat cached arrays: the params tree rebuilt from "params/a/b" keys."""
    flat = {tuple(k.split("/")[1:]): jnp.asarray(v) for k, v in arrays.items()
            if k.startswith("params/")}
    params = traverse_util.unflatten_dict(flat)
    stats = {name: arrays.get(name, np.nan) for name in
             ("accuracy", "test_accuracy", "num_train", "num_held_out", "num_test")}
    stats = {k: (0 if np.isnan(v) and k.startswith("num") else v) for k, v in stats.items()}
    d = config.data
    return DigitClassifier(params, num_classes, (d.resolution, d.resolution, d.channels),
                           {**stats, "steps": steps}, _data_words(config), path, from_cache)


def load_digit_classifier(config: ml_collections.ConfigDict, directory: str | None = None, *,
                          steps: int = DEFAULT_STEPS, seed: int = DEFAULT_SEED,
                          log: Log | None = print_progress) -> DigitClassifier:
    """The run's digit classifier from the cache in `directory` (default `cache.cache_dir()`),
    trained (`steps` Adam steps from `seed`, progress lines to `log`) and saved on a miss.

    DataError when the dataset cannot be read or has no labels.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    folder = cache.cache_dir(directory)
    key = cache_key(config, steps, seed)
    arrays, hit = cache.cached(folder, KIND, key, lambda: train(config, steps, seed, log))
    return _classifier(arrays, int(arrays["num_classes"]), config, steps,
                       cache.cache_path(folder, KIND, key), hit)
