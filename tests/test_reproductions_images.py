"""The image reproductions of issue 14: six losses on digits (lucic2018_losses), Stacked MNIST
(pacgan2018_stacked_mnist) and GAN data augmentation (gan_augmentation).

Each runs with --quick and one seed on the offline MNIST subset; its report's numbers are
checked against what they were computed from (the sweep points' summaries, the cached channel
labels recounted, the accuracies refitted by hand). The Stacked-MNIST builder, the mode count
and KL, the winner rule and the labelled split are checked on hand-made inputs.
"""

from __future__ import annotations

import json
import math
import os
import pathlib

import numpy as np
import pytest

from ganjax.experiments.reproductions import gan_augmentation as aug
from ganjax.experiments.reproductions import lucic2018_losses as lucic
from ganjax.experiments.reproductions import pacgan2018_stacked_mnist as pac
from ganjax.reproduce.runner import reproduce

REPO = pathlib.Path(__file__).resolve().parent.parent
MNIST = pathlib.Path(os.environ.get("GANJAX_MNIST_DIR", REPO.parent / "shared/data/mnist"))
NPZ = MNIST / "train-first10k.npz"
needs_mnist = pytest.mark.skipif(not NPZ.exists(), reason=f"no {NPZ} (set GANJAX_MNIST_DIR)")


def quick(name: str, workdir: pathlib.Path) -> dict:
    """Runs reproduction `name` with --quick and one seed; its results.json, after checking
    that the report and every figure it names exist."""
    reproduce(name, workdir=str(workdir), quick=True, seeds=1, log=lambda line: None,
              mnist=f"npz:{NPZ}")
    assert (workdir / "report.md").is_file()
    results = json.loads((workdir / "results.json").read_text())
    assert results["figures"]
    for figure in results["figures"]:
        assert (workdir / figure["path"]).is_file(), figure
    return results


def rows_of(results: dict, table: str) -> dict[str, dict]:
    return {c["row"] + " | " + c["metric"]: c for c in results["comparisons"]
            if c["table"].startswith(table)}


# -- Stacked MNIST ------------------------------------------------------------------------------

def test_stacked_digits_are_three_independent_digits_labelled_100a_10b_c():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 4, 4), dtype=np.uint8)
    labels = rng.integers(0, 10, 50)
    x, y, rows = pac.stack_digits(images, labels, 300, seed=3)
    assert x.shape == (300, 4, 4, 3) and x.dtype == np.uint8 and rows.shape == (300, 3)
    for k in range(3):
        np.testing.assert_array_equal(x[..., k], images[rows[:, k]])
    np.testing.assert_array_equal(
        y, 100 * labels[rows[:, 0]] + 10 * labels[rows[:, 1]] + labels[rows[:, 2]])
    again = pac.stack_digits(images[..., None], labels, 300, seed=3)  # [N, H, W, 1] alike
    np.testing.assert_array_equal(again[0], x)
    assert len({tuple(r) for r in rows}) > 290  # channels drawn independently, not one digit


def test_mode_count_and_kl_by_hand():
    stats = pac.mode_stats([0, 0, 1, 999])  # histogram (1/2, 1/4, 1/4) on 3 of 1,000 modes
    assert stats["modes"] == 3
    assert stats["kl"] == pytest.approx(0.5 * math.log(500) + 2 * 0.25 * math.log(250))
    assert pac.mode_stats(range(1000)) == {"modes": 1000, "kl": pytest.approx(0.0, abs=1e-12)}
    assert pac.mode_stats([7] * 5)["kl"] == pytest.approx(math.log(1000))

    class ByBrightness:  # a stand-in classifier: the digit is the channel's mean x 10
        def predict(self, images):
            return np.minimum((images.mean(axis=(1, 2, 3)) * 10).astype(np.int64), 9)

    images = np.zeros((2, 3, 3, 3), np.float32)
    images[0, ..., 0], images[0, ..., 2], images[1, ..., 1] = 0.45, 0.95, 0.25
    np.testing.assert_array_equal(pac.channel_triples(ByBrightness(), images), [409, 20])


def test_packing_findings_judge_each_packed_network_seed_by_seed():
    dcgan = [{"modes": 930, "kl": 0.60}, {"modes": 920, "kl": 0.70}, {"modes": 940, "kl": 0.65}]
    stats = {"dcgan": dcgan,
             "pacdcgan2": [{"modes": m["modes"] + 10 + i, "kl": m["kl"]} for i, m in
                           enumerate(dcgan)],
             "pacdcgan2_b128": [{"modes": 900, "kl": 0.9}]}
    text = pac.packing_findings(stats)
    assert "PacDCGAN2, 32 pairs a step: modes 11 +- 0.58 (n=3), up beyond 2 sem; KL 0 " in text
    assert "KL 0 +- 0 (n=3), within the seed spread" in text
    assert "PacDCGAN2, 64 pairs a step: modes -30, one seed: no spread to judge by" in text


