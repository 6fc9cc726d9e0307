"""A quality signal for labelled image data that needs no download: class coverage while training.

Without the FID Inception weights an image run used to log nothing about its samples but D's
view. For labelled datasets (the bundled digits, MNIST, CIFAR-10, ...) every evaluation now
labels `eval.num_samples` samples with the run's cached label classifier
(`ganjax.evaluation.classifier`, the same one `ganjax eval` uses) and logs how many classes
they cover and the KL divergence of their label histogram from the real one: mode collapse
shows up as lost classes and a rising KL long before a sample grid makes it obvious. The noise
is fixed (the FID noise stream), so successive values compare. It says nothing about realism
within a class; the classifier's held-out accuracy in the protocol says how far to trust it.
"""

from __future__ import annotations

from typing import Any, Callable

import ml_collections
import numpy as np

from ganjax.engine.rng import EVAL_SET_NOISE
from ganjax.evaluation import cache, classifier
from ganjax.evaluation.reference import RealSet


def make_class_metrics(config: ml_collections.ConfigDict
                       ) -> Callable[[np.ndarray, RealSet], dict[str, Any]]:
    """`(samples in [0, 1], real set) -> {"classes_covered", "class_kl", "class_protocol"}` for
    the evaluator's scored sample set, or {} for an unlabelled dataset. The classifier is loaded
    at the first call (fitted once per dataset and cached on disk)."""
    ready: dict[str, Any] = {}

    def evaluate(samples: np.ndarray, real: RealSet) -> dict[str, Any]:
        if real.num_classes < 2:
            return {}
        if not ready:
            # Whether the classifier came from the cache is left out of the records: a resumed
            # run must log byte-identical metrics.jsonl lines.
            ready["model"] = classifier.load_classifier(config, cache.cache_dir())[0]
        metrics = classifier.class_coverage(samples, real, ready["model"])
        accuracy = metrics.pop("classifier_accuracy")
        protocol = {"num_generated": len(samples), "noise": f"the FID noise stream: {EVAL_SET_NOISE}",
                    "classifier": classifier.DESCRIPTION,
                    "classifier_held_out_accuracy": accuracy,
                    "num_reference": len(real.labels), "reference_rows": real.rows,
                    "class_kl": "KL(generated || real) label histograms, nats"}
        return {**metrics, "class_protocol": protocol}

    return evaluate
