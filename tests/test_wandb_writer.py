"""The optional W&B writer: tiny toy runs in W&B's offline mode (no account, no network), read
back from the run's `.wandb` log and compared with metrics.jsonl."""

import glob
import json
import os
import struct
import sys
import time
import zlib

import pytest

from ganjax import config as config_lib
from ganjax.errors import ConfigError
from ganjax.outputs.wandb_writer import RUN_ID_FILE
from ganjax.outputs.writers import tensorboard_scalars

TINY = {"train.steps": "200", "train.log_every": "100", "train.eval_every": "200",
        "train.scan_steps": "100", "train.batch_size": "64", "eval.num_samples": "500",
        "model.g_hidden": "32,32", "model.d_hidden": "32,32",
        "train.wandb_project": "ganjax-test", "train.wandb_mode": "offline"}


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """W&B's own settings, cache and config folders inside tmp_path, offline and quiet."""
    home = tmp_path / "wandb-home"
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR",
                "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(var, str(home / var.lower()))


def tiny_config(**extra):
    return config_lib.apply_overrides(config_lib.load_config("ring8"), {**TINY, **extra})


def train(config, workdir, **kwargs):
    from ganjax.run.loop import train as run_train

    return run_train(config, str(workdir), name="ring8", verbose=False, **kwargs)


def wandb_records(path):
    """The Record protos of a `.wandb` file.

    wandb no longer ships a Python reader of this file, so this is one: a 7-byte header
    (":W&B", magic 0xBEE1, version 0), then LevelDB-log blocks of 32 KiB whose records carry
    [crc32 of kind+data, length, kind: 1 full, 2 first, 3 middle, 4 last] and never straddle a
    block (a tail under 7 bytes is padding). The protos are wandb's own schema.
    """
    from wandb.proto import wandb_internal_pb2

    with open(path, "rb") as f:
        data = f.read()
    assert struct.unpack("<4sHB", data[:7]) == (b":W&B", 0xBEE1, 0)
    block, pos, parts = 32768, 7, b""
    while pos + 7 <= len(data):
        left = block - pos % block
        crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7]) if left >= 7 else (0, 0, 0)
        if kind == 0:  # padding up to the next block
            pos += left
            continue
        if pos + 7 + length > len(data):  # a record still being written
            return
        payload = data[pos + 7:pos + 7 + length]
        assert zlib.crc32(payload, zlib.crc32(bytes([kind]))) == crc, f"bad crc at byte {pos}"
        pos += 7 + length
        parts += payload
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(parts)
            parts = b""
            yield record


def read_run(run_dir):
    """(run record, config, {step: {key: value}}) of one offline run folder; image fields are
    keyed `<tag>/<field>` (W&B's nested keys)."""
    (path,) = glob.glob(os.path.join(run_dir, "run-*.wandb"))
    records = list(wandb_records(path))
    deadline = time.monotonic() + 30
    # run.finish() may return before W&B's service has written all of the file: wait for the
    # exit record that ends it.
    while not any(r.WhichOneof("record_type") == "exit" for r in records):
        assert time.monotonic() < deadline, f"{path} has no exit record"
        time.sleep(0.1)
        records = list(wandb_records(path))
    run, config, history = None, {}, {}
    for record in records:
        kind = record.WhichOneof("record_type")
        if kind in ("run", "config"):
            run = record.run if kind == "run" else run
            updates = record.run.config.update if kind == "run" else record.config.update
            config.update({item.key: json.loads(item.value_json) for item in updates})
        elif kind == "history":
            row = {item.key or "/".join(item.nested_key): json.loads(item.value_json)
                   for item in record.history.item}
            history[row["_step"]] = {k: v for k, v in row.items() if not k.startswith("_")}
    return run, config, history


