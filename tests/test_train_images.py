"""End-to-end image runs on tiny budgets: embedded digits, offline MNIST files, mocked TFDS."""

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from ganjax import cli

FAST = ["--no_compilation_cache", "--config.train.steps=20", "--config.train.scan_steps=10",
        "--config.train.log_every=10", "--config.train.eval_every=20",
        "--config.eval.grid_size=16", "--config.model.width=8"]


def train(config, workdir, *overrides):
    assert cli.main(["train", "--config", config, "--workdir", str(workdir), *FAST,
                     *overrides]) == 0
    return json.load(open(workdir / "summary.json"))


def test_digits_run_writes_a_sample_grid(tmp_path):
    summary = train("dcgan_digits", tmp_path / "d")
    assert 0 <= summary["eval/d_on_data"] <= 1 and 0 <= summary["eval/d_on_samples"] <= 1
    grid = np.asarray(Image.open(tmp_path / "d" / "figures" / "step_0000020.png"))
    assert grid.ndim == 3 and grid.std() > 0  # a drawn image, not a blank canvas
    records = [json.loads(line) for line in open(tmp_path / "d" / "metrics.jsonl")]
    assert [r["step"] for r in records if "train/d_loss" in r] == [10, 20]


def test_mnist_from_offline_npz_and_idx_files(tmp_path, mnist_dir):
    npz = train("dcgan_mnist", tmp_path / "npz",
                f"--config.data.source=npz:{mnist_dir / 'train-first10k.npz'}")
    idx = train("dcgan_mnist", tmp_path / "idx", f"--config.data.source=mnist_idx:{mnist_dir}",
                "--config.data.split=test")
    assert npz["step"] == idx["step"] == 20


def test_mnist_through_mocked_tfds(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=128):
        summary = train("dcgan_mnist", tmp_path / "tfds")
    assert summary["step"] == 20


def test_same_seed_gives_identical_image_runs(tmp_path):
    train("dcgan_digits", tmp_path / "a")
    train("dcgan_digits", tmp_path / "b")
    read = lambda name: open(tmp_path / name / "metrics.jsonl").read()  # noqa: E731
    assert read("a") == read("b")


def test_missing_dataset_fails_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ganjax.cli", "train", "--config", "dcgan_mnist", "--workdir",
         str(tmp_path / "w"), "--config.data.source=mnist_idx:" + str(tmp_path / "nowhere")],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == cli.EXIT_CONFIG_ERROR
    assert result.stderr.strip().splitlines()[-1] == (
        f"ganjax: data error: data.source=mnist_idx:{tmp_path / 'nowhere'}: dataset "
        f"'mnist_idx:{tmp_path / 'nowhere'}': {tmp_path / 'nowhere'} does not exist")
    assert "Traceback" not in result.stderr
