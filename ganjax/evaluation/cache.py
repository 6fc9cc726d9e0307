"""An on-disk cache of real-data features and fitted reference models, as .npz files.

Real-data Inception features cost as much as the generated ones, yet depend only on the
dataset, its preprocessing, the sample count and the network's weights; caching them by those
makes a re-evaluation pay for the generated half only. Each file stores the key it was made
for, so a hash collision or a hand-copied file is recomputed rather than trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Callable

import numpy as np

DEFAULT_DIR = os.path.join(os.path.expanduser("~"), ".cache", "ganjax", "fid_stats")
ENV_VAR = "GANJAX_CACHE"
_KEY_ENTRY = "__cache_key__"

Arrays = dict[str, np.ndarray]


def cache_dir(override: str | None = None) -> str:
    """The cache folder: `override`, else $GANJAX_CACHE, else ~/.cache/ganjax/fid_stats."""
    return os.path.expanduser(override or os.environ.get(ENV_VAR) or DEFAULT_DIR)


def key_text(key: dict[str, Any]) -> str:
    """The key as canonical JSON (sorted keys), the form that is hashed and stored."""
    return json.dumps(key, sort_keys=True, default=str)


def cache_path(directory: str, kind: str, key: dict[str, Any]) -> str:
    """`directory/<kind>-<first 16 hex digits of the key's SHA-256>.npz`."""
    digest = hashlib.sha256(key_text(key).encode("utf-8")).hexdigest()[:16]
    return os.path.join(directory, f"{kind}-{digest}.npz")


def load(path: str, key: dict[str, Any]) -> Arrays | None:
    """The arrays cached at `path` for `key`, or None when absent, unreadable or for another key."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            if _KEY_ENTRY not in npz.files or str(npz[_KEY_ENTRY]) != key_text(key):
                return None
            return {k: npz[k] for k in npz.files if k != _KEY_ENTRY}
    except (OSError, ValueError, EOFError):
        return None


def save(path: str, key: dict[str, Any], arrays: Arrays) -> None:
    """Writes `arrays` with their key; a temporary file and a rename keep readers safe."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(tmp, **{_KEY_ENTRY: np.array(key_text(key))}, **arrays)
    os.replace(tmp, path)


def cached(directory: str, kind: str, key: dict[str, Any],
           compute: Callable[[], Arrays]) -> tuple[Arrays, bool]:
    """(arrays, hit): the cached arrays for `key`, or `compute()`'s, saved for next time."""
    path = cache_path(directory, kind, key)
    arrays = load(path, key)
    if arrays is not None:
        return arrays, True
    arrays = compute()
    save(path, key, arrays)
    return arrays, False
