"""`ganjax eval` on tiny runs: metrics, protocol, the real-feature cache and the error paths.

The Inception is a random-weights FIDInceptionV3 (see eval_helpers). FID on 2048-d features
costs seconds of eigendecomposition on a small CPU, so only one test computes it; the others
check the same wiring on cheaper paths.
"""

import argparse
import gzip
import json
import os

import numpy as np
import pytest
from eval_helpers import TINY_IMAGE_RUN, random_inception_weights, train_tiny

from ganjax import __version__
from ganjax import config as config_lib
from ganjax.run.checkpoint import CheckpointError
from ganjax.evaluation import cache, classifier, feature_metrics, likelihood
from ganjax.run import evaluate as run_eval
from ganjax.cli.eval import add_parser as add_eval_parser, run as cmd_eval
from ganjax.evaluation.inception_features import load_feature_net, real_features
from ganjax.evaluation.reference import reference_set
from ganjax.metrics import (WEIGHTS_FILE, WeightsError, density_coverage, fid_from_features,
                            inception_score, kid_from_features, precision_recall)
from ganjax.run.sampling import generate

PROTOCOL_FIELDS = ("checkpoint_step", "generator", "seed", "num_generated", "num_reference",
                   "reference_source", "reference_split", "reference_rows", "preprocessing",
                   "feature_network", "feature_weights_sha256", "ganjax_version")


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    return train_tiny("dcgan_digits:quick", TINY_IMAGE_RUN, tmp_path_factory.mktemp("digits"))


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return random_inception_weights(tmp_path_factory.mktemp("fid") / "random_inception.npz")


def read_config(workdir):
    """A run's config, from its config.json (no checkpoint restored)."""
    return config_lib.from_dict(json.load(open(os.path.join(workdir, "config.json"))))


def run_cmd(*argv):
    """`ganjax eval ARGV` through the handler, as cli.main will dispatch it."""
    parser = argparse.ArgumentParser(prog="ganjax")
    add_eval_parser(parser.add_subparsers(dest="command"))
    return cmd_eval(parser.parse_args(["eval", "--no_compilation_cache", *argv]))


def test_toy_run_reports_mode_coverage_and_data_space_fid(tmp_path, capsys, monkeypatch):
    seen = {}

    def keep(*args, **kwargs):
        seen["samples"] = generate(*args, **kwargs)
        return seen["samples"]

    monkeypatch.setattr(run_eval, "generate", keep)
    workdir = train_tiny("ring8:vanilla", {"train.steps": "20", "train.scan_steps": "10",
                                           "train.log_every": "10", "train.eval_every": "20",
                                           "eval.num_samples": "200"}, tmp_path / "ring")
    assert run_cmd("--workdir", workdir, "--num_samples", "300", "--seed", "3",
                   "--cache_dir", str(tmp_path / "cache")) == 0
    out = capsys.readouterr().out
    assert "modes" in out and "fid" in out and "protocol: step 20" in out
    result = json.load(open(os.path.join(workdir, "eval_20.json")))
    assert out.rstrip().endswith(os.path.join(workdir, "eval_20.json"))
    metrics, protocol = result["metrics"], result["protocol"]
    assert set(metrics) >= {"modes", "hq_fraction", "mode_kl", "fid", "kid_mean", "kid_std",
                            "spread_ratio", "mixture_mmd", "mixture_mmd_perfect"}
    assert 0 <= metrics["modes"] <= 8 and 0 <= metrics["hq_fraction"] <= 1
    assert protocol["feature_network"] == "identity (data space)"
    assert protocol["num_generated"] == protocol["num_reference"] == 300
    assert (protocol["seed"], protocol["generator"], protocol["checkpoint_step"]) == (3, "raw", 20)
    # The numbers are the metric functions' on the same points.
    fake = np.asarray(seen["samples"], np.float64)
    real = run_eval.toy_reference(read_config(workdir), 300)
    assert metrics["fid"] == fid_from_features(real, fake)
    assert metrics["kid_mean"] == kid_from_features(real, fake).mean


