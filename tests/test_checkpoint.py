"""Checkpoints, exact resume, preemption, damaged checkpoints, config changes, divergence, sampling.

Runs are tiny; every claim is checked on real files, and the preemption test sends a real SIGTERM
to a real `ganjax train` process.
"""

import glob
import json
import os
import signal
import subprocess
import sys

import jax
import numpy as np
import pytest

from ganjax import cli
from ganjax import config as config_lib
from ganjax.run.checkpoint import Checkpointer
from ganjax.run.reopen import load_run
from ganjax.engine.steps import skip_nonfinite
from ganjax.errors import DivergenceError, Interrupted, WorkdirError
from ganjax.run.experiment import build_experiment
from ganjax.run.loop import train

RING = {"train.steps": "200", "train.log_every": "10", "train.eval_every": "200",
        "train.scan_steps": "50", "eval.num_samples": "500"}
DIGITS = {"train.steps": "20", "train.log_every": "5", "train.eval_every": "20",
          "train.scan_steps": "8", "eval.grid_size": "16"}
CASES = {"ring8": ("ring8", RING, 75), "dcgan_digits": ("dcgan_digits:quick", DIGITS, 7)}


def make_config(spec, overrides, **extra):
    return config_lib.apply_overrides(config_lib.load_config(spec),
                                      {**overrides, **{k: str(v) for k, v in extra.items()}})


def run(config, workdir, **kwargs):
    return train(config, str(workdir), tensorboard=False, verbose=False, **kwargs)


def leaves(workdir, step=None):
    return [np.asarray(x) for x in jax.tree.leaves(load_run(str(workdir), step).state)]


