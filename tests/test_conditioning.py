"""Conditioning and InfoGAN codes chosen by config, and the terms that go with their heads.

* The latent: labels and categorical codes in range, fixed ones respected, the unconditional
  latent unchanged (bit for bit the pre-conditioning noise).
* Every (G, D) conditioning builds for mlp, dcgan and sngan and changes nothing of the
  architecture's own parameters (heads wrap it); class-conditional BatchNorm starts as the plain
  one and then gives each class its own gain and shift; the concat D sees the label channels.
* ACGAN's class terms and InfoGAN's bound against numpy, and the bound on a tiny joint law where
  the mutual information is known in closed form (the optimal Q attains it exactly).
* `ganjax sample --labels/--codes` cycles the classes; bad values are one line.
* A conditional toy GAN built only from config learns its conditioning on the ring.
* Config errors are one line naming the key.
"""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import cli
from ganjax.config import ConfigError, base_config, validate
from ganjax.engine.build import build, build_gan
from ganjax.engine.generation import cycled, make_sampler
from ganjax.engine.head_terms import (acgan_terms, categorical_bound, continuous_bound,
                                      head_terms)
from ganjax.engine.latent import LatentSpec
from ganjax.engine.objectives import DInputs, GInputs, total
from ganjax.experiments import cgan_mnist, infogan_mnist
from ganjax.models.heads import ConcatConditionedD, InfoQ
from ganjax.models.layers import CLASS_ONEHOT, ClassConditionalBatchNorm
from ganjax.models.mlp import MLPDiscriminator
from ganjax.run.loop import train
from ganjax.types import DOut


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=tol,
                               atol=tol)


# --- the latent ------------------------------------------------------------------------------

def test_latent_labels_and_codes_are_in_range_and_fixed_ones_are_kept():
    spec = LatentSpec(4, num_classes=5, code_dim=2, code_categories=(10, 3))
    latent = spec.sample(jax.random.PRNGKey(0), 600)
    assert latent["z"].shape == (600, 4) and latent["c"].shape == (600, 2)
    assert latent["c_cat"].shape == (600, 2) and latent["c_cat"].dtype == jnp.int32
    for j, size in enumerate((10, 3)):
        values = np.asarray(latent["c_cat"][:, j])
        assert set(values) == set(range(size))  # every value drawn, none outside
    assert set(np.asarray(latent["y"])) == set(range(5))
    assert float(jnp.min(latent["c"])) >= -1 and float(jnp.max(latent["c"])) <= 1
    fixed = spec.sample(jax.random.PRNGKey(0), 6, labels=jnp.arange(6) % 5,
                        codes=jnp.stack([jnp.arange(6), jnp.zeros(6, jnp.int32)], 1))
    close(fixed["y"], np.arange(6) % 5)
    close(fixed["c_cat"][:, 0], np.arange(6))
    # The noise does not depend on which labels were asked for.
    close(fixed["z"], spec.sample(jax.random.PRNGKey(0), 6)["z"])
    example = spec.example(3)
    assert {k: v.shape for k, v in example.items()} == {
        "z": (3, 4), "y": (3,), "c": (3, 2), "c_cat": (3, 2)}


def test_unconditional_latent_is_the_plain_noise():
    spec = LatentSpec(3)
    assert not spec.conditional
    close(spec.sample(jax.random.PRNGKey(7), 4)["z"],
          jax.random.normal(jax.random.PRNGKey(7), (4, 3)))


# --- networks from config --------------------------------------------------------------------

def conditional_config(model, g="concat", d="concat", **model_fields):
    c = base_config(model=model)
    if model == "mlp":
        c.data.source, c.data.num_modes = "ring", 8
        c.model.num_classes = 8
    else:
        c.data.source, c.data.resolution = "digits", 8 if model == "dcgan" else 32
        c.model.width = 8
        c.model.num_classes = 10
    c.model.g_conditioning, c.model.d_conditioning = g, d
    c.model.update(model_fields)
    return validate(c)


def param_count(tree):
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


COMBINATIONS = [("mlp", "concat", d) for d in ("concat", "projection", "acgan")] + [
    (m, g, d) for m in ("dcgan", "sngan") for g in ("concat", "batch_norm")
    for d in ("concat", "projection", "acgan")]


