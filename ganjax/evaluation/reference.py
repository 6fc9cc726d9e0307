"""Real images for evaluating a run, preprocessed exactly as its training batches, in [0, 1].

Rows are picked by fixed rules (a permutation with a fixed seed, or fixed slices) that depend
only on the dataset, never on the run, so that runs on one dataset share their reference sets
and the feature cache.
"""

from __future__ import annotations

import dataclasses

import ml_collections
import numpy as np

from ganjax.data import open_dataset, to_model_range, to_unit_range
from ganjax.data.images import ImageDataset

# Seed of the permutation that picks reference rows; fixed so every run shares them.
REFERENCE_SEED = 0
# Rows are read and preprocessed this many at a time, to bound memory on large datasets.
_CHUNK = 2000


@dataclasses.dataclass(frozen=True)
class RealSet:
    """Real images float32 [n, R, R, C] in [0, 1] with labels, and where they came from."""

    images: np.ndarray
    labels: np.ndarray
    num_classes: int
    split: str
    rows: str  # which rows of the split, in words

    def describe(self) -> dict[str, object]:
        return {"split": self.split, "rows": self.rows, "count": len(self.images)}


def preprocessing(config: ml_collections.ConfigDict) -> str:
    """In words, what `preprocess` does to the run's images."""
    d = config.data
    return (f"as training: to_model_range(resolution={d.resolution}, channels={d.channels}, "
            f"fit={d.fit}), no random flips, then (x + 1) / 2 to [0, 1]")


def preprocess(images: np.ndarray, config: ml_collections.ConfigDict) -> np.ndarray:
    """uint8 images [n, H, W, C] as the run's training batches see them, mapped to [0, 1]."""
    d = config.data
    return to_unit_range(to_model_range(images, d.resolution, d.channels, fit=d.fit))


def read_rows(dataset: ImageDataset, rows: np.ndarray, config: ml_collections.ConfigDict,
              split: str, description: str) -> RealSet:
    """The dataset's `rows`, preprocessed by `preprocess`, as a RealSet."""
    images, labels = [], []
    for start in range(0, len(rows), _CHUNK):
        x, y = dataset.get(rows[start:start + _CHUNK])
        images.append(preprocess(x, config))
        labels.append(np.asarray(y, np.int32))
    shape = (0, config.data.resolution, config.data.resolution, config.data.channels)
    return RealSet(np.concatenate(images) if images else np.zeros(shape, np.float32),
                   np.concatenate(labels) if labels else np.zeros(0, np.int32),
                   dataset.num_classes, split, description)


def permuted_rows(size: int, count: int, seed: int = REFERENCE_SEED) -> np.ndarray:
    """`count` distinct rows of range(size) (all of them when count >= size), in a fixed order."""
    return np.random.default_rng(seed).permutation(size)[:count]


def reference_set(config: ml_collections.ConfigDict, count: int) -> RealSet:
    """Up to `count` rows of the run's training split, the first of a seed-0 permutation."""
    dataset = open_dataset(config)
    rows = permuted_rows(len(dataset), count)
    words = (f"all {len(dataset)} rows" if len(rows) == len(dataset) else
             f"{len(rows)} of {len(dataset)} rows: np.random.default_rng({REFERENCE_SEED})"
             f".permutation({len(dataset)})[:{len(rows)}]")
    return read_rows(dataset, rows, config, config.data.split, words)
