"""Packed discriminators (PacGAN): the group views against numpy, a packed DCGAN D against an
ordinary D on hand-packed images, a PacDCGAN run end to end, and the configs it refuses."""

import json

import jax
import numpy as np
import pytest

from ganjax import cli
from ganjax import config as config_lib
from ganjax.errors import ConfigError
from ganjax.models.dcgan import DCGANDiscriminator
from ganjax.models.packing import group_features

KEY = jax.random.PRNGKey(0)


def numbers(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_vectors_are_packed_side_by_side_sorted_or_summarised():
    x = numbers((6, 3))
    groups = [x[i:i + 2] for i in range(0, 6, 2)]
    np.testing.assert_array_equal(group_features(x, 2, "concat"),
                                  np.stack([np.concatenate(g) for g in groups]))
    np.testing.assert_array_equal(group_features(x, 2, "sorted"),
                                  np.stack([np.sort(g, axis=0).ravel() for g in groups]))
    np.testing.assert_allclose(group_features(x, 2, "moments"),
                               np.stack([np.concatenate([g.mean(0), g.std(0)]) for g in groups]),
                               rtol=1e-6)


def test_images_are_packed_along_channels_pixel_by_pixel():
    """PacDCGAN: each pixel of a packed input holds the channels of its group's images, first
    image first; height and width are kept."""
    x = numbers((6, 4, 4, 3))
    packed = np.asarray(group_features(x, 3, "concat"))
    assert packed.shape == (2, 4, 4, 9)
    np.testing.assert_array_equal(packed, np.stack([np.concatenate(list(x[i:i + 3]), axis=-1)
                                                    for i in (0, 3)]))
    moments = np.asarray(group_features(x, 3, "moments"))
    np.testing.assert_allclose(moments[1], np.concatenate([x[3:].mean(0), x[3:].std(0)], -1),
                               rtol=1e-5, atol=1e-6)


def test_a_batch_that_does_not_split_into_groups_is_refused():
    with pytest.raises(ValueError, match="a batch of 5 does not split into groups of 2"):
        group_features(numbers((5, 3)), 2, "concat")


def test_a_packed_dcgan_d_is_a_d_of_group_times_the_channels_on_packed_images():
    """Same parameters, same numbers: D(group=2) on a batch of 4 images equals an ordinary D on
    the 2 images whose channels hold the pairs; one logit and one feature row per pair."""
    images = numbers((4, 8, 8, 1))
    packed_d = DCGANDiscriminator(8, width=4, batch_norm=False, group=2)
    variables = packed_d.init(KEY, images, train=False)
    assert variables["params"]["down0"]["kernel"].shape == (4, 4, 2, 4)  # 2 x 1 input channels
    out = packed_d.apply(variables, images, train=False)
    assert out.logit.shape == (2,) and out.features.shape[0] == 2
    by_hand = np.concatenate([images[0::2], images[1::2]], axis=-1)  # pairs (0, 1) and (2, 3)
    plain = DCGANDiscriminator(8, width=4, batch_norm=False).apply(variables, by_hand,
                                                                   train=False)
    np.testing.assert_allclose(out.logit, plain.logit, rtol=1e-6, atol=1e-6)


def test_a_pacdcgan_trains_and_evaluates_on_digits(tmp_path):
    """d_group=3 with a 16-sample grid: D is probed on the 15 that make whole groups."""
    workdir = tmp_path / "pac"
    assert cli.main(["train", "--config", "dcgan_digits", "--workdir", str(workdir),
                     "--no_compilation_cache", "--config.model.d_group=3",
                     "--config.train.batch_size=12", "--config.train.steps=4",
                     "--config.train.scan_steps=2", "--config.train.log_every=2",
                     "--config.train.eval_every=4", "--config.eval.grid_size=16",
                     "--config.model.width=8"]) == 0
    summary = json.load(open(workdir / "summary.json"))
    assert summary["step"] == 4
    assert 0 < summary["eval/d_on_data"] < 1 and 0 < summary["eval/d_on_samples"] < 1
    records = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
    protocol = [r for r in records if "eval/protocol" in r][-1]["eval/protocol"]
    assert protocol["metrics"].endswith("in packed groups of 3")


@pytest.mark.parametrize("spec,overrides,message", [
    ("dcgan_digits", {"model.d_group": "5"}, r"model.d_group=5: must divide train.batch_size"),
    ("dcgan_digits", {"model.d_group": "0"}, r"model.d_group=0: must be an integer >= 1"),
    ("dcgan_digits", {"model.d_group": "2", "model.d_batch_norm": "false", "penalty.name": "r1"},
     r"penalty.name='r1': gradient penalties need a per-sample D"),
    ("dcgan_digits", {"model.d_group_features": "moments"},
     r"sorted/moments need model.d_group >= 2"),
    ("cgan_mnist:quick", {"model.d_group": "2"},
     r"conditional and InfoGAN models need a per-sample D"),
])
def test_packing_configs_a_dcgan_cannot_use_are_refused(spec, overrides, message):
    config = config_lib.load_config(spec)
    with pytest.raises(ConfigError, match=message):
        config_lib.validate(config_lib.apply_overrides(config, overrides))


def test_d_features_refuse_a_packed_d():
    """A packed D has features of groups, not of single images: the linear probe says so."""
    from types import SimpleNamespace

    from ganjax.evaluation.d_features import require_discriminator

    packed = SimpleNamespace(discriminator=DCGANDiscriminator(8, group=2), d_group=2,
                             algorithm="adversarial")
    with pytest.raises(ConfigError, match=r"packed groups of 2 images \(model.d_group=2\)"):
        require_discriminator(packed)