def run_dirs(workdir):
    return sorted(glob.glob(os.path.join(workdir, "wandb", "offline-run-*")))


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_offline_run_logs_config_scalars_and_figure(tmp_path, offline):
    pytest.importorskip("wandb")
    workdir = tmp_path / "run"
    train(tiny_config(), workdir)

    (run_dir,) = run_dirs(workdir)
    run, config, history = read_run(run_dir)
    run_id = (workdir / RUN_ID_FILE).read_text().strip()
    assert run.run_id == run_id and run.project == "ganjax-test"
    assert run.display_name == "ring8-run"

    saved = json.loads((workdir / "config.json").read_text())
    assert {k: config[k] for k in saved} == saved

    expected = {}
    for record in read_jsonl(workdir / "metrics.jsonl"):
        expected.setdefault(record["step"], {}).update(tensorboard_scalars(record))
    assert sorted(expected) == [100, 200] and "eval/modes" in expected[200]
    logged = {step: {k: v for k, v in row.items() if not k.startswith("eval/figure/")}
              for step, row in history.items()}
    assert logged == expected

    assert history[200]["eval/figure/_type"] == "image-file"
    assert history[200]["eval/figure/format"] == "png"
    assert os.path.exists(os.path.join(run_dir, "files", history[200]["eval/figure/path"]))
    assert not any(k.startswith("eval/figure/") for k in history[100])


def test_resumed_run_continues_the_same_wandb_run(tmp_path, offline):
    """A second start in the same workdir (a resume) reuses the id of the first; per-replica
    scalars are named as in TensorBoard."""
    pytest.importorskip("wandb")
    from ganjax.outputs.wandb_writer import WandbWriter
    from ganjax.outputs.writers import MetricWriter

    workdir = tmp_path / "run"
    workdir.mkdir()
    for step in (100, 200):
        writer = MetricWriter(str(workdir), tensorboard=False, resume_step=step - 100,
                              sinks=[WandbWriter(tiny_config(), str(workdir), "ring8")])
        writer.write(step, {"train/d_loss": step / 1000, "train/g_loss": [0.5, 1.5]})
        writer.close()
    run_id = (workdir / RUN_ID_FILE).read_text().strip()

    (first, _, first_history), (second, _, second_history) = map(read_run, run_dirs(workdir))
    assert first.run_id == second.run_id == run_id
    assert first_history == {100: {"train/d_loss": 0.1, "train/g_loss/replica_0": 0.5,
                                   "train/g_loss/replica_1": 1.5}}
    assert second_history == {200: {"train/d_loss": 0.2, "train/g_loss/replica_0": 0.5,
                                    "train/g_loss/replica_1": 1.5}}


def test_missing_wandb_is_one_config_error_before_the_workdir(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # `import wandb` fails as if not installed
    workdir = tmp_path / "run"
    with pytest.raises(ConfigError) as error:
        train(tiny_config(), workdir)
    assert str(error.value) == ("config.train.wandb_project='ganjax-test' is set but wandb is "
                                "not installed: pip install 'ganjax[wandb]'")
    assert not workdir.exists()
    # Off (no project, or mode disabled): wandb is not needed.
    for extra in ({"train.wandb_project": ""}, {"train.wandb_mode": "disabled"}):
        config_lib.validation.check_installed(tiny_config(**extra))


@pytest.mark.parametrize("key,value,message", [
    ("train.wandb_project", "me/proj", r"config.train.wandb_project='me/proj': must be a W&B "
                                       r"name"),
    ("train.wandb_entity", " team", r"config.train.wandb_entity=' team': must be a W&B name"),
    ("train.wandb_mode", "cloud", r"config.train.wandb_mode='cloud': must be one of online, "
                                  r"offline, disabled"),
])
def test_wandb_keys_are_validated(key, value, message):
    with pytest.raises(ConfigError, match=message):
        config_lib.validate(tiny_config(**{key: value}))


def test_wandb_settings_may_change_on_resume():
    old = tiny_config().to_dict()
    new = tiny_config(**{"train.wandb_project": "other", "train.wandb_mode": "online"})
    assert len(config_lib.check_resumable(old, new)) == 2
