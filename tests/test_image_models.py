"""DCGAN and SNGAN models: shapes per resolution, fast/plain gradient paths, spectral norm, one
training step through the engine, and (with torch installed) DCGAN against a PyTorch reference.

Parameters and inputs are made host-side with numpy and everything runs jitted, so that the
file compiles a handful of small programs only.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import config as config_lib
from ganjax.engine.algorithm import init_state
from ganjax.engine.build import gan_from_networks
from ganjax.engine.hparams import read_values
from ganjax.models.dcgan import DCGANDiscriminator, DCGANGenerator, base_grid
from ganjax.models.layers import Conv, batch_norm, maybe_spectral_norm
from ganjax.models.sngan import SNGANDiscriminator, SNGANGenerator
from ganjax.types import Networks
from ganjax.engine.state import TrainState
from ganjax.engine.adversarial import make_train_step

KEY = jax.random.PRNGKey(0)


def normal(seed, shape, scale=1.0):
    return scale * np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def random_variables(module, x, seed=0):
    """Variables shaped like module.init's, filled host-side (BN scales near 1, stats valid)."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(jax.eval_shape(
        lambda x: module.init(KEY, x, train=False), x))
    values = []
    for i, (path, leaf) in enumerate(leaves):
        name = jax.tree_util.keystr(path)
        value = normal(seed + i, leaf.shape, 0.2)
        if name.endswith("['scale']") or name.endswith("['var']"):
            value = 1.0 + np.abs(value)
        values.append(value)
    return jax.tree.unflatten(treedef, values)


def shapes(tree):
    return jax.tree.map(lambda a: a.shape, tree)


@pytest.mark.parametrize("resolution,base,steps", [(8, 4, 1), (16, 4, 2), (28, 7, 2), (32, 4, 3),
                                                   (64, 4, 4)])
def test_dcgan_shapes_follow_the_resolution(resolution, base, steps):
    assert base_grid(resolution) == (base, steps)
    g = DCGANGenerator(resolution, channels=3, width=4)
    d = DCGANDiscriminator(resolution, width=4, batch_norm=False, spectral_norm=True)
    z = {"z": jax.ShapeDtypeStruct((3, 16), jnp.float32)}
    g_vars = jax.eval_shape(lambda z: g.init(KEY, z, train=False), z)
    images = jax.eval_shape(lambda v, z: g.apply(v, z, train=True, mutable=["batch_stats"])[0],
                            g_vars, z)
    assert images.shape == (3, resolution, resolution, 3)
    d_vars = jax.eval_shape(lambda x: d.init(KEY, x, train=False), images)
    out = jax.eval_shape(lambda v, x: d.apply(v, x, train=False), d_vars, images)
    assert out.logit.shape == (3,) and out.features.shape[0] == 3
    # Widths halve on the way up (G's last hidden block has `width`) and double on the way down.
    up = [g_vars["params"][f"up{i}"]["kernel"].shape[-1] for i in range(steps)]
    assert up == [4 * 2 ** (steps - 2 - i) for i in range(steps - 1)] + [3]
    assert [d_vars["params"][f"down{i}"]["kernel"].shape[-1] for i in range(steps)] == [
        4 * 2 ** i for i in range(steps)]
    # SN on every conv and the dense layer: one u vector each, in batch_stats.
    assert len(jax.tree.leaves(d_vars["batch_stats"])) == 2 * (steps + 1)


def test_resolution_must_be_base_times_a_power_of_two():
    for bad in (4, 7, 12, 48):
        with pytest.raises(ValueError):
            base_grid(bad)
    with pytest.raises(ValueError, match="resolution 16"):
        jax.eval_shape(lambda x: DCGANDiscriminator(16).init(KEY, x),
                       jax.ShapeDtypeStruct((2, 32, 32, 3), jnp.float32))


