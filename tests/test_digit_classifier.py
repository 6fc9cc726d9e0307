"""The CNN digit classifier (trained on digits, cached, reloaded), the class scores it feeds,
and the `ganjax train-classifier` command."""

from __future__ import annotations

import argparse
import os

import numpy as np
import pytest

from ganjax import config as config_lib
from ganjax.evaluation import cache
from ganjax.evaluation import digit_classifier as dc
from ganjax.evaluation.class_scores import (classifier_frechet_distance, code_to_class_accuracy,
                                            conditional_accuracy)
from ganjax.evaluation.reference import reference_set
from ganjax.metrics.frechet import frechet_distance

STEPS = 150  # enough for > 0.9 held-out on digits in a few seconds


@pytest.fixture(scope="module")
def digits_config():
    return config_lib.validate(config_lib.load_config("dcgan_digits"))


@pytest.fixture(scope="module")
def trained(digits_config):
    """(classifier trained on a cache miss, its cache folder); the folder is the session's
    $GANJAX_CACHE (tests/conftest.py), never ~/.cache."""
    folder = cache.cache_dir()
    assert folder == os.environ["GANJAX_CACHE"]
    path = cache.cache_path(folder, dc.KIND, dc.cache_key(digits_config, STEPS, 0))
    if os.path.exists(path):
        os.remove(path)
    return dc.load_digit_classifier(digits_config, steps=STEPS, log=None), folder


def test_trains_on_digits_with_held_out_accuracy(trained, digits_config):
    classifier, folder = trained
    assert not classifier.from_cache
    assert classifier.accuracy > 0.9
    assert classifier.test_accuracy is None  # digits has one split: held-out rows only
    assert (classifier.num_train, classifier.num_held_out) == (1797 - 359, 359)
    assert os.path.dirname(classifier.path) == folder and os.path.exists(classifier.path)
    assert f"{classifier.accuracy:.4f}" in classifier.description
    assert f"{STEPS} steps" in classifier.description and "digits" in classifier.description


def test_second_load_hits_the_cache_with_same_predictions(trained, digits_config, monkeypatch):
    classifier, _ = trained
    monkeypatch.setattr(dc, "train", lambda *a, **k: pytest.fail("retrained on a cache hit"))
    again = dc.load_digit_classifier(digits_config, steps=STEPS, log=None)
    assert again.from_cache and again.path == classifier.path
    assert again.accuracy == classifier.accuracy
    images = reference_set(digits_config, 700).images
    np.testing.assert_array_equal(again.predict(images), classifier.predict(images))
    np.testing.assert_allclose(again.logits(images), classifier.logits(images), rtol=1e-6)


def test_a_different_seed_is_another_cache_entry(digits_config):
    assert dc.cache_key(digits_config, STEPS, 0) != dc.cache_key(digits_config, STEPS, 1)
    other = config_lib.apply_overrides(digits_config, {"data.resolution": "16"})
    assert dc.cache_key(other, STEPS, 0)["architecture"] == dc.architecture(16)
    assert dc.cache_key(other, STEPS, 0) != dc.cache_key(digits_config, STEPS, 0)


def test_outputs_shapes_and_batching(trained, digits_config):
    classifier, _ = trained
    images = reference_set(digits_config, 1203).images  # more than one padded batch of 500
    features, logits = classifier.features(images), classifier.logits(images)
    assert features.shape == (1203, 128) and logits.shape == (1203, 10)
    assert np.all(features >= 0)  # after the ReLU
    predicted = classifier.predict(images)
    assert predicted.dtype == np.int64 and predicted.shape == (1203,)
    np.testing.assert_array_equal(predicted, np.argmax(logits, axis=1))
    np.testing.assert_allclose(classifier.logits(images[:7]), logits[:7], rtol=1e-5, atol=1e-5)
    assert classifier.features(images[:0]).shape == (0, 128)
    with pytest.raises(ValueError, match=r"images \[N, 8, 8, 1\]"):
        classifier.predict(images[:, :4])


