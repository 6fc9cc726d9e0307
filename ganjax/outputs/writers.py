"""Where numbers go: metrics.jsonl, TensorBoard event files, and the console progress line."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import Any, TextIO


def jsonable(value: Any) -> Any:
    """Numbers as floats with NaN/Inf as null (JSON has neither); strings, bools, None and dicts
    (e.g. a metric's protocol) as they are, with their numbers converted the same way."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    value = float(value)
    return value if math.isfinite(value) else None


def write_text_atomically(path: str, text: str) -> None:
    """Writes `text` to a temporary file and renames it over `path`: readers and crashes never
    see half a file."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _read_records(path: str, until_step: int) -> list[dict[str, Any]]:
    """The records of metrics.jsonl up to `until_step`; a torn last line (a crash) is dropped."""
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("step", until_step + 1) <= until_step:
                records.append(record)
    return records


def tensorboard_scalars(record: dict[str, Any]) -> dict[str, float]:
    """The scalars of a record: floats as they are, a stacked state's per-replica lists as
    `<name>/replica_<i>` (protocol dicts and other non-numbers are left to metrics.jsonl)."""
    scalars = {}
    for key, value in record.items():
        if key == "step":
            continue
        if isinstance(value, float):
            scalars[key] = value
        elif isinstance(value, list) and value and all(isinstance(v, float) for v in value):
            scalars.update({f"{key}/replica_{i}": v for i, v in enumerate(value)})
    return scalars


class MetricWriter:
    """Appends one JSON object per logged step to metrics.jsonl and mirrors it to TensorBoard.

    A resumed run keeps the records up to its checkpoint's step and drops the later ones, which
    the interrupted run wrote after its last checkpoint and the resumed run writes again.
    """

    def __init__(self, workdir: str, tensorboard: bool = True, resume_step: int = 0,
                 enabled: bool = True):
        self.path = os.path.join(workdir, "metrics.jsonl")
        self.records: list[dict[str, Any]] = []
        self._file = self._tb = None
        if not enabled:  # processes other than 0 of a multi-process run keep records only
            return
        os.makedirs(workdir, exist_ok=True)
        if resume_step and os.path.exists(self.path):
            self.records = _read_records(self.path, resume_step)
            write_text_atomically(self.path, "".join(json.dumps(r) + "\n" for r in self.records))
        self._file = open(self.path, "a", encoding="utf-8")
        if tensorboard:
            from ganjax.outputs.tensorboard import ScalarWriter

            self._tb = ScalarWriter(os.path.join(workdir, "tensorboard"))

    def write(self, step: int, metrics: dict[str, Any]) -> None:
        record = {"step": int(step), **{k: jsonable(v) for k, v in metrics.items()}}
        self.records.append(record)
        if self._file is not None:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
        if self._tb is not None:
            self._tb.scalars(step, tensorboard_scalars(record))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._tb is not None:
            self._tb.close()


class Progress:
    """Prints `step N/T  S steps/s  ETA h:mm:ss  name value ...` lines."""

    def __init__(self, total_steps: int, start_step: int = 0, stream: TextIO | None = None):
        self.total = total_steps
        self.stream = stream  # None: whatever sys.stdout is when printing
        self._last_step = start_step
        self._last_time = time.perf_counter()

    def update(self, step: int, metrics: dict[str, float]) -> float:
        """Prints one line; returns the steps/s since the previous call."""
        now = time.perf_counter()
        rate = (step - self._last_step) / max(now - self._last_time, 1e-9)
        self._last_step, self._last_time = step, now
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        eta_text = time.strftime("%H:%M:%S", time.gmtime(eta)) if math.isfinite(eta) else "?"
        values = "  ".join(f"{k.split('/')[-1]} {v:.4g}" for k, v in metrics.items())
        width = len(str(self.total))
        print(f"step {step:>{width}}/{self.total}  {rate:8.1f} steps/s  ETA {eta_text}  {values}",
              file=self.stream or sys.stdout, flush=True)
        return rate
