"""Image-model building blocks, fast on XLA:CPU: convs with hand-written gradients, BatchNorm,
spectral norm, resampling.

Why the convolutions: XLA:CPU runs a convolution fast only in its canonical layout (NHWC input,
HWIO kernel, NHWC output). Autodiff of a conv produces kernel and input gradients in other
layouts (batch and feature axes swapped, kernels read in/out-swapped); at the top level of a
program XLA canonicalises them, but inside a loop body (a lax.scan, such as the step's D-update
loop or a fused multi-step scan) it does not, and they run through a naive fallback 20-100x
slower. The kernel gradient of a transposed conv is slow even at the top level (an input-dilated
conv with an image-sized window). Here every derivative of a "same" conv is again a canonical
conv (see `conv_down`), at every order, so D's gradient penalties stay fast too.

A "same" conv here: square k x k kernel, stride s, PyTorch padding p = (k - s) / 2 on each side,
so that down-sampling maps side n*s to n and the transposed conv maps n to n*s.

Why the BatchNorm (and `add_bias`): its per-channel sums, forward and backward, are
matrix-vector products (`channel_sum`), because XLA:CPU's large reductions are slow (about 10%
of a DCGAN step).
"""

from __future__ import annotations

import functools
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

Array = jax.Array

_CANONICAL = ("NHWC", "HWIO", "NHWC")


def same_padding(kernel_size: int, stride: int) -> int:
    """PyTorch's padding p with k - 2p = s: the conv maps n*s -> n, the transpose n -> n*s."""
    if kernel_size < stride or (kernel_size - stride) % 2:
        raise ValueError(f"kernel {kernel_size} with stride {stride}: need k >= s, k - s even")
    return (kernel_size - stride) // 2


def _conv(x: Array, w: Array, stride: int, pad: int, lhs_dilation: int = 1,
          rhs_dilation: int = 1) -> Array:
    """A 2-D conv in XLA:CPU's canonical layout: x [N, H, W, I], w [kh, kw, I, O]."""
    return lax.conv_general_dilated(x, w, (stride, stride), ((pad, pad), (pad, pad)),
                                    lhs_dilation=(lhs_dilation,) * 2,
                                    rhs_dilation=(rhs_dilation,) * 2,
                                    dimension_numbers=_CANONICAL)


def _flip_swap(w: Array) -> Array:
    """w flipped in space with its in/out axes swapped: the kernel of the adjoint conv."""
    return jnp.flip(w, (0, 1)).transpose(0, 1, 3, 2)


def _down(x: Array, w: Array, stride: int) -> Array:
    return _conv(x, w, stride, same_padding(w.shape[0], stride))


def _up(x: Array, w: Array, stride: int) -> Array:
    k = w.shape[0]
    return _conv(x, w, 1, k - 1 - same_padding(k, stride), lhs_dilation=stride)


def _kernel_grad(big: Array, small: Array, stride: int, kernel_size: int) -> Array:
    pad = same_padding(kernel_size, stride)
    k = _conv(big.transpose(3, 1, 2, 0), small.transpose(1, 2, 0, 3), 1, pad,
              rhs_dilation=stride)
    return k.transpose(1, 2, 0, 3)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def conv_down(x: Array, w: Array, stride: int) -> Array:
    """y[n,a,b,o] = sum_{u,v,i} xpad[n, s*a+u, s*b+v, i] w[u,v,i,o]: [N, sH, sW, I] -> [N, H, W, O].

    Same function as nn.Conv(O, (k, k), strides=s, padding=p). Its adjoints in x and w are
    dx = conv_up(g, flip_swap(w)) and dw = conv_kernel_grad(x, g), both canonical convs.
    """
    return _down(x, w, stride)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def conv_up(x: Array, w: Array, stride: int) -> Array:
    """The transposed conv lax.conv_transpose(x, w, (s, s), "SAME"): [N, H, W, I] -> [N, sH, sW, O].

    An input-dilated conv (flax's form: w used as is, not flipped), and the adjoint in its input
    of conv_down(., flip_swap(w)). Hence its backward pass:
      dx = conv_down(g, flip_swap(w))             (an ordinary stride-s conv of g),
      dw = flip_swap(conv_kernel_grad(g, x))       (that conv's kernel gradient, cotangent x),
    where autodiff would take dw from an input-dilated conv with an image-sized window.
    """
    return _up(x, w, stride)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv_kernel_grad(big: Array, small: Array, stride: int, kernel_size: int) -> Array:
    """K[u,v,i,o] = sum_{n,a,b} bigpad[n, s*a+u, s*b+v, i] small[n,a,b,o]: conv_down's kernel
    gradient, with big [N, sH, sW, I] and small [N, H, W, O] -> K [k, k, I, O].

    Computed as one canonical conv: big read as [I, sH, sW, N] (batch i, features n) against
    small read as an s-dilated [H, W, N, O] window. Bilinear, with adjoints
    dbig = conv_up(small, flip_swap(G)) and dsmall = conv_down(big, G).
    """
    return _kernel_grad(big, small, stride, kernel_size)


