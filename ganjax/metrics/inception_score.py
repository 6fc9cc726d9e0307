"""Inception Score (Salimans et al. 2016) from a classifier's class probabilities.

IS = exp(E_x KL(p(y|x) || p(y))), with p(y) the mean prediction over the split; it is high when
each sample is classified confidently and the classes are used evenly. Computed in float64 numpy.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

# Softmax outputs saved in float32 sum to 1 within ~1e-6; anything further off is not probabilities.
_ROW_SUM_TOLERANCE = 1e-3


class InceptionScore(NamedTuple):
    """Mean and standard deviation (ddof=0) of the score over splits; unpacks as a tuple."""

    mean: float
    std: float


def _split_score(probs: np.ndarray) -> float:
    """exp of the mean KL(p(y|x) || p(y)) over the rows of one split, with 0 log 0 taken as 0."""
    marginal = probs.mean(axis=0, keepdims=True)
    positive = probs > 0
    # Where p(y|x) > 0 the marginal is > 0 too, so the logs below are finite wherever they are kept.
    log_ratio = np.log(np.where(positive, probs, 1.0)) - np.log(np.where(positive, marginal, 1.0))
    kl = np.sum(np.where(positive, probs * log_ratio, 0.0), axis=1)
    return float(np.exp(kl.mean()))


def inception_score(probs: ArrayLike, splits: int = 10) -> InceptionScore:
    """Inception Score of class probabilities [N, C] (rows sum to 1), as (mean, std) over splits.

    The rows are cut into `splits` contiguous parts with `np.array_split` (every row is used; the
    first N % splits parts get one extra row), the score is computed per part, and the mean and
    std (ddof=0) of those scores returned.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(
            f"probs must be a 2-D array [num_samples, num_classes], got shape {p.shape}."
        )
    if splits < 1:
        raise ValueError(f"splits must be at least 1, got {splits}.")
    if p.shape[0] < splits:
        raise ValueError(
            f"probs has {p.shape[0]} rows, fewer than splits={splits}; pass more samples or "
            "fewer splits."
        )
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(
            "probs must be finite and non-negative; pass softmax probabilities, not logits."
        )
    row_sums = p.sum(axis=1)
    worst = float(np.max(np.abs(row_sums - 1.0)))
    if worst > _ROW_SUM_TOLERANCE:
        raise ValueError(
            f"every row of probs must sum to 1 (worst row is off by {worst:.3g}); apply a softmax "
            "to the classifier's logits first."
        )
    scores = np.array([_split_score(part) for part in np.array_split(p, splits)])
    return InceptionScore(float(scores.mean()), float(scores.std()))
