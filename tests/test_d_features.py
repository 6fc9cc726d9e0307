"""D features + linear probe (DCGAN section 5.1): taps of every conv layer, 4x4 adaptive max
pooling against numpy, errors for runs without a conv D, and `ganjax features` end to end."""

import argparse
import dataclasses
import json

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from ganjax import cli
from ganjax.cli import features as features_command
from ganjax.errors import ConfigError
from ganjax.evaluation import d_features as F
from ganjax.models.dcgan import DCGANDiscriminator
from ganjax.models.mlp import MLPDiscriminator
from ganjax.models.sngan import SNGANDiscriminator


def numpy_adaptive_max_pool(x, side=4):
    """Reference: output cell (i, j) is the max over the input pixels whose unit interval
    [r, r + 1) overlaps the real interval [i H / side, (i + 1) H / side) (likewise columns)."""
    b, h, w, c = x.shape
    out = np.empty((b, side, side, c), x.dtype)
    for i in range(side):
        rows = [r for r in range(h) if r + 1 > i * h / side and r < (i + 1) * h / side]
        for j in range(side):
            cols = [q for q in range(w) if q + 1 > j * w / side and q < (j + 1) * w / side]
            out[:, i, j] = x[:, rows][:, :, cols].max(axis=(1, 2))
    return out


def test_pool_bins_overlap_as_documented():
    assert F.pool_bins(14) == [(0, 4), (3, 7), (7, 11), (10, 14)]
    assert F.pool_bins(7) == [(0, 2), (1, 4), (3, 6), (5, 7)]
    assert F.pool_bins(8) == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert F.pool_bins(4) == [(0, 1), (1, 2), (2, 3), (3, 4)]


@pytest.mark.parametrize("shape", [(2, 14, 14, 3), (2, 7, 7, 5), (1, 8, 8, 2), (1, 4, 4, 1),
                                   (2, 3, 3, 2), (1, 7, 14, 2)])
def test_adaptive_max_pool_matches_numpy(shape):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    got = np.asarray(F.adaptive_max_pool(jnp.asarray(x)))
    np.testing.assert_array_equal(got, numpy_adaptive_max_pool(x))
    if shape[1:3] == (4, 4):
        np.testing.assert_array_equal(got, x)


def _dcgan_d(resolution=28, **kw):
    d = DCGANDiscriminator(resolution=resolution, width=4, **kw)
    x = jax.random.normal(jax.random.PRNGKey(1), (3, resolution, resolution, 1))
    variables = d.init(jax.random.PRNGKey(0), x, train=False)
    return d, variables, x


def test_dcgan_taps_every_conv_after_its_activation():
    d, variables, x = _dcgan_d()
    # Non-trivial running statistics, so that eval-mode BatchNorm is visible in the taps.
    stats = jax.tree.map(lambda a: a + 0.3, variables["batch_stats"])
    variables = {**variables, "batch_stats": stats}
    taps, maps = F.conv_taps(d, variables, x)
    assert [(t.name, t.shape) for t in taps] == [("down0", (14, 14, 4)), ("down1", (7, 7, 8))]
    assert [t.taken for t in taps] == ["activation (input of down1)",
                                       "activation (input of logit)"]
    out, inter = d.apply(variables, x, train=False, capture_intermediates=True)
    conv0 = inter["intermediates"]["down0"]["__call__"][0]
    np.testing.assert_allclose(maps[0], nn.leaky_relu(conv0, 0.2), rtol=1e-6)
    np.testing.assert_allclose(maps[1].reshape(3, -1), out.features, rtol=1e-6)


def test_feature_width_and_values_are_the_pooled_taps():
    d, variables, x = _dcgan_d()
    gan = _fake_gan(d, (28, 28, 1))
    taps, extract = F.feature_extractor(gan)
    assert sum(t.describe()["pooled_features"] for t in taps) == 16 * (4 + 8)
    images01 = (np.asarray(x) + 1) / 2
    got = extract(variables, images01)
    _, maps = F.conv_taps(d, variables, 2 * jnp.asarray(images01) - 1)
    want = np.concatenate([numpy_adaptive_max_pool(np.asarray(m)).reshape(3, -1)
                           for m in maps], axis=1)
    assert got.shape == (3, 192)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_spectral_norm_dcgan_and_sngan_taps():
    d, variables, x = _dcgan_d(resolution=8, batch_norm=False, spectral_norm=True)
    taps, _ = F.conv_taps(d, variables, x[:, :8, :8])
    assert [(t.name, t.shape) for t in taps] == [("down0", (4, 4, 4))]
    sngan = SNGANDiscriminator(width=4)
    x32 = jnp.zeros((1, 32, 32, 3))
    taps = []

    def trace():  # shapes only: no SNGAN is computed
        variables = sngan.init(jax.random.PRNGKey(0), x32, train=False)
        found, maps = F.conv_taps(sngan, variables, x32)
        taps.extend(found)
        return maps

    maps = jax.eval_shape(trace)
    assert len(taps) == 10  # 3 + 3 convs in the resampling blocks, 2 + 2 in the others
    assert taps[0].name == "block0/conv0" and taps[0].taken.startswith("activation")
    assert [m.shape[1] for m in maps] == [32, 32, 16, 16, 16, 16, 8, 8, 8, 8]
    assert taps[1].taken == "raw conv output"  # block0/conv1 is pooled and added to first