@pytest.mark.parametrize("model,g,d", COMBINATIONS)
def test_every_conditioning_builds_around_the_architecture(model, g, d):
    c = conditional_config(model, g, d)
    shape = (2,) if model == "mlp" else (c.data.resolution, c.data.resolution, 1)
    gan = build_gan(c, shape)
    assert gan.num_classes == c.model.num_classes and gan.latent.num_classes == gan.num_classes
    k = gan.num_classes
    latent = gan.latent.example(4)
    x = jnp.zeros((4,) + shape)
    y = jnp.arange(4) % k
    g_vars = jax.eval_shape(lambda: gan.generator.init(jax.random.PRNGKey(0), latent,
                                                        train=False))
    d_vars = jax.eval_shape(lambda: gan.discriminator.init(jax.random.PRNGKey(0), x, y,
                                                            train=False))
    out = jax.eval_shape(lambda: gan.generator.apply(
        gan.generator.init(jax.random.PRNGKey(0), latent, train=False), latent, train=False))
    assert out.shape == (4,) + shape
    assert "inner" in g_vars["params"] and "trunk" in d_vars["params"]
    if g == "batch_norm":
        bn = [path for path, _ in jax.tree_util.tree_flatten_with_path(g_vars["params"])[0]
              if "class_gain" in jax.tree_util.keystr(path)]
        assert bn, "class-conditional BN layers expected"
    if d == "acgan":
        assert "classifier" in d_vars["params"]
    if d == "projection":
        assert "class_embedding" in d_vars["params"]
    names = {t.name for t in gan.d_terms}
    assert ("class" in names) == (d == "acgan")


def test_q_batch_norm_normalises_the_hidden_layer_over_the_batch():
    trunk = MLPDiscriminator(hidden=(6,))
    q = InfoQ(trunk, (3,), 1, hidden=4, batch_norm=True)
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 2)) * 5.0
    variables = q.init(jax.random.PRNGKey(0), x, train=False)
    assert "bias" not in variables["params"]["q_hidden"]  # BN's shift replaces it
    assert "q_hidden_bn" in variables["batch_stats"]
    out, updates = q.apply(variables, x, train=True, mutable=["batch_stats"])
    assert out.aux["code_logits"].shape == (8, 3) and out.aux["code"].shape == (8, 1)
    # The running mean moved towards the batch mean of the hidden pre-activations.
    hidden = trunk.apply({"params": variables["params"]["trunk"]}, x, train=False).features
    pre = hidden @ variables["params"]["q_hidden"]["kernel"]
    np.testing.assert_allclose(updates["batch_stats"]["q_hidden_bn"]["mean"],
                               0.1 * np.asarray(pre.mean(0)), rtol=1e-4, atol=1e-6)
    plain = InfoQ(trunk, (3,), 1, hidden=4).init(jax.random.PRNGKey(0), x, train=False)
    assert "bias" in plain["params"]["q_hidden"] and "batch_stats" not in plain


def test_concat_d_sees_label_channels_on_images():
    trunk = MLPDiscriminator(hidden=(5,))
    head = ConcatConditionedD(trunk, 3)
    x = jnp.ones((2, 4, 4, 1))
    params = head.init(jax.random.PRNGKey(0), x, jnp.array([0, 2]), train=False)
    # The trunk's first layer reads 4*4*(1 + 3) inputs: the image and three label planes.
    assert params["params"]["trunk"]["Dense_1"]["kernel"].shape[0] == 4 * 4 * 4
    a = head.apply(params, x, jnp.array([0, 2]), train=False).logit
    b = head.apply(params, x, jnp.array([1, 2]), train=False).logit
    assert float(a[0]) != float(b[0]) and float(a[1]) == float(b[1])


def test_class_conditional_batch_norm_starts_plain_and_then_is_per_class():
    layer = ClassConditionalBatchNorm()
    x = jax.random.normal(jax.random.PRNGKey(0), (6, 3, 3, 4)) * 3 + 1
    onehot = jax.nn.one_hot(jnp.array([0, 1, 2, 0, 1, 2]), 3)
    variables = layer.init(jax.random.PRNGKey(1), x, onehot)
    out, _ = layer.apply(variables, x, onehot, mutable=["batch_stats"])
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    close(out, (x - mean) / jnp.sqrt(var + 1e-5), 1e-4)  # untrained: plain BatchNorm
    params = jax.tree.map(lambda v: v, variables["params"])
    gain = np.zeros((3, 4), np.float32)
    gain[1] = 1.0  # class 1 doubles
    shift = np.zeros((3, 4), np.float32)
    shift[2] = 5.0  # class 2 moves by 5
    params["class_gain"]["kernel"] = jnp.asarray(gain)
    params["class_shift"]["kernel"] = jnp.asarray(shift)
    out2, _ = layer.apply({**variables, "params": params}, x, onehot, mutable=["batch_stats"])
    plain = np.asarray(out)
    close(out2[0], plain[0], 1e-4)
    close(out2[1], 2 * plain[1], 1e-4)
    close(out2[2], plain[2] + 5, 1e-4)


