"""Deterministic, resumable, per-host batches of an image dataset.

The batch of a step is a pure function of (seed, step): global example position
i = (step * d_steps + s) * batch_size + j is example `permutation(seed, i // N)[i % N]`, so a
restarted run picks up at any step, and each host reads only its own rows of the global batch.
"""

from __future__ import annotations

import copy
import queue
import threading
from collections.abc import Iterator

import numpy as np

from ganjax.data.images import ImageDataset, random_flips, to_model_range

# Independent random streams under one seed: SeedSequence((seed, stream, epoch or step)).
PERMUTATION_STREAM, FLIP_STREAM = 0, 1


class BatchSampler:
    """This host's share of each step's batch, `d_steps` discriminator batches in model range.

    `local` = batch_size // process_count; process p holds global rows p * local : (p + 1) * local.
    """

    def __init__(self, dataset: ImageDataset, *, batch_size: int, d_steps: int, seed: int,
                 resolution: int, channels: int, fit: str = "pad", random_flip: bool = False,
                 process_index: int = 0, process_count: int = 1):
        if batch_size > len(dataset):
            raise ValueError(f"batch size {batch_size} is larger than the dataset "
                             f"({len(dataset)} examples); lower train.batch_size")
        if batch_size % process_count:
            raise ValueError(f"batch size {batch_size} is not divisible by the process count "
                             f"{process_count}")
        if not 0 <= process_index < process_count:
            raise ValueError(f"process_index {process_index} is not in [0, {process_count})")
        self.dataset, self.batch_size, self.d_steps, self.seed = dataset, batch_size, d_steps, seed
        self.resolution, self.channels, self.fit = resolution, channels, fit
        self.random_flip = random_flip
        self.local_batch_size = batch_size // process_count
        self.row_offset = process_index * self.local_batch_size
        self._permutations: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def permutation(self, epoch: int) -> np.ndarray:
        """The order [N] of the examples in `epoch`; the two latest made are cached."""
        with self._lock:  # a prefetch thread may ask too
            if epoch not in self._permutations:
                rng = np.random.default_rng((self.seed, PERMUTATION_STREAM, epoch))
                self._permutations[epoch] = rng.permutation(len(self.dataset))
                if len(self._permutations) > 2:
                    del self._permutations[next(iter(self._permutations))]
            return self._permutations[epoch]

    def indices(self, step: int) -> np.ndarray:
        """Dataset indices [d_steps, local] of this host's examples at `step`."""
        if step < 0:
            raise ValueError(f"step must be non-negative, got {step}")
        rows = self.row_offset + np.arange(self.local_batch_size)
        chunks = step * self.d_steps + np.arange(self.d_steps)
        positions = chunks[:, None] * self.batch_size + rows
        epochs, within = np.divmod(positions, len(self.dataset))
        out = np.empty_like(positions)
        for epoch in np.unique(epochs):
            here = epochs == epoch
            out[here] = self.permutation(int(epoch))[within[here]]
        return out

    def global_view(self) -> "BatchSampler":
        """The same sampler reading whole global batches (as process 0 of 1), e.g. for the fixed
        evaluation batch that every process must hold identically."""
        view = copy.copy(self)
        view.local_batch_size, view.row_offset = self.batch_size, 0
        view._permutations, view._lock = {}, threading.Lock()
        return view

    def batch(self, step: int) -> dict[str, np.ndarray]:
        """{"x": float32 [d_steps, local, R, R, C], "y": int32 labels [d_steps, local]} of `step`."""
        indices = self.indices(step)
        images, labels = self.dataset.get(indices.reshape(-1))
        flip = None
        if self.random_flip:
            rng = np.random.default_rng((self.seed, FLIP_STREAM, step))
            flips = random_flips(rng, self.d_steps * self.batch_size).reshape(self.d_steps, -1)
            flip = flips[:, self.row_offset:self.row_offset + self.local_batch_size].reshape(-1)
        x = to_model_range(images, self.resolution, self.channels, fit=self.fit, flip=flip)
        return {"x": x.reshape(*indices.shape, *x.shape[1:]),
                "y": np.asarray(labels, np.int32).reshape(indices.shape)}


def prefetch(sampler: BatchSampler, start_step: int, *,
             depth: int = 2) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """(step, sampler.batch(step)) for step = start_step, start_step + 1, ..., made on a thread
    up to `depth` steps ahead so that reading and decoding overlap the training step.

    Close the iterator (or let it go) to stop the thread; an error in it is raised here.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        step = start_step
        while not stop.is_set():
            try:
                item = (step, sampler.batch(step))
            except Exception as error:  # handed to the consumer, which raises it
                item = error
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.1)
                    break
                except queue.Full:
                    pass
            if isinstance(item, Exception):
                return
            step += 1

    thread = threading.Thread(target=produce, name="ganjax-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
