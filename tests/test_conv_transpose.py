"""layers.ConvTranspose2x and layers.Conv against flax's layers with plain autodiff.

Same outputs, same parameters, same gradients (input, kernel, bias; second order too), under
jit and vmap; and every conv their gradients compile to is in XLA:CPU's canonical layout, also
inside a lax.scan body (the property that makes them fast there).
"""

import functools
import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models.layers import Conv, ConvTranspose2x

RTOL, ATOL = 1e-4, 1e-5
KEY = jax.random.PRNGKey(0)


def assert_trees_close(a, b):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        assert x.shape == y.shape
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=RTOL, atol=ATOL)


def normal(seed, shape):
    """Host-side random inputs: no device computation to compile."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@functools.partial(jax.jit, static_argnums=0)
def outputs_and_grads(module, variables, x, cotangent):
    """module(x), and the gradients of <module(x), cotangent> w.r.t. all parameters and x."""
    y, vjp = jax.vjp(module.apply, variables, x)
    return y, vjp(cotangent)


def init(module, x, seed=0):
    """Random parameters (bias included, so that its gradient path is tested), made host-side."""
    shapes = jax.eval_shape(module.init, KEY, x)
    leaves, treedef = jax.tree.flatten(shapes)
    return jax.tree.unflatten(treedef, [0.3 * normal(seed + i, leaf.shape)
                                        for i, leaf in enumerate(leaves)])


def transpose_pair(features, kernel):
    return (nn.ConvTranspose(features, (kernel, kernel), strides=(2, 2), padding="SAME"),
            ConvTranspose2x(features, kernel))


def conv_pair(features, kernel, stride):
    pad = (kernel - stride) // 2
    return (nn.Conv(features, (kernel, kernel), strides=(stride, stride),
                    padding=((pad, pad), (pad, pad))),
            Conv(features, kernel, stride))


# (batch, side, in, out, kernel): 7 -> 14 and 4 -> 8, batch 3, odd channel counts.
TRANSPOSE_CASES = [(3, 7, 5, 3, 4), (2, 4, 3, 7, 4), (3, 5, 1, 2, 6), (1, 3, 4, 1, 2)]
CONV_CASES = [(3, 14, 5, 7, 4, 2), (3, 6, 2, 3, 3, 1), (2, 5, 3, 4, 1, 1)]


def _cases():
    for n, side, cin, cout, k in TRANSPOSE_CASES:
        yield pytest.param(transpose_pair(cout, k), (n, side, side, cin), id=f"T{side}k{k}")
    for n, side, cin, cout, k, s in CONV_CASES:
        yield pytest.param(conv_pair(cout, k, s), (n, side, side, cin), id=f"C{side}k{k}s{s}")


@pytest.mark.parametrize("pair,shape", list(_cases()))
def test_same_function_parameters_and_gradients(pair, shape):
    ref, fast = pair
    x = normal(1, shape)
    shapes = lambda m: jax.tree.map(lambda a: a.shape, jax.eval_shape(m.init, KEY, x))  # noqa: E731
    assert shapes(fast) == shapes(ref)
    variables = init(ref, x)
    y_shape = jax.eval_shape(ref.apply, variables, x).shape
    if isinstance(fast, ConvTranspose2x):
        assert y_shape[1:3] == (2 * shape[1], 2 * shape[2])
    cotangent = normal(2, y_shape)
    assert_trees_close(outputs_and_grads(fast, variables, x, cotangent),
                       outputs_and_grads(ref, variables, x, cotangent))


@pytest.mark.parametrize("pair", [transpose_pair(3, 4), conv_pair(3, 4, 2)], ids=["T", "C"])
def test_under_vmap_over_inputs_and_parameters(pair):
    ref, fast = pair
    x = normal(3, (4, 3, 6, 6, 5))  # 4 replicas (say, a sweep) of a batch of 3
    variables = jax.tree.map(lambda *v: np.stack(v), *[init(ref, x[0], seed) for seed in range(4)])
    y_shape = jax.eval_shape(jax.vmap(ref.apply), variables, x).shape
    cotangent = normal(4, y_shape)
    grads = lambda m: jax.vmap(outputs_and_grads, in_axes=(None, 0, 0, 0))(  # noqa: E731
        m, variables, x, cotangent)
    assert_trees_close(grads(fast), grads(ref))


def test_folds_extra_leading_batch_axes_like_flax():
    ref, fast = transpose_pair(3, 4)
    x = normal(5, (2, 3, 4, 4, 2))
    variables = init(ref, x[0])
    assert_trees_close(jax.jit(fast.apply)(variables, x), jax.jit(ref.apply)(variables, x))


@pytest.mark.parametrize("pair", [transpose_pair(3, 4), conv_pair(3, 4, 2)], ids=["T", "C"])
def test_second_order_gradients_match(pair):
    """Gradient penalties differentiate the input gradient again (reverse over reverse)."""
    ref, fast = pair
    x = normal(6, (3, 4, 4, 2))
    variables = init(ref, x)

    def penalty(module):
        def input_grad_norm(v):
            g = jax.grad(lambda x: jnp.sum(jnp.tanh(module.apply(v, x))))(x)
            return jnp.sum(g ** 2)
        return jax.jit(jax.grad(input_grad_norm))(variables)

    assert_trees_close(penalty(fast), penalty(ref))


def _conv_dim_labels(fn, *args):
    hlo = jax.jit(fn).lower(*args).compile().as_text()
    return re.findall(r" convolution\(.*?dim_labels=([^,\s]+)", hlo)


@pytest.mark.parametrize("pair", [transpose_pair(8, 4), conv_pair(8, 4, 2)], ids=["T", "C"])
def test_gradients_compile_to_canonical_convs_inside_scan(pair):
    """XLA:CPU leaves non-canonical convs in loop bodies to a slow fallback; ours have none."""
    if jax.default_backend() != "cpu":
        pytest.skip("a property of XLA:CPU's compiler pipeline")
    ref, fast = pair
    x = normal(7, (2, 4, 4, 6))
    variables = init(ref, x)

    def scanned(module):
        def body(v, _):
            grads = jax.grad(lambda v: jnp.sum(module.apply(v, x) ** 2))(v)
            return jax.tree.map(lambda p, g: p - 0.1 * g, v, grads), None
        return lambda v: jax.lax.scan(body, v, None, length=3)[0]

    labels = _conv_dim_labels(scanned(fast), variables)
    assert len(labels) >= 2 and set(labels) == {"b01f_01io->b01f"}, labels
    assert set(_conv_dim_labels(scanned(ref), variables)) != {"b01f_01io->b01f"}  # the problem


def test_rejects_unsupported_geometry():
    with pytest.raises(ValueError, match="k - s even"):
        ConvTranspose2x(2, 3).init(jax.random.PRNGKey(0), jnp.zeros((1, 4, 4, 1)))
    with pytest.raises(ValueError, match="multiple of stride"):
        Conv(2, 4, 2).init(jax.random.PRNGKey(0), jnp.zeros((1, 5, 5, 1)))
