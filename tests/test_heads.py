"""The heads of `ganjax.models.heads` against their closed forms, computed by hand from the params.

ProjectionD: logit(x, y) = trunk logit + <embedding[y], features>, and the trunk logit alone
for y=None. AuxClassifierD: class_logits = features @ W + b. InfoQ: code = Dense(leaky_relu(
Dense(features), 0.2)). ConditionedG: the inner generator applied to [z, one_hot(y), c].
Every head wraps MLPDiscriminator and a tiny DCGANDiscriminator (resolution 8) as they are: the
trunk's parameters sit unchanged under "trunk", and the head's outputs are built on what the
bare trunk computes with those parameters.
"""

import jax
import numpy as np
import pytest

from ganjax.models.dcgan import DCGANDiscriminator, DCGANGenerator
from ganjax.models.heads import AuxClassifierD, ConditionedG, InfoQ, ProjectionD
from ganjax.models.mlp import MLPDiscriminator, MLPGenerator
from ganjax.types import DOut

K = 3  # classes
B = 5  # batch


def relu(x):
    return np.maximum(x, 0.0)


def dense(p, x):
    return np.asarray(x, np.float64) @ np.asarray(p["kernel"], np.float64) + np.asarray(
        p["bias"], np.float64)


def mlp_d_by_hand(p, x):
    """MLPDiscriminator(hidden=(h1, h2)) in numpy: Dense_0 is the logit (created first)."""
    h = relu(dense(p["Dense_1"], x.reshape(len(x), -1)))
    h = relu(dense(p["Dense_2"], h))
    return dense(p["Dense_0"], h)[:, 0], h


def mlp_g_by_hand(p, z):
    """MLPGenerator(hidden=(h1, h2)) in numpy: Dense_0 is the output layer (created first)."""
    h = relu(dense(p["Dense_1"], z))
    h = relu(dense(p["Dense_2"], h))
    return dense(p["Dense_0"], h)


def close(a, b):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=1e-5,
                               atol=1e-5)


TRUNKS = {
    "mlp": (lambda: MLPDiscriminator(hidden=(7, 6)), (B, 2)),
    "dcgan": (lambda: DCGANDiscriminator(resolution=8, width=4), (B, 8, 8, 1)),
}


def initialize(module, *args, seed=1):
    """Variables of `module` with the tree and shapes its `init` gives (traced, not compiled:
    `jax.eval_shape`), filled with seeded random values; variances (BatchNorm) positive."""
    tree = jax.eval_shape(lambda: module.init(jax.random.PRNGKey(0), *args, train=False))
    rng = np.random.default_rng(seed)

    def fill(path, leaf):
        if "var" in jax.tree_util.keystr(path):
            return rng.uniform(0.5, 1.5, leaf.shape).astype(leaf.dtype)
        return (0.5 * rng.normal(size=leaf.shape)).astype(leaf.dtype)

    return jax.tree_util.tree_map_with_path(fill, tree)


def call(module, variables, *args):
    """module.apply(variables, *args, train=False)."""
    return module.apply(variables, *args, train=False)


def data(shape, seed=0):
    x = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    y = (np.arange(shape[0]) % K).astype(np.int32)
    return x, y


def init(module, x, y, seed=1):
    return initialize(module, x, y, seed=seed)["params"]


def bare_trunk(name, params, x):
    """The unwrapped trunk applied with the head's "trunk" parameters."""
    out = call(TRUNKS[name][0](), {"params": params["trunk"]}, x, None)
    assert isinstance(out, DOut) and out.features is not None
    return out


def shapes(tree):
    return jax.tree.map(np.shape, tree)


@pytest.mark.parametrize("name", list(TRUNKS))
@pytest.mark.parametrize("head", ["projection", "aux", "info"])
def test_heads_wrap_the_trunk_unchanged(name, head):
    make, shape = TRUNKS[name]
    x, y = data(shape)
    wrapped = {"projection": lambda t: ProjectionD(t, K), "aux": lambda t: AuxClassifierD(t, K),
               "info": lambda t: InfoQ(t, code_dim=2, hidden=4)}[head](make())
    params = init(wrapped, x, y)
    # The trunk's parameter tree is exactly the bare trunk's, nested under "trunk".
    assert shapes(params["trunk"]) == shapes(init(make(), x, None))
    assert set(params) - {"trunk"}  # the head added parameters of its own
    unconditional = call(wrapped, {"params": params}, x, None)
    trunk = bare_trunk(name, params, x)
    # With no labels every head keeps the trunk's logit and features.
    close(unconditional.logit, trunk.logit)
    close(unconditional.features, trunk.features)


