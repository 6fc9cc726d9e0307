"""FID, KID and IS during training, for image runs whose config sets `eval.fid_weights`.

Every evaluation scores the evaluator's sample set, `eval.num_samples` images from the same
noise (so successive values compare), against as many real images, whose features are computed
once and cached (see `ganjax.evaluation.inception_features`). The protocol travels with the
numbers.
"""

from __future__ import annotations

from typing import Any, Callable

import ml_collections
import numpy as np

import ganjax
from ganjax.engine.rng import EVAL_SET_NOISE
from ganjax.errors import ConfigError
from ganjax.evaluation import cache, feature_metrics
from ganjax.evaluation.inception_features import load_feature_net, real_features
from ganjax.evaluation.reference import RealSet, preprocessing
from ganjax.metrics.inception_weights import WeightsError


def make_fid_metrics(config: ml_collections.ConfigDict
                     ) -> Callable[[np.ndarray, RealSet, bool], dict[str, Any]]:
    """`(samples in [0, 1], real set, ema) -> {"fid", "kid_mean", "kid_std", "is_mean",
    "is_std", "protocol"}` for the evaluator's scored sample set; the weights load now
    (ConfigError when unusable), the real set's features at the first call."""
    num = config.eval.num_samples
    try:
        net = load_feature_net(config.eval.fid_weights, batch_size=min(50, num))
    except WeightsError as e:
        raise ConfigError(f"eval.fid_weights: {e}") from e
    reference: dict[str, Any] = {}

    def real_pool3(real: RealSet) -> np.ndarray:
        if not reference:
            features, _ = real_features(net, config, real, cache.cache_dir())
            reference["pool3"] = features["pool3"]
        return reference["pool3"]

    def evaluate(samples: np.ndarray, real: RealSet, ema: bool) -> dict[str, Any]:
        fake = net.extract(samples)
        metrics = {**feature_metrics.distance_metrics(fake["pool3"], real_pool3(real)),
                   **feature_metrics.score_metrics(fake["logits_unbiased"])}
        protocol = {"generator": "ema" if ema else "raw", "num_generated": len(samples),
                    "noise": f"fixed: {EVAL_SET_NOISE}", "num_reference": len(real.images),
                    "reference_source": config.data.source, "reference_split": real.split,
                    "reference_rows": real.rows, "preprocessing": preprocessing(config),
                    **net.describe(), **feature_metrics.kid_settings(),
                    **feature_metrics.is_settings(len(samples)),
                    "ganjax_version": ganjax.__version__}
        return {**metrics, "protocol": protocol}

    return evaluate

