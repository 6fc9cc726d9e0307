"""Latent walks (`ganjax latent`): interpolation against closed forms, the latents of each figure
kind, and every figure written for a tiny conditional DCGAN and a tiny InfoGAN trained a few
steps on the 8x8 digits (plus an unconditional DCGAN and a ring toy at their initial state)."""

import argparse
import os

import jax
import numpy as np
import pytest

from ganjax import config as config_lib
from ganjax.cli import latent as latent_cli
from ganjax.data import example_shape, make_image_sampler
from ganjax.engine.algorithm import initial_state
from ganjax.engine.build import build
from ganjax.engine.latent import LatentSpec
from ganjax.errors import EXIT_CHECKPOINT
from ganjax.run import latent_walks as lw
from ganjax.run.reopen import Run

def rng():
    """The same numpy generator at every call."""
    return np.random.default_rng(3)


# --- interpolation against closed forms ----------------------------------------------------------

def unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_slerp_matches_the_great_circle_closed_form():
    rng = np.random.default_rng(0)
    a, b = unit(rng.normal(size=(5, 7))), unit(rng.normal(size=(5, 7)))
    t = np.linspace(0, 1, 11)
    path = lw.slerp(a, b, t)
    assert path.shape == (5, 11, 7)
    # The arc in the plane of a and b: cos(t w) a + sin(t w) v, v the unit part of b orthogonal
    # to a, w the angle between them.
    omega = np.arccos(np.sum(a * b, axis=-1))
    v = unit(b - np.cos(omega)[:, None] * a)
    closed = (np.cos(t[None, :, None] * omega[:, None, None]) * a[:, None]
              + np.sin(t[None, :, None] * omega[:, None, None]) * v[:, None])
    np.testing.assert_allclose(path, closed, atol=1e-12)
    np.testing.assert_allclose(path[:, 0], a, atol=1e-15)  # endpoints exact
    np.testing.assert_allclose(path[:, -1], b, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(path, axis=-1), 1.0, atol=1e-12)
    # Constant speed in angle: the angle to a is t * w.
    angles = np.arccos(np.clip(np.einsum("ptd,pd->pt", path, a), -1, 1))
    np.testing.assert_allclose(angles, t[None] * omega[:, None], atol=1e-7)


def test_slerp_endpoints_of_raw_vectors_and_the_parallel_fallback():
    rng = np.random.default_rng(1)
    a, b = 3 * rng.normal(size=4), 0.5 * rng.normal(size=4)
    path = lw.slerp(a, b, np.array([0.0, 0.3, 1.0]))
    np.testing.assert_allclose(path[0], a, atol=1e-12)
    np.testing.assert_allclose(path[-1], b, atol=1e-12)
    # Parallel vectors have no plane to turn in: slerp is the straight line.
    t = np.linspace(0, 1, 5)
    np.testing.assert_allclose(lw.slerp(a, 2 * a, t), lw.lerp(a, 2 * a, t), atol=1e-12)


def test_lerp_endpoints_and_midpoint():
    a, b = np.array([1.0, -2.0, 0.5]), np.array([-1.0, 4.0, 0.5])
    path = lw.lerp(a, b, np.array([0.0, 0.5, 1.0]))
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[2], b)
    np.testing.assert_allclose(path[1], [0.0, 1.0, 0.5])


def test_gaussian_noise_is_slerped_and_uniform_noise_lerped():
    for noise, method, reference in (("normal", "slerp", lw.slerp), ("uniform", "linear", lw.lerp)):
        spec = LatentSpec(z_dim=6, noise=noise)
        assert lw.interpolation_method(spec) == method
        grid = lw.interpolation_grid(spec, rng(), pairs=3, steps=5)
        z = grid.latent["z"].reshape(3, 5, 6)
        expected = reference(z[:, 0], z[:, -1], np.linspace(0, 1, 5))
        np.testing.assert_allclose(z, expected, atol=1e-5)
        assert grid.column_labels == ("t=0", "t=0.25", "t=0.5", "t=0.75", "t=1")
        assert not np.allclose(z[0, 0], z[1, 0])  # one pair per row


# --- the latents of each kind ------------------------------------------------------------------

