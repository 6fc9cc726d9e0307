"""What the image reproductions share: reading a labelled dataset whole, the .npz datasets they
build in their folder, and samples of a trained run.

Some reproductions train on data that no `data.source` serves directly (Stacked MNIST, a few
hundred labelled digits); they build it once as an .npz in their folder (`npz:` reads it) and
stamp the file with what it was built from, so that a re-run resumes on the same data and a
folder is never silently reused for other data. Not a recipe (its name starts with `_`).
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Sequence

import numpy as np

from ganjax.errors import ConfigError

META = "meta"  # the array of a built .npz holding, as JSON, what it was built from


def labelled_images(source: str) -> tuple[np.ndarray, np.ndarray]:
    """Every row of the training split of image source `source` (e.g. "digits",
    "npz:FILE", "tfds:mnist"): uint8 images [N, H, W, C] and int64 labels [N]."""
    from ganjax.data import load_dataset

    dataset = load_dataset(source, split="train")
    if int(getattr(dataset, "num_classes", 0) or 0) < 2:
        raise ConfigError(f"data source {source!r} has no labels; this reproduction needs "
                          f"labelled digits")
    images, labels = dataset.get(np.arange(len(dataset)))
    return np.asarray(images, np.uint8), np.asarray(labels, np.int64)


def built_dataset(path: str, meta: dict[str, Any],
                  build: Callable[[], dict[str, np.ndarray]]) -> str:
    """`path`, an .npz of `build()`'s arrays (an `x` of uint8 images and usually labels `y`)
    stamped with `meta`; built on the first call, read back on later ones. A file there built
    from other `meta` is a ConfigError: a reproduction's runs were trained on its data."""
    text = json.dumps(meta, sort_keys=True)
    if os.path.exists(path):
        with np.load(path, allow_pickle=False) as npz:
            stored = str(npz[META]) if META in npz.files else ""
        if stored != text:
            raise ConfigError(f"{path} was built from {stored or 'something unrecorded'}, not "
                              f"{text}; its runs trained on that data: use another --workdir")
        return path
    arrays = build()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(tmp, **arrays, **{META: np.array(text)})
    os.replace(tmp, path)
    return path


def samples_of(workdir: str, num: int, seed: int,
               labels: Sequence[int] | None = None) -> np.ndarray:
    """`num` images float32 [num, H, W, C] in [0, 1] from the generator of the trained run in
    `workdir` (its EMA when it has one), noise stream `seed`; a conditional G gets the class
    labels[j % len(labels)] for sample j."""
    from ganjax.run.reopen import load_run
    from ganjax.run.sampling import generate

    return generate(load_run(workdir), num, seed, labels=labels)
