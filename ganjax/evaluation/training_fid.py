"""FID, KID and IS during training, for image runs whose config sets `eval.fid_weights`.

Every evaluation draws `eval.num_samples` images from the same noise (so successive values
compare) and scores them against as many real images, whose features are computed once and
cached (see `ganjax.evaluation.inception_features`). The protocol travels with the numbers.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import ml_collections

import ganjax
from ganjax.errors import ConfigError
from ganjax.data import to_unit_range
from ganjax.evaluation import cache, feature_metrics
from ganjax.evaluation.inception_features import load_feature_net, real_features
from ganjax.evaluation.reference import preprocessing, reference_set
from ganjax.engine.gan import GAN
from ganjax.engine.generation import make_sampler
from ganjax.metrics.inception_weights import WeightsError

_GENERATE_BATCH = 500


def make_fid_metrics(gan: GAN, config: ml_collections.ConfigDict,
                     key: jax.Array) -> Callable[[Any, Any, bool], dict[str, Any]]:
    """`(g_params, g_batch_stats, ema) -> {"fid", "kid_mean", "kid_std", "is_mean", "is_std",
    "protocol"}`; the weights load now (ConfigError when unusable), real features at first use."""
    num = config.eval.num_samples
    try:
        net = load_feature_net(config.eval.fid_weights, batch_size=min(50, num))
    except WeightsError as e:
        raise ConfigError(f"eval.fid_weights: {e}") from e
    sample = make_sampler(gan, key, num, batch_size=min(num, _GENERATE_BATCH))
    reference: dict[str, Any] = {}

    def real() -> dict[str, Any]:
        if not reference:
            images = reference_set(config, num)
            features, _ = real_features(net, config, images, cache.cache_dir())
            reference.update(features=features, set=images)
        return reference

    def evaluate(params: Any, stats: Any, ema: bool) -> dict[str, Any]:
        fake = net.extract(to_unit_range(sample(params, stats)))
        ref = real()
        metrics = {**feature_metrics.distance_metrics(fake["pool3"], ref["features"]["pool3"]),
                   **feature_metrics.score_metrics(fake["logits_unbiased"])}
        protocol = {"generator": "ema" if ema else "raw", "num_generated": num,
                    "noise": "fixed: eval key folded with 1, then with the batch index",
                    "num_reference": len(ref["set"].images),
                    "reference_source": config.data.source, "reference_split": ref["set"].split,
                    "reference_rows": ref["set"].rows, "preprocessing": preprocessing(config),
                    **net.describe(), **feature_metrics.kid_settings(),
                    **feature_metrics.is_settings(num), "ganjax_version": ganjax.__version__}
        return {**metrics, "protocol": protocol}

    return evaluate

