"""Class coverage of generated images, read by a small classifier trained on real images.

The classifier is scikit-learn's LogisticRegression on flattened [0, 1] pixels at the run's
resolution, trained on `CLASSIFIER_TRAIN` rows of the training split (a seed-1 permutation) and
scored on the next `CLASSIFIER_HELD_OUT` rows; it is fitted once per dataset and preprocessing
and cached. It labels the samples; `classes_covered` counts the classes given to at least one
sample and `class_kl` is KL(generated label histogram || real label histogram), the real one
taken from the dataset labels of the reference rows (the Stacked-MNIST mode count and KL, on one
digit). Only as good as the classifier: its held-out accuracy is reported next to them.
"""

from __future__ import annotations

import warnings

import ml_collections
import numpy as np

from ganjax.evaluation import cache
from ganjax.data import open_dataset
from ganjax.evaluation.reference import RealSet, permuted_rows, read_rows

CLASSIFIER_TRAIN = 5000
CLASSIFIER_HELD_OUT = 1000
CLASSIFIER_SEED = 1
_MAX_ITER = 500
DESCRIPTION = (f"sklearn LogisticRegression(C=1, max_iter={_MAX_ITER}) on flattened [0, 1] pixels "
               f"of up to {CLASSIFIER_TRAIN} training rows "
               f"(np.random.default_rng({CLASSIFIER_SEED}).permutation)")


def fit_classifier(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """A logistic regression of labels y [n] on images x [n, ...], as plain arrays."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=_MAX_ITER)
    with warnings.catch_warnings():  # the held-out accuracy says whether it is good enough
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x.reshape(len(x), -1), y)
    return {"coef": model.coef_.astype(np.float64), "intercept": model.intercept_,
            "classes": model.classes_.astype(np.int64)}


def predict(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Labels [n] of images x [n, ...] under a `fit_classifier` model."""
    scores = np.asarray(x, np.float64).reshape(len(x), -1) @ model["coef"].T + model["intercept"]
    if scores.shape[1] == 1:  # two classes: one score, positive for the second
        return model["classes"][(scores[:, 0] > 0).astype(int)]
    return model["classes"][np.argmax(scores, axis=1)]


def label_histogram(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """The share of each class 0..num_classes-1 among `labels`."""
    counts = np.bincount(np.asarray(labels, np.int64), minlength=num_classes)[:num_classes]
    return counts / max(counts.sum(), 1)


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) in nats, 0 log 0 = 0; infinite when q is 0 where p is not."""
    support = p > 0
    if np.any(q[support] == 0):
        return float("inf")
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


def _train_classifier(config: ml_collections.ConfigDict) -> dict[str, np.ndarray]:
    """Fits the classifier on the training split and scores it on the rows after its own."""
    dataset = open_dataset(config)
    order = permuted_rows(len(dataset), CLASSIFIER_TRAIN + CLASSIFIER_HELD_OUT, CLASSIFIER_SEED)
    n_train = min(CLASSIFIER_TRAIN, max(len(order) - CLASSIFIER_HELD_OUT, len(order) // 2))
    train = read_rows(dataset, order[:n_train], config, config.data.split, "")
    held = read_rows(dataset, order[n_train:], config, config.data.split, "")
    model = fit_classifier(train.images, train.labels)
    accuracy = np.mean(predict(model, held.images) == held.labels) if len(held.labels) else np.nan
    return {**model, "accuracy": np.float64(accuracy), "num_train": np.int64(n_train),
            "num_held_out": np.int64(len(held.labels))}


def load_classifier(config: ml_collections.ConfigDict,
                    directory: str) -> tuple[dict[str, np.ndarray], bool]:
    """(model arrays, cache hit) of the run's dataset classifier, fitted on a cache miss."""
    import sklearn

    d = config.data
    key = {"kind": "label_classifier", "source": d.source, "split": d.split,
           "data_dir": d.data_dir, "resolution": d.resolution, "channels": d.channels,
           "fit": d.fit, "train": CLASSIFIER_TRAIN, "held_out": CLASSIFIER_HELD_OUT,
           "seed": CLASSIFIER_SEED, "max_iter": _MAX_ITER, "sklearn": sklearn.__version__}
    return cache.cached(directory, "classifier", key, lambda: _train_classifier(config))


def class_coverage(samples: np.ndarray, real: RealSet,
                   model: dict[str, np.ndarray]) -> dict[str, float]:
    """classes_covered, class_kl and the classifier's held-out accuracy, for samples [n, ...]."""
    k = real.num_classes
    fake = label_histogram(predict(model, samples), k)
    return {"classes_covered": int(np.count_nonzero(fake)),
            "class_kl": kl_divergence(fake, label_histogram(real.labels, k)),
            "classifier_accuracy": float(model["accuracy"])}
