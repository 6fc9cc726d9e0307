"""The objective terms that go with the heads: ACGAN's class loss and InfoGAN's information bound.

Both are written once on a DOut's `aux` outputs and the latent, so they serve any architecture
the heads wrap (`ganjax.models.conditioning`).

* ACGAN (Odena et al. 2017): D minimises the class cross-entropy on real images (their dataset
  labels) and on generated ones (the labels they were drawn for; `model.class_loss_on_fake=false`
  leaves these out); G minimises it on generated ones. Weight `model.class_loss_weight`.
* InfoGAN (Chen et al. 2016): the variational lower bound on the mutual information between
  the codes c and G(z, c), L_I = E[log Q(c | G(z, c))] + H(c) <= I(c; G(z, c)). G and Q (the
  head on D's trunk) both maximise it: each player's term is -L_I on generated samples, so in
  D's update it trains Q and the shared trunk, in G's update the generator. A categorical code
  of K values has H(c) = ln K and Q a softmax; a continuous code U(-1, 1) has H(c) = ln 2 and Q
  a unit-variance Gaussian around Q's mean (the fixed-variance Q of the paper's MNIST runs).
  Weights `model.info_weight` (categorical) and `model.info_continuous_weight`. Every update
  logs the bound itself as `<player>_mi_bound` (nats; for one 10-way code it approaches ln 10 =
  2.30 as Q recovers the code, the paper's Figure 1).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import ml_collections

from ganjax.engine.objectives import DInputs, GInputs, Term
from ganjax.types import Array, DOut, Latent, Metrics


def cross_entropy(logits: Array, labels: Array) -> Array:
    """Mean -log softmax(logits)[label] over the batch, in nats."""
    log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None].astype(jnp.int32), 1))


def class_accuracy(logits: Array, labels: Array) -> Array:
    """Share of the batch whose largest logit is its label."""
    return jnp.mean((jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32))


def _d_class_loss(i: DInputs, on_fake: bool = True) -> tuple[Array, Metrics]:
    real, fake = i.real.aux["class_logits"], i.fake.aux["class_logits"]
    loss = cross_entropy(real, i.batch["y"])
    if on_fake:
        loss = loss + cross_entropy(fake, i.latent["y"])
    return loss, {"class_accuracy_real": class_accuracy(real, i.batch["y"]),
                  "class_accuracy_fake": class_accuracy(fake, i.latent["y"])}


def _g_class_loss(i: GInputs) -> Array:
    return cross_entropy(i.fake.aux["class_logits"], i.latent["y"])


def acgan_terms(weight_key: str = "model.class_loss_weight",
                on_fake: bool = True) -> tuple[Term, Term]:
    """(D's class term, G's class term) of ACGAN; `on_fake=False` trains D's classifier on real
    images only (then G must satisfy a classifier of real digits, not one that also learnt
    G's own class cues)."""
    d_term = Term("class", lambda i: _d_class_loss(i, on_fake), weight_key)
    return d_term, Term("class", _g_class_loss, weight_key)


def categorical_bound(out: DOut, latent: Latent, categories: tuple[int, ...]) -> Array:
    """L_I of the categorical codes: sum over codes j of ln K_j - CE(Q_j logits, c_cat[:, j])."""
    logits = out.aux["code_logits"]
    bound, start = 0.0, 0
    for j, size in enumerate(categories):
        bound += math.log(size) - cross_entropy(logits[:, start:start + size],
                                                latent["c_cat"][:, j])
        start += size
    return bound


def continuous_bound(out: DOut, latent: Latent) -> Array:
    """L_I of the continuous codes: E log N(c; Q's mean, 1) + H(U(-1, 1)), summed over codes."""
    c, mean = latent["c"], out.aux["code"].astype(jnp.float32)
    log_q = -0.5 * jnp.sum((c - mean) ** 2, axis=-1) - 0.5 * c.shape[-1] * math.log(2 * math.pi)
    return jnp.mean(log_q) + c.shape[-1] * math.log(2.0)


def info_terms(categories: tuple[int, ...], code_dim: int) -> tuple[tuple[Term, ...],
                                                                   tuple[Term, ...]]:
    """(D's terms, G's terms): -L_I of the categorical codes and of the continuous ones, each
    player on D's (and Q's) outputs for the generated samples."""

    def player_terms() -> tuple[Term, ...]:
        terms = []
        if categories:
            def categorical(i):
                bound = categorical_bound(i.fake, i.latent, categories)
                return -bound, {"mi_bound": bound}
            terms.append(Term("info", categorical, "model.info_weight"))
        if code_dim:
            def continuous(i):
                bound = continuous_bound(i.fake, i.latent)
                return -bound, {"mi_bound_continuous": bound}
            terms.append(Term("info_continuous", continuous, "model.info_continuous_weight"))
        return tuple(terms)

    return player_terms(), player_terms()


def head_terms(config: ml_collections.ConfigDict) -> tuple[tuple[Term, ...], tuple[Term, ...],
                                                           tuple[str, ...]]:
    """(G's terms, D's terms, the hyperparameter keys they read) of the heads in `config`."""
    m = config.model
    g_terms, d_terms, keys = [], [], []
    if m.d_conditioning == "acgan":
        d_term, g_term = acgan_terms(on_fake=bool(m.class_loss_on_fake))
        d_terms.append(d_term)
        g_terms.append(g_term)
        keys.append("model.class_loss_weight")
    categories = tuple(int(k) for k in m.info_categorical)
    if categories or m.info_continuous:
        d_info, g_info = info_terms(categories, int(m.info_continuous))
        d_terms += d_info
        g_terms += g_info
        keys += [t.weight_key for t in d_info]
    return tuple(g_terms), tuple(d_terms), tuple(keys)
