"""Data sources, chosen by the `data.source` spec string of a config.

Toy distributions (`gaussian_1d`, `ring`, `grid`) are sampled on device from a key; image
datasets (`digits`, `tfds:<name>`, `mnist_idx:<dir>`, `npz:<path>`, `folder:<dir>`) are read on
the host by a deterministic, resumable `BatchSampler`.
"""

from __future__ import annotations

import ml_collections

from ganjax import registry
from ganjax.config import is_toy
from ganjax.data.images import ArrayDataset, ImageDataset, to_model_range, to_unit_range
from ganjax.data.sampler import BatchSampler, prefetch
from ganjax.data.sources import load_dataset, prepare_tfds
from ganjax.data.toy import GaussianMixture, gaussian_1d, grid, ring


def make_source(data: ml_collections.ConfigDict) -> GaussianMixture:
    """The toy distribution named by `data.source`, with its parameters from `data.*`."""
    try:
        make = registry.resolve("toy", data.source)
    except KeyError as e:
        raise ValueError(e.args[0]) from None
    return make(data)


def example_shape(config: ml_collections.ConfigDict) -> tuple[int, ...]:
    """The shape of one training example, from the config alone (no dataset is read)."""
    if is_toy(config):
        return (make_source(config.data).dim,)
    return (config.data.resolution,) * 2 + (config.data.channels,)


def open_dataset(config: ml_collections.ConfigDict, split: str | None = None) -> ImageDataset:
    """The image dataset of `config.data`, in `split` (default: the split it trains on)."""
    d = config.data
    return load_dataset(d.source, split=split or d.split, data_dir=d.data_dir or None)


def make_image_sampler(config: ml_collections.ConfigDict, process_index: int = 0,
                       process_count: int = 1) -> BatchSampler:
    """This process's sampler over the image dataset of `config.data`, batches of `config.train`."""
    d = config.data
    return BatchSampler(open_dataset(config), batch_size=config.train.batch_size,
                        d_steps=config.train.d_steps, seed=config.seed, resolution=d.resolution,
                        channels=d.channels, fit=d.fit, random_flip=d.random_flip,
                        process_index=process_index, process_count=process_count)


__all__ = ["ArrayDataset", "BatchSampler", "GaussianMixture", "ImageDataset", "example_shape",
           "gaussian_1d", "grid", "load_dataset", "make_image_sampler", "make_source",
           "open_dataset", "prefetch", "prepare_tfds", "ring", "to_model_range", "to_unit_range"]
