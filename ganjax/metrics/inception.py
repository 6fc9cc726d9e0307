"""Inception-v3 as used for FID: the TF 2015 graph in pytorch-fid's port, in Flax linen.

This reproduces pytorch-fid's `InceptionV3(use_fid_inception=True, resize_input=True,
normalize_input=True)` up to float rounding, so that FID computed here is comparable with
numbers computed by pytorch-fid from the same weights file. The quirks of that graph are
kept on purpose:

* inputs are bilinearly resized to 299x299 exactly like `F.interpolate(mode="bilinear",
  align_corners=False)`: half-pixel centres, source coordinates clamped at 0, and no
  antialiasing even when downsampling (`jax.image.resize`'s default antialiasing differs
  from torch by up to ~0.5 when downsampling; with antialias=False it agrees, but the
  explicit two-tap version here mirrors torch's arithmetic and needs no weight matrices);
* the 3x3 average pools inside the Mixed_5*/6b-e/7b blocks divide by the number of real
  (unpadded) pixels, like TF's average pool (torch's `count_include_pad=False`);
* the last block (Mixed_7c) max-pools its pool branch instead of average-pooling it;
* BatchNorm uses eps 1e-3 and the stored running statistics (inference only);
* the classifier has 1008 classes (the 2015 graph's class count).

Layers are NHWC and float32. Module and variable names follow pytorch-fid's state_dict
(`Mixed_5b/branch1x1/conv/kernel` <- `Mixed_5b.branch1x1.conv.weight`), which keeps the
weight conversion in `inception_weights.py` mechanical.
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

# The input side the 2015 graph was trained at; every image is resized to it.
INPUT_SIZE = 299
POOL3_FEATURES = 2048
NUM_CLASSES = 1008
BN_EPSILON = 1e-3

IntPair = int | tuple[int, int]


def _pair(v: IntPair) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def bilinear_resize_indices(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower index, upper index, upper weight) per output pixel, as torch's bilinear computes them.

    torch (align_corners=False, explicit output size) maps output pixel d to the source
    coordinate (d + 0.5) * in/out - 0.5, clamps negative coordinates to 0, and blends the two
    neighbouring source pixels with no antialiasing filter, whether up- or downsampling.
    The scale is float32 and the coordinate is rounded to float32 once, after the
    multiply-add, as torch's FMA-compiled CPU and CUDA kernels do (rounding the product first
    moves coordinates by an ulp, i.e. by ~1e-5 of a pixel step on large inputs).
    """
    scale = np.float32(in_size) / np.float32(out_size)
    centres = np.arange(out_size, dtype=np.float64) + 0.5
    src = (centres * np.float64(scale) - 0.5).astype(np.float32)
    src = np.maximum(src, np.float32(0.0))
    lo = np.minimum(np.floor(src).astype(np.int32), in_size - 1)
    hi = np.minimum(lo + 1, in_size - 1)
    return lo, hi, (src - lo).astype(np.float32)


def _resize_axis(x: jax.Array, axis: int, out_size: int) -> jax.Array:
    lo, hi, w = bilinear_resize_indices(x.shape[axis], out_size)
    shape = [1] * x.ndim
    shape[axis] = out_size
    w = jnp.asarray(w).reshape(shape)
    return jnp.take(x, lo, axis=axis) * (1.0 - w) + jnp.take(x, hi, axis=axis) * w


def resize_bilinear_torch(images: jax.Array, size: tuple[int, int]) -> jax.Array:
    """Resizes NHWC `images` to `size` (H, W) like torch's bilinear interpolate, align_corners=False.

    Bilinear interpolation is separable: like torch, each row is interpolated along W first,
    then the rows are blended along H.
    """
    return _resize_axis(_resize_axis(images, 2, size[1]), 1, size[0])


def avg_pool_3x3_exclude_pad(x: jax.Array) -> jax.Array:
    """3x3 stride-1 'same' average pool over real pixels only (TF's pool; torch count_include_pad=False)."""
    return nn.avg_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)), count_include_pad=False)


def max_pool_3x3_same(x: jax.Array) -> jax.Array:
    """3x3 stride-1 max pool with 1 pixel of -inf padding (Mixed_7c's pool branch)."""
    return nn.max_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)))


def max_pool_3x3_s2(x: jax.Array) -> jax.Array:
    """3x3 stride-2 unpadded max pool (the stem's and the grid reductions')."""
    return nn.max_pool(x, (3, 3), strides=(2, 2), padding="VALID")


