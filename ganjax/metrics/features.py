"""Batched, jitted, device-sharded Inception feature extraction for FID and IS."""

from __future__ import annotations

import math
from typing import Callable

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from ganjax.metrics.inception import NUM_CLASSES, POOL3_FEATURES, FIDInceptionV3

FeatureFn = Callable[[np.ndarray], dict[str, np.ndarray]]
_WIDTHS = {"pool3": POOL3_FEATURES, "logits": NUM_CLASSES, "logits_unbiased": NUM_CLASSES}


def _as_unit_float(images: np.ndarray) -> np.ndarray:
    """float32 images in [0, 1]; uint8 images are divided by 255 (as pytorch-fid's ToTensor does)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32, copy=False)


def make_feature_extractor(params: dict, batch_size: int = 50, mesh: Mesh | None = None,
                           model: FIDInceptionV3 | None = None) -> FeatureFn:
    """A function images [N, H, W, C] in [0, 1] -> {"pool3": [N, 2048], "logits"/"logits_unbiased": [N, 1008]}.

    `params` are FIDInceptionV3's variables ({"params", "batch_stats"}, from
    `load_fid_weights`). Images go through one jitted program per (H, W, C) in fixed batches
    of `batch_size` (the last batch is padded with zeros and the padding dropped), so N need
    not divide anything and only one shape compiles. Each batch is split over the "data"
    axis of `mesh` (default: this process's devices), so `batch_size` is rounded up to a
    multiple of that axis' size; the weights are replicated. Outputs are float32 numpy
    arrays. In a multi-process run each process extracts its own images on its own devices.
    """
    model = model or FIDInceptionV3()
    mesh = mesh or Mesh(np.array(jax.local_devices()), ("data",))
    shards = mesh.shape["data"]
    batch_size = math.ceil(batch_size / shards) * shards
    data, replicated = NamedSharding(mesh, P("data")), NamedSharding(mesh, P())
    variables = jax.device_put(params, replicated)
    apply = jax.jit(model.apply, in_shardings=(replicated, data), out_shardings=data)

    def extract(images: np.ndarray) -> dict[str, np.ndarray]:
        images = _as_unit_float(images)
        n = images.shape[0]
        if n == 0:
            return {k: np.zeros((0, w), np.float32) for k, w in _WIDTHS.items()}
        outputs = []
        for start in range(0, n, batch_size):
            batch = images[start:start + batch_size]
            pad = batch_size - batch.shape[0]
            if pad:
                batch = np.concatenate([batch, np.zeros((pad, *batch.shape[1:]), np.float32)])
            outputs.append(apply(variables, jax.device_put(batch, data)))  # dispatched asynchronously
        return {k: np.concatenate([np.asarray(o[k]) for o in outputs])[:n] for k in outputs[0]}

    return extract