@pytest.mark.parametrize("name", list(TRUNKS))
def test_projection_logit_is_trunk_logit_plus_embedding_dot_features(name):
    make, shape = TRUNKS[name]
    x, y = data(shape)
    head = ProjectionD(make(), K)
    params = init(head, x, y)
    # The same tree whether it was initialised with labels or without.
    assert shapes(params) == shapes(init(head, x, None))
    embedding = np.asarray(params["class_embedding"]["embedding"], np.float64)
    assert embedding.shape == (K, np.asarray(bare_trunk(name, params, x).features).shape[-1])
    out = call(head, {"params": params}, x, y)
    trunk = bare_trunk(name, params, x)
    if name == "mlp":  # the trunk itself by hand too
        logit, features = mlp_d_by_hand(params["trunk"], np.asarray(x))
        close(trunk.logit, logit)
        close(trunk.features, features)
    features = np.asarray(trunk.features, np.float64)
    expected = np.asarray(trunk.logit, np.float64) + np.sum(embedding[np.asarray(y)] * features, -1)
    close(out.logit, expected)
    close(out.features, features)
    # The projection is not a no-op: other labels give other logits, by the same formula.
    other = (y + 1) % K
    moved = call(head, {"params": params}, x, other).logit
    close(moved, np.asarray(trunk.logit) + np.sum(embedding[np.asarray(other)] * features, -1))
    assert not np.allclose(np.asarray(moved), np.asarray(out.logit))
    # y=None: the trunk's unconditional logit.
    close(call(head, {"params": params}, x, None).logit, trunk.logit)


@pytest.mark.parametrize("name", list(TRUNKS))
def test_aux_classifier_logits_are_an_affine_map_of_the_features(name):
    make, shape = TRUNKS[name]
    x, y = data(shape)
    head = AuxClassifierD(make(), K)
    params = init(head, x, y)
    out = call(head, {"params": params}, x, y)
    trunk = bare_trunk(name, params, x)
    w = params["classifier"]
    assert np.asarray(w["kernel"]).shape == (np.asarray(trunk.features).shape[-1], K)
    assert set(out.aux) == {"class_logits"} and out.aux["class_logits"].shape == (B, K)
    close(out.aux["class_logits"], dense(w, trunk.features))
    # The adversarial logit is the trunk's, labels or not (ACGAN's D is unconditional).
    close(out.logit, trunk.logit)
    close(call(head, {"params": params}, x, None).aux["class_logits"],
          dense(w, trunk.features))


@pytest.mark.parametrize("name", list(TRUNKS))
def test_info_q_code_is_a_small_mlp_of_the_features(name):
    make, shape = TRUNKS[name]
    x, _ = data(shape)
    head = InfoQ(make(), code_dim=2, hidden=4)
    params = init(head, x, None)
    out = call(head, {"params": params}, x, None)
    trunk = bare_trunk(name, params, x)
    h = dense(params["q_hidden"], trunk.features)
    h = np.where(h > 0, h, 0.2 * h)
    assert out.aux["code"].shape == (B, 2)
    close(out.aux["code"], dense(params["q_code"], h))
    close(out.logit, trunk.logit)


def test_heads_compose_and_info_q_passes_labels_to_its_trunk():
    x, y = data((B, 2))
    head = InfoQ(ProjectionD(MLPDiscriminator(hidden=(7, 6)), K), code_dim=2, hidden=4)
    params = init(head, x, y)
    out = call(head, {"params": params}, x, y)
    inner = params["trunk"]
    logit, features = mlp_d_by_hand(inner["trunk"], np.asarray(x))
    embedding = np.asarray(inner["class_embedding"]["embedding"], np.float64)
    close(out.logit, logit + np.sum(embedding[np.asarray(y)] * features, -1))
    h = dense(params["q_hidden"], features)
    close(out.aux["code"], dense(params["q_code"], np.where(h > 0, h, 0.2 * h)))
    # Stacking two heads merges their aux outputs.
    stacked = InfoQ(AuxClassifierD(MLPDiscriminator(hidden=(7, 6)), K), code_dim=2, hidden=4)
    aux = call(stacked, {"params": init(stacked, x, y)}, x, y).aux
    assert set(aux) == {"class_logits", "code"}
    # Every head passes the labels on: an ACGAN classifier over a projection D keeps the
    # projection (a projection-conditioned ACGAN).
    acgan = AuxClassifierD(ProjectionD(MLPDiscriminator(hidden=(7, 6)), K), K)
    params = init(acgan, x, y)
    inner = params["trunk"]
    logit, features = mlp_d_by_hand(inner["trunk"], np.asarray(x))
    embedding = np.asarray(inner["class_embedding"]["embedding"], np.float64)
    close(call(acgan, {"params": params}, x, y).logit,
          logit + np.sum(embedding[np.asarray(y)] * features, -1))


