"""The Parzen-window log-likelihood of a run (Goodfellow et al. 2014 protocol) on its dataset.

sigma is chosen on validation images and the mean test log-likelihood reported with its
standard error, in [0, 1] pixel space, flattened. The paper's MNIST sets were validation =
train[50k:60k] (1,000 images used) and test = the 10k test split; here validation is the last
`n_validation` rows of the run's training split (for MNIST's 60k: train[59k:60k], inside the
paper's range) and test the first `n_test` rows of the dataset's "test" split. Datasets without
a test split (digits, npz:, folder:, or a run trained on "test") use the `n_test` rows before
the validation rows instead, which the run trained on: such numbers are not held-out ones.

When training padded the images (fit=pad, MNIST 28 -> 32), the pad is cropped off real and
generated images alike, so MNIST is scored in its 784-d space, as in the paper.
"""

from __future__ import annotations

import ml_collections
import numpy as np

from ganjax.data.images import ImageDataset
from ganjax.data import open_dataset
from ganjax.evaluation.reference import RealSet, read_rows
from ganjax.metrics import parzen_estimate

PARZEN_VALIDATION = 1000
PARZEN_TEST = 10000


def _test_split(config: ml_collections.ConfigDict) -> ImageDataset | None:
    """The dataset's "test" split when it has one the run did not train on, else None."""
    if config.data.split == "test":
        return None
    try:
        return open_dataset(config, "test")
    except (ValueError, KeyError, OSError):  # single-split sources, or no test files
        return None


def parzen_sets(config: ml_collections.ConfigDict, n_validation: int = PARZEN_VALIDATION,
                n_test: int = PARZEN_TEST) -> tuple[RealSet, RealSet, tuple[int, int, int]]:
    """(validation, test, the dataset's native image shape) by the rules in the module docstring."""
    train = open_dataset(config)
    size, split = len(train), config.data.split
    n_val = min(n_validation, size // 2)
    val_rows = np.arange(size - n_val, size)
    validation = read_rows(train, val_rows, config, split, f"{split}[{size - n_val}:{size}]")
    held_out = _test_split(config)
    if held_out is not None:
        rows = np.arange(min(n_test, len(held_out)))
        test = read_rows(held_out, rows, config, "test", f"test[0:{len(rows)}] (held out)")
    else:
        start = max(0, size - n_val - n_test)
        rows = np.arange(start, size - n_val)
        test = read_rows(train, rows, config, split,
                         f"{split}[{start}:{size - n_val}] (not held out: the run trained on it)")
    return validation, test, train.image_shape


def native_pixels(images: np.ndarray, config: ml_collections.ConfigDict,
                  native_shape: tuple[int, int, int]) -> np.ndarray:
    """Images [n, R, R, C] flattened to [n, D]; a fit=pad border is cropped off first."""
    height, width, _ = native_shape
    size = config.data.resolution
    if config.data.fit == "pad" and (height, width) != (size, size):
        top, left = (size - height) // 2, (size - width) // 2
        images = images[:, top:top + height, left:left + width]
    return np.asarray(images, np.float64).reshape(len(images), -1)


def parzen_report(samples: np.ndarray, config: ml_collections.ConfigDict,
                  n_validation: int = PARZEN_VALIDATION,
                  n_test: int = PARZEN_TEST) -> tuple[dict[str, float], dict[str, object]]:
    """(metrics, protocol) of the Parzen estimate for generated images [n, R, R, C] in [0, 1]."""
    validation, test, native = parzen_sets(config, n_validation, n_test)
    pixels = lambda x: native_pixels(x, config, native)  # noqa: E731
    result = parzen_estimate(pixels(samples), pixels(validation.images), pixels(test.images))
    dims = pixels(samples[:1]).shape[1]
    metrics = {"parzen_ll": result["mean"], "parzen_ll_se": result["std_error"],
               "parzen_sigma": result["sigma"]}
    protocol = {"validation": validation.describe(), "test": test.describe(),
                "space": f"[0, 1] pixels, flattened, {dims} dims"
                         f"{' (fit=pad border cropped off)' if dims < samples[0].size else ''}",
                "sigma_grid": "logspace(-1, 0, 10), chosen on validation",
                "std_error": "std (ddof=0) / sqrt(n_test), as in the authors' code"}
    return metrics, protocol