def assert_bit_identical(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and np.array_equal(x, y)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One uninterrupted run of each case, shared by the tests that compare against it."""
    runs = {}
    for name, (spec, overrides, _) in CASES.items():
        workdir = tmp_path_factory.mktemp(name) / "full"
        run(make_config(spec, overrides), workdir)
        runs[name] = workdir
    return runs


@pytest.mark.parametrize("name", list(CASES))
def test_interrupted_and_resumed_run_is_bit_identical(tmp_path, finished, name):
    spec, overrides, stop_at = CASES[name]
    config = make_config(spec, overrides)
    with pytest.raises(Interrupted, match=f"at step {stop_at}/"):
        run(config, tmp_path, stop_at=stop_at)
    assert load_run(str(tmp_path)).step == stop_at
    summary = run(config, tmp_path)
    assert summary["resumed_from_step"] == stop_at and summary["step"] == config.train.steps
    assert_bit_identical(leaves(tmp_path), leaves(finished[name]))
    # The log windows cut by the interruption are restored: metrics.jsonl is the same too.
    assert ((tmp_path / "metrics.jsonl").read_text()
            == (finished[name] / "metrics.jsonl").read_text())


def test_checkpoint_holds_state_config_version_and_fingerprint(finished):
    workdir = finished["dcgan_digits"]
    [step] = [int(s) for s in os.listdir(workdir / "checkpoints") if s.isdigit()]
    meta = json.load(open(glob.glob(str(workdir / "checkpoints" / str(step) / "meta" / "*"))[0]))
    assert meta["step"] == step == 20 and meta["ganjax_version"]
    assert meta["config"]["model"]["name"] == "dcgan" and len(meta["fingerprint"]) > 10
    state = load_run(str(workdir)).state
    assert state.ema_params is not None and state.batch_stats["g"]  # EMA and BN stats saved
    assert int(state.step) == 20


def test_keeps_the_newest_n_and_every_mth(tmp_path):
    config = make_config("ring8", RING, **{"train.checkpoint_every": 25, "train.keep_checkpoints": 2,
                                           "train.keep_checkpoint_every": 100})
    run(config, tmp_path)
    assert Checkpointer(str(tmp_path)).steps() == [100, 175, 200]


def test_sigterm_checkpoints_and_the_resumed_run_matches(tmp_path):
    args = [sys.executable, "-m", "ganjax.cli", "train", "--config", "ring8",
            "--no_compilation_cache", "--config.train.steps=3000", "--config.train.log_every=50",
            "--config.train.eval_every=3000", "--config.train.scan_steps=50",
            "--config.eval.num_samples=500"]
    full = subprocess.run(args + ["--workdir", str(tmp_path / "full")], capture_output=True,
                          text=True, timeout=600)
    assert full.returncode == 0, full.stderr

    workdir = tmp_path / "killed"
    process = subprocess.Popen(args + ["--workdir", str(workdir)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("step"):  # training has started: interrupt it mid-run
            process.send_signal(signal.SIGTERM)
            break
    out, err = process.communicate(timeout=300)
    assert process.returncode == cli.EXIT_INTERRUPTED, err
    [message] = [line for line in err.splitlines() if "interrupted" in line]
    assert "stopped by SIGTERM at step" in message and "run the same command" in message
    stopped_at = load_run(str(workdir)).step
    assert 0 < stopped_at < 3000

    resumed = subprocess.run(args + ["--workdir", str(workdir)], capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from the checkpoint of step {stopped_at}" in resumed.stdout
    assert_bit_identical(leaves(workdir), leaves(tmp_path / "full"))


def _damage(step_dir, how):
    files = [f for f in glob.glob(os.path.join(step_dir, "state", "**", "d", "*"), recursive=True)
             if os.path.getsize(f) > 64]
    assert files
    for path in files:
        if how == "truncate":
            with open(path, "r+b") as f:
                f.truncate(os.path.getsize(path) // 2)
        else:  # flip one byte near the end of each data file
            with open(path, "r+b") as f:
                f.seek(-20, os.SEEK_END)
                byte = f.read(1)
                f.seek(-20, os.SEEK_END)
                f.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_damaged_latest_checkpoint_falls_back_and_loses_nothing(tmp_path, finished, how, capsys):
    config = make_config("ring8", RING, **{"train.checkpoint_every": 50})
    with pytest.raises(Interrupted):
        run(config, tmp_path, stop_at=150)
    damaged = tmp_path / "checkpoints" / "150"
    _damage(str(damaged), how)
    size_before = sum(os.path.getsize(f) for f in glob.glob(f"{damaged}/**", recursive=True))

    capsys.readouterr()
    train(config, str(tmp_path), tensorboard=False)
    out = capsys.readouterr().out
    assert "checkpoint 150 is damaged" in out and "resuming from the checkpoint of step 100" in out
    [moved] = glob.glob(str(tmp_path / "damaged_checkpoints" / "150-*"))
    assert sum(os.path.getsize(f) for f in glob.glob(f"{moved}/**", recursive=True)) == size_before
    assert_bit_identical(leaves(tmp_path), leaves(finished["ring8"]))


def test_resume_refuses_model_changes_and_allows_longer_runs(tmp_path):
    config = make_config("ring8", RING)
    with pytest.raises(Interrupted):
        run(config, tmp_path, stop_at=50)
    changed = make_config("ring8", RING, **{"model.g_hidden": "64,64", "loss.name": "hinge"})
    with pytest.raises(config_lib.ConfigError) as error:
        run(changed, tmp_path)
    message = str(error.value)
    assert "model.g_hidden: [128, 128] -> [64, 64]" in message and "loss.name" in message
    longer = make_config("ring8", RING, **{"train.steps": 250, "eval.num_samples": 300})
    assert run(longer, tmp_path)["step"] == 250


def test_no_resume_refuses_and_overwrite_moves_the_old_run_aside(tmp_path):
    workdir = tmp_path / "run"
    config = make_config("ring8", RING, **{"train.steps": 50})
    run(config, workdir)
    before = (workdir / "metrics.jsonl").read_text()
    no_resume = make_config("ring8", RING, **{"train.steps": 50, "train.resume": False})
    with pytest.raises(WorkdirError, match="--overwrite"):
        run(no_resume, workdir)
    run(no_resume, workdir, overwrite=True)
    [old] = glob.glob(str(tmp_path / "run.replaced-*"))
    assert open(os.path.join(old, "metrics.jsonl")).read() == before
    assert Checkpointer(old).steps() == [50]


def test_divergence_names_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    # SGD with a learning rate warming up to 3 blows up a few steps after the checkpoint at 20.
    config = make_config("ring8:vanilla", RING, **{
        "train.steps": 400, "train.checkpoint_every": 20, "train.scan_steps": 10,
        "optim.name": "sgd", "optim.g_lr": 3.0, "optim.d_lr": 3.0, "optim.warmup_steps": 200,
        "optim.g_schedule": "warmup_cosine", "optim.d_schedule": "warmup_cosine"})
    with pytest.raises(DivergenceError) as error:
        run(config, tmp_path)
    message = str(error.value)
    assert "training diverged at step" in message and "NaN/Inf" in message
    good = int(message.split("last good checkpoint: step ")[1].split()[0])
    diverged = int(message.split("diverged at step ")[1].split(":")[0])
    assert 0 < good < diverged
    state = load_run(str(tmp_path)).state
    assert int(state.step) == good
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(state.params["g"]))


def test_skip_policy_undoes_a_non_finite_update():
    config = make_config("ring8", RING, **{"train.nan_policy": "skip"})
    experiment = build_experiment(config)
    step = jax.jit(skip_nonfinite(experiment.algorithm.step))
    state = experiment.state
    good = {"x": jax.random.normal(jax.random.PRNGKey(0), (1, 64, 2))}
    bad = {"x": good["x"].at[0, 3, 1].set(np.nan)}
    skipped_state, metrics = step(state, bad)
    assert float(metrics["skipped"]) == 1.0
    assert int(skipped_state.step) == int(state.step) + 1
    assert_bit_identical([np.asarray(x) for x in jax.tree.leaves(skipped_state.params["g"])],
                         [np.asarray(x) for x in jax.tree.leaves(state.params["g"])])
    new_state, metrics = step(state, good)
    assert float(metrics["skipped"]) == 0.0
    assert not np.array_equal(np.asarray(new_state.params["g"]["Dense_0"]["kernel"]),
                              np.asarray(state.params["g"]["Dense_0"]["kernel"]))


def test_sample_writes_npy_and_png(tmp_path, finished):
    digits = str(finished["dcgan_digits"])
    out = tmp_path / "digits.npy"
    assert cli.main(["sample", "--workdir", digits, "--num", "10", "--seed", "3", "--out",
                     str(out), "--no_compilation_cache"]) == 0
    samples = np.load(out)
    assert samples.shape == (10, 8, 8, 1) and samples.dtype == np.float32
    assert 0 <= samples.min() and samples.max() <= 1 and samples.std() > 0.01
    again = tmp_path / "again.npy"
    assert cli.main(["sample", "--workdir", digits, "--num", "10", "--seed", "3", "--out",
                     str(again)]) == 0
    assert np.array_equal(np.load(again), samples)
    raw = tmp_path / "raw.npy"
    assert cli.main(["sample", "--workdir", digits, "--num", "10", "--seed", "3", "--out",
                     str(raw), "--raw_generator"]) == 0
    assert not np.array_equal(np.load(raw), samples)  # EMA by default, the raw G on request

    ring = tmp_path / "ring.png"
    assert cli.main(["sample", "--workdir", str(finished["ring8"]), "--num", "500", "--out",
                     str(ring)]) == 0
    assert ring.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sample_errors_are_one_clear_line(tmp_path, finished):
    result = subprocess.run([sys.executable, "-m", "ganjax.cli", "sample", "--workdir",
                             str(tmp_path / "nothing"), "--out", str(tmp_path / "x.npy")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == cli.EXIT_CHECKPOINT
    assert "holds no run (no config.json)" in result.stderr and "Traceback" not in result.stderr
    assert cli.main(["sample", "--workdir", str(finished["ring8"]), "--step", "7",
                     "--out", str(tmp_path / "x.npy")]) == cli.EXIT_CHECKPOINT
    assert cli.main(["sample", "--workdir", str(finished["ring8"]),
                     "--out", str(tmp_path / "x.jpg")]) == cli.EXIT_CONFIG_ERROR