def test_batch_norm_generator_hands_labels_to_the_norms_not_to_z():
    c = conditional_config("dcgan", "batch_norm", "projection")
    gan = build_gan(c, (8, 8, 1))
    variables = gan.generator.init(jax.random.PRNGKey(0), gan.latent.example(2), train=False)
    project = variables["params"]["inner"]["project"]["kernel"]
    assert project.shape[0] == c.model.noise_dim  # z alone; labels reach the BatchNorms
    assert CLASS_ONEHOT == "class_onehot"


# --- terms against numpy ---------------------------------------------------------------------

def log_softmax(a):
    a = np.asarray(a, np.float64)
    a = a - a.max(1, keepdims=True)
    return a - np.log(np.exp(a).sum(1, keepdims=True))


def test_acgan_terms_are_the_class_cross_entropies():
    rng = np.random.default_rng(0)
    real_logits, fake_logits = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    y_real, y_fake = rng.integers(0, 4, 6), rng.integers(0, 4, 6)
    ce = lambda logits, y: -np.mean(log_softmax(logits)[np.arange(6), y])  # noqa: E731
    real = DOut(jnp.zeros(6), None, {"class_logits": jnp.asarray(real_logits, jnp.float32)})
    fake = DOut(jnp.zeros(6), None, {"class_logits": jnp.asarray(fake_logits, jnp.float32)})
    d_term, g_term = acgan_terms()
    d_in = DInputs(real, fake, {"x": None, "y": jnp.asarray(y_real)},
                   {"y": jnp.asarray(y_fake)}, None, None, None)
    hp = {"model.class_loss_weight": jnp.float32(0.5)}
    loss, metrics = total((d_term,), d_in, hp, "d")
    close(metrics["d_class"], ce(real_logits, y_real) + ce(fake_logits, y_fake))
    close(loss, 0.5 * (ce(real_logits, y_real) + ce(fake_logits, y_fake)))
    close(metrics["d_class_accuracy_real"], np.mean(real_logits.argmax(1) == y_real))
    g_loss, g_metrics = total((g_term,), GInputs(fake, None, None, {"y": jnp.asarray(y_fake)}),
                              hp, "g")
    close(g_metrics["g_class"], ce(fake_logits, y_fake))
    real_only, _ = acgan_terms(on_fake=False)
    _, metrics = total((real_only,), d_in, hp, "d")
    close(metrics["d_class"], ce(real_logits, y_real))


def test_categorical_and_continuous_bounds_against_numpy():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(8, 10 + 3))
    codes = np.stack([rng.integers(0, 10, 8), rng.integers(0, 3, 8)], 1)
    mean, c = rng.normal(size=(8, 2)), rng.uniform(-1, 1, (8, 2))
    out = DOut(jnp.zeros(8), None, {"code_logits": jnp.asarray(logits, jnp.float32),
                                    "code": jnp.asarray(mean, jnp.float32)})
    latent = {"c_cat": jnp.asarray(codes, jnp.int32), "c": jnp.asarray(c, jnp.float32)}
    expected = (math.log(10) + np.mean(log_softmax(logits[:, :10])[np.arange(8), codes[:, 0]])
                + math.log(3) + np.mean(log_softmax(logits[:, 10:])[np.arange(8), codes[:, 1]]))
    close(categorical_bound(out, latent, (10, 3)), expected)
    log_q = -0.5 * ((c - mean) ** 2).sum(1) - math.log(2 * math.pi)
    close(continuous_bound(out, latent), np.mean(log_q) + 2 * math.log(2))


