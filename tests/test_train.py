"""End-to-end runs of `ganjax train` on tiny budgets: outputs, determinism, failures."""

import glob
import json
import os
import subprocess
import sys

import pytest

from ganjax import cli

TINY = ["--config.train.steps=200", "--config.train.log_every=50", "--config.train.eval_every=100",
        "--config.train.batch_size=64", "--config.eval.num_samples=500", "--no_compilation_cache"]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "ganjax.cli", *args], capture_output=True,
                          text=True, timeout=300)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_train_writes_every_output(tmp_path, capsys):
    workdir = str(tmp_path / "run")
    assert cli.main(["train", "--config", "ring8", "--workdir", workdir, *TINY]) == 0
    out = capsys.readouterr().out
    assert "step 100/200" in out and "steps/s" in out and "ETA" in out and "d_loss" in out
    assert f"results in {workdir}" in out.splitlines()[0]  # the banner, after the checks
    assert f"look at {os.path.abspath(workdir)}/figures/final.png first" in out
    assert f"numbers in {os.path.abspath(workdir)}: summary.json" in out

    config = json.load(open(os.path.join(workdir, "config.json")))
    assert config["train"]["steps"] == 200 and config["data"]["source"] == "ring"
    records = read_jsonl(os.path.join(workdir, "metrics.jsonl"))
    train_steps = [r["step"] for r in records if "train/d_loss" in r]
    eval_steps = [r["step"] for r in records if "eval/modes" in r]
    assert train_steps == [50, 100, 150, 200] and eval_steps == [100, 200]
    assert {"train/g_loss", "train/d_penalty", "train/d_real_logit", "train/d_lr",
            "train/g_lr"} <= set(records[0])
    # ring8 decays both learning rates linearly to 0 over train.steps: logged as they fall.
    lrs = [r["train/g_lr"] for r in records if "train/g_lr" in r]
    assert all(a > b for a, b in zip(lrs, lrs[1:])) and lrs[0] < config["optim"]["g_lr"]
    assert {"eval/hq_fraction", "eval/mode_kl", "eval/d_on_data", "eval/spread_ratio",
            "eval/mixture_mmd", "eval/mixture_mmd_perfect"} <= set(records[-1])
    summary = json.load(open(os.path.join(workdir, "summary.json")))
    assert summary["step"] == 200 and summary["eval/modes"] == records[-1]["eval/modes"]
    assert glob.glob(os.path.join(workdir, "tensorboard", "events.out.tfevents.*"))
    figures = os.listdir(os.path.join(workdir, "figures"))
    assert {"step_0000100.png", "step_0000200.png", "final.png", "curves.png"} <= set(figures)


def test_same_config_and_seed_give_identical_numbers(tmp_path):
    for name in ("a", "b"):
        assert cli.main(["train", "--config", "gaussian_1d", "--workdir", str(tmp_path / name),
                         *TINY]) == 0
    a = read_jsonl(tmp_path / "a" / "metrics.jsonl")
    b = read_jsonl(tmp_path / "b" / "metrics.jsonl")
    assert a == b
    assert cli.main(["train", "--config", "gaussian_1d", "--workdir", str(tmp_path / "c"),
                     "--config.seed=1", *TINY]) == 0
    assert read_jsonl(tmp_path / "c" / "metrics.jsonl") != a


def test_gaussian_eval_reports_moments_and_d_on_data(tmp_path):
    workdir = tmp_path / "g"
    assert cli.main(["train", "--config", "gaussian_1d:moments", "--workdir", str(workdir),
                     *TINY]) == 0
    summary = json.load(open(workdir / "summary.json"))
    assert {"eval/mean", "eval/std", "eval/d_on_data"} <= set(summary)


def test_existing_run_is_never_overwritten(tmp_path):
    workdir = tmp_path / "run"
    assert cli.main(["train", "--workdir", str(workdir), *TINY]) == 0
    before = (workdir / "metrics.jsonl").read_text()
    # The same command again finds the finished run's checkpoint: nothing is trained or lost.
    again = run_cli("train", "--workdir", str(workdir), *TINY)
    assert again.returncode == 0 and "already complete (200 steps)" in again.stdout
    assert (workdir / "metrics.jsonl").read_text() == before
    # Files without a checkpoint to resume from are refused.
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    result = run_cli("train", "--workdir", str(other), *TINY)
    assert result.returncode == cli.EXIT_WORKDIR
    assert "no checkpoint to resume from" in result.stderr and "Traceback" not in result.stderr
    assert (other / "notes.txt").read_text() == "mine"


def test_divergence_stops_with_a_clear_error(tmp_path):
    result = run_cli("train", "--workdir", str(tmp_path / "nan"), *TINY,
                     "--config.optim.name=sgd", "--config.optim.d_lr=1e30",
                     "--config.optim.g_lr=1e30")
    assert result.returncode == cli.EXIT_DIVERGED, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("ganjax: error: training diverged at step 1: ")
    assert "NaN/Inf" in line and "Traceback" not in result.stderr


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0 and "train" in result.stdout


def test_unknown_argument_is_refused():
    result = run_cli("train", "--steps=5")
    assert result.returncode == 2 and "unrecognized argument '--steps=5'" in result.stderr


@pytest.mark.parametrize("variant", ["samples", "moments"])
def test_gaussian_1d_recovers_the_target(tmp_path, variant):
    # The seed's toy, full default budget, seed 0: N(4, 1.5^2) within 0.15 in mean and std, and
    # for the per-sample D, D(x) near 1/2 on the data (Goodfellow et al. 2014, Prop. 1).
    workdir = tmp_path / variant
    assert cli.main(["train", "--config", f"gaussian_1d:{variant}", "--workdir", str(workdir),
                     "--no_compilation_cache"]) == 0
    summary = json.load(open(workdir / "summary.json"))
    assert abs(summary["eval/mean"] - 4.0) < 0.15
    assert abs(summary["eval/std"] - 1.5) < 0.15
    if variant == "samples":
        assert abs(summary["eval/d_on_data"] - 0.5) < 0.1


def test_ring8_default_captures_every_mode(tmp_path):
    # The embedded default job (`ganjax train`), full budget, seed 0.
    assert cli.main(["train", "--workdir", str(tmp_path / "r"), "--no_compilation_cache"]) == 0
    summary = json.load(open(tmp_path / "r" / "summary.json"))
    assert summary["eval/modes"] == 8 and summary["eval/hq_fraction"] >= 0.9