def test_dcgan_fast_and_plain_gradients_agree():
    """fast_conv changes the backward pass only: same parameters and function.

    (The layers themselves are compared with flax's in test_conv_transpose.py.)
    """
    fast, plain = (DCGANGenerator(16, 1, 4, fast_conv=f) for f in (True, False))
    z = {"z": normal(1, (3, 8), 3.0)}
    variables = random_variables(fast, z)
    assert shapes(variables) == shapes(random_variables(plain, z))
    got, want = (train_mode_grads(m, variables, z) for m in (fast, plain))
    images = got[1][0]
    assert images.shape == (3, 16, 16, 1) and np.all(np.abs(images) <= 1.0)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_batch_norm_is_flax_in_train_mode_with_pytorch_running_variance():
    x, cotangent = normal(8, (6, 3, 3, 5), 2.0) + 1.0, normal(9, (6, 3, 3, 5))
    variables = {"params": {"scale": normal(10, (5,)) + 1.0, "bias": normal(11, (5,))},
                 "batch_stats": {"mean": normal(12, (5,)), "var": 1.0 + normal(13, (5,)) ** 2}}

    @functools.partial(jax.jit, static_argnums=0)
    def run(module, variables):
        def f(params, x):
            return module.apply({**variables, "params": params}, x, mutable=["batch_stats"])
        (y, stats), vjp = jax.vjp(f, variables["params"], x)
        return y, stats, vjp((cotangent, jax.tree.map(jnp.zeros_like, stats)))

    y, stats, grads = run(batch_norm(train=True), variables)
    y_ref, stats_ref, grads_ref = run(nn.BatchNorm(False, momentum=0.9, epsilon=1e-5), variables)
    for a, b in zip(jax.tree.leaves((y, grads)), jax.tree.leaves((y_ref, grads_ref))):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    stats, stats_ref, old = stats["batch_stats"], stats_ref["batch_stats"], variables["batch_stats"]
    np.testing.assert_allclose(stats["mean"], stats_ref["mean"], rtol=1e-5)
    n = x.size // 5  # PyTorch folds the unbiased batch variance into its running average
    np.testing.assert_allclose(stats["var"] - 0.9 * old["var"],
                               (stats_ref["var"] - 0.9 * old["var"]) * n / (n - 1), rtol=1e-4)
    eval_y = batch_norm(train=False).apply(variables, x)
    want = (x - old["mean"]) / np.sqrt(old["var"] + 1e-5) * variables["params"]["scale"]
    np.testing.assert_allclose(eval_y, want + variables["params"]["bias"], rtol=1e-4, atol=1e-5)


@functools.partial(jax.jit, static_argnums=0)
def train_mode_grads(module, variables, x):
    """Gradients of sum(sin(module(x))) w.r.t. params and x, with the outputs and new stats."""
    def loss(params, x):
        out, stats = module.apply({**variables, "params": params}, x, train=True,
                                  mutable=["batch_stats"])
        return jnp.sum(jnp.sin(out)), (out, stats)
    return jax.grad(loss, argnums=(0, 1), has_aux=True)(variables["params"], x)


class _SNConv(nn.Module):
    """A single spectrally normalised conv, for the power-iteration test."""

    @nn.compact
    def __call__(self, x, train=True):
        return maybe_spectral_norm(Conv(5, 3, name="conv", use_bias=False), True)(x, train)


