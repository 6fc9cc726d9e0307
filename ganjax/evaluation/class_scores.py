"""Scores of generated images from a classifier's labels and features, in plain numpy.

No training happens here: the labels and features come from a classifier such as
`ganjax.evaluation.digit_classifier`. `conditional_accuracy` asks whether a conditional G
(cGAN, AC-GAN) drew the class it was given; `code_to_class_accuracy` asks whether InfoGAN's
categorical code picked out the classes, up to renaming: the codes are matched to classes one to
one so that the most samples agree (the Hungarian algorithm on the code x class counts), and
InfoGAN's "5% error" on MNIST is one minus this accuracy. `classifier_frechet_distance` is a
Fréchet distance in the classifier's feature space: an FID that needs no Inception download,
comparable only between runs scored by the same classifier. The class histogram of samples is
`ganjax.evaluation.classifier.label_histogram`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ganjax.metrics.frechet import fid_from_features


def _labels(values: ArrayLike, name: str) -> np.ndarray:
    """`values` as a non-empty int64 vector of labels >= 0, or a ValueError saying what is wrong."""
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of labels, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        if not np.all(np.equal(np.mod(array, 1), 0)):
            raise ValueError(f"{name} must hold whole-number labels, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.min() < 0:
        raise ValueError(f"{name} holds a negative label ({array.min()}); labels start at 0")
    return array


def _same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{name_a} has {len(a)} entries but {name_b} has {len(b)}; "
                         f"give one of each per sample")


def conditional_accuracy(predicted: ArrayLike, requested: ArrayLike) -> float:
    """The share of samples whose classifier label equals the class G was asked for."""
    got, wanted = _labels(predicted, "predicted"), _labels(requested, "requested")
    _same_length(got, wanted, "predicted", "requested")
    return float(np.mean(got == wanted))


def code_to_class_accuracy(codes: ArrayLike, predicted: ArrayLike,
                           num_classes: int) -> tuple[float, np.ndarray]:
    """(accuracy, mapping) of the best one-to-one matching of code values to classes.

    `codes` [N] are the categorical code values G was given, `predicted` [N] the classifier's
    labels of its samples, both in 0..num_classes-1 (codes may use more values than there are
    classes). mapping[c] is the class matched to code c (-1 for a code left unmatched when there
    are more codes than classes); accuracy is the share of samples with
    mapping[code] == predicted. The matching maximises that share exactly (Hungarian algorithm,
    scipy's linear_sum_assignment), where matching each code to its most frequent class could
    give two codes one class.
    """
    from scipy.optimize import linear_sum_assignment

    code, label = _labels(codes, "codes"), _labels(predicted, "predicted")
    _same_length(code, label, "codes", "predicted")
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    if label.max() >= num_classes:
        raise ValueError(f"predicted holds label {label.max()}, outside 0..{num_classes - 1}")
    num_codes = max(int(code.max()) + 1, num_classes)
    counts = np.zeros((num_codes, num_classes), np.int64)
    np.add.at(counts, (code, label), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    mapping = np.full(num_codes, -1, np.int64)
    mapping[rows] = cols
    return float(counts[rows, cols].sum() / len(code)), mapping


def classifier_frechet_distance(fake_features: ArrayLike, real_features: ArrayLike) -> float:
    """Fréchet distance between Gaussians fitted to generated and real classifier features
    [N, F] and [M, F] (N, M >= 2): FID in the classifier's feature space."""
    return fid_from_features(fake_features, real_features)
