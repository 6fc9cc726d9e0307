"""Sweeps: points from code and flags, grouping, a vectorized group against lone runs, exact
resume, skipping finished points, a diverged replica, the tables, and the launchers."""

from __future__ import annotations

import csv
import json
import math
import os
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

from ganjax.cli import main
from ganjax.errors import ConfigError, Interrupted, WorkdirError
from ganjax.run.experiment import build_experiment
from ganjax.run.reopen import load_run
from ganjax.run.session import Session
from ganjax.config import sweep_space as space
from ganjax.sweep import driver
from ganjax.sweep.grouping import group_points
from ganjax.sweep.points import build_points

# A tiny ring8: 2x16 MLPs, batch 64, 30 steps, so that a group compiles in seconds.
TINY = {"model.g_hidden": "(16, 16)", "model.d_hidden": "(16, 16)", "train.batch_size": "64",
        "train.steps": "30", "train.scan_steps": "10", "train.log_every": "10",
        "train.eval_every": "30", "eval.num_samples": "500", "optim.g_schedule": "constant",
        "optim.d_schedule": "constant"}
TINY_1D = {**{k: v for k, v in TINY.items() if not k.startswith("optim.")},
           "eval.num_samples": "2000"}
# Replica vs lone run: the same ops on the same numbers, but vmapped matmuls may sum in another
# order (XLA's batched kernels), ~1e-7 relative per step. GAN training amplifies differences
# (two players chase each other): measured here on ring8 they grow from 1e-7 at step 100 to 1e-2
# at step 400. So the equivalence is checked over 30 steps, where 1e-4 holds with a wide margin
# and any real difference (another batch, key or learning rate) is off by 1e-2 or more.
RTOL, ATOL = 1e-4, 1e-5


# --- points ----------------------------------------------------------------------------------

def test_flags_and_helpers_build_the_same_points():
    flags = space.from_flags(["optim.d_lr=1e-4,3e-4", "seed=0:3"])
    code = space.product(space.values("optim.d_lr", [1e-4, 3e-4]), space.seeds(3))
    assert flags == code and len(flags) == 6
    assert flags[1] == {"optim.d_lr": 1e-4, "seed": 1}  # the last axis varies fastest
    assert [p["optim.g_lr"] for p in space.parse_axis("optim.g_lr=log:1e-4:1e-2:3")] == \
        pytest.approx([1e-4, 1e-3, 1e-2])
    zipped = space.parse_axis("optim.g_lr=1e-4,1e-3;optim.d_lr=4e-4,4e-3")
    assert zipped == [{"optim.g_lr": 1e-4, "optim.d_lr": 4e-4},
                      {"optim.g_lr": 1e-3, "optim.d_lr": 4e-3}]
    assert space.parse_axis("model.g_hidden=[(8,), (8, 8)]") == [
        {"model.g_hidden": (8,)}, {"model.g_hidden": (8, 8)}]
    draws = space.log_uniform("optim.g_lr", 1e-4, 1e-2, 50, seed=3)
    assert draws == space.log_uniform("optim.g_lr", 1e-4, 1e-2, 50, seed=3)
    assert all(1e-4 <= p["optim.g_lr"] <= 1e-2 for p in draws)


def test_an_experiment_file_defines_its_sweep_beside_its_config():
    points = driver.define_points("gaussian_1d", {}, [])
    assert len(points) == 12 and points[:2] == [{"optim.g_lr": 3e-4, "seed": 0},
                                                {"optim.g_lr": 3e-4, "seed": 1}]
    assert driver.define_points("gaussian_1d", {}, ["seed=0:2"]) == [{"seed": 0}, {"seed": 1}]
    with pytest.raises(ConfigError, match="defines no get_sweep"):
        driver.define_points("grid25", {}, [])


@pytest.mark.parametrize("flag", ["seed", "seed=", "seed=0:x", "optim.g_lr=log:0:1:3"])
def test_malformed_sweep_flags_fail_with_one_line(flag):
    with pytest.raises(ConfigError, match="--sweep|log scale"):
        space.from_flags([flag])


