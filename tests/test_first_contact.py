"""What a new user meets first (issue "First contact"): one-line errors for config mistakes,
failed starts that leave nothing behind, re-runs that keep the training record, evaluations that
say which noise they used, periodic checkpoints, samples written into the run, and progress
figures that leave compilation and evaluation out."""

import io
import json
import os

import numpy as np
import pytest

from ganjax import cli
from ganjax import config as config_lib
from ganjax.outputs.writers import Progress
from ganjax.run.checkpoint import Checkpointer
from ganjax.run.evaluate import evaluate_run
from ganjax.run.experiment import build_experiment
from ganjax.run.hooks import evaluations_between
from ganjax.run.session import Session
from ganjax.run.timing import RunClock
from ganjax.run.workdir import holds_files, plan_workdir

DIGITS_TINY = ["--config.model.width=8", "--config.train.steps=2", "--config.train.log_every=1",
               "--config.train.eval_every=2", "--config.train.scan_steps=1",
               "--config.eval.grid_size=4", "--no_compilation_cache"]


def one_error_line(capsys):
    # In-process, JAX has started before the CLI could set its XLA flags, and it says so; a
    # user's `ganjax` process never prints that line.
    err = [line for line in capsys.readouterr().err.strip().splitlines()
           if not line.startswith("ganjax: warning: JAX was initialised before XLA flags")]
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize("spec", ["ring8:nosuch", "experiments/ring8.py:nosuch"])
def test_an_unknown_variant_is_one_line_listing_the_known_ones(tmp_path, capsys, spec):
    path, _, variant = spec.partition(":")
    if path.endswith(".py"):  # the path form, from wherever the user runs it
        spec = os.path.join(os.path.dirname(__file__), "..", path) + ":" + variant
    code = cli.main(["train", "--config", spec, "--workdir", str(tmp_path / "w")])
    assert code == cli.EXIT_CONFIG_ERROR
    line = one_error_line(capsys)
    assert line.startswith("ganjax: config error: --config ")
    assert "unknown variant 'nosuch'; known: recommended, vanilla, minimax" in line
    assert not (tmp_path / "w").exists()


def test_a_variant_of_an_experiment_without_variants_is_refused():
    with pytest.raises(config_lib.ConfigError, match="dcgan_cifar10.py has no variants .*use "
                                                     "--config dcgan_cifar10$"):
        config_lib.load_config("dcgan_cifar10:quick")


def test_a_data_error_leaves_nothing_that_blocks_the_corrected_run(tmp_path, capsys):
    workdir = tmp_path / "run"
    bad = cli.main(["train", "--config", "dcgan_digits:quick", "--workdir", str(workdir),
                    "--config.data.source=folder:/nonexistent", *DIGITS_TINY])
    assert bad == cli.EXIT_CONFIG_ERROR
    out, err = capsys.readouterr()
    assert "data error: data.source=folder:/nonexistent" in err
    assert "ganjax: training" not in out  # checked first, announced after
    assert not workdir.exists()  # nothing is created before data, model and config are checked
    good = cli.main(["train", "--config", "dcgan_digits:quick", "--workdir", str(workdir),
                     *DIGITS_TINY])
    assert good == 0
    summary = json.loads((workdir / "summary.json").read_text())
    # A labelled image run logs a quality signal that needs no download.
    assert 1 <= summary["eval/classes_covered"] <= 10 and summary["eval/class_kl"] >= 0


def test_class_metrics_of_a_one_class_generator_are_the_closed_form():
    from ganjax.evaluation import cache, classifier, training_classes
    from ganjax.evaluation.reference import reference_set

    config = config_lib.apply_overrides(config_lib.load_config("dcgan_digits:quick"),
                                        {"eval.num_samples": "300"})
    real = reference_set(config, 300)
    model, _ = classifier.load_classifier(config, cache.cache_dir())
    # Real 3s that the classifier also calls 3: a generator of one class, as it sees them.
    threes = real.images[(real.labels == 3) & (classifier.predict(model, real.images) == 3)]
    fake = np.resize(threes, (300,) + threes.shape[1:])
    metrics = training_classes.make_class_metrics(config)(fake, real)
    share = np.mean(real.labels == 3)
    assert metrics["classes_covered"] == 1
    assert metrics["class_kl"] == pytest.approx(-np.log(share), rel=1e-9)  # KL(delta_3 || real)
    assert metrics["class_protocol"]["classifier_held_out_accuracy"] > 0.9


def test_a_workdir_of_empty_folders_is_started_afresh_but_one_with_files_is_refused(tmp_path):
    config = config_lib.base_config()
    (tmp_path / "figures" / "nested").mkdir(parents=True)
    assert not holds_files(str(tmp_path))
    assert plan_workdir(str(tmp_path), config, overwrite=False, log=print) == (False, None)
    (tmp_path / "figures" / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="already holds files but no checkpoint"):
        plan_workdir(str(tmp_path), config, overwrite=False, log=print)


GAUSSIAN_TINY = ["--config.train.steps=40", "--config.train.scan_steps=20",
                 "--config.train.log_every=20", "--config.train.eval_every=40",
                 "--config.eval.num_samples=500", "--no_compilation_cache"]


@pytest.fixture(scope="module")
def gaussian_run(tmp_path_factory):
    """A finished tiny gaussian_1d run made by the CLI (TensorBoard files included)."""
    workdir = tmp_path_factory.mktemp("g1d") / "run"
    assert cli.main(["train", "--config", "gaussian_1d", "--workdir", str(workdir),
                     *GAUSSIAN_TINY]) == 0
    return workdir