def test_unlabelled_data_is_a_data_error(tmp_path):
    from ganjax.errors import DataError

    path = tmp_path / "unlabelled.npz"
    np.savez(path, x=np.zeros((300, 8, 8), np.uint8))
    config = config_lib.apply_overrides(config_lib.load_config("dcgan_digits"),
                                        {"data.source": f"npz:{path}"})
    with pytest.raises(DataError, match="labelled"):
        dc.load_digit_classifier(config, str(tmp_path / "cache"), steps=1, log=None)


def test_conditional_accuracy_counts_agreement():
    assert conditional_accuracy([0, 1, 2, 3], [0, 1, 2, 3]) == 1.0
    assert conditional_accuracy([0, 1, 1, 3, 4], [0, 1, 2, 3, 0]) == pytest.approx(3 / 5)
    with pytest.raises(ValueError, match="4 entries"):
        conditional_accuracy([0, 1, 2, 3], [0, 1])


def test_code_to_class_accuracy_finds_a_permuted_mapping():
    codes = np.array([0, 0, 1, 1, 2, 2, 2])
    predicted = np.array([2, 2, 0, 0, 1, 1, 0])  # code 0 -> 2, 1 -> 0, 2 -> 1, one mistake
    accuracy, mapping = code_to_class_accuracy(codes, predicted, 3)
    assert accuracy == pytest.approx(6 / 7)
    np.testing.assert_array_equal(mapping, [2, 0, 1])


def test_code_to_class_accuracy_beats_greedy_matching():
    # Counts code x class: code 0 = [3, 2], code 1 = [3, 0]. Greedy (largest cell first, or each
    # code its commonest class) gives code 0 -> class 0 and leaves code 1 class 1: 3 of 8.
    # The best one-to-one matching is 0 -> 1, 1 -> 0: 2 + 3 = 5 of 8.
    codes = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    predicted = np.array([0, 0, 0, 1, 1, 0, 0, 0])
    accuracy, mapping = code_to_class_accuracy(codes, predicted, 2)
    assert accuracy == pytest.approx(5 / 8)
    np.testing.assert_array_equal(mapping, [1, 0])


def test_code_to_class_accuracy_with_more_codes_than_classes():
    accuracy, mapping = code_to_class_accuracy([0, 1, 2, 2], [1, 1, 0, 0], 2)
    assert accuracy == pytest.approx(3 / 4)  # code 2 -> 0 (2 rows), one of codes 0/1 -> 1
    assert mapping[2] == 0 and sorted(mapping[:2].tolist()) == [-1, 1]
    with pytest.raises(ValueError, match="outside 0..1"):
        code_to_class_accuracy([0, 1], [0, 2], 2)


def test_classifier_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 4))
    assert classifier_frechet_distance(features, features) == pytest.approx(0.0, abs=1e-9)
    # Gaussians N(0, I) and N(m, 4 I) in 3 dims: ||m||^2 + 3 (1 + 4 - 2 sqrt(4)) = ||m||^2 + 3.
    m = np.array([1.0, -2.0, 0.5])
    a = rng.normal(size=(4000, 3))
    a = (a - a.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(a, rowvar=False))).T
    b = m + 2.0 * a  # exactly mean m, covariance 4 I (sample statistics made exact)
    assert classifier_frechet_distance(a, b) == pytest.approx(m @ m + 3.0, rel=1e-9)
    c = rng.normal(size=(300, 3)) @ np.diag([1.0, 2.0, 3.0])
    expected = frechet_distance(a.mean(0), np.cov(a, rowvar=False),
                                c.mean(0), np.cov(c, rowvar=False))
    assert classifier_frechet_distance(a, c) == pytest.approx(expected, rel=1e-12)