def test_an_invalid_point_fails_before_anything_runs_naming_the_point_and_key(tmp_path):
    with pytest.raises(ConfigError, match=r"sweep point 2 \(optim.d_lr=-1.0\).*optim.d_lr"):
        driver.plan("ring8", {}, ["optim.d_lr=1e-3,3e-3,-1.0"], str(tmp_path / "w"))
    with pytest.raises(ConfigError, match="sweep point 0.*optim.dlr"):
        driver.plan("ring8", {}, ["optim.dlr=1e-3"], str(tmp_path / "w"))
    with pytest.raises(ConfigError, match="both overridden"):
        driver.plan("ring8", {"seed": "3"}, ["seed=0:2"], str(tmp_path / "w"))
    assert not (tmp_path / "w").exists()  # nothing written that would block the fixed command


def test_seeds_and_state_hyperparameters_share_a_group_structure_does_not():
    overrides = space.product(space.values("train.batch_size", [32, 64]),
                              space.values("optim.d_lr", [1e-3, 3e-3]), space.seeds(2))
    points = build_points("ring8", TINY, overrides)
    groups = group_points(points)
    assert groups == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert group_points(points, vectorize=False) == [[i] for i in range(8)]
    assert group_points(points, max_replicas=3) == [[0, 1, 2], [3], [4, 5, 6], [7]]
    ema = build_points("ring8", TINY, space.values("optim.ema_decay", [0.0, 0.99, 0.999]))
    assert group_points(ema) == [[0], [1, 2]]  # EMA off is another program


# --- a vectorized group equals its lone runs ----------------------------------------------------

def _params(workdir):
    return load_run(str(workdir)).state


def _assert_states_close(a, b):
    for x, y in zip(jax.tree.leaves((a.params, a.opt_state, a.hparams)),
                    jax.tree.leaves((b.params, b.opt_state, b.hparams))):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=RTOL, atol=ATOL)


def _lone_state(config):
    """The lone run of a config: `ganjax train`'s session (its hooks only log and save;
    test_checkpoint shows they do not change the numbers), without its files."""
    session = Session(build_experiment(config))
    session.run(config.train.steps)
    return jax.device_get(session.state)


def test_each_replica_equals_its_lone_run(tmp_path):
    """A group of 3 gaussian_1d points that differ in seed, both learning rates and the R1
    weight at once; each replica against its lone run."""
    axis = ("seed=0,1,2;optim.g_lr=1e-4,3e-4,1e-3;optim.d_lr=1e-3,3e-4,1e-4;"
            "penalty.weight=0.1,1.0,10.0")
    plan = driver.plan("gaussian_1d", TINY_1D, [axis], str(tmp_path / "sweep"))
    assert plan.groups == [[0, 1, 2]]
    driver.run_groups(plan, log=lambda m: None)
    states = []
    for point in plan.points:
        swept = _params(point.workdir(plan.workdir))
        alone = _lone_state(point.config)
        assert int(swept.step) == int(alone.step) == 30
        _assert_states_close(swept, alone)
        for key, value in point.overrides.items():  # each replica has its own values
            if key != "seed":
                assert float(swept.hparams[key]) == pytest.approx(value)
        states.append(np.asarray(jax.tree.leaves(swept.params)[0]))
    assert all(not np.allclose(states[0], s, rtol=1e-3) for s in states[1:])


def test_a_sweep_resumes_exactly_and_skips_finished_points(tmp_path, capsys):
    axes = ["seed=0:2"]
    whole = driver.plan("ring8", TINY, axes, str(tmp_path / "whole"))
    driver.run_groups(whole, log=lambda m: None)
    cut = driver.plan("ring8", TINY, axes, str(tmp_path / "cut"))
    with pytest.raises(Interrupted, match="step 20/30"):
        driver.run_groups(cut, log=lambda m: None, stop_at=20)
    assert all(not os.path.exists(os.path.join(p.workdir(cut.workdir), "summary.json"))
               for p in cut.points)
    driver.run_groups(driver.plan("ring8", TINY, axes, str(tmp_path / "cut")), log=print)
    assert "resuming 2 points from step 20" in capsys.readouterr().out
    for a, b in zip(whole.points, cut.points):
        x, y = _params(a.workdir(whole.workdir)), _params(b.workdir(cut.workdir))
        for u, v in zip(jax.tree.leaves(x), jax.tree.leaves(y)):
            np.testing.assert_array_equal(np.asarray(u), np.asarray(v))  # bit-identical
        assert (pathlib.Path(a.workdir(whole.workdir), "metrics.jsonl").read_text()
                == pathlib.Path(b.workdir(cut.workdir), "metrics.jsonl").read_text())
    summary = pathlib.Path(cut.points[0].workdir(cut.workdir), "summary.json")
    before = summary.stat().st_mtime_ns
    driver.run_groups(driver.plan("ring8", TINY, axes, str(tmp_path / "cut")), log=print)
    assert "every point is done; skipped" in capsys.readouterr().out
    assert summary.stat().st_mtime_ns == before


