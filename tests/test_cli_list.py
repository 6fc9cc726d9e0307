"""`ganjax list` and `ganjax config` (issue 11, item 8): what exists, and every key of a config.

The expected experiments and variants are derived here without the code under test: from the
files in experiments/, from each get_config's signature and from the list of known variants that
get_config itself gives when it refuses an unknown one.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

from ganjax import config as config_lib
from ganjax.cli import EXIT_CONFIG_ERROR, main
from ganjax.config.loading import experiment_variants

REPO = pathlib.Path(__file__).resolve().parent.parent
EXPERIMENT_FILES = sorted(p for p in (REPO / "experiments").glob("*.py")
                          if not p.name.startswith("_"))


def _module(path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(f"_test_catalog_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_variants(path: pathlib.Path) -> tuple[str | None, list[str]]:
    """(default variant or None, every variant) of an experiment file, from its get_config."""
    get_config = _module(path).get_config
    parameters = list(inspect.signature(get_config).parameters.values())
    if not parameters:
        return None, []
    with pytest.raises(ValueError) as refused:
        get_config("surely-no-such-variant")
    known = re.search(r"known: ([\w, ]+)", str(refused.value))
    assert known, f"{path.name}: get_config's error names no known variants: {refused.value}"
    return parameters[0].default, [v.strip() for v in known[1].split(",")]


def expected_specs() -> dict[str, str]:
    """{spec as --config takes it: the docstring of its experiment file}."""
    specs = {}
    for path in EXPERIMENT_FILES:
        default, variants = expected_variants(path)
        specs[path.stem] = _module(path).__doc__
        for variant in variants:
            if variant != default:
                specs[f"{path.stem}:{variant}"] = _module(path).__doc__
    return specs


def listed(capsys) -> tuple[list[str], dict[str, str]]:
    """(every line of `ganjax list`, {spec: its variant line})."""
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    variant_lines = {line.split()[0]: line for line in lines if line.startswith("  ")}
    return lines, variant_lines


def test_list_shows_every_experiment_and_every_variant(capsys):
    lines, variant_lines = listed(capsys)
    specs = expected_specs()
    assert set(variant_lines) == set(specs)
    headers = [line.split()[0] for line in lines if line and not line.startswith(" ")]
    assert {p.stem for p in EXPERIMENT_FILES} <= set(headers)
    for path in EXPERIMENT_FILES:  # the summary once, in the experiment's header line
        summary = _module(path).__doc__.strip().splitlines()[0]
        header = next(line for line in lines if line.split()[:1] == [path.stem])
        assert header.split(None, 1)[1] == summary
    for spec in variant_lines:  # every listed spec loads as listed
        assert config_lib.load_config(spec).model.name


def test_every_named_variant_loads_and_an_unknown_one_fails():
    for path in EXPERIMENT_FILES:
        default, variants = expected_variants(path)
        assert [v.name for v in experiment_variants(path.stem)] == \
            ([default] + [v for v in variants if v != default] if variants else [""])
        for variant in variants:
            config_lib.load_config(f"{path.stem}:{variant}")
        with pytest.raises(config_lib.ConfigError):
            config_lib.load_config(f"{path.stem}:surely-no-such-variant")


def test_the_time_column_is_the_one_the_docstring_states(capsys):
    _, variant_lines = listed(capsys)
    for spec, doc in expected_specs().items():
        name, _, variant = spec.partition(":")
        target = f"experiments/{name}.py" + (f":{variant}" if variant else "")
        line = next(line for line in doc.splitlines()
                    if re.search(rf"--config {re.escape(target)}(\s|$)", line))
        stated = re.search(r"#.*\((~[^)]*)\)", line)
        time = stated[1] if stated else "time not stated"
        assert re.search(rf"^  {re.escape(spec)} +{re.escape(time)}(  |$)",
                         variant_lines[spec]), (spec, variant_lines[spec], line)
    assert re.fullmatch(r"  ring8:vanilla +~1 min +plain non-saturating GAN",
                        variant_lines["ring8:vanilla"])
    assert "time not stated" in variant_lines["dcgan_cifar10"]


def test_list_lines_fit_a_terminal(capsys):
    lines, _ = listed(capsys)
    assert all(len(line) <= 100 for line in lines), [line for line in lines if len(line) > 100]
    assert not any(line.endswith("...") for line in lines)  # no summary had to be cut


def keys_of(tree: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in tree.items():
        keys += keys_of(value, f"{prefix}{key}.") if isinstance(value, dict) else [prefix + key]
    return keys


def printed_fields(out: str) -> dict[str, str]:
    fields = {}
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        key, eq, value = line.partition(" = ")
        assert eq, line
        fields[key] = value
    return fields


def test_config_prints_every_key_after_the_overrides(capsys):
    assert main(["config", "ring8:vanilla", "--config.train.steps=7"]) == 0
    out = capsys.readouterr().out
    assert "\ntrain.steps = 7\n" in out
    fields = printed_fields(out)
    assert list(fields) == sorted(keys_of(config_lib.base_config("mlp").to_dict()))
    assert fields["data.source"] == "ring" and fields["loss.name"] == "non_saturating"


@pytest.mark.parametrize("spec", ["ring8", "gaussian_1d:moments", "dcgan_digits:quick",
                                  "sngan_cifar10"])
def test_each_printed_line_is_a_flag_that_gives_the_same_value(capsys, spec):
    """Pasting every line as --config.KEY=VALUE (through a shell's word splitting) onto the base
    config of the model rebuilds the experiment's config exactly."""
    assert main(["config", spec]) == 0
    fields = printed_fields(capsys.readouterr().out)
    overrides = {key: (shlex.split(value) or [""])[0] for key, value in fields.items()}
    expected = config_lib.load_config(spec)
    rebuilt = config_lib.apply_overrides(config_lib.base_config(expected.model.name), overrides)
    assert rebuilt.to_dict() == expected.to_dict()


def test_config_takes_overrides_before_the_spec_and_in_the_space_form(capsys):
    assert main(["config", "--config.train.steps", "7", "ring8", "--config.seed", "3"]) == 0
    fields = printed_fields(capsys.readouterr().out)
    assert fields["train.steps"] == "7" and fields["seed"] == "3"


def test_config_diff_shows_what_the_experiment_sets(capsys):
    assert main(["config", "ring8", "--diff"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^model\.d_group = 2 +# base: 1$", out, re.M)
    fields = {line.split(" = ")[0] for line in out.splitlines() if not line.startswith("#")}
    base = config_lib.base_config("mlp")
    ring8 = config_lib.load_config("ring8")
    assert fields == {k for k, a, b in config_lib.config_diff(base.to_dict(), ring8.to_dict())}


def test_config_json_is_the_config_a_run_writes(capsys):
    assert main(["config", "ring8:minimax", "--json", "--config.seed=4"]) == 0
    written = json.loads(capsys.readouterr().out)
    expected = config_lib.apply_overrides(config_lib.load_config("ring8:minimax"), {"seed": "4"})
    assert written == json.loads(config_lib.to_json(expected))


@pytest.mark.parametrize("argv, message", [
    (["nosuch"], "no experiment named 'nosuch'; bundled experiments: acgan_mnist, cgan_mnist, "
                 "dcgan_cifar10"),
    (["ring8:nosuch"], "unknown variant 'nosuch'; known: recommended, vanilla, minimax"),
    (["dcgan_cifar10:quick"], "has no variants"),
    (["ring8", "--config.train.stepz=3"], "--config.train.stepz: unknown key"),
    (["ring8", "--config.train.steps=many"], "--config.train.steps=many: expected an int"),
    (["ring8", "--config.loss.name=nosuch"], "loss.name"),
])
def test_bad_input_is_one_config_error_line_and_exit_2(capsys, argv, message):
    assert main(["config", *argv]) == EXIT_CONFIG_ERROR
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ganjax: config error: "), err
    assert message in err[0]
    assert captured.out == ""


def test_variants_of_a_users_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text('''"""My experiment.

  ganjax train --config mine.py            # the usual (~5 s)
  ganjax train --config mine.py:fast       # fewer steps
  ganjax train --config ring8.py:vanilla   # another experiment's line: not a variant of mine
"""
from ganjax.config import base_config


def get_config(variant="usual"):
    if variant not in ("usual", "fast"):
        raise ValueError(f"no variant {variant!r}")
    return base_config()
''')
    variants = experiment_variants(str(path))
    assert [(v.name, v.spec, v.description, v.time, v.default) for v in variants] == [
        ("usual", str(path), "the usual", "~5 s", True),
        ("fast", f"{path}:fast", "fewer steps", None, False)]
    with pytest.raises(config_lib.ConfigError, match="unknown variant 'slow'; known: usual, fast"):
        config_lib.load_config(f"{path}:slow")
    path.write_text("def get_config():\n    from ganjax.config import base_config\n"
                    "    return base_config()\n")
    assert [(v.name, v.spec, v.time) for v in experiment_variants(str(path))] == \
        [("", str(path), None)]


def test_list_imports_no_jax():
    code = ("import sys; from ganjax.cli import main; main(['list']); "
            "heavy = [m for m in ('jax', 'jaxlib', 'flax', 'optax', 'orbax') if m in sys.modules]; "
            "assert not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ring8:vanilla" in result.stdout