@dataclasses.dataclass(frozen=True)
class _FakeGAN:
    discriminator: nn.Module | None
    data_shape: tuple
    algorithm: str = "adversarial"
    num_classes: int = 0
    d_group: int = 1
    generator: nn.Module = None
    latent: object = None


class _TinyG(nn.Module):
    @nn.compact
    def __call__(self, latent, train=True):
        return nn.Dense(1)(latent["z"])


class _Latent:
    def example(self, n):
        return {"z": jnp.zeros((n, 2))}


def _fake_gan(d, shape):
    """Just what feature extraction reads of a GAN: D, the data shape and an initialisable G."""
    return _FakeGAN(d, shape, generator=_TinyG(), latent=_Latent())


def test_runs_without_a_conv_d_fail_with_one_line():
    with pytest.raises(ConfigError, match="has no discriminator"):
        F.require_discriminator(_FakeGAN(None, (8, 8, 1), algorithm="generator_only"))
    mlp = MLPDiscriminator(hidden=(8,))
    x = jnp.zeros((2, 2))
    with pytest.raises(ConfigError, match="has no conv layer.*model.name=dcgan"):
        F.conv_taps(mlp, mlp.init(jax.random.PRNGKey(0), x, train=False), x)


def test_balanced_draws():
    labels = np.repeat(np.arange(10), 30)
    rows = F.balanced_draw(labels, 100, 10, seed=3)
    assert len(set(rows)) == 100 and np.all(np.bincount(labels[rows]) == 10)
    np.testing.assert_array_equal(rows, F.balanced_draw(labels, 100, 10, seed=3))
    assert not np.array_equal(rows, F.balanced_draw(labels, 100, 10, seed=4))
    assert np.bincount(labels[F.balanced_draw(labels, 23, 10, 0)]).tolist() == [3] * 3 + [2] * 7
    with pytest.raises(ConfigError, match="class 0 has only 30"):
        F.balanced_draw(labels, 310, 10, 0)
    pool, test = F.held_out_split(1797)
    assert len(test) == 539 and not set(pool) & set(test) and len(pool) + len(test) == 1797


def test_features_command_on_a_tiny_digits_dcgan(tmp_path):
    workdir = tmp_path / "run"
    assert cli.main(["train", "--config", "dcgan_digits:quick", "--workdir", str(workdir),
                     "--no_compilation_cache", "--config.train.steps=20",
                     "--config.train.scan_steps=10", "--config.train.eval_every=20",
                     "--config.eval.grid_size=16", "--config.model.width=8"]) == 0
    parser = argparse.ArgumentParser()
    features_command.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["features", "--workdir", str(workdir), "--labels", "30,100",
                              "--seeds", "0,1", "--no_compilation_cache"])
    assert features_command.run(args) == 0
    result = json.load(open(workdir / "features.json"))
    assert result["step"] == 20 and [t["layer"] for t in result["layers"]] == ["down0"]
    assert result["protocol"]["test"]["count"] == 539  # digits: held-out rows
    for name, dims in (("d_trained", 128), ("d_random", 128), ("pixels", 64)):
        res = result["results"][name]
        assert res["dims"] == dims
        for n in ("30", "100"):
            acc = res["by_labels"][n]["accuracy"]
            assert len(acc) == 2 and all(0.3 < a <= 1 for a in acc)
            assert res["by_labels"][n]["mean"] == pytest.approx(np.mean(acc))
            assert set(res["by_labels"][n]["C"]) <= set(F.C_GRID)
    figure = np.asarray(Image.open(workdir / "figures" / "features.png"))
    assert figure.ndim == 3 and figure.std() > 0
    bad = parser.parse_args(["features", "--workdir", str(workdir), "--labels", "20"])
    assert features_command.run(bad) == cli.EXIT_CONFIG_ERROR  # < 3 per class for the CV