def test_the_bound_equals_the_mutual_information_for_the_optimal_q():
    # c uniform on {0, 1}; x = c, flipped with probability 0.1: I(c; x) = ln 2 - H(0.1). The
    # batch enumerates the joint law exactly (20 equally likely pairs), and Q(c | x) = p(c | x)
    # is the optimal Q, for which the variational bound is tight.
    flip = 0.1
    c = np.repeat([0, 1], 10)
    x = c.copy()
    x[[0, 10]] = 1 - x[[0, 10]]  # one flipped pair in ten, per class
    posterior = np.where(np.arange(2)[None, :] == x[:, None], 1 - flip, flip)
    out = DOut(jnp.zeros(20), None, {"code_logits": jnp.asarray(np.log(posterior), jnp.float32)})
    bound = float(categorical_bound(out, {"c_cat": jnp.asarray(c[:, None])}, (2,)))
    mutual_information = math.log(2) + flip * math.log(flip) + (1 - flip) * math.log(1 - flip)
    close(bound, mutual_information)
    # A Q that ignores x (uniform) bounds it by 0, and a perfect Q of a noiseless x by H(c).
    uniform = DOut(jnp.zeros(20), None, {"code_logits": jnp.zeros((20, 2))})
    close(categorical_bound(uniform, {"c_cat": jnp.asarray(c[:, None])}, (2,)), 0.0)
    sure = DOut(jnp.zeros(20), None, {"code_logits": jnp.asarray(
        np.where(np.arange(2)[None] == c[:, None], 30.0, -30.0), jnp.float32)})
    close(categorical_bound(sure, {"c_cat": jnp.asarray(c[:, None])}, (2,)), math.log(2))


def test_head_terms_follow_the_config():
    c = infogan_mnist.get_config("quick")
    g_terms, d_terms, keys = head_terms(c)
    assert [t.name for t in g_terms] == ["info", "info_continuous"] == [t.name for t in d_terms]
    assert keys == ("model.info_weight", "model.info_continuous_weight")
    c = cgan_mnist.get_config("quick")
    assert head_terms(c) == ((), (), ())


# --- sampling by class -----------------------------------------------------------------------

def test_sampler_cycles_labels_and_rejects_out_of_range_ones():
    assert list(cycled([3, 1], 5)) == [3, 1, 3, 1, 3]
    c = conditional_config("mlp", "concat", "concat")
    gan = build_gan(c, (2,))
    variables = gan.generator.init(jax.random.PRNGKey(0), gan.latent.example(2), train=False)
    sample = make_sampler(gan, jax.random.PRNGKey(0), 7, 4, labels=[2, 5])
    out = sample(variables["params"], {})
    assert out.shape == (7, 2)
    # Same noise, the labels decide: the samples for labels [2, 5] differ from [5, 2]'s.
    swapped = make_sampler(gan, jax.random.PRNGKey(0), 7, 4, labels=[5, 2])(
        variables["params"], {})
    assert not np.allclose(out, swapped)
    with pytest.raises(ValueError, match=r"\[0, 7\]"):
        make_sampler(gan, jax.random.PRNGKey(0), 7, 4, labels=[8])
    with pytest.raises(ValueError, match="categorical codes"):
        make_sampler(gan, jax.random.PRNGKey(0), 7, 4, codes=[0])


# --- config errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("fields,key", [
    ({"num_classes": 10}, "model.g_conditioning"),
    ({"num_classes": 10, "g_conditioning": "concat"}, "model.d_conditioning"),
    ({"g_conditioning": "concat", "d_conditioning": "concat"}, "model.num_classes"),
    ({"num_classes": 10, "g_conditioning": "cbn", "d_conditioning": "concat"},
     "model.g_conditioning"),
    ({"info_categorical": (1,)}, "model.info_categorical"),
    ({"num_classes": 10, "g_conditioning": "batch_norm", "d_conditioning": "concat",
      "g_batch_norm": False}, "model.g_conditioning"),
])
def test_bad_conditioning_is_one_line_naming_the_key(fields, key):
    c = base_config(model="dcgan")
    c.data.source, c.data.resolution = "digits", 8
    c.model.update(fields)
    with pytest.raises(ConfigError) as info:
        validate(c)
    assert key in str(info.value) and "\n" not in str(info.value)


def test_toy_conditioning_must_match_the_mixture():
    c = base_config(model="mlp")
    c.model.update(num_classes=5, g_conditioning="concat", d_conditioning="concat")
    with pytest.raises(ConfigError, match="data.num_modes"):
        validate(c)


# --- training from config alone --------------------------------------------------------------

