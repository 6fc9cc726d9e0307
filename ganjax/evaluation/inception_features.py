"""The FID Inception as an evaluation feature network: weights, their hash, cached real features.

Only pool3 (FID, KID, precision/recall, density/coverage) and the unbiased logits (IS) are kept.
Real-image features are cached per dataset source, split, preprocessing, row count and weights
SHA-256 (see `ganjax.evaluation.cache`), so re-evaluations compute only the generated half.
"""

from __future__ import annotations

import dataclasses
import os

import ml_collections
import numpy as np

from ganjax.evaluation import cache
from ganjax.evaluation.reference import REFERENCE_SEED, RealSet
from ganjax.metrics.features import FeatureFn, make_feature_extractor
from ganjax.metrics.inception_weights import load_fid_weights, weights_sha256

NETWORK = ("FID Inception-v3 (pytorch-fid's port of the TF 2015 graph): pool3 2048-d, "
           "1008-way logits")
RESIZE = ("bilinear to 299x299 inside the network, as torch F.interpolate(mode='bilinear', "
          "align_corners=False) without antialiasing (pytorch-fid's resize_input)")
KEPT = ("pool3", "logits_unbiased")
DEFAULT_BATCH_SIZE = 50  # pytorch-fid's default


@dataclasses.dataclass(frozen=True)
class FeatureNet:
    """A loaded FID Inception: `extract(images in [0, 1]) -> {"pool3", "logits_unbiased"}`."""

    extract: FeatureFn
    weights_path: str
    sha256: str

    def describe(self) -> dict[str, str]:
        return {"feature_network": NETWORK, "feature_weights": os.path.basename(self.weights_path),
                "feature_weights_sha256": self.sha256, "resize": RESIZE}


def load_feature_net(path: str, batch_size: int = DEFAULT_BATCH_SIZE) -> FeatureNet:
    """The FID Inception with pytorch-fid's weights from `path`; WeightsError when unusable."""
    variables = load_fid_weights(path)
    extract = make_feature_extractor(variables, batch_size=batch_size)
    kept = lambda images: {k: v for k, v in extract(images).items() if k in KEPT}  # noqa: E731
    return FeatureNet(kept, str(path), weights_sha256(path))


def real_feature_key(config: ml_collections.ConfigDict, count: int,
                     net: FeatureNet) -> dict[str, object]:
    """What the real features depend on: dataset, split, preprocessing, rows and weights."""
    d = config.data
    return {"kind": "inception_features", "source": d.source, "data_dir": d.data_dir,
            "split": d.split, "resolution": d.resolution, "channels": d.channels, "fit": d.fit,
            "count": count, "row_seed": REFERENCE_SEED, "weights_sha256": net.sha256}


def real_features(net: FeatureNet, config: ml_collections.ConfigDict, real: RealSet,
                  directory: str) -> tuple[dict[str, np.ndarray], bool]:
    """(features of the reference images, cache hit); computed and cached on a miss."""
    key = real_feature_key(config, len(real.images), net)
    return cache.cached(directory, "inception", key, lambda: net.extract(real.images))
