"""Configs: every experiment loads and validates; bad input fails with one line naming the key."""

import glob
import os
import subprocess
import sys

import pytest

from ganjax import config as config_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPERIMENTS = sorted(glob.glob(os.path.join(REPO, "experiments", "[!_]*.py")))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=os.path.basename)
def test_every_experiment_loads_and_validates(path):
    config_lib.validate(config_lib.load_config(path))


def test_bundled_names_resolve_to_the_experiment_files():
    by_name = config_lib.load_config("ring8:vanilla")
    by_path = config_lib.load_config(os.path.join(REPO, "experiments", "ring8.py") + ":vanilla")
    assert by_name.to_dict() == by_path.to_dict()


def test_overrides_are_typed_like_the_fields_they_replace():
    c = config_lib.apply_overrides(config_lib.base_config(), {
        "optim.g_lr": "3e-4", "train.steps": "7", "model.g_hidden": "64,32",
        "eval.use_ema": "false", "loss.name": "hinge", "optim.d_lr": "1"})
    assert c.optim.g_lr == 3e-4 and c.train.steps == 7 and c.model.g_hidden == (64, 32)
    assert c.eval.use_ema is False and c.loss.name == "hinge"
    assert isinstance(c.optim.d_lr, float) and c.optim.d_lr == 1.0


def test_overrides_do_not_touch_the_original():
    base = config_lib.base_config()
    config_lib.apply_overrides(base, {"train.steps": "7"})
    assert base.train.steps == config_lib.base_config().train.steps


@pytest.mark.parametrize("overrides, message", [
    ({"optim.glr": "1e-4"}, r"--config.optim.glr: unknown key; did you mean 'g_lr'\?"),
    ({"optimizer.g_lr": "1e-4"}, r"unknown key config.optimizer; did you mean 'optim'\?"),
    ({"train.steps": "1e-4"}, r"--config.train.steps=1e-4: expected an int, got float"),
    ({"train.steps": "many"}, r"--config.train.steps=many: expected an int"),
    ({"eval.use_ema": "maybe"}, r"expected a bool"),
])
def test_bad_overrides_name_the_key(overrides, message):
    with pytest.raises(config_lib.ConfigError, match=message):
        config_lib.apply_overrides(config_lib.base_config(), overrides)


@pytest.mark.parametrize("key, value, message", [
    ("optim.g_lr", "-1e-4", r"config.optim.g_lr=-0.0001: must be > 0"),
    ("train.d_steps", "0", r"config.train.d_steps=0: must be >= 1"),
    ("loss.name", "wgan", r"config.loss.name='wgan': must be one of minimax, non_saturating"),
    ("penalty.name", "gp", r"must be one of none, wgan_gp, r1, r2, dragan"),
    ("data.source", "cifar", r"config.data.source='cifar': must be one of"),
    ("train.batch_size", "0", r"config.train.batch_size=0: must be >= 1"),
    ("optim.b1", "1.0", r"config.optim.b1=1.0: must be in \[0, 1\)"),
    ("model.d_group", "3", r"config.model.d_group=3: must divide train.batch_size=64"),
    ("model.g_hidden", "(64, 0)", r"config.model.g_hidden=\(64, 0\): must be a tuple of "
     "positive layer widths"),
])
def test_impossible_values_fail_validation(key, value, message):
    config = config_lib.apply_overrides(config_lib.base_config(), {key: value})
    with pytest.raises(config_lib.ConfigError, match=message):
        config_lib.validate(config)


def test_grid_needs_a_square_number_of_modes():
    config = config_lib.apply_overrides(config_lib.base_config(),
                                        {"data.source": "grid", "data.num_modes": "24"})
    with pytest.raises(config_lib.ConfigError, match="must be a square number"):
        config_lib.validate(config)


def test_gradient_penalties_refuse_a_grouped_discriminator():
    config = config_lib.apply_overrides(config_lib.base_config(),
                                        {"penalty.name": "r1", "model.d_group": "2"})
    with pytest.raises(config_lib.ConfigError, match="need a per-sample D"):
        config_lib.validate(config)


def test_experiment_file_with_unknown_key_fails(tmp_path):
    path = tmp_path / "typo.py"
    path.write_text("from ganjax.config import base_config\n"
                    "def get_config():\n"
                    "    c = base_config()\n"
                    "    c.optim.unlocked = True\n"
                    "    return c\n")
    with pytest.raises(config_lib.ConfigError, match=r"config.optim.unlocked: unknown key"):
        config_lib.load_config(str(path))


def test_unknown_bundled_experiment_lists_the_known_ones():
    with pytest.raises(config_lib.ConfigError, match=r"no experiment named 'ring9'.*ring8"):
        config_lib.load_config("ring9")


def test_cli_reports_config_errors_in_one_line_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ganjax.cli", "train", "--config", "ring8",
         "--workdir", str(tmp_path / "w"), "--config.train.d_steps=0"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "ganjax: config error: config.train.d_steps=0: must be >= 1 (D updates per G update)"]
    assert not (tmp_path / "w").exists()


def test_a_run_saved_before_new_fields_existed_resumes():
    # A config.json written by an older ganjax lacks the fields added since (here the
    # conditioning ones): they take their defaults, which change nothing, so the run resumes.
    config = config_lib.load_config("ring8")
    saved = config.to_dict()
    for key in ("num_classes", "g_conditioning", "d_conditioning", "info_categorical"):
        del saved["model"][key]
    del saved["eval"]["cnn_metrics"]
    assert config_lib.check_resumable(saved, config) == []
    changed = config_lib.apply_overrides(config, {"model.num_classes": "8"})
    with pytest.raises(config_lib.ConfigError, match="model.num_classes: 0 -> 8"):
        config_lib.check_resumable(saved, changed)
