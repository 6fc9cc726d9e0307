"""The one plan of PRNG streams: every key ganjax draws comes from a function here.

From a run's `seed`:
  init     fold_in(PRNGKey(seed), 0) -> split 3: G's init, D's init, the training key in the state
  data     fold_in(PRNGKey(seed), 1) -> toy batch of step s: fold_in(data, s); image batches are
           a numpy permutation per epoch from `seed` (`ganjax.data.BatchSampler`)
  eval     fold_in(PRNGKey(seed), 2) -> fold_in(eval, 0): the fixed noise of every training-time
           evaluation; fold_in(eval, 1): toy reference samples and the FID sample noise
  train    the state's key: each step splits it into (next key, D updates, G update); a D update
           splits its key into (latent, terms); a latent with labels or codes splits (z, y, c)
From a user's `--seed` (`ganjax sample`, `ganjax eval`):
  sample   PRNGKey(seed), batch i of samples from fold_in(sample, i)
Fixed, the same for every run, so that runs compare against the same real samples:
  reference  fold_in(PRNGKey(0), 1): the real samples `ganjax eval` scores toy runs against
  figure     PRNGKey(0): the real samples drawn beside `ganjax sample`'s toy scatter
Replicas of a sweep each have their own seed, so each replica's streams are those of a lone run
with that seed: vmapped and separate runs draw the same numbers.
"""

from __future__ import annotations

import jax

INIT, DATA, EVAL = 0, 1, 2


def init_key(seed: int) -> jax.Array:
    """The key `init_state` splits into G's, D's and the training key."""
    return jax.random.fold_in(jax.random.PRNGKey(seed), INIT)


def data_key(seed: int) -> jax.Array:
    """The key whose fold with the step gives a toy batch."""
    return jax.random.fold_in(jax.random.PRNGKey(seed), DATA)


def eval_key(seed: int) -> jax.Array:
    """The key of training-time evaluation (fixed noise, reference samples)."""
    return jax.random.fold_in(jax.random.PRNGKey(seed), EVAL)


def sample_key(seed: int) -> jax.Array:
    """The key of `ganjax sample` / `ganjax eval` samples for a user's --seed."""
    return jax.random.PRNGKey(seed)


def batch_key(key: jax.Array, index) -> jax.Array:
    """The key of batch `index` of a stream: a step's toy batch, a batch of samples."""
    return jax.random.fold_in(key, index)


def eval_noise_key(seed: int) -> jax.Array:
    """The fixed latent of every training-time evaluation."""
    return jax.random.fold_in(eval_key(seed), 0)


def eval_reference_key(seed: int) -> jax.Array:
    """Training-time evaluation's toy reference samples and FID sample noise."""
    return jax.random.fold_in(eval_key(seed), 1)


# The noise of the scored sample set of training-time evals (FID/KID/IS, class coverage).
EVAL_SET_NOISE = "eval key folded with 1, then with the batch index"


def describe_noise(noise: str, seed: int, num: int) -> str:
    """Which latent draws made a set of samples, in words for records: "training" (the run's
    fixed training-time eval noise, `seed` = the run's seed) or "sample" (`seed` = --seed)."""
    if noise == "training":
        return (f"training-time eval noise: one draw of {num} from fold_in(fold_in(PRNGKey("
                f"run seed={seed}), 2), 0), the noise of every eval/* in metrics.jsonl and "
                f"summary.json")
    return (f"sample noise: PRNGKey(--seed={seed}), batches of 1000 from fold_in(key, i), "
            f"independent of the training-time eval noise")


def reference_key() -> jax.Array:
    """The real samples `ganjax eval` compares toy runs with (the same for every run)."""
    return jax.random.fold_in(jax.random.PRNGKey(0), 1)


def figure_key() -> jax.Array:
    """The real samples drawn beside `ganjax sample`'s toy scatter."""
    return jax.random.PRNGKey(0)