def test_prior_latent_has_the_generators_input_shapes_and_priors():
    spec = LatentSpec(z_dim=5, num_classes=4, code_dim=2, code_categories=(10, 3))
    latent = lw.prior_latent(spec, rng(), 20_000)
    example = spec.example(7)
    assert {k: (v.shape[1:], v.dtype) for k, v in latent.items()} == \
        {k: (v.shape[1:], np.dtype(v.dtype)) for k, v in example.items()}
    assert abs(latent["z"].mean()) < 0.02 and abs(latent["z"].std() - 1) < 0.02
    assert latent["c"].min() >= -1 and latent["c"].max() <= 1
    assert abs(latent["c"].std() - 1 / np.sqrt(3)) < 0.01  # U[-1, 1]
    assert set(latent["y"]) == set(range(4))
    assert set(latent["c_cat"][:, 0]) == set(range(10)) and set(latent["c_cat"][:, 1]) == {0, 1, 2}
    uniform = lw.prior_noise(LatentSpec(z_dim=3, noise="uniform"), rng(), 1000)
    assert uniform.min() >= -1 and uniform.max() <= 1 and uniform.std() < 0.7
    np.testing.assert_array_equal(lw.prior_latent(spec, rng(), 3, labels=[2, 0, 1])["y"],
                                  [2, 0, 1])


def test_conditional_interpolation_is_one_row_per_class_on_one_z_pair():
    spec = LatentSpec(z_dim=4, num_classes=10)
    grid = lw.interpolation_grid(spec, rng(), pairs=3, steps=6)
    assert (grid.rows, grid.columns) == (10, 6)
    np.testing.assert_array_equal(grid.latent["y"], np.repeat(np.arange(10), 6))
    z = grid.latent["z"].reshape(10, 6, 4)
    np.testing.assert_array_equal(z, np.broadcast_to(z[:1], z.shape))
    assert grid.row_labels[3] == "class 3"


def test_infogan_interpolation_holds_the_codes_along_each_row():
    spec = LatentSpec(z_dim=4, code_dim=2, code_categories=(10,))
    grid = lw.interpolation_grid(spec, rng(), pairs=4, steps=5)
    for name in ("c", "c_cat"):
        per_row = grid.latent[name].reshape(4, 5, -1)
        np.testing.assert_array_equal(per_row, np.broadcast_to(per_row[:, :1], per_row.shape))
        assert len({tuple(row[0]) for row in per_row}) > 1  # but drawn anew for each row


