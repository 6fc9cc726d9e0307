"""Sample-quality statistics, and the FID Inception network that supplies their features.

The statistics (float64 numpy, no network): FID and KID compare feature sets, the Inception
Score reads class probabilities, the manifold metrics compare k-NN balls, and the Parzen window
scores held-out data under generated samples. The Inception entry points (`FIDInceptionV3`,
`load_fid_weights`, `make_feature_extractor`, ...) are imported on first use, so that the
statistics alone do not pull in Flax.
"""

from __future__ import annotations

import importlib
from typing import Any

from ganjax.metrics.frechet import fid_from_features, frechet_distance, gaussian_statistics
from ganjax.metrics.inception_score import inception_score
from ganjax.metrics.kid import kid_from_features
from ganjax.metrics.manifold import density_coverage, precision_recall
from ganjax.metrics.parzen import parzen_estimate, parzen_log_likelihood, select_parzen_sigma

# Name -> module of the lazily imported Inception entry points.
_LAZY = {
    "FIDInceptionV3": "ganjax.metrics.inception",
    "WEIGHTS_FILE": "ganjax.metrics.inception_weights",
    "WEIGHTS_URL": "ganjax.metrics.inception_weights",
    "WeightsError": "ganjax.metrics.inception_weights",
    "load_fid_weights": "ganjax.metrics.inception_weights",
    "make_feature_extractor": "ganjax.metrics.features",
    "save_npz": "ganjax.metrics.inception_weights",
    "weights_sha256": "ganjax.metrics.inception_weights",
}


def __getattr__(name: str) -> Any:
    """Imports an Inception entry point the first time it is asked for (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'ganjax.metrics' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "density_coverage",
    "fid_from_features",
    "frechet_distance",
    "gaussian_statistics",
    "inception_score",
    "kid_from_features",
    "parzen_estimate",
    "parzen_log_likelihood",
    "precision_recall",
    "select_parzen_sigma",
    *sorted(_LAZY),
]
