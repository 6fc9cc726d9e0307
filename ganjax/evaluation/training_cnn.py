"""Training-time judgement of digit samples by the evaluation CNN: does G draw what it is told?

With `eval.cnn_metrics` (the conditional and InfoGAN experiments set it), every evaluation
classifies the scored sample set (`eval.num_samples` samples from the fixed FID noise stream;
for a conditional G the labels cycle 0, 1, ..., K-1, for InfoGAN the first categorical code
does) with the run's cached CNN (`ganjax.evaluation.digit_classifier`, trained once per
dataset on first use) and logs:

* `conditional_accuracy`: the share of samples the CNN puts in the class they were drawn for;
* `code_accuracy`: InfoGAN's code-to-class accuracy, the best one-to-one matching of the code's
  values to digit classes (Chen et al. 2016 report 5% error on MNIST);
* `classifier_fd`: the Fréchet distance between the CNN's 128-d features of the samples and of
  as many real images (a no-download FID for digit data, comparable across models that share
  the dataset and resolution);
* `cnn_classes_covered`, `cnn_class_kl`: the class histogram of the samples against the real one.

Only as good as the CNN: its held-out accuracy is in the record's protocol.
"""

from __future__ import annotations

from typing import Any, Callable

import ml_collections
import numpy as np

from ganjax.engine.generation import cycled
from ganjax.engine.latent import LatentSpec
from ganjax.engine.rng import EVAL_SET_NOISE
from ganjax.evaluation import cache
from ganjax.evaluation.classifier import kl_divergence, label_histogram
from ganjax.evaluation.reference import RealSet


def requested_classes(latent: LatentSpec) -> tuple[list[int] | None, list[int] | None]:
    """(labels, first-code values) the scored sample set cycles through, None where the latent
    has no labels / no categorical code."""
    labels = list(range(latent.num_classes)) if latent.num_classes else None
    codes = list(range(latent.code_categories[0])) if latent.code_categories else None
    return labels, codes


def make_cnn_metrics(config: ml_collections.ConfigDict, latent: LatentSpec
                     ) -> Callable[[np.ndarray, RealSet], dict[str, Any]]:
    """`(samples in [0, 1], real set) -> metrics` for the scored sample set of a run whose
    generator takes `latent`; {} for an unlabelled dataset."""
    from ganjax.evaluation.class_scores import (classifier_frechet_distance,
                                                code_to_class_accuracy, conditional_accuracy)
    from ganjax.evaluation.digit_classifier import labels_of, load_digit_classifier

    ready: dict[str, Any] = {}
    labels, codes = requested_classes(latent)

    def evaluate(samples: np.ndarray, real: RealSet) -> dict[str, Any]:
        if real.num_classes < 2:
            return {}
        if not ready:
            judge = load_digit_classifier(config, cache.cache_dir(), log=None)
            ready.update(judge=judge, real_features=judge.features(real.images))
        judge = ready["judge"]
        logits, features = judge.outputs(samples)  # one pass for the labels and the FD
        predicted = labels_of(logits)
        k = real.num_classes
        fake_hist, real_hist = label_histogram(predicted, k), label_histogram(real.labels, k)
        metrics: dict[str, Any] = {
            "classifier_fd": classifier_frechet_distance(features, ready["real_features"]),
            "cnn_classes_covered": int(np.count_nonzero(fake_hist)),
            "cnn_class_kl": kl_divergence(fake_hist, real_hist)}
        if labels is not None:
            metrics["conditional_accuracy"] = conditional_accuracy(
                predicted, cycled(labels, len(samples)))
        if codes is not None:
            metrics["code_accuracy"] = code_to_class_accuracy(
                cycled(codes, len(samples)), predicted, k)[0]
        metrics["cnn_protocol"] = {
            "num_generated": len(samples), "num_reference": len(real.labels),
            "noise": f"the FID noise stream: {EVAL_SET_NOISE}",
            "requested": ("labels cycle 0..K-1" if labels is not None else
                          "first categorical code cycles 0..K-1" if codes is not None else
                          "random"),
            "classifier": judge.description, "classifier_held_out_accuracy": judge.accuracy,
            "reference_rows": real.rows}
        return metrics

    return evaluate