def test_image_metrics_without_weights_leave_fid_out_and_say_why(digits_run, tmp_path):
    config = read_config(digits_run)
    samples = reference_set(config, 20).images[::-1]
    metrics, protocol, notes = run_eval.image_metrics(config, samples, None, str(tmp_path))
    for key in run_eval.INCEPTION_METRICS:
        assert metrics[key] is None
    assert any(WEIGHTS_FILE in n and "--fid_weights" in n for n in notes)
    assert np.isfinite(metrics["parzen_ll"]) and metrics["parzen_ll_se"] > 0
    assert 1 <= metrics["classes_covered"] <= 10 and metrics["classifier_accuracy"] > 0.8
    assert protocol["parzen"]["test"]["rows"].endswith("(not held out: the run trained on it)")
    assert protocol["feature_network"] is None and protocol["num_reference"] == 20
    assert protocol["reference_source"] == "digits" and protocol["reference_split"] == "train"


def test_fake_generator_scores_fid_zero_and_matches_direct_calls(digits_run, weights,
                                                                  tmp_path, monkeypatch):
    """Samples := the real reference images; every number must be the metric function's."""
    n, cache_dir = 12, str(tmp_path / "cache")
    config = read_config(digits_run)
    reals = reference_set(config, n).images
    monkeypatch.setattr(run_eval, "generate", lambda run, num, seed, use_ema, **_: reals[:num])
    seen = {}

    def keep_net(*args, **kwargs):
        seen["net"] = load_feature_net(*args, **kwargs)
        return seen["net"]

    def spy_fid(real, fake):
        seen["fid_args"] = (np.array(real), np.array(fake))
        return fid_from_features(real, fake)

    def spy_score(logits):
        seen["logits"] = np.array(logits)
        return score_metrics(logits)

    score_metrics = feature_metrics.score_metrics
    monkeypatch.setattr(run_eval, "load_feature_net", keep_net)
    monkeypatch.setattr(feature_metrics, "fid_from_features", spy_fid)
    monkeypatch.setattr(feature_metrics, "score_metrics", spy_score)
    result = run_eval.evaluate_run(digits_run, num_samples=n, fid_weights=weights,
                                   cache_dir=cache_dir)
    metrics, protocol, net = result["metrics"], result["protocol"], seen["net"]
    # The real features were computed once and cached; asking again is a hit.
    real, hit = real_features(net, config, reference_set(config, n), cache_dir)
    assert hit and not protocol["reference_features_cached"]
    fake = seen["fid_args"][1]
    np.testing.assert_array_equal(seen["fid_args"][0], real["pool3"])
    np.testing.assert_array_equal(fake, real["pool3"])  # same images, same features
    assert metrics["fid"] == pytest.approx(0.0, abs=float(1e-6 * np.var(real["pool3"], 0).sum()))
    kid = kid_from_features(real["pool3"], fake, num_subsets=100, subset_size=1000)
    score = inception_score(feature_metrics.softmax(seen["logits"]), splits=10)
    assert seen["logits"].shape == (n, 1008)
    assert (metrics["kid_mean"], metrics["kid_std"]) == (kid.mean, kid.std)
    assert (metrics["is_mean"], metrics["is_std"]) == (score.mean, score.std)
    assert {k: metrics[k] for k in ("precision", "recall")} == \
        precision_recall(real["pool3"], fake, k=3) == {"precision": 1.0, "recall": 1.0}
    assert {k: metrics[k] for k in ("density", "coverage")} == \
        density_coverage(real["pool3"], fake, k=5)
    # Provenance.
    assert all(field in protocol for field in PROTOCOL_FIELDS) and result["notes"] == []
    assert protocol["feature_weights_sha256"] == net.sha256 and len(net.sha256) == 64
    assert protocol["feature_weights"] == "random_inception.npz"
    assert "bilinear to 299x299" in protocol["resize"]
    assert protocol["is_logits"] == "logits_unbiased"
    assert (protocol["precision_recall_k"], protocol["density_coverage_k"]) == (3, 5)
    assert (protocol["checkpoint_step"], protocol["generator"], protocol["seed"]) == (10, "ema", 0)
    assert (protocol["num_generated"], protocol["num_reference"]) == (n, n)
    assert protocol["reference_source"] == "digits" and protocol["reference_split"] == "train"
    assert protocol["ganjax_version"] == __version__
    assert any(f.startswith("classifier-") for f in os.listdir(cache_dir))
    path = run_eval.write_eval(digits_run, result)
    assert path == os.path.join(digits_run, "eval_10.json")
    assert json.load(open(path))["protocol"] == protocol


