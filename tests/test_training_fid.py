"""FID, KID and IS during training when `eval.fid_weights` is set (random Inception weights)."""

import json

import pytest
from eval_helpers import TINY_IMAGE_RUN, random_inception_weights, train_tiny

from ganjax import config as config_lib
from ganjax.run.experiment import build_experiment


def test_fid_weights_are_refused_where_they_cannot_work():
    toy = config_lib.apply_overrides(config_lib.load_config("ring8"), {"eval.fid_weights": "w"})
    with pytest.raises(config_lib.ConfigError, match="eval.fid_weights"):
        config_lib.validate(toy)
    few = config_lib.apply_overrides(config_lib.load_config("dcgan_digits"), {
        "eval.fid_weights": "w", "eval.num_samples": "5"})
    with pytest.raises(config_lib.ConfigError, match="eval.num_samples"):
        config_lib.validate(few)
    assert config_lib.base_config().eval.fid_weights == ""  # off unless asked for


def test_unusable_weights_file_is_a_config_error(tmp_path):
    config = config_lib.apply_overrides(config_lib.load_config("dcgan_digits:quick"), {
        **TINY_IMAGE_RUN, "eval.fid_weights": str(tmp_path / "missing.pth")})
    with pytest.raises(config_lib.ConfigError, match="eval.fid_weights: .*not found"):
        build_experiment(config)


def test_training_logs_fid_kid_is_with_their_protocol(tmp_path, monkeypatch):
    monkeypatch.setenv("GANJAX_CACHE", str(tmp_path / "cache"))
    weights = random_inception_weights(tmp_path / "random_inception.npz")
    workdir = train_tiny("dcgan_digits:quick", {**TINY_IMAGE_RUN, "eval.num_samples": "12",
                                                "eval.fid_weights": weights}, tmp_path / "w")
    summary = json.load(open(tmp_path / "w" / "summary.json"))
    for key in ("d_on_data", "d_on_samples", "fid", "kid_mean", "kid_std", "is_mean", "is_std"):
        assert isinstance(summary[f"eval/{key}"], float), key
    assert summary["eval/fid"] > 0 and summary["eval/is_mean"] >= 1
    protocol = summary["eval/protocol"]
    assert (protocol["num_generated"], protocol["num_reference"]) == (12, 12)
    assert protocol["generator"] == "ema" and protocol["reference_source"] == "digits"
    assert protocol["feature_weights"] == "random_inception.npz"
    assert len(protocol["feature_weights_sha256"]) == 64 and protocol["is_splits"] == 10
    records = [json.loads(line) for line in open(tmp_path / "w" / "metrics.jsonl")]
    evals = [r for r in records if "eval/fid" in r]
    assert [r["step"] for r in evals] == [10] and evals[0]["eval/protocol"] == protocol
    assert (tmp_path / "w" / "figures" / "final.png").exists() and workdir
    # One file of real Inception features, and the label classifier of the class metrics.
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "cache").iterdir()) == \
        ["classifier", "inception"]
