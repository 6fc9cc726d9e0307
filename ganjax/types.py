"""The shapes every GAN family agrees on: batches, latents, discriminator outputs, metrics.

* A batch is `{"x": [..., B, ...]}` with optional integer labels `"y": [..., B]`.
* A latent is `{"z": [B, z_dim]}` with optional labels `"y": [B]` and codes `"c": [B, c_dim]`
  (`ganjax.engine.latent.LatentSpec.sample`); a generator is called with the whole latent.
* A discriminator returns a `DOut`: one logit per judged example, the trunk features the logit
  was read from (where heads attach), and `aux` outputs that heads add (class logits, codes).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, NamedTuple

import jax

Array = jax.Array
PyTree = Any
Batch = dict[str, Array]
Latent = dict[str, Array]
Metrics = dict[str, Array]
HParams = dict[str, Array]


class DOut(NamedTuple):
    """What a discriminator says about a batch.

    logit: [B] (or [B / group] for a D that judges groups), before any sigmoid.
    features: [B, F] trunk features under the logit, or None for a D that exposes none.
    aux: outputs of heads, e.g. {"class_logits": [B, K]} (ACGAN) or {"code": [B, C]} (InfoGAN).
    """

    logit: Array
    features: Array | None = None
    aux: Mapping[str, Array] = {}


def with_aux(out: DOut, **outputs: Array) -> DOut:
    """`out` with more head outputs in `aux`."""
    return out._replace(aux={**out.aux, **outputs})


StepFn = Callable[[Any, Batch], tuple[Any, Metrics]]


@dataclasses.dataclass(frozen=True)
class Term:
    """One summand of an objective: `fn(inputs) -> scalar` (or `(scalar, {name: diagnostic})`),
    weighted by hparams[weight_key].

    Defined here, below the models, so that a model module can give its family's terms in
    `Networks.g_terms`/`d_terms`; `ganjax.engine.objectives` (which re-exports it) sums them.
    """

    name: str
    fn: Callable[..., Array]
    weight_key: str | None = None


class Networks(NamedTuple):
    """What a model module's `build(config, data_shape)` returns.

    discriminator None: a generator-only model (trained by its `g_terms` alone). `d_group`: how
    many samples D folds into one judgement. `num_classes` > 0: batches and latents carry labels.
    `code_dim` / `code_categories`: InfoGAN's continuous and categorical codes in the latent.
    `g_terms`/`d_terms`: objective terms the model family adds to the adversarial ones (ACGAN's
    class loss, InfoGAN's code loss, an MMD), with `hparam_values` for their weights.
    `algorithm`: the registered algorithm that trains them; None = "adversarial" with a
    discriminator, "generator_only" without.
    """

    generator: Any
    discriminator: Any | None
    d_group: int = 1
    num_classes: int = 0
    code_dim: int = 0
    code_categories: tuple[int, ...] = ()
    g_terms: tuple = ()
    d_terms: tuple = ()
    hparam_values: Mapping[str, float] = {}
    algorithm: str | None = None
