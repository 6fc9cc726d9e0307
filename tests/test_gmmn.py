"""Generative moment matching (issue 12, item 3): the MMD, the gmmn model, GMMN+AE's algorithm.

* `ganjax.metrics.mmd` against a float64 numpy reference written from the definition (every
  pair's kernel by broadcasting, no distance trick), on random data of unequal sizes.
* The pixel GMMN trains through `ganjax.run.loop.train` (experiments/gmmn_mnist.py:quick, 8x8
  digits) and its samples end closer to the data in MMD than the untrained generator's.
* GMMN+AE's "code_matching" step changes only the autoencoder before model.ae_steps and only
  the code generator after it; a run interrupted before the phase boundary and resumed across
  it equals an uninterrupted one bit for bit; its samples are decoder(code_gen(z)).
* Bad GMMN fields are one ConfigError line naming the key.
"""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import config as config_lib
from ganjax.data import open_dataset, to_model_range
from ganjax.engine.algorithm import initial_state
from ganjax.engine.build import build
from ganjax.errors import ConfigError, Interrupted
from ganjax.metrics.mmd import mmd2, mmd2_unbiased, mmd_loss, squared_distances
from ganjax.run.loop import train
from ganjax.run.reopen import load_run
from ganjax.run.sampling import generate

# --- the MMD ----------------------------------------------------------------------------------


def reference_kernel(a, b, bandwidths):
    """sum_s exp(-|a_i - b_j|^2 / (2 s^2)) for every pair, float64, straight from the definition."""
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    b = np.asarray(b, np.float64).reshape(len(b), -1)
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return sum(np.exp(-d2 / (2.0 * s * s)) for s in bandwidths)


def reference_mmd2(x, y, bandwidths, unbiased=False):
    k_xx, k_yy = reference_kernel(x, x, bandwidths), reference_kernel(y, y, bandwidths)
    k_xy = reference_kernel(x, y, bandwidths)
    if not unbiased:
        return k_xx.mean() + k_yy.mean() - 2.0 * k_xy.mean()
    n, m = len(x), len(y)
    return ((k_xx.sum() - np.trace(k_xx)) / (n * (n - 1))
            + (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1)) - 2.0 * k_xy.mean())


@pytest.mark.parametrize("bandwidths", [(1.0,), (0.5, 2.0), (2.0, 5.0, 10.0, 20.0, 40.0, 80.0)])
def test_mmd_matches_the_definition_in_float64(bandwidths):
    rng = np.random.default_rng(len(bandwidths))
    # Images of unequal batch sizes whose laws differ in mean and scale.
    x = rng.normal(size=(37, 4, 4, 1)).astype(np.float32)
    y = (0.3 + 1.5 * rng.normal(size=(53, 4, 4, 1))).astype(np.float32)
    for unbiased, ours in ((False, mmd2), (True, mmd2_unbiased)):
        expected = reference_mmd2(x, y, bandwidths, unbiased)
        assert float(ours(x, y, bandwidths)) == pytest.approx(expected, rel=1e-4, abs=1e-6)
    expected = np.sqrt(reference_mmd2(x, y, bandwidths))
    assert float(mmd_loss(x, y, bandwidths)) == pytest.approx(expected, rel=1e-4)
    d2 = np.asarray(squared_distances(x, y))
    assert d2.shape == (37, 53) and d2.min() >= 0
    np.testing.assert_allclose(d2, -2.0 * np.log(reference_kernel(x, y, (1.0,))), rtol=1e-4)


def test_mmd_of_a_sample_with_itself_is_zero_and_its_loss_has_finite_gradients():
    x = np.random.default_rng(0).uniform(-1, 1, size=(64, 7)).astype(np.float32)
    bandwidths = (0.5, 1.0, 2.0)
    assert float(mmd2(x, x, bandwidths)) == 0.0
    assert abs(float(mmd2_unbiased(x, x, bandwidths)) - reference_mmd2(x, x, bandwidths, True)) \
        < 1e-5
    # sqrt(max(MMD^2, eps)): sqrt(eps) at 0, with a finite gradient (sqrt's is infinite at 0).
    assert float(mmd_loss(x, x, bandwidths)) == pytest.approx(1e-4)
    grad = jax.grad(lambda a: mmd_loss(a, x, bandwidths))(jnp.asarray(x))
    assert np.all(np.isfinite(np.asarray(grad)))
    near, far = float(mmd2(x, x + 0.2, bandwidths)), float(mmd2(x, x + 2.0, bandwidths))
    assert 0 < near < far


