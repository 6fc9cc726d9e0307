"""Heads written once that wrap any architecture: conditioning and auxiliary outputs.

A discriminator trunk is any module `trunk(x, y=None, train) -> DOut` whose `features` are the
[B, F] activations under its logit (every ganjax D is one; the architectures ignore y). A head
passes the labels on to what it wraps, so heads stack (e.g. `InfoQ(ProjectionD(trunk))`), and
changes or adds outputs; `ConditionedG` changes what any generator sees of the latent. No
architecture branches on how it is conditioned (`ganjax.models.conditioning` picks the heads
from the config).

* `ConcatConditionedD` (cGAN, Mirza & Osindero 2014): one_hot(y) appended to D's input (as
  extra constant channels for images).
* `ProjectionD` (Miyato & Koyama 2018): logit + <embed(y), features>.
* `AuxClassifierD` (ACGAN, Odena et al. 2017): aux["class_logits"] = W features + b.
* `InfoQ` (InfoGAN, Chen et al. 2016): Q's estimate of the latent codes from D's features (a
  small MLP on the shared trunk): aux["code_logits"] for the categorical codes, aux["code"]
  (means of a unit-variance Gaussian) for the continuous ones.
* `ConditionedG`: z, one_hot(y) (labels_as="concat") and the codes concatenated into the
  generator's z; or the labels handed to its BatchNorms (labels_as="batch_norm",
  class-conditional BN, `ganjax.models.layers.generator_norm`).

With y=None (evaluation probes D without labels) the conditional heads give an unconditional
view: the projection term is left out, concatenated labels are zeros.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax.models.layers import CLASS_ONEHOT, dense_norm_leaky_relu
from ganjax.types import DOut, Latent, with_aux

Array = jax.Array
LABELS_AS = ("concat", "batch_norm")


def one_hot_or_zeros(y: Array | None, num_classes: int, n: int, dtype) -> Array:
    """[n, num_classes] one-hot labels; zeros for y=None (an unlabelled probe)."""
    if y is None:
        return jnp.zeros((n, num_classes), dtype)
    return jax.nn.one_hot(y, num_classes, dtype=dtype)


class ConcatConditionedD(nn.Module):
    """D(x, y) = trunk([x, one_hot(y)]): appended to vectors, or as num_classes constant
    channels of images [B, H, W, C] (the label broadcast over every pixel)."""

    trunk: nn.Module
    num_classes: int

    @nn.compact
    def __call__(self, x: Array, y: Array | None = None, train: bool = True) -> DOut:
        onehot = one_hot_or_zeros(y, self.num_classes, x.shape[0], x.dtype)
        if x.ndim == 4:
            planes = jnp.broadcast_to(onehot[:, None, None, :], x.shape[:3] + (self.num_classes,))
            x = jnp.concatenate([x, planes], axis=-1)
        else:
            x = jnp.concatenate([x.reshape(x.shape[0], -1), onehot], axis=-1)
        return self.trunk(x, None, train=train)


class ProjectionD(nn.Module):
    """logit(x, y) = trunk logit + <embedding of y, trunk features>."""

    trunk: nn.Module
    num_classes: int

    @nn.compact
    def __call__(self, x: Array, y: Array | None = None, train: bool = True) -> DOut:
        out = self.trunk(x, y, train=train)
        embed = nn.Embed(self.num_classes, out.features.shape[-1], name="class_embedding")
        if y is None:
            # Create the embedding's parameters either way, so the tree has one shape.
            embed(jnp.zeros((1,), jnp.int32))
            return out
        return out._replace(logit=out.logit + jnp.sum(embed(y) * out.features, axis=-1))


class AuxClassifierD(nn.Module):
    """The trunk plus class logits from its features: aux["class_logits"] [B, num_classes]."""

    trunk: nn.Module
    num_classes: int

    @nn.compact
    def __call__(self, x: Array, y: Array | None = None, train: bool = True) -> DOut:
        out = self.trunk(x, y, train=train)
        return with_aux(out, class_logits=nn.Dense(self.num_classes, name="classifier")(
            out.features))


class InfoQ(nn.Module):
    """The trunk plus Q's view of the codes from its features (a hidden layer, then linear):
    aux["code_logits"] [B, sum(code_categories)] (code j's logits are the j-th slice) and
    aux["code"] [B, code_dim] (the means of Q's unit-variance Gaussian over continuous codes).
    `batch_norm` puts a BatchNorm between the hidden layer and its LeakyReLU (the paper's Q)."""

    trunk: nn.Module
    code_categories: tuple[int, ...] = ()
    code_dim: int = 0
    hidden: int = 128
    batch_norm: bool = False

    @nn.compact
    def __call__(self, x: Array, y: Array | None = None, train: bool = True) -> DOut:
        out = self.trunk(x, y, train=train)
        h = dense_norm_leaky_relu(out.features, self.hidden, "q_hidden", train, self.batch_norm)
        outputs = {}
        if self.code_categories:
            outputs["code_logits"] = nn.Dense(sum(self.code_categories), name="q_categorical")(h)
        if self.code_dim:
            outputs["code"] = nn.Dense(self.code_dim, name="q_code")(h)
        return with_aux(out, **outputs)


class ConditionedG(nn.Module):
    """Feeds `inner` {"z": [z, (one_hot(y)), one_hot(c_cat_j) for each code j, c]} and, with
    labels_as="batch_norm", the one-hot labels for its class-conditional BatchNorms."""

    inner: nn.Module
    num_classes: int = 0
    labels_as: str = "concat"
    code_categories: tuple[int, ...] = ()

    @nn.compact
    def __call__(self, latent: Latent, train: bool = True) -> Any:
        z = latent["z"]
        parts, inner = [z], {}
        if self.num_classes:
            labels = jax.nn.one_hot(latent["y"], self.num_classes, dtype=z.dtype)
            if self.labels_as == "concat":
                parts.append(labels)
            elif self.labels_as == "batch_norm":
                inner[CLASS_ONEHOT] = labels
            else:
                raise ValueError(f"labels_as={self.labels_as!r}: one of {', '.join(LABELS_AS)}")
        for j, size in enumerate(self.code_categories):
            parts.append(jax.nn.one_hot(latent["c_cat"][:, j], size, dtype=z.dtype))
        if "c" in latent:
            parts.append(latent["c"])
        inner["z"] = jnp.concatenate(parts, axis=-1)
        return self.inner(inner, train=train)

