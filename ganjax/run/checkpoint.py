"""Checkpoints of the whole TrainState through orbax, verified on restore, never deleted to recover.

A checkpoint is `workdir/checkpoints/<step>/` with two items: `state` (every array of the TrainState,
the PRNG key and the step included) and `meta` (the resolved config, the ganjax version, the data
position and a fingerprint of every array). Saves are asynchronous: the arrays are copied off the
device before `save` returns, and files are written in the background while training goes on.
Restoring checks the fingerprint, so a checkpoint that reads back wrong is treated like a missing
one: ganjax moves it aside into `workdir/damaged_checkpoints/` and falls back to the newest good one.
"""

from __future__ import annotations

from ganjax.errors import CheckpointError

import dataclasses
import os
import shutil
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

import ganjax
from ganjax.parallel import is_main_process, to_host

CHECKPOINT_DIR = "checkpoints"
DAMAGED_DIR = "damaged_checkpoints"


@dataclasses.dataclass
class Restored:
    """A restored state, its step and the metadata saved beside it."""

    state: Any
    step: int
    meta: dict[str, Any]


def _leaf_fingerprint(x: jax.Array) -> jax.Array:
    """A position-weighted sum of the leaf's bits (mod 2^32): changes with any flipped byte."""
    x = jnp.ravel(x)
    if x.dtype.itemsize == 4:
        bits = jax.lax.bitcast_convert_type(x, jnp.uint32)
    elif x.dtype.itemsize == 2:
        bits = jax.lax.bitcast_convert_type(x, jnp.uint16).astype(jnp.uint32)
    elif x.dtype.itemsize == 1:
        bits = jax.lax.bitcast_convert_type(x, jnp.uint8).astype(jnp.uint32)
    else:  # 8-byte leaves: fold both halves
        pairs = jax.lax.bitcast_convert_type(x, jnp.uint32)
        bits = pairs[..., 0] * jnp.uint32(31) + pairs[..., 1]
    weights = jnp.arange(bits.size, dtype=jnp.uint32) * jnp.uint32(2654435761) + jnp.uint32(1)
    return jnp.sum(bits * weights, dtype=jnp.uint32)


@jax.jit
def _fingerprints(tree: Any) -> list[jax.Array]:
    return [_leaf_fingerprint(x) for x in jax.tree.leaves(tree)]


def fingerprint(tree: Any) -> list[int]:
    """One uint32 per array of `tree`, computed on device (the arrays are not copied)."""
    return [int(v) for v in to_host(_fingerprints(tree))]


@jax.jit
def _all_finite(tree: Any) -> jax.Array:
    leaves = [x for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.floating)]
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def all_finite(tree: Any) -> bool:
    """True when no floating-point array of `tree` holds a NaN or an Inf."""
    return bool(to_host(_all_finite(tree)))


class Checkpointer:
    """Saves and restores TrainStates under `workdir/checkpoints`.

    Keeps the newest `keep` checkpoints, plus every checkpoint whose step is a multiple of
    `keep_every` (0: none). Only finished checkpoints count; orbax writes into a temporary folder
    and renames it when complete, so a crash mid-save leaves the previous ones untouched.
    """

    def __init__(self, workdir: str, keep: int = 3, keep_every: int = 0,
                 async_save: bool = True, log: Callable[[str], None] = print):
        self.workdir = workdir
        self.directory = os.path.abspath(os.path.join(workdir, CHECKPOINT_DIR))
        self._log = log
        options = ocp.CheckpointManagerOptions(
            max_to_keep=keep, keep_period=keep_every or None, create=True,
            enable_async_checkpointing=async_save)
        self._manager = ocp.CheckpointManager(self.directory, options=options,
                                              item_names=("state", "meta"))

    def steps(self) -> list[int]:
        """Steps of the finished checkpoints, oldest first."""
        return sorted(self._manager.all_steps())

    def save(self, state: Any, meta: dict[str, Any]) -> None:
        """Starts saving `state` at its step; returns once the arrays are off the device."""
        step = int(np.asarray(to_host(state.step)).reshape(-1)[0])  # replicas step together
        meta = {**meta, "step": step, "ganjax_version": ganjax.__version__,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "fingerprint": fingerprint(state)}
        self._manager.save(step, args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)), force=True)

    def wait(self) -> None:
        """Blocks until every started save is on disk."""
        self._manager.wait_until_finished()

    def restore(self, step: int, abstract_state: Any) -> Restored:
        """Restores the checkpoint of `step` into the structure of `abstract_state`; verifies it."""
        restored = self._manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract_state), meta=ocp.args.JsonRestore()))
        state, meta = restored.state, dict(restored.meta)
        if fingerprint(state) != meta.get("fingerprint"):
            raise CheckpointError(f"checkpoint {step}: the arrays read back differ from those "
                                  f"saved (fingerprint mismatch)")
        return Restored(state, step, meta)

    def restore_latest(self, abstract_state: Any, move_damaged: bool = True) -> Restored | None:
        """The newest checkpoint that restores and verifies, or None when there is none.

        Damaged ones are reported and, for a run that goes on training, moved (never deleted) to
        `workdir/damaged_checkpoints/`, so that later saves of the same steps do not collide.
        """
        steps = self.steps()
        for step in reversed(steps):
            try:
                return self.restore(step, abstract_state)
            except Exception as e:  # orbax/tensorstore raise many types for unreadable files
                move = move_damaged and is_main_process()
                where = f"moved it to {self._move_aside(step)}" if move else "skipping it"
                self._log(f"ganjax: warning: checkpoint {step} is damaged "
                          f"({type(e).__name__}: {_first_line(e)}); {where} and trying the one "
                          f"before")
        if steps:
            raise CheckpointError(
                f"none of the checkpoints in {self.directory} (steps {steps}) can be restored"
                + (f"; they were moved to {os.path.join(self.workdir, DAMAGED_DIR)}"
                   if move_damaged else "") + ". Start again in a new --workdir")
        return None

    def _move_aside(self, step: int) -> str:
        source = os.path.join(self.directory, str(step))
        target_dir = os.path.join(self.workdir, DAMAGED_DIR)
        os.makedirs(target_dir, exist_ok=True)
        target = os.path.join(target_dir, f"{step}-{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.move(source, target)
        self._manager.reload()
        return target

    def close(self) -> None:
        """Waits for pending saves and releases orbax's threads."""
        self._manager.wait_until_finished()
        self._manager.close()


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else ""


def latest_step_on_disk(workdir: str) -> int | None:
    """The step of the newest finished checkpoint folder, read from names only (no restore)."""
    directory = os.path.join(workdir, CHECKPOINT_DIR)
    if not os.path.isdir(directory):
        return None
    steps = [int(name) for name in os.listdir(directory) if name.isdigit()]
    return max(steps) if steps else None