def test_a_group_killed_after_its_last_checkpoint_is_evaluated_on_rerun(tmp_path):
    plan = driver.plan("ring8", TINY, ["seed=0:2"], str(tmp_path / "w"))
    driver.run_groups(plan, log=lambda m: None)
    summaries = [pathlib.Path(p.workdir(plan.workdir), "summary.json") for p in plan.points]
    before = [json.loads(f.read_text()) for f in summaries]
    for f in summaries:  # as if killed between the final checkpoint and summary.json
        f.unlink()
    driver.run_groups(driver.plan("ring8", TINY, ["seed=0:2"], str(tmp_path / "w")),
                      log=lambda m: None)
    for f, old in zip(summaries, before):
        new = json.loads(f.read_text())
        assert new["step"] == 30 and new["resumed_from_step"] == 30
        assert new["eval/hq_fraction"] == old["eval/hq_fraction"]


def test_another_sweep_in_the_same_folder_is_refused(tmp_path):
    driver.plan("ring8", TINY, ["seed=0:2"], str(tmp_path / "w"))
    with pytest.raises(WorkdirError, match="holds another sweep"):
        driver.plan("ring8", TINY, ["seed=0:3"], str(tmp_path / "w"))


def test_a_diverged_replica_is_frozen_and_marked_the_others_finish(tmp_path):
    plan = driver.plan("gaussian_1d", TINY_1D, ["optim.g_lr=1e-3,1e30", "seed=0:2"],
                       str(tmp_path / "w"))
    assert len(plan.groups) == 1
    driver.run_groups(plan, log=lambda m: None)
    status = {p.overrides["optim.g_lr"]: [] for p in plan.points}
    for p in plan.points:
        folder = pathlib.Path(p.workdir(plan.workdir))
        status[p.overrides["optim.g_lr"]].append(
            (folder / "diverged.json").exists(), )
        if p.overrides["optim.g_lr"] == 1e-3:
            assert json.loads((folder / "summary.json").read_text())["step"] == 30
    assert status == {1e-3: [False, False], 1e30: [True, True]}
    out = driver.plan("gaussian_1d", TINY_1D, ["optim.g_lr=1e-3,1e30", "seed=0:2"],
                      str(tmp_path / "w"))
    assert all(driver.point_status(p, out.workdir) != "pending" for p in out.points)


# --- tables and figures ------------------------------------------------------------------------

