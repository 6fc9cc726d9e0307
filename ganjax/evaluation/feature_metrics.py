"""The sample-quality metrics of one evaluation, from generated and real feature sets.

Settings follow the usual reference implementations: KID averages 100 subsets of up to 1,000
rows (Bińkowski et al.), IS uses 10 splits of the softmax of the unbiased Inception logits
(pool3 @ W without the fc bias, as the original TF code and torch-fidelity; pytorch's
`inception.fc` adds the bias), precision/recall use k = 3 (Kynkäänniemi et al.) and
density/coverage k = 5 (Naeem et al.).
"""

from __future__ import annotations

import numpy as np

from ganjax.metrics import (density_coverage, fid_from_features, inception_score,
                            kid_from_features, precision_recall)

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
IS_SPLITS = 10
IS_LOGITS = "logits_unbiased"
PRECISION_RECALL_K = 3
DENSITY_COVERAGE_K = 5


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64, shifted by the row max for stability."""
    z = np.asarray(logits, np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def is_splits(num_samples: int) -> int:
    """The IS split count: 10, or fewer when there are fewer samples."""
    return max(1, min(IS_SPLITS, num_samples))


def distance_metrics(fake: np.ndarray, real: np.ndarray) -> dict[str, float]:
    """FID and KID (mean, std over subsets) between feature sets fake [N, D] and real [M, D]."""
    kid = kid_from_features(real, fake, num_subsets=KID_SUBSETS, subset_size=KID_SUBSET_SIZE)
    return {"fid": fid_from_features(real, fake), "kid_mean": kid.mean, "kid_std": kid.std}


def score_metrics(logits: np.ndarray) -> dict[str, float]:
    """Inception Score (mean, std over splits) of the generated images' unbiased logits."""
    score = inception_score(softmax(logits), splits=is_splits(len(logits)))
    return {"is_mean": score.mean, "is_std": score.std}


def manifold_metrics(fake: np.ndarray, real: np.ndarray) -> dict[str, float]:
    """Precision, recall (k = 3), density and coverage (k = 5) of fake against real features."""
    return {**precision_recall(real, fake, k=PRECISION_RECALL_K),
            **density_coverage(real, fake, k=DENSITY_COVERAGE_K)}


def kid_settings() -> dict[str, object]:
    """KID's parameters, for the protocol record."""
    return {"kid_subsets": KID_SUBSETS, "kid_subset_size": KID_SUBSET_SIZE,
            "kid_kernel": "(x.y / d + 1)^3"}


def is_settings(num_generated: int) -> dict[str, object]:
    """The Inception Score's parameters, for the protocol record."""
    return {"is_splits": is_splits(num_generated), "is_logits": IS_LOGITS}


def manifold_settings() -> dict[str, object]:
    """The k of the k-NN manifold metrics, for the protocol record."""
    return {"precision_recall_k": PRECISION_RECALL_K, "density_coverage_k": DENSITY_COVERAGE_K}