def ring_config(**model_fields):
    c = base_config(model="mlp")
    c.data.source, c.data.num_modes, c.data.std = "ring", 8, 0.02
    c.model.update(g_hidden=(64, 64), d_hidden=(64, 64), **model_fields)
    c.optim.g_lr = c.optim.d_lr = 1e-3
    c.train.steps, c.train.batch_size, c.train.scan_steps = 400, 128, 100
    c.train.log_every, c.train.eval_every = 100, 400
    c.eval.num_samples = 500
    return validate(c)


def nearest_mode(x, centers):
    return np.argmin(((np.asarray(x)[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)


def samples_by(loaded, n, labels=None, codes=None):
    from ganjax.data import make_source
    latent = loaded.gan.sample_latent(jax.random.PRNGKey(7), n, labels, codes)
    x, _ = loaded.gan.generate(loaded.state.generator_params(), loaded.state.batch_stats["g"],
                               latent, train=False)
    return nearest_mode(x, make_source(loaded.config.data).centers)


@pytest.mark.parametrize("d", ["concat", "projection", "acgan"])
def test_a_conditional_toy_gan_from_config_learns_its_labels(tmp_path, d):
    from ganjax.run.reopen import load_run
    c = ring_config(num_classes=8, g_conditioning="concat", d_conditioning=d)
    train(c, str(tmp_path), tensorboard=False, verbose=False)
    loaded = load_run(str(tmp_path))
    labels = np.repeat(np.arange(8), 100)
    hits = (samples_by(loaded, 800, labels) == labels).reshape(8, 100).mean(1)
    assert hits.mean() > 0.8, hits  # chance: 1/8


def test_infogan_codes_on_the_ring_pick_out_the_modes(tmp_path):
    # No labels: Q must make G's 8-way code pick a mode. The code-to-mode accuracy is the best
    # one-to-one matching (what code_accuracy reports for digits).
    from scipy.optimize import linear_sum_assignment
    from ganjax.run.reopen import load_run
    c = ring_config(info_categorical=(8,))
    c.train.steps = 800
    train(c, str(tmp_path), tensorboard=False, verbose=False)
    loaded = load_run(str(tmp_path))
    codes = np.repeat(np.arange(8), 100)[:, None]
    modes = samples_by(loaded, 800, codes=codes)
    confusion = np.zeros((8, 8))
    np.add.at(confusion, (codes[:, 0], modes), 1)
    rows, cols = linear_sum_assignment(-confusion)
    assert confusion[rows, cols].sum() / 800 > 0.7
    records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    bound = [r["train/g_mi_bound"] for r in records if "train/g_mi_bound" in r]
    assert bound[-1] > 0.8 * math.log(8), bound


def test_conditional_samples_pass_two_differently_built_classifiers(tmp_path):
    # A projection-D cGAN on the 8x8 digits, 1,000 steps: its conditioning must hold for the
    # evaluation CNN and for an unrelated judge, a logistic regression on pixels (a user's
    # classifier, not ganjax's). Chance is 0.1.
    from ganjax.config import load_config
    from ganjax.evaluation import cache
    from ganjax.evaluation.class_scores import conditional_accuracy
    from ganjax.evaluation.classifier import load_classifier, predict
    from ganjax.evaluation.digit_classifier import load_digit_classifier
    from ganjax.run.reopen import load_run
    from ganjax.run.sampling import generate

    c = load_config("cgan_mnist:digits")
    c.model.d_conditioning = "projection"
    c.model.width = 32
    c.optim.ema_decay = 0.0
    c.train.steps, c.train.log_every, c.train.eval_every = 1000, 500, 1000
    c.eval.cnn_metrics = c.eval.class_metrics = False
    train(validate(c), str(tmp_path), tensorboard=False, verbose=False)
    run = load_run(str(tmp_path))
    samples = generate(run, 1000, seed=1, labels=list(range(10)))
    requested = np.arange(1000) % 10
    cnn = load_digit_classifier(run.config, log=None)
    logreg = load_classifier(run.config, cache.cache_dir())[0]
    assert cnn.accuracy > 0.95 and logreg["accuracy"] > 0.9  # both judges know real digits
    by_cnn = conditional_accuracy(cnn.predict(samples), requested)
    by_logreg = conditional_accuracy(predict(logreg, samples), requested)
    assert by_cnn > 0.85 and by_logreg > 0.85, (by_cnn, by_logreg)