def test_rerunning_a_finished_run_keeps_its_training_record(gaussian_run, capsys):
    before = json.loads((gaussian_run / "summary.json").read_text())
    metrics = (gaussian_run / "metrics.jsonl").read_text()
    events = sorted(os.listdir(gaussian_run / "tensorboard"))
    assert before["experiment"] == "gaussian_1d" and os.path.isabs(before["figure"])
    assert before["train_time_s"] > 0 and before["compile_time_s"] > 0
    capsys.readouterr()
    assert cli.main(["train", "--config", "gaussian_1d", "--workdir", str(gaussian_run),
                     *GAUSSIAN_TINY]) == 0
    assert "evaluated again" in capsys.readouterr().out
    after = json.loads((gaussian_run / "summary.json").read_text())
    assert after.pop("reevaluated_at")
    assert after == before  # the same eval (same noise), and the times of the training kept
    assert list(after) == list(before)
    assert (gaussian_run / "metrics.jsonl").read_text() == metrics
    assert sorted(os.listdir(gaussian_run / "tensorboard")) == events  # no empty event file


def test_eval_says_which_noise_and_training_noise_reproduces_the_summary(gaussian_run):
    summary = json.loads((gaussian_run / "summary.json").read_text())
    same = evaluate_run(str(gaussian_run), num_samples=500, noise="training")
    for key in ("mean", "std"):  # the 1-D toy's training-time metrics
        assert same["metrics"][key] == summary[f"eval/{key}"], key
    assert same["protocol"]["noise"] == summary["eval/protocol"]["noise"]
    assert same["protocol"]["noise"].startswith("training-time eval noise: one draw of 500")
    fresh = evaluate_run(str(gaussian_run), num_samples=500, seed=0)
    assert fresh["protocol"]["seed"] == 0
    assert "independent of the training-time eval noise" in fresh["protocol"]["noise"]
    assert fresh["metrics"]["mean"] != summary["eval/mean"]  # other samples: not comparable


def test_sample_without_out_writes_into_the_run_and_prints_the_path(gaussian_run, tmp_path,
                                                                    monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["sample", "--workdir", str(gaussian_run), "--num", "50", "--seed", "4",
                     "--no_compilation_cache"]) == 0
    path = gaussian_run / "samples" / "step_0000040_seed_4.png"
    assert path.exists() and not os.listdir(tmp_path)
    assert capsys.readouterr().out.strip().endswith(str(path))


def test_long_runs_checkpoint_by_time_between_step_intervals(tmp_path):
    for name in ("dcgan_cifar10", "sngan_cifar10"):  # the long GPU configs
        assert config_lib.load_config(name).train.checkpoint_every_minutes > 0
    workdir = tmp_path / "ring"
    # A vanishing interval: every chunk boundary is due. Steps-based checkpoints are off.
    assert cli.main(["train", "--config", "ring8", "--workdir", str(workdir),
                     "--config.train.steps=60", "--config.train.scan_steps=20",
                     "--config.train.log_every=60", "--config.train.eval_every=60",
                     "--config.train.checkpoint_every=0", "--config.train.keep_checkpoints=10",
                     "--config.train.checkpoint_every_minutes=1e-9",
                     "--config.eval.num_samples=100", "--no_compilation_cache"]) == 0
    assert sorted(int(d) for d in os.listdir(workdir / "checkpoints") if d.isdigit()) == \
        [20, 40, 60]
    summary = json.loads((workdir / "summary.json").read_text())
    assert isinstance(summary["eval/modes"], int)  # a count, not 8.0
    with pytest.raises(config_lib.ConfigError, match="train.checkpoint_every_minutes"):
        config_lib.validate(config_lib.apply_overrides(
            config_lib.load_config("ring8"), {"train.checkpoint_every_minutes": "-1"}))


def test_progress_rates_count_training_time_only():
    out = io.StringIO()
    progress = Progress(1000, stream=out)
    clock = RunClock()
    clock.add_chunk(wall_s=5.0, compile_s=4.5, steps=100)  # the first chunk pays compilation
    assert progress.update(100, {"train/d_loss": 1.0}, clock.train_s, eval_s_left=2.0,
                           compile_s=clock.compile_s) == pytest.approx(200.0)
    first = out.getvalue()
    assert "200.0 steps/s" in first and "ETA 0:00:06" in first  # 900/200 + 2 s of evals
    assert "(compiled in 4.5 s)" in first
    clock.add_chunk(wall_s=1.0, compile_s=0.0, steps=100)
    assert progress.update(200, {}, clock.train_s) == pytest.approx(100.0)
    assert "compiled" not in out.getvalue()[len(first):]
    assert clock.steps_per_s == pytest.approx(200 / 1.5)
    assert [evaluations_between(s, 1000, 300) for s in (0, 300, 900, 1000)] == [4, 3, 1, 0]
    assert evaluations_between(0, 900, 300) == 3


def test_a_session_measures_compilation_apart():
    config = config_lib.apply_overrides(config_lib.load_config("ring8"),
                                        {"model.g_hidden": "(8,)", "model.d_hidden": "(8,)"})
    session = Session(build_experiment(config))
    session.advance(5)
    first = session.clock.compile_s
    assert first > 0 and session.clock.steps == 5
    session.advance(5)  # the same chunk length: compiled already
    assert session.clock.compile_s == first and session.clock.train_s > 0