def test_spectral_norm_power_iteration_finds_the_top_singular_value():
    module, x = _SNConv(), normal(3, (2, 6, 6, 4))
    variables = random_variables(module, x)
    kernel = variables["params"]["conv"]["kernel"]
    stats0 = variables["batch_stats"]

    @jax.jit
    def iterate(stats):
        def body(_, stats):
            return module.apply({**variables, "batch_stats": stats}, x, train=True,
                                mutable=["batch_stats"])[1]["batch_stats"]
        return jax.lax.fori_loop(0, 100, body, stats)

    stats = iterate(stats0)
    sigma = float(stats["conv_sn"]["conv/kernel/sigma"])
    top = np.linalg.svd(np.asarray(kernel).reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    assert sigma == pytest.approx(top, rel=1e-3)
    # The layer applies kernel / sigma, whose top singular value is then 1.
    y = module.apply({**variables, "batch_stats": stats}, x, train=False)
    want = Conv(5, 3, use_bias=False).apply({"params": {"kernel": kernel / top}}, x)
    np.testing.assert_allclose(y, want, rtol=1e-3, atol=1e-5)
    normalised = np.asarray(kernel).reshape(-1, kernel.shape[-1]) / sigma
    assert np.linalg.svd(normalised, compute_uv=False)[0] == pytest.approx(1.0, rel=1e-3)
    # u is state: it moves under train=True and stays put under train=False.
    _, frozen = module.apply({**variables, "batch_stats": stats0}, x, train=False,
                             mutable=["batch_stats"])
    assert jax.tree.all(jax.tree.map(np.array_equal, frozen["batch_stats"], stats0))


def _gan(generator, discriminator, shape):
    config = config_lib.apply_overrides(config_lib.base_config(model="dcgan"), {
        "loss.name": "hinge", "optim.g_lr": "2e-4", "optim.d_lr": "2e-4", "optim.b1": "0.0",
        "optim.b2": "0.9", "model.noise_dim": "8"})
    return gan_from_networks(config, Networks(generator, discriminator), shape)


def test_spectral_norm_state_is_carried_by_the_engine():
    """One jitted train step: u vectors (D) and BN statistics (G) are updated as state."""
    gan = _gan(DCGANGenerator(8, 3, 4), DCGANDiscriminator(8, 4, batch_norm=False,
                                                           spectral_norm=True), (8, 8, 3))
    # The state init_state builds, from host-made variables: compiling the random
    # initialisers alone takes seconds on a small CPU.
    g = random_variables(gan.generator, {"z": normal(0, (2, 8))})
    d = random_variables(gan.discriminator, normal(0, (2, 8, 8, 3)))
    hparams = read_values(gan.hparam_values)
    g_opt, d_opt = jax.jit(lambda g, d: (gan.g_optimizer.init(g, hparams),
                                         gan.d_optimizer.init(d, hparams)))(g["params"],
                                                                            d["params"])
    state = TrainState(step=np.int32(0), rng=np.asarray(KEY),
                       params={"g": g["params"], "d": d["params"]},
                       batch_stats={"g": g["batch_stats"], "d": d["batch_stats"]},
                       opt_state={"g": g_opt, "d": d_opt}, hparams=hparams)
    assert jax.tree.structure(state) == jax.tree.structure(
        jax.eval_shape(lambda key: init_state(gan, key), KEY))
    new, metrics = jax.jit(make_train_step(gan))(state, {"x": normal(4, (1, 4, 8, 8, 3), 0.5)})
    assert all(np.isfinite(v) for v in jax.tree.leaves(metrics))
    changed = lambda a, b: not jax.tree.all(jax.tree.map(np.array_equal, a, b))  # noqa: E731
    assert changed(new.batch_stats["d"], state.batch_stats["d"])
    assert changed(new.batch_stats["g"], state.batch_stats["g"])


def test_sngan_resnets():
    """Paper shapes at 32x32 (G: 3 up-blocks; D: SN on all 11 layers), and a train-mode D call."""
    g, d = SNGANGenerator(32, 3, width=16), SNGANDiscriminator(width=8)
    z = {"z": jax.ShapeDtypeStruct((2, 128), jnp.float32)}
    g_vars = jax.eval_shape(lambda z: g.init(KEY, z, train=False), z)
    images = jax.eval_shape(lambda v, z: g.apply(v, z, train=True, mutable=["batch_stats"])[0],
                            g_vars, z)
    assert images.shape == (2, 32, 32, 3)
    assert set(g_vars["params"]) == {"project", "block0", "block1", "block2", "out_bn", "out"}
    assert g_vars["params"]["block0"]["shortcut"]["kernel"].shape == (1, 1, 16, 16)
    d_vars = jax.eval_shape(lambda x: d.init(KEY, x, train=False), images)
    assert len(jax.tree.leaves(d_vars["batch_stats"])) == 2 * 11  # u and sigma per layer
    assert "shortcut" not in d_vars["params"]["block2"]  # identity shortcut, same width

    x = normal(7, (2, 8, 8, 3))  # 8 -> 4 -> 2: the same blocks at a cheaper size
    variables = random_variables(d, x)
    out, updated = jax.jit(lambda v, x: d.apply(v, x, train=True, mutable=["batch_stats"]))(
        variables, x)
    assert out.logit.shape == (2,) and np.all(np.isfinite(out.logit))
    assert out.features.shape == (2, 8)  # sum-pooled: where heads attach
    u = lambda stats: stats["block1"]["conv0_sn"]["conv0/kernel/u"]  # noqa: E731
    assert not np.allclose(u(updated["batch_stats"]), u(variables["batch_stats"]))


def test_dcgan_matches_pytorch_in_train_mode():
    """The benchmark's 28x28 DCGAN (narrower), weights copied into PyTorch: same G and D."""
    torch = pytest.importorskip("torch")
    width, noise = 8, 10
    g, d = DCGANGenerator(28, 1, width), DCGANDiscriminator(28, width)
    z, x = normal(5, (4, noise)), normal(6, (4, 28, 28, 1))
    g_vars, d_vars = random_variables(g, {"z": z}), random_variables(d, x, seed=100)
    images, g_stats = jax.jit(lambda v, z: g.apply(v, z, train=True, mutable=["batch_stats"]))(
        g_vars, {"z": z})
    logits = jax.jit(lambda v, x: d.apply(v, x, train=True, mutable=["batch_stats"])[0].logit)(
        d_vars, x)

    tg = _torch_dcgan(torch, width, noise)
    td = _torch_dcgan(torch, width, noise, discriminator=True)
    _copy_into(torch, tg, g_vars, ["project", "project_bn", "up0", "up0_bn", "up1"])
    _copy_into(torch, td, d_vars, ["down0", "down1", "down1_bn", "logit"])
    with torch.no_grad():
        t_images = tg.train()(torch.from_numpy(z)).permute(0, 2, 3, 1).numpy()
        t_logits = td.train()(torch.from_numpy(x).permute(0, 3, 1, 2))[:, 0].numpy()
    np.testing.assert_allclose(images, t_images, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(logits, t_logits, rtol=1e-4, atol=1e-4)
    for name, layer in (("project_bn", tg[2]), ("up0_bn", tg[5])):  # PyTorch's running stats
        np.testing.assert_allclose(g_stats["batch_stats"][name]["mean"], layer.running_mean,
                                   rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(g_stats["batch_stats"][name]["var"], layer.running_var,
                                   rtol=1e-4, atol=1e-6)


def _torch_dcgan(torch, width, noise, discriminator=False):
    """PyTorch's DCGAN for 28x28x1 (NCHW), layers in the order of ganjax's parameter names."""
    t = torch.nn
    if discriminator:
        return t.Sequential(t.Conv2d(1, width, 4, 2, 1), t.LeakyReLU(0.2),
                            t.Conv2d(width, 2 * width, 4, 2, 1, bias=False),
                            t.BatchNorm2d(2 * width), t.LeakyReLU(0.2), t.Flatten(),
                            t.Linear(7 * 7 * 2 * width, 1))
    return t.Sequential(t.Linear(noise, 7 * 7 * 2 * width, bias=False),
                        t.Unflatten(1, (2 * width, 7, 7)), t.BatchNorm2d(2 * width), t.ReLU(),
                        t.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),
                        t.BatchNorm2d(width), t.ReLU(), t.ConvTranspose2d(width, 1, 4, 2, 1),
                        t.Tanh())


def _copy_into(torch, sequential, variables, names):
    """Copies flax variables (NHWC, HWIO) into the layers with weights, in order (NCHW, OIHW).

    A dense layer next to a 7x7 grid flattens it in (h, w, c) order here, (c, h, w) in torch;
    flax's transposed conv is an input-dilated conv with the kernel as is, torch's is the
    adjoint of a conv: the kernel flipped in space.
    """
    layers = [m for m in sequential if any(True for _ in m.parameters(recurse=False))]
    assert len(layers) == len(names)
    for layer, name in zip(layers, names):
        p = {k: np.asarray(v) for k, v in variables["params"][name].items()}
        if isinstance(layer, torch.nn.BatchNorm2d):
            weight = p["scale"]
            stats = variables["batch_stats"][name]
            layer.running_mean.copy_(torch.from_numpy(np.asarray(stats["mean"])))
            layer.running_var.copy_(torch.from_numpy(np.asarray(stats["var"])))
        elif isinstance(layer, torch.nn.ConvTranspose2d):
            weight = p["kernel"][::-1, ::-1].transpose(2, 3, 0, 1)
        elif isinstance(layer, torch.nn.Conv2d):
            weight = p["kernel"].transpose(3, 2, 0, 1)
        elif name == "project":  # z -> (h, w, c) grid; torch unflattens (c, h, w)
            k = p["kernel"]
            weight = k.reshape(k.shape[0], 7, 7, -1).transpose(3, 1, 2, 0).reshape(-1, k.shape[0])
        else:  # D's logit: (h, w, c)-flattened features -> (c, h, w)
            k = p["kernel"]
            weight = k.reshape(7, 7, -1, k.shape[1]).transpose(3, 2, 0, 1).reshape(k.shape[1], -1)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
            if "bias" in p:
                layer.bias.copy_(torch.from_numpy(p["bias"]))


def test_dcgan_dense_layers_are_the_infogan_networks_fc_layers():
    # g_dense / d_dense add the FC hidden layer of the InfoGAN MNIST networks: G's noise goes
    # through it (Dense, BN, ReLU) before the projection, D's features become its activations.
    g = DCGANGenerator(resolution=8, channels=1, width=4, dense=12)
    d = DCGANDiscriminator(resolution=8, width=4, dense=10)
    latent = {"z": jnp.ones((3, 5))}
    g_vars = g.init(jax.random.PRNGKey(0), latent, train=False)
    assert g_vars["params"]["dense"]["kernel"].shape == (5, 12)
    assert g_vars["params"]["project"]["kernel"].shape[0] == 12
    assert g.apply(g_vars, latent, train=False).shape == (3, 8, 8, 1)
    x = jnp.ones((3, 8, 8, 1))
    d_vars = d.init(jax.random.PRNGKey(1), x, None, train=False)
    out, inner = d.apply(d_vars, x, None, train=False, capture_intermediates=True)
    assert out.features.shape == (3, 10) and out.logit.shape == (3,)
    # Features = LeakyReLU(0.2) of the dense layer's output through a fresh BatchNorm (running
    # mean 0, variance 1, scale 1, shift 0) in eval mode.
    dense_out = np.asarray(inner["intermediates"]["dense"]["__call__"][0], np.float64)
    normed = dense_out / np.sqrt(1.0 + 1e-5)
    np.testing.assert_allclose(np.asarray(out.features), np.where(normed > 0, normed,
                                                                  0.2 * normed), rtol=1e-5,
                               atol=1e-6)
    c = config_lib.base_config(model="dcgan")
    c.data.source, c.data.resolution, c.model.d_dense = "digits", 8, -1
    with pytest.raises(config_lib.ConfigError, match="model.d_dense"):
        config_lib.validate(c)
