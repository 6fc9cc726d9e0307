"""The latent spec: what a generator is fed, sampled from one key.

`sample(rng, n)` returns {"z"} for an unconditional GAN, plus labels "y" [n] (uniform over the
classes) for a conditional one, and InfoGAN's codes (Chen et al. 2016): categorical "c_cat"
[n, len(code_categories)] (code j uniform over its code_categories[j] values) and continuous "c"
[n, code_dim] (uniform on [-1, 1]). An unconditional latent draws z from `rng` itself, so it is
the noise of the pre-v2 engine, bit for bit; with labels or codes the key is split three ways
(z, y, c) and the categorical codes come from fold_in(c key, 1).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from ganjax.types import Array, Latent

NOISE = ("normal", "uniform")


@dataclasses.dataclass(frozen=True)
class LatentSpec:
    """z ~ N(0, I) or U[-1, 1]^z_dim; optionally labels in [0, num_classes) and codes."""

    z_dim: int
    noise: str = "normal"
    num_classes: int = 0
    code_dim: int = 0  # continuous codes "c"
    code_categories: tuple[int, ...] = ()  # sizes of the categorical codes "c_cat"

    @property
    def conditional(self) -> bool:
        """Whether the latent has more than z (labels or codes)."""
        return bool(self.num_classes or self.code_dim or self.code_categories)

    def __post_init__(self):
        if self.noise not in NOISE:
            raise ValueError(f"unknown noise {self.noise!r}; known: {', '.join(NOISE)}")

    def noise_of(self, rng: Array, n: int) -> Array:
        """[n, z_dim] float32 noise."""
        shape = (n, self.z_dim)
        if self.noise == "uniform":
            return jax.random.uniform(rng, shape, jnp.float32, -1.0, 1.0)
        return jax.random.normal(rng, shape, jnp.float32)

    def sample(self, rng: Array, n: int, labels: Array | None = None,
               codes: Array | None = None) -> Latent:
        """A latent for `n` samples; `labels` [n] fixes the classes of a conditional latent and
        `codes` [n, len(code_categories)] its categorical codes (the rest stays random)."""
        if not self.conditional:
            return {"z": self.noise_of(rng, n)}
        z_rng, y_rng, c_rng = jax.random.split(rng, 3)
        latent = {"z": self.noise_of(z_rng, n)}
        if self.num_classes:
            latent["y"] = (jnp.asarray(labels, jnp.int32) if labels is not None else
                           jax.random.randint(y_rng, (n,), 0, self.num_classes))
        if self.code_dim:
            latent["c"] = jax.random.uniform(c_rng, (n, self.code_dim), jnp.float32, -1.0, 1.0)
        if self.code_categories:
            if codes is not None:
                latent["c_cat"] = jnp.asarray(codes, jnp.int32).reshape(n, -1)
            else:
                keys = jax.random.split(jax.random.fold_in(c_rng, 1), len(self.code_categories))
                latent["c_cat"] = jnp.stack([jax.random.randint(k, (n,), 0, size) for k, size
                                             in zip(keys, self.code_categories)], axis=1)
        return latent

    def example(self, n: int) -> Latent:
        """Zeros of the latent's shapes, for initialising a generator."""
        latent = {"z": jnp.zeros((n, self.z_dim), jnp.float32)}
        if self.num_classes:
            latent["y"] = jnp.zeros((n,), jnp.int32)
        if self.code_dim:
            latent["c"] = jnp.zeros((n, self.code_dim), jnp.float32)
        if self.code_categories:
            latent["c_cat"] = jnp.zeros((n, len(self.code_categories)), jnp.int32)
        return latent
