"""Every metric of one checkpoint of a run, with the protocol that produced it (`ganjax eval`).

Image runs: FID, KID, IS, precision/recall and density/coverage on FID Inception features (when
a weights file is given), the Parzen-window log-likelihood, and class coverage for labelled
datasets. Toy runs: mode coverage (2-D: with the spread ratio and the MMD to the true mixture),
plus FID and KID on the coordinates themselves. The result records how the numbers were made
(`protocol`), since FID-like numbers compare only under one protocol, and is written to
`<workdir>/eval_<step>.json`.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import ml_collections
import numpy as np

import ganjax
from ganjax import config as config_lib
from ganjax.data import make_source
from ganjax.engine.rng import describe_noise, reference_key
from ganjax.evaluation import cache, classifier, feature_metrics, likelihood
from ganjax.evaluation.evaluator import generator_name
from ganjax.evaluation.inception_features import FeatureNet, load_feature_net, real_features
from ganjax.evaluation.reference import RealSet, preprocessing, reference_set
from ganjax.evaluation.toy import (FIDELITY_PROTOCOL, mixture_fidelity, mode_coverage,
                                   sample_moments)
from ganjax.metrics.inception_weights import WEIGHTS_FILE, WEIGHTS_URL
from ganjax.run.reopen import load_run
from ganjax.run.sampling import generate
from ganjax.outputs.writers import jsonable, write_text_atomically

IMAGE_SAMPLES = 10_000  # Lucic et al. 2018's FID sample count; the Parzen protocol's too
TOY_SAMPLES = 2_500  # the VEEGAN / PacGAN mode-coverage protocol
MIN_SAMPLES = 10  # density/coverage needs k + 1 = 6 per set; IS gets >= 1 row per split
INCEPTION_METRICS = ("fid", "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall",
                     "density", "coverage")
NO_WEIGHTS_NOTE = (f"FID, KID, IS, precision/recall and density/coverage need the FID Inception "
                   f"weights: download {WEIGHTS_FILE} ({WEIGHTS_URL}) and pass --fid_weights PATH")
# The toy reference points: the true mixture sampled from this key (independent of --seed).
TOY_REFERENCE_KEY = "jax.random.fold_in(jax.random.PRNGKey(0), 1)"

Report = tuple[dict[str, Any], dict[str, Any], list[str]]  # metrics, protocol, notes


def _inception_part(config: ml_collections.ConfigDict, samples: np.ndarray, net: FeatureNet,
                    real: RealSet, directory: str) -> Report:
    """FID, KID, IS and the manifold metrics of samples against the cached real features."""
    fake = net.extract(samples)
    reference, hit = real_features(net, config, real, directory)
    metrics = {**feature_metrics.distance_metrics(fake["pool3"], reference["pool3"]),
               **feature_metrics.score_metrics(fake["logits_unbiased"]),
               **feature_metrics.manifold_metrics(fake["pool3"], reference["pool3"])}
    protocol = {**net.describe(), "reference_features_cached": hit,
                **feature_metrics.kid_settings(), **feature_metrics.is_settings(len(samples)),
                **feature_metrics.manifold_settings()}
    return metrics, protocol, []


def image_metrics(config: ml_collections.ConfigDict, samples: np.ndarray,
                  net: FeatureNet | None, cache_dir: str | None = None,
                  parzen_validation: int = likelihood.PARZEN_VALIDATION,
                  parzen_test: int = likelihood.PARZEN_TEST) -> Report:
    """(metrics, protocol, notes) of generated images [n, R, R, C] in [0, 1] of a run's config."""
    directory = cache.cache_dir(cache_dir)
    real = reference_set(config, len(samples))
    protocol: dict[str, Any] = {
        "num_reference": len(real.images), "reference_source": config.data.source,
        "reference_split": real.split, "reference_rows": real.rows,
        "preprocessing": preprocessing(config)}
    if net is None:
        metrics, notes = dict.fromkeys(INCEPTION_METRICS), [NO_WEIGHTS_NOTE]
        protocol.update(feature_network=None, feature_weights=None, feature_weights_sha256=None)
    else:
        metrics, extra, notes = _inception_part(config, samples, net, real, directory)
        protocol.update(extra)
    parzen, protocol["parzen"] = likelihood.parzen_report(samples, config, parzen_validation,
                                                         parzen_test)
    metrics.update(parzen)
    if real.num_classes >= 2:
        model, hit = classifier.load_classifier(config, directory)
        metrics.update(classifier.class_coverage(samples, real, model))
        protocol["classifier"] = {"model": classifier.DESCRIPTION, "cached": hit,
                                  "num_train": int(model["num_train"]),
                                  "num_held_out": int(model["num_held_out"]),
                                  "real_histogram": "dataset labels of the reference rows",
                                  "class_kl": "KL(generated || real) label histograms, nats"}
    else:
        notes.append("unlabelled dataset: no classifier-based class coverage")
    return metrics, protocol, notes