def _down_bwd(stride, inputs, g):
    x, w = inputs
    return conv_up(g, _flip_swap(w), stride), conv_kernel_grad(x, g, stride, w.shape[0])


def _up_bwd(stride, inputs, g):
    x, w = inputs
    dw = _flip_swap(conv_kernel_grad(g, x, stride, w.shape[0]))
    return conv_down(g, _flip_swap(w), stride), dw


def _kernel_grad_bwd(stride, kernel_size, inputs, g):
    big, small = inputs
    return conv_up(small, _flip_swap(g), stride), conv_down(big, g, stride)


def _keep_inputs(impl: Callable) -> Callable:
    """The forward rule of a bilinear map: its value, with both inputs kept for the backward."""
    return lambda a, b, *static: (impl(a, b, *static), (a, b))


conv_down.defvjp(_keep_inputs(_down), _down_bwd)
conv_up.defvjp(_keep_inputs(_up), _up_bwd)
conv_kernel_grad.defvjp(_keep_inputs(_kernel_grad), _kernel_grad_bwd)


def channel_sum(x: Array) -> Array:
    """Sum over every axis but the last, as a vector-matrix product.

    XLA:CPU splits large reductions into slow reduce-windows; its GEMV is several times faster.
    """
    c = x.shape[-1]
    return jnp.dot(jnp.ones((x.size // c,), x.dtype), x.reshape(-1, c),
                   precision=lax.Precision.HIGHEST)


@jax.custom_vjp
def add_bias(y: Array, bias: Array) -> Array:
    """y + bias over the last axis, whose backward pass sums the bias gradient by channel_sum."""
    return y + bias


add_bias.defvjp(lambda y, bias: (y + bias, None), lambda _, g: (g, channel_sum(g)))


class _SameConv(nn.Module):
    """Shared parameters and batching of Conv and ConvTranspose2x (flax's names and shapes)."""

    features: int
    kernel_size: int = 3
    strides: int = 1
    use_bias: bool = True
    fast: bool = True
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()

    def _apply(self, x: Array, fast_fn: Callable[[Array, Array], Array],
               plain_fn: Callable[[Array, Array], Array]) -> Array:
        k = self.kernel_size
        kernel = self.param("kernel", self.kernel_init, (k, k, x.shape[-1], self.features))
        batch_shape = x.shape[:-3]
        x = x.reshape((-1,) + x.shape[-3:])  # flax's convention: any number of batch axes
        y = (fast_fn if self.fast else plain_fn)(x, kernel)
        if self.use_bias:
            bias = self.param("bias", self.bias_init, (self.features,))
            y = add_bias(y, bias) if self.fast else y + bias
        return y.reshape(batch_shape + y.shape[1:])


class Conv(_SameConv):
    """nn.Conv(features, (k, k), strides=s, padding=(k - s) // 2): maps side n*s to n.

    `fast=True` differentiates through `conv_down`'s canonical-layout rules; `fast=False` is
    lax's conv with plain autodiff (the same function, for comparison).
    """

    @nn.compact
    def __call__(self, x: Array) -> Array:
        s, pad = self.strides, same_padding(self.kernel_size, self.strides)
        if x.shape[-3] % s or x.shape[-2] % s:
            raise ValueError(f"image side {x.shape[-3:-1]} is not a multiple of stride {s}")
        return self._apply(x, lambda x, w: conv_down(x, w, s),
                           lambda x, w: _conv(x, w, s, pad))


class ConvTranspose2x(_SameConv):
    """nn.ConvTranspose(features, (k, k), strides=(s, s), padding="SAME"), i.e. PyTorch's
    ConvTranspose2d(k, stride=s, padding=(k - s) // 2), with s = 2 (4x4 kernel) by default:
    multiplies H and W by s, same parameters.

    `fast=True` differentiates through `conv_up`'s canonical-layout rules; `fast=False` is
    lax.conv_transpose with plain autodiff (the same function, for comparison).
    """

    kernel_size: int = 4
    strides: int = 2

    @nn.compact
    def __call__(self, x: Array) -> Array:
        s = self.strides
        same_padding(self.kernel_size, s)  # the same geometry check for both paths
        return self._apply(x, lambda x, w: conv_up(x, w, s),
                           lambda x, w: lax.conv_transpose(x, w, (s, s), "SAME",
                                                           dimension_numbers=_CANONICAL))


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def batch_norm_train(x: Array, scale: Array, bias: Array, epsilon: float
                     ) -> tuple[Array, Array, Array]:
    """(y, mean, var): train-mode batch norm over all axes but the last, and the batch moments
    (biased var). The moments come out as statistics: no gradient flows back through them.

    Backward pass with xhat = (x - mean) / sqrt(var + eps), n values per channel:
    dbias = sum g, dscale = sum g * xhat, dx = scale / sqrt(var + eps) * (g - (dbias + xhat *
    dscale) / n); every sum is a channel_sum.
    """
    return _batch_norm_forward(x, scale, bias, epsilon)[0]


def _batch_norm_forward(x, scale, bias, epsilon):
    n = x.size // x.shape[-1]
    mean = channel_sum(x) / n
    var = jnp.maximum(channel_sum(x * x) / n - mean * mean, 0.0)
    inv = lax.rsqrt(var + epsilon)
    xhat = (x - mean) * inv
    return (xhat * scale + bias, mean, var), (xhat, inv, scale)


def _batch_norm_backward(epsilon, residuals, cotangents):
    del epsilon
    xhat, inv, scale = residuals
    g = cotangents[0]
    dbias, dscale = channel_sum(g), channel_sum(g * xhat)
    dx = (scale * inv) * (g - (dbias + xhat * dscale) / (g.size // g.shape[-1]))
    return dx, dscale, dbias


batch_norm_train.defvjp(_batch_norm_forward, _batch_norm_backward)


class BatchNorm(nn.Module):
    """PyTorch's BatchNorm (over all axes but the last), with nn.BatchNorm's parameter and
    statistic names and its momentum convention (flax 0.9 = PyTorch 0.1).

    As PyTorch: train mode normalises with the biased batch variance and folds the unbiased
    one into the running variance (flax folds the biased one). Reductions run as channel_sum.
    """

    use_running_average: bool = False
    momentum: float = 0.9
    epsilon: float = 1e-5

    @nn.compact
    def __call__(self, x: Array) -> Array:
        c = x.shape[-1]
        scale = self.param("scale", nn.initializers.ones, (c,))
        bias = self.param("bias", nn.initializers.zeros, (c,))
        running_mean = self.variable("batch_stats", "mean", jnp.zeros, (c,))
        running_var = self.variable("batch_stats", "var", jnp.ones, (c,))
        if self.use_running_average:
            inv = lax.rsqrt(running_var.value + self.epsilon)
            return (x - running_mean.value) * (inv * scale) + bias
        y, mean, var = batch_norm_train(x, scale, bias, self.epsilon)
        if not self.is_initializing():
            n, m = x.size // c, self.momentum
            unbiased = lax.stop_gradient(var) * (n / max(n - 1, 1))
            running_mean.value = m * running_mean.value + (1 - m) * lax.stop_gradient(mean)
            running_var.value = m * running_var.value + (1 - m) * unbiased
        return y


def batch_norm(train: bool, name: str | None = None) -> BatchNorm:
    """BatchNorm with PyTorch's defaults (momentum 0.1, i.e. flax's 0.9; eps 1e-5)."""
    return BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, name=name)


# The latent key under which a class-conditional generator hands its normalisation layers the
# one-hot labels (`ganjax.models.heads.ConditionedG` with labels_as="batch_norm").
CLASS_ONEHOT = "class_onehot"


class ClassConditionalBatchNorm(nn.Module):
    """BatchNorm followed by a per-class gain and shift: BN(x) * (1 + g[y]) + b[y].

    The class-conditional BatchNorm of the projection-discriminator and BigGAN generators
    (Miyato & Koyama 2018; Brock et al. 2019): g and b are [num_classes, C] tables read by the
    one-hot labels, initialised at zero, so an untrained layer is the plain BatchNorm.
    """

    use_running_average: bool = False
    momentum: float = 0.9
    epsilon: float = 1e-5

    @nn.compact
    def __call__(self, x: Array, class_onehot: Array) -> Array:
        c = x.shape[-1]
        y = BatchNorm(self.use_running_average, self.momentum, self.epsilon, name="bn")(x)
        table = lambda name: nn.Dense(c, use_bias=False, kernel_init=nn.initializers.zeros,  # noqa: E731
                                      name=name)(class_onehot)
        shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (c,)
        return y * (1.0 + table("class_gain").reshape(shape)) + table("class_shift").reshape(shape)


def generator_norm(train: bool, name: str, latent) -> Callable[[Array], Array]:
    """A generator's BatchNorm: class-conditional when the latent carries one-hot labels under
    CLASS_ONEHOT (the conditioning wrapper decides, not the architecture), plain otherwise."""
    if CLASS_ONEHOT in latent:
        layer = ClassConditionalBatchNorm(not train, 0.9, 1e-5, name=name)
        return lambda x: layer(x, latent[CLASS_ONEHOT])
    return batch_norm(train, name)


def maybe_spectral_norm(layer: nn.Module, enabled: bool) -> Callable[[Array, bool], Array]:
    """`layer` as a function of (x, train), spectrally normalised (Miyato et al. 2018) if asked.

    flax's SpectralNorm keeps the power-iteration vector u (and the last sigma) in the
    "batch_stats" collection, so the engine carries it as state: one power-iteration step per
    call, stored only when train=True (update_stats), as in PyTorch's spectral_norm. With
    train=False nothing is stored; sigma is then recomputed from the stored u by one
    (discarded) iteration, where PyTorch reuses its stored u and v as they are.
    """
    if not enabled:
        return lambda x, train: layer(x)
    wrapped = nn.SpectralNorm(layer, name=f"{layer.name}_sn" if layer.name else None)
    return lambda x, train: wrapped(x, update_stats=train)


def dense_norm_leaky_relu(x: Array, width: int, name: str, train: bool, norm: bool,
                          spectral_norm: bool = False) -> Array:
    """Dense(width) -> BatchNorm (if `norm`) -> LeakyReLU 0.2: the hidden dense block of the
    discriminators and of InfoGAN's Q. Call it inside a compact module: it adds the layers
    `name` (no bias under BatchNorm, whose shift replaces it) and `name`_bn to that module."""
    dense = maybe_spectral_norm(nn.Dense(width, use_bias=not norm, name=name), spectral_norm)
    x = dense(x, train)
    if norm:
        x = batch_norm(train, f"{name}_bn")(x)
    return nn.leaky_relu(x, 0.2)


def upsample_nearest(x: Array, factor: int = 2) -> Array:
    """Nearest-neighbour upsampling of NHWC images by an integer factor."""
    return jnp.repeat(jnp.repeat(x, factor, axis=-3), factor, axis=-2)


def avg_pool2(x: Array) -> Array:
    """2x2 mean pooling with stride 2 (the SNGAN ResNet's downsampling)."""
    return nn.avg_pool(x, (2, 2), strides=(2, 2))
