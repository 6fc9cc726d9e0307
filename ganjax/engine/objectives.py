"""Objectives as sums of named terms, one list per player (in the spirit of `optax.chain`).

A term sees what its player's update sees (`DInputs` or `GInputs`: D's outputs on real and
generated data, the batch, the latent) and returns a scalar to minimise. A player's objective is
the sum of its terms, each multiplied by its weight hyperparameter (`weight_key` in
`TrainState.hparams`; None means 1 and no multiplication). Every term is also a metric named
`<player>_<term name>` (e.g. "d_loss", "d_penalty", "g_loss").

The five adversarial losses (`ganjax.engine.losses`) and the gradient penalties
(`ganjax.engine.penalties`) keep their closed-form signatures and become terms through
`adversarial_terms` and `penalty_term`; a new family (ACGAN's class loss, InfoGAN's mutual
information, an MMD between batches) adds a term without touching the update code.
`Term` itself is defined in `ganjax.types` (a model module gives its family's terms in
`Networks`, below the engine) and re-exported here.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import jax

from ganjax.engine.losses import GANLoss
from ganjax.engine.penalties import Penalty
from ganjax.types import Array, Batch, DOut, HParams, Latent, Metrics, Term


class DInputs(NamedTuple):
    """What a discriminator term sees in one D update."""

    real: DOut  # D on the real minibatch
    fake: DOut  # D on generated samples (no gradient to G)
    batch: Batch  # the real minibatch: {"x", optional "y"}
    latent: Latent  # the latent the samples came from
    fake_x: Array  # the generated samples
    d_fn: Callable[[Array], Array]  # x -> D's logits, with the real labels (for penalties)
    rng: Array  # a key for terms that sample (interpolates, perturbations)


class GInputs(NamedTuple):
    """What a generator term sees in one G update."""

    fake: DOut | None  # D on the generated samples; None for a generator-only algorithm
    fake_x: Array  # the generated samples
    batch: Batch  # a real minibatch (generator-only algorithms compare against it)
    latent: Latent


def total(terms: Sequence[Term], inputs: DInputs | GInputs, hparams: HParams,
          player: str) -> tuple[Array, Metrics]:
    """(sum of weighted terms, {"<player>_<name>": unweighted value}), summed in list order.

    A term may return (value, {name: diagnostic}); its diagnostics are logged beside it as
    "<player>_<name>" (e.g. InfoGAN's bound itself next to the term that maximises it).
    """
    loss, metrics = None, {}
    for term in terms:
        value = term.fn(inputs)
        if isinstance(value, tuple):
            value, diagnostics = value
            metrics.update({f"{player}_{k}": v for k, v in diagnostics.items()})
        metrics[f"{player}_{term.name}"] = value
        weighted = value if term.weight_key is None else hparams[term.weight_key] * value
        loss = weighted if loss is None else loss + weighted
    return loss, metrics


def adversarial_terms(loss: GANLoss) -> tuple[Term, Term]:
    """(D's term, G's term) of a logit loss: D sees real and fake logits, G the fake ones."""
    return (Term("loss", lambda i: loss.discriminator(i.real.logit, i.fake.logit)),
            Term("loss", lambda i: loss.generator(i.fake.logit)))


def penalty_term(penalty: Penalty, weight_key: str = "penalty.weight") -> Term:
    """D's gradient penalty on the real batch and the samples, weighted by `penalty.weight`."""
    return Term("penalty", lambda i: penalty(i.d_fn, i.batch["x"], i.fake_x, i.rng), weight_key)


def logit_means() -> Callable[[DInputs], Metrics]:
    """D's mean logit on real and generated data, the diagnostics every D update logs."""
    def metrics(i: DInputs) -> Metrics:
        return {"d_real_logit": jax.numpy.mean(i.real.logit),
                "d_fake_logit": jax.numpy.mean(i.fake.logit)}
    return metrics
