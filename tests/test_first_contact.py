"""What a new user meets first: one-line errors for config mistakes, and failed starts that leave
nothing behind to block the corrected command (issue "First contact", items 1 and 2)."""

import os

import pytest

from ganjax import cli
from ganjax import config as config_lib
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
    assert "data error: data.source=folder:/nonexistent" in capsys.readouterr().err
    assert not workdir.exists()  # nothing is created before data, model and config are checked
    good = cli.main(["train", "--config", "dcgan_digits:quick", "--workdir", str(workdir),
                     *DIGITS_TINY])
    assert good == 0
    assert (workdir / "summary.json").exists()


def test_a_workdir_of_empty_folders_is_started_afresh_but_one_with_files_is_refused(tmp_path):
    config = config_lib.base_config()
    (tmp_path / "figures" / "nested").mkdir(parents=True)
    assert not holds_files(str(tmp_path))
    assert plan_workdir(str(tmp_path), config, overwrite=False, log=print) == (False, None)
    (tmp_path / "figures" / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="already holds files but no checkpoint"):
        plan_workdir(str(tmp_path), config, overwrite=False, log=print)