def latent(n=B, z_dim=2, code_dim=0, seed=2):
    rng = np.random.default_rng(seed)
    lat = {"z": rng.normal(size=(n, z_dim)).astype(np.float32),
           "y": (np.arange(n) % K).astype(np.int32)}
    if code_dim:
        lat["c"] = rng.uniform(-1.0, 1.0, (n, code_dim)).astype(np.float32)
    return lat


@pytest.mark.parametrize("code_dim", [0, 2])
def test_concat_conditioned_g_is_the_inner_g_on_the_concatenation(code_dim):
    lat = latent(code_dim=code_dim)
    g = ConditionedG(inner=MLPGenerator(hidden=(6, 5), out_dim=2), num_classes=K)
    params = initialize(g, lat, seed=0)["params"]
    # The inner G's first layer reads z_dim + K + code_dim inputs.
    assert np.asarray(params["inner"]["Dense_1"]["kernel"]).shape[0] == 2 + K + code_dim
    z = np.asarray(lat["z"], np.float64)
    onehot = np.eye(K)[np.asarray(lat["y"])]
    parts = [z, onehot] + ([np.asarray(lat["c"], np.float64)] if code_dim else [])
    concatenated = np.concatenate(parts, axis=1)
    out = call(g, {"params": params}, lat)
    close(out, mlp_g_by_hand(params["inner"], concatenated))
    close(out, call(MLPGenerator(hidden=(6, 5), out_dim=2), {"params": params["inner"]},
                    {"z": concatenated.astype(np.float32)}))
    # The label steers the output: the same z with other labels gives other samples.
    other = call(g, {"params": params}, {**lat, "y": (lat["y"] + 1) % K})
    assert not np.allclose(np.asarray(other), np.asarray(out))


def test_concat_conditioned_g_without_classes_ignores_labels():
    lat = latent()
    g = ConditionedG(inner=MLPGenerator(hidden=(6, 5), out_dim=2), num_classes=0)
    params = initialize(g, lat, seed=0)["params"]
    out = call(g, {"params": params}, lat)
    close(out, mlp_g_by_hand(params["inner"], np.asarray(lat["z"])))
    close(call(g, {"params": params}, {"z": lat["z"]}), out)


def test_concat_conditioned_g_wraps_a_dcgan_generator_unchanged():
    lat = latent(z_dim=3)
    inner = DCGANGenerator(resolution=8, channels=1, width=4)
    g = ConditionedG(inner=inner, num_classes=K)
    variables = initialize(g, lat, seed=0)
    concatenated = np.concatenate([lat["z"], np.eye(K, dtype=np.float32)[lat["y"]]], axis=1)
    bare = initialize(inner, {"z": concatenated}, seed=0)
    assert shapes(variables["params"]["inner"]) == shapes(bare["params"])
    inner_vars = {k: v["inner"] for k, v in variables.items()}  # params and batch_stats
    out = call(g, variables, lat)
    assert out.shape == (B, 8, 8, 1)
    close(out, call(inner, inner_vars, {"z": concatenated}))



@pytest.mark.parametrize("head", ["projection", "aux", "info"])
def test_heads_forward_train_and_batch_statistics_to_the_trunk(head):
    # Resolution 16: the second conv block has BatchNorm, whose statistics are "batch_stats".
    make = lambda: DCGANDiscriminator(resolution=16, width=4)  # noqa: E731
    x, y = data((B, 16, 16, 1))
    wrapped = {"projection": lambda t: ProjectionD(t, K), "aux": lambda t: AuxClassifierD(t, K),
               "info": lambda t: InfoQ(t, code_dim=2, hidden=4)}[head](make())
    variables = initialize(wrapped, x, y)
    assert set(variables["batch_stats"]) == {"trunk"}
    trunk_vars = {k: v["trunk"] for k, v in variables.items()}
    out, updates = wrapped.apply(variables, x, y, train=True, mutable=["batch_stats"])
    bare, bare_updates = make().apply(trunk_vars, x, None, train=True, mutable=["batch_stats"])
    # Training mode reached the trunk: batch statistics normalise, and the running ones moved
    # exactly as the bare trunk's do.
    close(out.features, bare.features)
    for a, b in zip(jax.tree.leaves(updates["batch_stats"]["trunk"]),
                    jax.tree.leaves(bare_updates["batch_stats"])):
        close(a, b)
    assert not np.allclose(np.asarray(bare.features),
                           np.asarray(make().apply(trunk_vars, x, None, train=False).features))