def test_bad_weights_file_is_a_one_line_config_error(digits_run, tmp_path, capsys):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError):
        run_eval.evaluate_run(digits_run, num_samples=10, fid_weights=str(junk))
    for path in (junk, tmp_path / "missing.pth"):
        assert run_cmd("--workdir", digits_run, "--fid_weights", str(path)) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]  # after a JAX-flags warning
        assert err.startswith("ganjax: weights error:") and str(path) in err


def test_missing_run_or_checkpoint_exits_5(digits_run, tmp_path, capsys):
    assert run_cmd("--workdir", str(tmp_path / "nothing")) == 5
    assert "no config.json" in capsys.readouterr().err
    assert run_cmd("--workdir", digits_run, "--step", "7") == 5
    assert "no checkpoint of step 7" in capsys.readouterr().err
    assert run_cmd("--workdir", digits_run, "--num_samples", "3") == 2
    assert "need at least 10" in capsys.readouterr().err
    with pytest.raises(CheckpointError):
        run_eval.evaluate_run(str(tmp_path / "nothing"))


def test_cache_reuses_only_files_made_for_the_same_key(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(3.0)}

    key = {"source": "digits", "count": 3}
    first, hit1 = cache.cached(str(tmp_path), "t", key, compute)
    second, hit2 = cache.cached(str(tmp_path), "t", key, compute)
    assert (hit1, hit2, len(calls)) == (False, True, 1)
    np.testing.assert_array_equal(first["x"], second["x"])
    # A file whose stored key differs (a collision, a copied file) is not trusted.
    os.replace(cache.cache_path(str(tmp_path), "t", key),
               cache.cache_path(str(tmp_path), "t", {"other": 1}))
    assert cache.load(cache.cache_path(str(tmp_path), "t", {"other": 1}), {"other": 1}) is None
    assert cache.cache_dir("/x") == "/x"


def test_cache_dir_follows_the_environment(monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, "/tmp/somewhere")
    assert cache.cache_dir() == "/tmp/somewhere"
    monkeypatch.delenv(cache.ENV_VAR)
    assert cache.cache_dir().endswith(os.path.join(".cache", "ganjax", "fid_stats"))


def _write_idx(folder, prefix, images, labels):
    dims = np.array([2051, *images.shape], ">u4").tobytes()
    with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(dims + images.tobytes())
    with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(np.array([2049, len(labels)], ">u4").tobytes() + labels.tobytes())


def test_parzen_uses_held_out_test_split_in_native_pixels(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60), ("t10k", 25)):
        _write_idx(tmp_path, prefix, rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                   rng.integers(0, 10, n, dtype=np.uint8))
    config = config_lib.apply_overrides(config_lib.load_config("dcgan_mnist"), {
        "data.source": f"mnist_idx:{tmp_path}", "data.resolution": "32", "data.fit": "pad"})
    validation, test, native = likelihood.parzen_sets(config, n_validation=10, n_test=20)
    assert (validation.rows, validation.split) == ("train[50:60]", "train")
    assert len(validation.images) == 10
    assert (test.rows, test.split, len(test.images)) == ("test[0:20] (held out)", "test", 20)
    assert native == (28, 28, 1) and validation.images.shape[1:] == (32, 32, 1)
    pixels = likelihood.native_pixels(test.images, config, native)
    assert pixels.shape == (20, 784) and pixels.min() >= 0 and pixels.max() <= 1
    metrics, protocol = likelihood.parzen_report(validation.images, config, 10, 20)
    assert "784 dims" in protocol["space"] and np.isfinite(metrics["parzen_ll"])


def test_class_kl_and_coverage():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.25, 0.5])
    assert classifier.kl_divergence(p, q) == pytest.approx(np.log(2))
    assert classifier.kl_divergence(q, p) == float("inf")
    assert classifier.label_histogram(np.array([0, 0, 2]), 3).tolist() == [2 / 3, 0, 1 / 3]
    x = np.random.default_rng(0).normal(size=(200, 5))
    model = classifier.fit_classifier(x, (x[:, 0] > 0).astype(int))
    assert np.mean(classifier.predict(model, x) == (x[:, 0] > 0)) > 0.95