class BasicConv(nn.Module):
    """Conv (no bias) -> BatchNorm (eps 1e-3, running statistics) -> ReLU."""

    features: int
    kernel_size: IntPair
    stride: IntPair = 1
    padding: IntPair = 0
    precision: jax.lax.Precision | str | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        ph, pw = _pair(self.padding)
        x = nn.Conv(self.features, _pair(self.kernel_size), strides=_pair(self.stride),
                    padding=((ph, ph), (pw, pw)), use_bias=False, precision=self.precision,
                    name="conv")(x)
        x = nn.BatchNorm(use_running_average=True, epsilon=BN_EPSILON, name="bn")(x)
        return nn.relu(x)


class InceptionA(nn.Module):
    """Mixed_5b/c/d: 1x1, 5x5, double 3x3 and average-pool branches (35x35 grid)."""

    pool_features: int
    precision: jax.lax.Precision | str | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        conv = lambda *a, **k: BasicConv(*a, precision=self.precision, **k)  # noqa: E731
        b1 = conv(64, 1, name="branch1x1")(x)
        b5 = conv(48, 1, name="branch5x5_1")(x)
        b5 = conv(64, 5, padding=2, name="branch5x5_2")(b5)
        b3 = conv(64, 1, name="branch3x3dbl_1")(x)
        b3 = conv(96, 3, padding=1, name="branch3x3dbl_2")(b3)
        b3 = conv(96, 3, padding=1, name="branch3x3dbl_3")(b3)
        bp = conv(self.pool_features, 1, name="branch_pool")(avg_pool_3x3_exclude_pad(x))
        return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class InceptionB(nn.Module):
    """Mixed_6a: grid reduction 35x35 -> 17x17."""

    precision: jax.lax.Precision | str | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        conv = lambda *a, **k: BasicConv(*a, precision=self.precision, **k)  # noqa: E731
        b3 = conv(384, 3, stride=2, name="branch3x3")(x)
        bd = conv(64, 1, name="branch3x3dbl_1")(x)
        bd = conv(96, 3, padding=1, name="branch3x3dbl_2")(bd)
        bd = conv(96, 3, stride=2, name="branch3x3dbl_3")(bd)
        return jnp.concatenate([b3, bd, max_pool_3x3_s2(x)], axis=-1)