def test_cli_trains_then_finds_the_classifier(tmp_path, capsys):
    from ganjax.cli import train_classifier

    parser = argparse.ArgumentParser(prog="ganjax")
    train_classifier.add_parser(parser.add_subparsers(dest="command"))
    argv = ["train-classifier", "--config", "dcgan_digits", "--steps", "60", "--seed", "3",
            "--cache_dir", str(tmp_path), "--no_compilation_cache"]
    overrides = {"data.resolution": "8"}
    assert train_classifier.run(parser.parse_args(argv), overrides) == 0
    first = capsys.readouterr().out
    assert "trained and cached" in first and str(tmp_path) in first
    assert "held-out accuracy" in first and "(359 rows of digits, split train)" in first
    assert train_classifier.run(parser.parse_args(argv), overrides) == 0
    second = capsys.readouterr().out
    assert "found in the cache" in second
    line = [x for x in first.splitlines() if "held-out accuracy" in x][0]
    assert line in second.splitlines()
    assert train_classifier.run(parser.parse_args(["train-classifier", "--config", "ring8"]),
                                {}) == 2
    assert "toy distribution" in capsys.readouterr().err
    bad = argv + ["--test_source", "digits"]
    assert train_classifier.run(parser.parse_args(bad), overrides) == 2
    assert "no 'test' split" in capsys.readouterr().err


def test_cli_scores_mnist_test_split_of_another_source(tmp_path, capsys, mnist_dir):
    """Trained on 300 rows of t10k as an npz (seconds), scored on the real t10k IDX split."""
    from ganjax.cli import train_classifier
    from ganjax.data.sources import load_mnist_idx

    test = load_mnist_idx(mnist_dir, "test")
    images, labels = test.get(np.arange(300))
    np.savez(tmp_path / "small.npz", x=images[..., 0], y=labels)
    parser = argparse.ArgumentParser(prog="ganjax")
    train_classifier.add_parser(parser.add_subparsers(dest="command"))
    argv = ["train-classifier", "--config", "dcgan_mnist", "--steps", "20",
            "--cache_dir", str(tmp_path / "cache"), "--no_compilation_cache",
            "--test_source", f"mnist_idx:{mnist_dir}"]
    assert train_classifier.run(parser.parse_args(argv),
                                {"data.source": f"npz:{tmp_path / 'small.npz'}"}) == 0
    out = capsys.readouterr().out
    assert f"10000 rows of mnist_idx:{mnist_dir}, split test" in out
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert 0.2 < accuracy <= 1.0  # 20 steps on 240 rows: better than chance, far from done


def test_training_time_cnn_metrics_score_requested_labels(digits_config):
    # The scored set of a conditional G cycles its labels 0..9; real digits laid out that way
    # must score as conditional (and code-to-class) hits, and the same digits one class off
    # must not. Real digits are far closer to the real set in the CNN's features than noise.
    from ganjax.engine.latent import LatentSpec
    from ganjax.evaluation.reference import reference_set
    from ganjax.evaluation.training_cnn import make_cnn_metrics

    real = reference_set(digits_config, 1000)
    by_class = [real.images[real.labels == k] for k in range(10)]
    n = 10 * min(len(x) for x in by_class)
    ordered = np.stack([by_class[j % 10][j // 10] for j in range(n)])
    shifted = np.stack([by_class[(j + 1) % 10][j // 10] for j in range(n)])
    conditional = make_cnn_metrics(digits_config, LatentSpec(4, num_classes=10))
    hits = conditional(ordered, real)
    assert hits["conditional_accuracy"] > 0.9 and hits["cnn_classes_covered"] == 10
    assert conditional(shifted, real)["conditional_accuracy"] < 0.1
    noise = np.random.default_rng(0).uniform(0, 1, ordered.shape).astype(np.float32)
    assert hits["classifier_fd"] < 0.1 * conditional(noise, real)["classifier_fd"]
    coded = make_cnn_metrics(digits_config, LatentSpec(4, code_categories=(10,)))
    # A permutation of the code's values is still a perfect code: the matching undoes it.
    assert coded(shifted, real)["code_accuracy"] > 0.9