def test_class_grid_rows_are_classes_and_columns_share_z():
    spec = LatentSpec(z_dim=5, num_classes=4)
    grid = lw.class_grid(spec, rng(), columns=3)
    assert (grid.rows, grid.columns) == (4, 3)
    np.testing.assert_array_equal(grid.latent["y"], [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    z = grid.latent["z"].reshape(4, 3, 5)
    np.testing.assert_array_equal(z, np.broadcast_to(z[:1], z.shape))
    assert not np.allclose(z[0, 0], z[0, 1])


def test_code_grid_sweeps_one_continuous_code_per_categorical_row():
    spec = LatentSpec(z_dim=4, code_dim=2, code_categories=(10, 3))
    grid = lw.code_grid(spec, rng(), code=1, columns=9)
    assert (grid.rows, grid.columns) == (10, 9)
    values = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(grid.latent["c"][:, 1], np.tile(values, 10), atol=1e-6)
    np.testing.assert_array_equal(grid.latent["c"][:, 0], 0.0)  # the other code at 0
    np.testing.assert_array_equal(grid.latent["c_cat"][:, 0], np.repeat(np.arange(10), 9))
    assert len(set(grid.latent["c_cat"][:, 1])) == 1  # the other categorical code fixed
    np.testing.assert_array_equal(grid.latent["z"], np.broadcast_to(grid.latent["z"][:1], (90, 4)))
    assert grid.row_labels[2] == "c_cat[0]=2" and grid.column_labels[4] == "+0"
    # Each continuous code's figure uses the same z and codes, so that they can be compared.
    other = lw.code_grid(spec, rng(), code=0, columns=9)
    np.testing.assert_array_equal(other.latent["z"], grid.latent["z"])


def test_grids_for_draws_only_what_applies_and_is_deterministic():
    plain = LatentSpec(z_dim=3)
    assert list(lw.grids_for(plain, lw.KINDS, seed=0)) == ["interpolation"]
    info = LatentSpec(z_dim=3, code_dim=2, code_categories=(10,))
    grids = lw.grids_for(info, lw.KINDS, seed=0)
    assert list(grids) == ["interpolation", "codes_c0", "codes_c1"]
    again = lw.grids_for(info, ["codes"], seed=0)  # a kind's latents do not depend on the others
    np.testing.assert_array_equal(again["codes_c0"].latent["z"], grids["codes_c0"].latent["z"])
    other_seed = lw.grids_for(info, ["codes"], seed=1)
    assert not np.allclose(other_seed["codes_c0"].latent["z"], grids["codes_c0"].latent["z"])


@pytest.mark.parametrize("call,words", [
    (lambda: lw.class_grid(LatentSpec(z_dim=3), rng()), "model.num_classes"),
    (lambda: lw.code_grid(LatentSpec(z_dim=3), rng()), "model.info_continuous"),
    (lambda: lw.code_grid(LatentSpec(z_dim=3, code_dim=2), rng(), code=2), "codes 0..1"),
    (lambda: lw.fractions(1), "at least 2 steps"),
])
def test_errors_are_one_line(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value) and "\n" not in str(info.value)


# --- vector arithmetic -------------------------------------------------------------------------

def test_class_means_and_rescaling_against_numpy():
    rng = np.random.default_rng(2)
    z, labels = rng.normal(size=(50, 3)), rng.integers(0, 4, 50)
    labels[labels == 2] = 1  # class 2 gets no samples
    means = lw.class_mean_latents(z, labels, 4)
    for k in (0, 1, 3):
        np.testing.assert_allclose(means.means[k], z[labels == k].mean(0), atol=1e-6)
    np.testing.assert_array_equal(means.means[2], 0.0)
    assert list(means.counts) == [np.sum(labels == k) for k in range(4)]
    normal, uniform = LatentSpec(z_dim=16), LatentSpec(z_dim=12, noise="uniform")
    assert lw.typical_norm(normal) == 4.0 and lw.typical_norm(uniform) == 2.0
    scaled = lw.rescale(LatentSpec(z_dim=3), means.means)
    np.testing.assert_allclose(np.linalg.norm(scaled[[0, 1, 3]], axis=1), np.sqrt(3), rtol=1e-6)
    np.testing.assert_allclose(scaled[0] / np.linalg.norm(scaled[0]),
                               means.means[0] / np.linalg.norm(means.means[0]), rtol=1e-5)
    np.testing.assert_array_equal(scaled[2], 0.0)  # an empty class stays zero
    boxed = lw.rescale(uniform, np.full((1, 12), 0.01))  # norm 2 along the diagonal: 0.577 each
    np.testing.assert_allclose(boxed, 1 / np.sqrt(3), rtol=1e-6)
    assert lw.rescale(uniform, np.eye(12)[:1]).max() == 1.0  # clipped to the cube


class SignDecoder:
    """A stand-in generator: the 2x2 'image' of z is tanh of z's first four coordinates."""

    spec = LatentSpec(z_dim=6)

    def __call__(self, latent):
        z = np.asarray(latent["z"])
        return np.tanh(z[:, :4]).reshape(-1, 2, 2, 1).astype(np.float32)

    def grid(self, grid):
        out = self(grid.latent)
        return out.reshape((grid.rows, grid.columns) + out.shape[1:])


def sign_classifier(images):
    """Class 1 where the first pixel is bright (z_0 > 0), else 0."""
    return (images[:, 0, 0, 0] > 0.5).astype(np.int64)


def test_arithmetic_averages_z_by_the_classifier_label():
    result = lw.arithmetic(SignDecoder(), sign_classifier, 2, rng(), num=400)
    z = lw.prior_noise(SignDecoder.spec, rng(), 400)
    ones = z[:, 0] > 0
    np.testing.assert_allclose(result.means.means[1], z[ones].mean(0), atol=1e-5)
    np.testing.assert_allclose(result.means.means[0], z[~ones].mean(0), atol=1e-5)
    assert result.means.counts.sum() == 400 and result.pair == (0, 1)
    assert (result.grid.rows, result.grid.columns) == (3, 2)
    assert result.grid.row_labels == ("mean z", "rescaled", "0 to 1")
    np.testing.assert_allclose(np.linalg.norm(result.grid.latent["z"][2:4], axis=1),
                               np.sqrt(6), rtol=1e-5)  # the rescaled means
    # The mean of the z_0 > 0 samples has z_0 > 0 itself: both classes survive the averaging.
    np.testing.assert_array_equal(result.decoded_labels[:2], [[0, 1], [0, 1]])
    assert lw.class_kept_fraction(result, 0) == lw.class_kept_fraction(result, 1) == 1.0
    with pytest.raises(ValueError, match="unconditional"):
        conditional = SignDecoder()
        conditional.spec = LatentSpec(z_dim=6, num_classes=2)
        lw.arithmetic(conditional, sign_classifier, 2, rng())


# --- figures of real runs ----------------------------------------------------------------------

def tiny(spec: str):
    """The experiment at width 16 (image models) and batch 32, validated."""
    c = config_lib.load_config(spec)
    if "width" in c.model:
        c.model.width = 16
    c.train.batch_size = 32
    return config_lib.validate(c)


def fresh_run(spec: str, workdir: str) -> Run:
    """A run at its initial state (no training): enough to draw figures from."""
    config = tiny(spec)
    algorithm = build(config, example_shape(config))
    return Run(workdir, config, algorithm, initial_state(algorithm, 0), 0)


def trained_run(spec: str, workdir: str, steps: int = 3) -> Run:
    """A run trained `steps` steps by its algorithm's compiled step on the digits batches (what
    `ganjax.run.loop.train` runs, without its evaluations and checkpoints, to keep this file
    fast)."""
    run = fresh_run(spec, workdir)
    sampler = make_image_sampler(run.config)
    step = jax.jit(run.algorithm.step)
    state = run.state
    for i in range(steps):
        state, metrics = step(state, sampler.batch(i))
    assert np.isfinite(float(metrics["g_loss"]))
    return Run(workdir, run.config, run.algorithm, state, steps)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """{name: Run} of a cGAN and an InfoGAN trained three steps on the 8x8 digits."""
    return {name: trained_run(spec, str(tmp_path_factory.mktemp(name)))
            for name, spec in (("cgan", "cgan_mnist:quick"), ("infogan", "infogan_mnist:quick"))}


def written_pngs(paths):
    for path in paths.values():
        assert os.path.exists(path) and os.path.getsize(path) > 10_000, path
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_conditional_dcgan_figures(trained, tmp_path):
    notes = []
    paths = latent_cli.write_figures(trained["cgan"], lw.KINDS, 0, str(tmp_path),
                                     pairs=3, steps=5, columns=4, log=notes.append)
    assert sorted(paths) == ["classes", "interpolation"]
    assert paths["classes"] == str(tmp_path / "latent_classes.png")
    written_pngs(paths)
    assert any("skipping codes" in n for n in notes)
    assert any("skipping arithmetic" in n for n in notes)
    # The label is an input: one z drawn as two classes gives two images.
    decoder = lw.Decoder(trained["cgan"])
    images = decoder.grid(lw.class_grid(trained["cgan"].gan.latent, rng(), 2))
    assert images.shape == (10, 2, 8, 8, 1) and np.abs(images).max() <= 1
    assert np.abs(images[0, 0] - images[1, 0]).max() > 1e-4
    np.testing.assert_array_equal(images, decoder.grid(
        lw.class_grid(trained["cgan"].gan.latent, rng(), 2)))  # deterministic


def test_infogan_figures(trained, tmp_path):
    paths = latent_cli.write_figures(trained["infogan"], ["codes", "interpolation"], 0,
                                     str(tmp_path), pairs=3, steps=4, sweep=5, log=lambda _: None)
    assert sorted(paths) == ["codes_c0", "codes_c1", "interpolation"]
    written_pngs(paths)


def test_arithmetic_and_toy_figures(tmp_path):
    class Brightness:
        """Labels by mean brightness decile: a classifier stand-in that needs no training."""

        num_classes = 10

        @staticmethod
        def predict(images):
            return np.clip((images.mean(axis=(1, 2, 3)) * 10).astype(int), 0, 9)

    run = fresh_run("dcgan_digits:quick", str(tmp_path / "dcgan"))
    notes = []
    paths = latent_cli.write_figures(run, ["arithmetic", "classes"], 0, str(tmp_path),
                                     arithmetic_samples=300, classifier=lambda c: Brightness,
                                     log=notes.append)
    assert list(paths) == ["arithmetic"] and any("skipping classes" in n for n in notes)
    written_pngs(paths)
    assert any("arithmetic: 300 samples" in n for n in notes)
    toy = fresh_run("ring8", str(tmp_path / "ring"))
    paths = latent_cli.write_figures(toy, lw.KINDS, 0, str(tmp_path / "toy"), pairs=4, steps=6,
                                     log=notes.append)
    assert list(paths) == ["interpolation"]
    written_pngs(paths)
    assert any("toy runs get the interpolation figure only" in n for n in notes)


def test_cli_errors_are_one_line(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="ganjax")
    latent_cli.add_parser(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit):
        parser.parse_args(["latent", "--workdir", "w", "--kind", "interpolation,bogus"])
    assert "kinds are comma-separated names among" in capsys.readouterr().err
    args = parser.parse_args(["latent", "--workdir", str(tmp_path), "--no_compilation_cache"])
    assert args.kind == list(lw.KINDS) == list(latent_cli.KINDS)
    assert latent_cli.run(args) == EXIT_CHECKPOINT
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after any XLA-flag warning
    assert last.startswith("ganjax: checkpoint error: ") and "no config.json" in last