@needs_mnist
def test_stacked_mnist_quick_reports_the_recounted_modes(tmp_path):
    results = quick("pacgan2018_stacked_mnist", tmp_path)
    numbers = results["numbers"]
    modes = json.loads((tmp_path / "cache" / "modes_dcgan_seed0.json").read_text())
    real = json.loads((tmp_path / "cache" / "modes_real.json").read_text())
    assert len(modes) == len(real) == pac.QUICK_SAMPLES
    assert numbers["dcgan/modes"] == [len(set(modes))] == [numbers["modes/dcgan_seed0"]]
    p = np.bincount(modes, minlength=1000) / len(modes)
    assert numbers["dcgan/kl"][0] == pytest.approx(
        float(np.sum(p[p > 0] * np.log(p[p > 0] * 1000))))
    packed = json.loads((tmp_path / "cache" / "modes_pacdcgan2_seed0.json").read_text())
    assert numbers["pacdcgan2/modes"] == [len(set(packed))]
    config = json.loads((tmp_path / "runs" / "pacdcgan2_seed0" / "config.json").read_text())
    assert config["model"]["d_group"] == 2
    assert numbers["real"]["modes"] == len(set(real))
    table = rows_of(results, "Stacked MNIST: modes")
    for model, _, batch, name in pac.MODELS:
        assert table[f"ganjax {name} (width 32, {pac.QUICK_STEPS} steps) | modes"]["values"] \
            == numbers[f"{model}/modes"]
        config = json.loads((tmp_path / "runs" / f"{model}_seed0" / "config.json").read_text())
        assert config["train"]["batch_size"] == batch
    assert table["real Stacked MNIST (this classifier) | KL"]["values"] == [
        pytest.approx(numbers["real"]["kl"])]
    with np.load(tmp_path / "data" / "stacked_mnist.npz") as stacked, np.load(NPZ) as mnist:
        digits = mnist["y"].astype(np.int64)[stacked["rows"]]
        np.testing.assert_array_equal(stacked["y"], digits @ np.array([100, 10, 1]))
        np.testing.assert_array_equal(stacked["x"][..., 1], mnist["x"][stacked["rows"][:, 1]])
        assert len(stacked["y"]) == pac.QUICK_STACKS
    assert "model.d_group = 2" in " ".join(results["texts"])  # says what PacDCGAN2 is


# -- six losses ----------------------------------------------------------------------------------

def test_the_winner_rule_needs_intervals_apart():
    apart = {"a": [1.0, 1.1, 1.2], "b": [5.0, 5.1, 5.2], "c": [3.0, 3.2, 3.1]}
    assert lucic.clear_winner(apart)[:2] == ("wins", "a")
    close = {"a": [1.0, 2.0, 3.0], "b": [2.0, 3.0, 4.0], "c": [9.0, 9.1, 9.2]}
    verdict, winner, why = lucic.clear_winner(close)
    assert (verdict, winner) == ("no winner", None) and why.endswith("with b")
    assert lucic.clear_winner({"a": [1.0], "b": [2.0]})[0] == "undecided"
    rows = [{"seed": s, "status": "finished", "optim.g_lr": lr, "classifier_fd": fd}
            for s, lr, fd in ((1, 1e-4, 5.0), (0, 1e-4, 7.0), (0, 1e-3, 4.0), (1, 1e-3, 9.0))]
    rows.append({"seed": 2, "status": "diverged", "optim.g_lr": 1e-3})
    assert lucic.best_lr(rows, (1e-4, 1e-3)) == (1e-4, [7.0, 5.0])  # mean 6 < 6.5, seed order


@needs_mnist
def test_six_losses_quick_reports_every_sweep_point(tmp_path):
    results = quick("lucic2018_losses", tmp_path)
    numbers = results["numbers"]
    table = rows_of(results, "Best-learning-rate")
    assert len(table) == len(lucic.LOSSES) == 6
    for name, overrides in lucic.LOSSES:
        point_dir = tmp_path / "sweeps" / f"loss_{lucic.slug(name)}" / "points"
        (point,) = list(point_dir.iterdir())  # one learning rate, one seed
        summary = json.loads((point / "summary.json").read_text())
        config = json.loads((point / "config.json").read_text())
        assert config["loss"]["name"] == overrides["loss.name"]
        assert config["model"]["d_batch_norm"] is False  # one architecture for every loss
        assert numbers[f"fd/{name}/every_point"] == [summary["eval/classifier_fd"]]
        assert numbers[f"fd/{name}/best_lr"] == [summary["eval/classifier_fd"]]
    assert numbers["verdict"] == "undecided"  # one seed: no spread to judge a winner by
    assert any(t.startswith("**Ours:** undecided") for t in results["texts"])
    paper = next(t for t in results["tables"] if t["title"].startswith("Lucic et al. 2018"))
    assert ["NS GAN", "6.8", "26.5", "58.5", "55.0"] in paper["rows"]


# -- augmentation --------------------------------------------------------------------------------

def test_labelled_split_is_stratified_and_disjoint():
    labels = np.repeat(np.arange(10), 40)
    train, test = aug.labelled_split(labels, 7, seed=5)
    assert np.bincount(labels[train]).tolist() == [7] * 10
    assert not set(train) & set(test) and len(train) + len(test) == len(labels)
    np.testing.assert_array_equal(aug.labelled_split(labels, 7, seed=5)[0], train)


@needs_mnist
def test_augmentation_quick_reports_b_minus_a(tmp_path):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    results = quick("gan_augmentation", tmp_path)
    numbers = results["numbers"]
    for r in aug.RATIOS:
        b, a = numbers[f"accuracy/real + {r}x generated"], numbers["accuracy/real only"]
        assert numbers[f"difference/{r}x"] == [pytest.approx(b[0] - a[0], abs=1e-12)]
    with np.load(tmp_path / "data" / "labelled_seed0.npz") as npz:
        rows = npz["rows"]
        assert len(rows) == 10 * aug.PER_CLASS
    digits = load_digits()  # (a) refitted by hand on the rows the CGAN trained on
    x = np.round(digits.images * (255 / 16)).reshape(len(digits.target), -1) / 255.0
    test = np.setdiff1d(np.arange(len(x)), rows)
    model = LogisticRegression(C=1.0, max_iter=500).fit(x[rows], digits.target[rows])
    by_hand = float(np.mean(model.predict(x[test]) == digits.target[test]))
    assert numbers["accuracy/real only"] == [pytest.approx(by_hand, abs=2 / len(test))]
    assert any(t.startswith("**Measured:**") for t in results["texts"])