def toy_reference(config: ml_collections.ConfigDict, count: int) -> np.ndarray:
    """`count` points of the run's true mixture, from the fixed TOY_REFERENCE_KEY."""
    key = reference_key()
    return np.asarray(make_source(config.data).sample(key, count), np.float64)


def toy_metrics(config: ml_collections.ConfigDict, samples: np.ndarray) -> Report:
    """(metrics, protocol, notes): mode coverage (1-D: moments too; 2-D: the spread ratio and
    the MMD to the true mixture, with a perfect sampler's), FID and KID on coordinates."""
    source = make_source(config.data)
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    real = toy_reference(config, len(samples))
    metrics = dict(mode_coverage(samples, source.centers, source.std))
    if source.dim == 1:
        metrics.update(sample_moments(samples))
    else:
        metrics.update(mixture_fidelity(samples, source, real, reference_key()))
    metrics.update(feature_metrics.distance_metrics(samples, real))
    protocol = {"num_reference": len(real), "reference_source": config.data.source,
                "reference_split": None,
                "reference_rows": f"the true mixture sampled with {TOY_REFERENCE_KEY}",
                "preprocessing": "none (coordinates)", "feature_network": "identity (data space)",
                "feature_weights": None, "feature_weights_sha256": None, "resize": None,
                "mode_coverage": "high quality within 3 std of the nearest mode (VEEGAN/PacGAN)",
                **({} if source.dim == 1 else FIDELITY_PROTOCOL), **feature_metrics.kid_settings()}
    return metrics, protocol, []


def _check_count(num_samples: int) -> int:
    if num_samples < MIN_SAMPLES:
        raise ValueError(f"num_samples={num_samples}: need at least {MIN_SAMPLES} (the k-NN "
                         f"metrics and the IS splits need several samples)")
    return num_samples


def evaluate_run(workdir: str, step: int | None = None, num_samples: int | None = None,
                 fid_weights: str | None = None, seed: int = 0, use_ema: bool = True,
                 cache_dir: str | None = None,
                 parzen_validation: int = likelihood.PARZEN_VALIDATION,
                 parzen_test: int = likelihood.PARZEN_TEST,
                 noise: str = "sample") -> dict[str, Any]:
    """Evaluates the checkpoint of `step` (default: newest) of the run in `workdir`.

    `num_samples` defaults to 10,000 for images and 2,500 for toys. `noise="sample"` draws fresh
    noise from `seed`; `noise="training"` reuses the run's training-time eval noise, so a toy
    run's numbers equal its summary.json's (same samples, same metric code). Raises
    CheckpointError (no run or checkpoint), ConfigError, WeightsError (unusable weights file)
    and ValueError (too few samples, unreadable dataset).
    """
    start = time.perf_counter()
    if num_samples is not None:
        _check_count(num_samples)  # before anything slow
    net = None
    if fid_weights:
        batch = min(50, num_samples or IMAGE_SAMPLES)
        net = load_feature_net(fid_weights, batch_size=batch)  # fail fast on a bad file
    run = load_run(workdir, step)
    toy = config_lib.is_toy(run.config)
    count = _check_count(num_samples or (TOY_SAMPLES if toy else IMAGE_SAMPLES))
    samples = generate(run, count, seed, use_ema=use_ema, noise=noise)
    if toy:
        metrics, protocol, notes = toy_metrics(run.config, samples)
        if fid_weights:
            notes.append("fid_weights unused: toy runs compare coordinates directly")
    else:
        metrics, protocol, notes = image_metrics(run.config, samples, net, cache_dir,
                                                 parzen_validation, parzen_test)
    noise_seed = run.config.seed if noise == "training" else seed
    generated = {"checkpoint_step": run.step, "generator": generator_name(run.state, use_ema),
                 "seed": seed if noise == "sample" else None,
                 "noise": describe_noise(noise, noise_seed, count), "num_generated": count,
                 "ganjax_version": ganjax.__version__}
    return {"workdir": os.path.abspath(workdir), "step": run.step,
            "data": "toy" if toy else "image", "metrics": metrics,
            "protocol": {**generated, **protocol}, "notes": notes,
            "wall_time_s": time.perf_counter() - start}


def eval_path(workdir: str, step: int) -> str:
    """Where the evaluation of `step` is written: `<workdir>/eval_<step>.json`."""
    return os.path.join(workdir, f"eval_{step}.json")


def write_eval(workdir: str, result: dict[str, Any]) -> str:
    """Writes `result` (NaN/Inf as null) to `eval_path`, atomically; returns the path."""
    path = eval_path(workdir, result["step"])
    write_text_atomically(path, json.dumps(jsonable(result), indent=2) + "\n")
    return path
