"""Heads written once that wrap any architecture: conditioning and auxiliary outputs.

A discriminator trunk is any module `trunk(x, y=None, train) -> DOut` whose `features` are the
[B, F] activations under its logit (every ganjax D is one; the architectures ignore y). A head
passes the labels on to what it wraps, so heads stack (e.g. `InfoQ(ProjectionD(trunk))`), and
changes or adds outputs; a generator wrapper changes what the generator sees of the latent. No architecture
branches on how it is conditioned.

* `ProjectionD` (Miyato & Koyama 2018): logit + <embed(y), features>; with y=None it is the
  trunk's unconditional logit (what evaluation probes).
* `AuxClassifierD` (ACGAN, Odena et al. 2017): aux["class_logits"] = W features + b.
* `InfoQ` (InfoGAN, Chen et al. 2016): aux["code"] = Q's estimate of the latent codes c from
  D's features (a small MLP on the shared trunk).
* `ConcatConditionedG`: z, one-hot(y) and the codes c concatenated into the generator's z, so
  any unconditional generator becomes a conditional (cGAN, Mirza & Osindero 2014) or InfoGAN G.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax.types import DOut, Latent, with_aux

Array = jax.Array


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
    """The trunk plus Q's estimate of continuous codes: aux["code"] [B, code_dim]."""

    trunk: nn.Module
    code_dim: int
    hidden: int = 128

    @nn.compact
    def __call__(self, x: Array, y: Array | None = None, train: bool = True) -> DOut:
        out = self.trunk(x, y, train=train)
        h = nn.leaky_relu(nn.Dense(self.hidden, name="q_hidden")(out.features), 0.2)
        return with_aux(out, code=nn.Dense(self.code_dim, name="q_code")(h))


class ConcatConditionedG(nn.Module):
    """Feeds `inner` the latent {"z": [z, one_hot(y), c]}: a conditional / code-aware G."""

    inner: nn.Module
    num_classes: int = 0

    @nn.compact
    def __call__(self, latent: Latent, train: bool = True) -> Any:
        parts = [latent["z"]]
        if self.num_classes:
            parts.append(jax.nn.one_hot(latent["y"], self.num_classes, dtype=latent["z"].dtype))
        if "c" in latent:
            parts.append(latent["c"])
        return self.inner({"z": jnp.concatenate(parts, axis=-1)}, train=train)
