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

import jax
import ml_collections

from ganjax.data import to_unit_range
from ganjax.engine.gan import GAN
from ganjax.engine.generation import make_sampler
from ganjax.evaluation import cache, classifier
from ganjax.evaluation.reference import RealSet, reference_set

_GENERATE_BATCH = 500


def make_class_metrics(gan: GAN, config: ml_collections.ConfigDict,
                       key: jax.Array) -> Callable[[Any, Any], dict[str, Any]]:
    """`(g_params, g_batch_stats) -> {"classes_covered", "class_kl", "protocol"}`, or {} for an
    unlabelled dataset. The classifier and the real label histogram are made at the first call
    (the classifier is fitted once per dataset and cached on disk)."""
    num = config.eval.num_samples
    sample = make_sampler(gan, key, num, batch_size=min(num, _GENERATE_BATCH))
    ready: dict[str, Any] = {}

    def prepare() -> tuple[RealSet, dict[str, Any] | None]:
        if not ready:
            real = reference_set(config, num)
            # Whether the classifier came from the cache is left out of the records: a resumed
            # run must log byte-identical metrics.jsonl lines.
            model = (classifier.load_classifier(config, cache.cache_dir())[0]
                     if real.num_classes >= 2 else None)
            ready.update(real=real, model=model)
        return ready["real"], ready["model"]

    def evaluate(params: Any, stats: Any) -> dict[str, Any]:
        real, model = prepare()
        if model is None:
            return {}
        metrics = classifier.class_coverage(to_unit_range(sample(params, stats)), real, model)
        accuracy = metrics.pop("classifier_accuracy")
        protocol = {"num_generated": num, "noise": "the FID noise stream: eval key folded with "
                                                   "1, then with the batch index",
                    "classifier": classifier.DESCRIPTION,
                    "classifier_held_out_accuracy": accuracy,
                    "num_reference": len(real.labels), "reference_rows": real.rows,
                    "class_kl": "KL(generated || real) label histograms, nats"}
        return {**metrics, "class_protocol": protocol}

    return evaluate