class InceptionC(nn.Module):
    """Mixed_6b/c/d/e: factorised 7x7 branches and an average-pool branch (17x17 grid)."""

    channels_7x7: int
    precision: jax.lax.Precision | str | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        conv = lambda *a, **k: BasicConv(*a, precision=self.precision, **k)  # noqa: E731
        c7 = self.channels_7x7
        b1 = conv(192, 1, name="branch1x1")(x)
        b7 = conv(c7, 1, name="branch7x7_1")(x)
        b7 = conv(c7, (1, 7), padding=(0, 3), name="branch7x7_2")(b7)
        b7 = conv(192, (7, 1), padding=(3, 0), name="branch7x7_3")(b7)
        bd = conv(c7, 1, name="branch7x7dbl_1")(x)
        bd = conv(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(bd)
        bd = conv(c7, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(bd)
        bd = conv(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(bd)
        bd = conv(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(bd)
        bp = conv(192, 1, name="branch_pool")(avg_pool_3x3_exclude_pad(x))
        return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class InceptionD(nn.Module):
    """Mixed_7a: grid reduction 17x17 -> 8x8."""

    precision: jax.lax.Precision | str | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        conv = lambda *a, **k: BasicConv(*a, precision=self.precision, **k)  # noqa: E731
        b3 = conv(192, 1, name="branch3x3_1")(x)
        b3 = conv(320, 3, stride=2, name="branch3x3_2")(b3)
        b7 = conv(192, 1, name="branch7x7x3_1")(x)
        b7 = conv(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(b7)
        b7 = conv(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(b7)
        b7 = conv(192, 3, stride=2, name="branch7x7x3_4")(b7)
        return jnp.concatenate([b3, b7, max_pool_3x3_s2(x)], axis=-1)


class InceptionE(nn.Module):
    """Mixed_7b/c: split 1x3/3x1 branches (8x8 grid); `pool` is the pool branch's pooling.

    The 2015 graph average-pools (over real pixels) in Mixed_7b but max-pools in Mixed_7c.
    """

    pool: Callable[[jax.Array], jax.Array]
    precision: jax.lax.Precision | str | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        conv = lambda *a, **k: BasicConv(*a, precision=self.precision, **k)  # noqa: E731
        b1 = conv(320, 1, name="branch1x1")(x)
        b3 = conv(384, 1, name="branch3x3_1")(x)
        b3 = jnp.concatenate([conv(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(b3),
                              conv(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(b3)], axis=-1)
        bd = conv(448, 1, name="branch3x3dbl_1")(x)
        bd = conv(384, 3, padding=1, name="branch3x3dbl_2")(bd)
        bd = jnp.concatenate([conv(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(bd),
                              conv(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(bd)], axis=-1)
        bp = conv(192, 1, name="branch_pool")(self.pool(x))
        return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class Classifier(nn.Module):
    """The 1008-way fc on pool3, returning logits both without and with its bias.

    Inception Score implementations that follow the original TF code (OpenAI's improved-gan,
    torch-fidelity's default `logits_unbiased`) use pool3 @ W without the bias; pytorch's
    `inception.fc(pool3)` includes it. Both are returned so either can be used.
    """

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (x.shape[-1], NUM_CLASSES))
        bias = self.param("bias", nn.initializers.zeros, (NUM_CLASSES,))
        unbiased = jnp.dot(x, kernel, precision=jax.lax.Precision.HIGHEST)
        return unbiased, unbiased + bias


class FIDInceptionV3(nn.Module):
    """pytorch-fid's FID Inception-v3 (2015 TF graph), returning pool3 features and logits.

    Input: images [N, H, W, C] with values in [0, 1] (floats; not [0, 255], not [-1, 1]),
    any H and W (they are resized to 299x299 first), C = 3 (RGB) or C = 1 (grayscale,
    repeated to RGB). Returns a dict with:

    * "pool3": [N, 2048] the global average pool after Mixed_7c (the FID features);
    * "logits": [N, 1008] fc(pool3) with bias, pytorch's `inception.fc` output;
    * "logits_unbiased": [N, 1008] pool3 @ W without bias, what the original TF Inception
      Score code and torch-fidelity use for IS.

    Convolutions default to `Precision.HIGHEST` so that accelerators do not silently drop to
    TF32/bf16 matmuls, which would shift FID against the float32 reference (XLA:CPU computes
    float32 convolutions in float32 either way).
    """

    precision: jax.lax.Precision | str | None = jax.lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, images: jax.Array) -> dict[str, jax.Array]:
        conv = lambda *a, **k: BasicConv(*a, precision=self.precision, **k)  # noqa: E731
        p = dict(precision=self.precision)
        x = jnp.asarray(images, jnp.float32)
        if x.ndim != 4 or x.shape[-1] not in (1, 3):
            raise ValueError(f"FIDInceptionV3 takes images [N, H, W, 1 or 3] in [0, 1], got shape {x.shape}")
        if x.shape[-1] == 1:
            x = jnp.repeat(x, 3, axis=-1)
        x = resize_bilinear_torch(x, (INPUT_SIZE, INPUT_SIZE))
        x = 2.0 * x - 1.0  # the graph expects [-1, 1]
        x = conv(32, 3, stride=2, name="Conv2d_1a_3x3")(x)
        x = conv(32, 3, name="Conv2d_2a_3x3")(x)
        x = conv(64, 3, padding=1, name="Conv2d_2b_3x3")(x)
        x = max_pool_3x3_s2(x)
        x = conv(80, 1, name="Conv2d_3b_1x1")(x)
        x = conv(192, 3, name="Conv2d_4a_3x3")(x)
        x = max_pool_3x3_s2(x)
        x = InceptionA(32, **p, name="Mixed_5b")(x)
        x = InceptionA(64, **p, name="Mixed_5c")(x)
        x = InceptionA(64, **p, name="Mixed_5d")(x)
        x = InceptionB(**p, name="Mixed_6a")(x)
        for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
            x = InceptionC(c7, **p, name=name)(x)
        x = InceptionD(**p, name="Mixed_7a")(x)
        x = InceptionE(avg_pool_3x3_exclude_pad, **p, name="Mixed_7b")(x)
        x = InceptionE(max_pool_3x3_same, **p, name="Mixed_7c")(x)
        pool3 = jnp.mean(x, axis=(1, 2))
        logits_unbiased, logits = Classifier(name="fc")(pool3)
        return {"pool3": pool3, "logits": logits, "logits_unbiased": logits_unbiased}


def variable_shapes(model: FIDInceptionV3 | None = None) -> dict:
    """The variables pytree ({"params", "batch_stats"}) as ShapeDtypeStructs, without computing."""
    model = model or FIDInceptionV3()
    spec = jax.ShapeDtypeStruct((1, INPUT_SIZE, INPUT_SIZE, 3), jnp.float32)
    return jax.eval_shape(model.init, jax.random.PRNGKey(0), spec)

