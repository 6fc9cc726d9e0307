"""Sample-quality statistics computed from features or class probabilities, in float64 numpy.

FID and KID compare feature sets, the Inception Score reads class probabilities, the manifold
metrics compare k-NN balls, and the Parzen window scores held-out data under generated samples.
None of these modules runs a network: the features come from the caller.
"""

from ganjax.metrics.frechet import fid_from_features, frechet_distance, gaussian_statistics
from ganjax.metrics.inception_score import inception_score
from ganjax.metrics.kid import kid_from_features
from ganjax.metrics.manifold import density_coverage, precision_recall
from ganjax.metrics.parzen import parzen_estimate, parzen_log_likelihood, select_parzen_sigma

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
]