def test_the_tables_aggregate_over_seeds_and_figures_are_written(tmp_path, capsys):
    w = tmp_path / "w"
    code = main(["sweep", "--config", "ring8", "--sweep", "optim.d_lr=1e-3,3e-3",
                 "--sweep", "seed=0:2", "--workdir", str(w), "--no_compilation_cache",
                 *[f"--config.{k}={v}" for k, v in TINY.items()]])
    assert code == 0
    with open(w / "results.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {r["status"] for r in rows} == {"finished"}
    with open(w / "aggregate.csv", encoding="utf-8") as f:
        agg = list(csv.DictReader(f))
    assert [float(a["optim.d_lr"]) for a in agg] == [1e-3, 3e-3]
    for a in agg:
        vals = np.array([float(r["hq_fraction"]) for r in rows
                         if float(r["optim.d_lr"]) == float(a["optim.d_lr"])])
        assert float(a["n"]) == 2
        assert float(a["hq_fraction_mean"]) == pytest.approx(vals.mean())
        sem = vals.std(ddof=1) / math.sqrt(2)
        assert float(a["hq_fraction_sem"] or 0) == pytest.approx(sem, abs=1e-12)
        assert float(a["hq_fraction_min"]) == vals.min()
    md = (w / "results.md").read_text()
    assert "| d_lr | n | diverged |" in md and "000_d_lr=0.001_seed=0" in md
    for name in ("modes", "hq_fraction"):
        assert (w / "figures" / f"{name}.png").stat().st_size > 5000
    for point in (w / "points").iterdir():  # every point is a run folder `ganjax eval` reads
        assert (point / "figures" / "final.png").exists()
    assert main(["eval", "--workdir", str(w / "points" / "000_d_lr=0.001_seed=0")]) == 0
    capsys.readouterr()
    assert main(["sweep", "--collect", str(w)]) == 0
    assert "4/4 points finished" in capsys.readouterr().out


# --- launchers ---------------------------------------------------------------------------------

TWO_GROUPS = ["--sweep", "train.batch_size=32,64", "--sweep", "seed=0:2"]


def _flags():
    return [f"--config.{k}={v}" for k, v in TINY.items() if k != "train.batch_size"]


def test_emit_jobs_writes_one_command_per_group_that_trains_it(tmp_path, capsys):
    w = tmp_path / "w"
    assert main(["sweep", "--config", "ring8", *TWO_GROUPS, "--workdir", str(w), "--emit-jobs",
                 *_flags()]) == 0
    lines = [l for l in (w / "jobs.sh").read_text().splitlines() if not l.startswith("#")]
    assert len(lines) == 2 and all("--group" in l for l in lines)
    assert not (w / "points").exists()  # nothing trained yet
    subprocess.run(lines[1], shell=True, check=True, capture_output=True)
    capsys.readouterr()
    assert main(["sweep", "--collect", str(w)]) == 0
    assert "2/4 points finished" in capsys.readouterr().out


def test_local_launcher_runs_groups_in_parallel_processes(tmp_path):
    w = tmp_path / "w"
    assert main(["sweep", "--config", "ring8", *TWO_GROUPS, "--workdir", str(w), "--launcher",
                 "local", "--processes", "2", *_flags()]) == 0
    assert sorted(p.name for p in (w / "logs").iterdir()) == ["group_0.log", "group_1.log"]
    rows = list(csv.DictReader(open(w / "results.csv", encoding="utf-8")))
    assert [r["status"] for r in rows] == ["finished"] * 4


def test_submitit_launcher_runs_a_two_group_sweep_with_its_local_executor(tmp_path):
    pytest.importorskip("submitit")
    w = tmp_path / "w"
    assert main(["sweep", "--config", "ring8", *TWO_GROUPS, "--workdir", str(w), "--launcher",
                 "slurm", "--submitit_cluster", "local", "--time_min", "10", *_flags()]) == 0
    assert (w / "slurm").is_dir()
    rows = list(csv.DictReader(open(w / "results.csv", encoding="utf-8")))
    assert [r["status"] for r in rows] == ["finished"] * 4


def test_replicas_split_over_eight_devices_match_lone_runs(tmp_path):
    """Two replicas on 8 forced CPU devices: a ("replica", "data") mesh of 2 x 4, each replica's
    batch split over 4 devices, gives the lone one-device runs' numbers (to the replica
    tolerance)."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
    script = ("import sys; from ganjax.cli import main; sys.exit(main(sys.argv[1:]))")
    eight = str(tmp_path / "eight")
    subprocess.run([sys.executable, "-c", script, "sweep", "--config", "ring8", "--sweep",
                    "seed=0:2", "--workdir", eight, "--no_collect",
                    *[f"--config.{k}={v}" for k, v in TINY.items()]],
                   env=env, check=True, capture_output=True)
    for point in driver.open_plan(eight).points:
        summary = json.loads(pathlib.Path(point.workdir(eight), "summary.json").read_text())
        assert summary["devices"] == 8
        _assert_states_close(_params(point.workdir(eight)), _lone_state(point.config))