def test_mmd_refuses_bad_inputs():
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match="all > 0"):
        mmd2(x, x, (1.0, 0.0))
    with pytest.raises(ValueError, match="cannot be compared"):
        mmd2(x, np.zeros((4, 2), np.float32), (1.0,))
    with pytest.raises(ValueError, match=">= 2 examples"):
        mmd2_unbiased(x[:1], x, (1.0,))


# --- helpers ----------------------------------------------------------------------------------


def run(config, workdir, **kwargs):
    return train(config, str(workdir), tensorboard=False, verbose=False, **kwargs)


def quiet(config):
    """No label classifier at evaluations: these tests look at the MMD, not class coverage."""
    config.eval.class_metrics = False
    return config


def leaves(state):
    return [np.asarray(x) for x in jax.tree.leaves(state)]


def real_digits(config, n):
    """n real digits of the run's data, in the model's [-1, 1] range."""
    images, _ = open_dataset(config).get(np.arange(n))
    return to_model_range(images, config.data.resolution, config.data.channels)


def sample_mmd(samples01, real, bandwidths):
    """sqrt(MMD^2) in [0, 1] pixel units (the units of model.mmd_bandwidths)."""
    return float(mmd_loss(jnp.asarray(samples01), (jnp.asarray(real) + 1) / 2, bandwidths))


# --- the pixel GMMN ---------------------------------------------------------------------------


def test_pixel_gmmn_trains_and_moves_its_samples_towards_the_data(tmp_path):
    config = quiet(config_lib.load_config("gmmn_mnist:quick"))
    config.train.steps, config.train.eval_every = 60, 60
    summary = run(config, tmp_path)
    loaded = load_run(str(tmp_path))
    assert loaded.algorithm.name == "generator_only" and loaded.gan.discriminator is None
    assert loaded.state.players == ("g",) and summary["step"] == 60
    records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    mmds = [r["train/g_mmd"] for r in records if "train/g_mmd" in r]
    assert len(mmds) == 6 and mmds[-1] < mmds[0]
    bandwidths = config.model.mmd_bandwidths
    real = real_digits(config, 500)
    trained = sample_mmd(generate(loaded, 500, seed=1), real, bandwidths)
    untrained = dataclasses.replace(loaded, state=initial_state(loaded.algorithm, config.seed))
    before = sample_mmd(generate(untrained, 500, seed=1), real, bandwidths)
    assert trained < 0.8 * before, (before, trained)


# --- GMMN+AE ----------------------------------------------------------------------------------

AE_STEPS, STEPS, STOP = 15, 30, 10


def ae_config():
    c = quiet(config_lib.load_config("gmmn_mnist:quick"))
    c.model.mmd_space = "autoencoder"
    c.model.ae_hidden, c.model.ae_code_dim, c.model.code_hidden = (32,), 4, (16,)
    c.model.code_bandwidths = (0.5, 1.0)
    c.model.ae_steps = AE_STEPS
    c.train.steps, c.train.batch_size = STEPS, 64
    c.train.scan_steps, c.train.log_every, c.train.eval_every = 10, 10, STEPS
    c.eval.num_samples, c.eval.grid_size = 64, 16
    return c


def test_code_matching_trains_one_part_per_phase():
    config = ae_config()
    algorithm = build(config, (8, 8, 1))
    assert algorithm.name == "code_matching"
    state = initial_state(algorithm, 0)
    assert set(state.params["g"]) == {"code_gen", "encoder", "decoder"}
    assert set(state.opt_state["g"]) == {"autoencoder", "code_gen"}
    x = real_digits(config, 64)[None]
    step = jax.jit(algorithm.step)
    history, logs = [state], []
    for _ in range(AE_STEPS + 2):
        state, metrics = step(state, {"x": x})
        history.append(state)
        logs.append({k: float(v) for k, v in metrics.items()})
    same = lambda a, b: all(np.array_equal(u, v) for u, v in zip(leaves(a), leaves(b)))
    for i in range(1, len(history)):
        before, after = history[i - 1].params["g"], history[i].params["g"]
        in_ae_phase = i <= AE_STEPS  # step i - 1 < ae_steps updated the autoencoder
        assert same(before["code_gen"], after["code_gen"]) == in_ae_phase
        assert same(before["encoder"], after["encoder"]) != in_ae_phase
        assert same(before["decoder"], after["decoder"]) != in_ae_phase
    assert [m["ae_phase"] for m in logs] == [1.0] * AE_STEPS + [0.0, 0.0]
    assert all(m["g_grad_norm"] == 0 < m["ae_grad_norm"] for m in logs[:AE_STEPS])
    assert all(m["ae_grad_norm"] == 0 < m["g_grad_norm"] for m in logs[AE_STEPS:])
    assert logs[-1]["ae_reconstruction"] < logs[0]["ae_reconstruction"]
    # Once the autoencoder is fixed, its reconstruction (a diagnostic) stays put.
    assert logs[-1]["ae_reconstruction"] == logs[-2]["ae_reconstruction"]
    assert np.isfinite(logs[-1]["g_mmd"])


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gmmn_ae") / "full"
    run(ae_config(), workdir)
    return workdir, load_run(str(workdir))


def test_gmmn_ae_resumes_bit_for_bit_across_the_phase_boundary(tmp_path, ae_run):
    reference, loaded = ae_run
    config = ae_config()
    with pytest.raises(Interrupted, match=f"at step {STOP}/"):
        run(config, tmp_path, stop_at=STOP)
    summary = run(config, tmp_path)  # resumes at STOP < ae_steps, crosses it, ends in phase 2
    assert summary["resumed_from_step"] == STOP and summary["step"] == STEPS
    resumed = load_run(str(tmp_path))
    a, b = leaves(resumed.state), leaves(loaded.state)
    assert len(a) == len(b) and all(u.dtype == v.dtype and np.array_equal(u, v)
                                    for u, v in zip(a, b))
    assert (tmp_path / "metrics.jsonl").read_text() == (reference / "metrics.jsonl").read_text()


def test_gmmn_ae_samples_are_decoded_generated_codes(ae_run):
    _, loaded = ae_run
    samples = generate(loaded, 50, seed=2)
    assert samples.shape == (50, 8, 8, 1) and samples.min() >= 0 and samples.max() <= 1
    module, params = loaded.gan.generator, {"params": loaded.state.params["g"]}
    latent = loaded.gan.sample_latent(jax.random.PRNGKey(5), 8)
    codes = module.apply(params, latent, method="codes")
    assert codes.shape == (8, 4) and float(codes.min()) >= 0 and float(codes.max()) <= 1
    np.testing.assert_array_equal(np.asarray(module.apply(params, codes, method="decode")),
                                  np.asarray(module.apply(params, latent)))


# --- config errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("overrides, message", [
    ({"model.mmd_space": "codes"}, "config.model.mmd_space='codes': must be one of pixels, "
                                   "autoencoder"),
    ({"model.mmd_bandwidths": (2.0, -1.0)}, "config.model.mmd_bandwidths=(2.0, -1.0): must be a "
                                            "tuple of positive kernel bandwidths"),
    ({"model.g_hidden": (64, 0)}, "config.model.g_hidden=(64, 0): must be a tuple of positive"),
    ({"model.mmd_space": "autoencoder", "model.ae_steps": 20},
     "config.model.ae_steps=20: must be in [1, train.steps=20)"),
    ({"penalty.name": "r1"}, "config.penalty.name='r1': gmmn has no discriminator"),
    ({"data.source": "ring"}, "config.model.name='gmmn': gmmn is for image data"),
])
def test_bad_gmmn_fields_are_one_line_config_errors(overrides, message):
    config = config_lib.load_config("gmmn_mnist:quick")
    for key, value in overrides.items():
        section, field = key.split(".")
        config[section][field] = value
    with pytest.raises(ConfigError) as error:
        config_lib.validate(config)
    assert "\n" not in str(error.value) and str(error.value).startswith(message), error.value
