"""Where numbers go: metrics.jsonl, TensorBoard event files, and the console progress line."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import Any, Sequence, TextIO


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


def read_json(path: str) -> Any:
    """The JSON value in `path`; None when the file is missing, unreadable or not JSON (a
    summary or cache that has not been written yet, or was cut short)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


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


def _is_number(value: Any) -> bool:
    """A float or an int (a count such as eval/modes), not a bool."""
    return isinstance(value, (float, int)) and not isinstance(value, bool)


def tensorboard_scalars(record: dict[str, Any]) -> dict[str, float]:
    """The scalars of a record: floats as they are, a stacked state's per-replica lists as
    `<name>/replica_<i>` (protocol dicts and other non-numbers are left to metrics.jsonl)."""
    scalars = {}
    for key, value in record.items():
        if key == "step":
            continue
        if _is_number(value):
            scalars[key] = float(value)
        elif isinstance(value, list) and value and all(_is_number(v) for v in value):
            scalars.update({f"{key}/replica_{i}": float(v) for i, v in enumerate(value)})
    return scalars


class MetricWriter:
    """Appends one JSON object per logged step to metrics.jsonl and mirrors its scalars to
    TensorBoard and to any extra `sinks` (e.g. a W&B run: ganjax.outputs.wandb_writer).

    A sink has `scalars(step, {name: float})` and `close()`, and may have `image(step, tag,
    path)` for the eval figures; it gets the scalars `tensorboard_scalars` picks, named alike.

    A resumed run keeps the records up to its checkpoint's step and drops the later ones, which
    the interrupted run wrote after its last checkpoint and the resumed run writes again.
    """

    def __init__(self, workdir: str, tensorboard: bool = True, resume_step: int = 0,
                 enabled: bool = True, sinks: Sequence[Any] = ()):
        self.path = os.path.join(workdir, "metrics.jsonl")
        self.records: list[dict[str, Any]] = []
        self._file = None
        self._sinks: list[Any] = []
        if not enabled:  # processes other than 0 of a multi-process run keep records only
            return
        os.makedirs(workdir, exist_ok=True)
        if resume_step and os.path.exists(self.path):
            self.records = _read_records(self.path, resume_step)
            write_text_atomically(self.path, "".join(json.dumps(r) + "\n" for r in self.records))
        self._file = open(self.path, "a", encoding="utf-8")
        if tensorboard:
            from ganjax.outputs.tensorboard import ScalarWriter

            self._sinks.append(ScalarWriter(os.path.join(workdir, "tensorboard")))
        self._sinks.extend(sinks)

    def write(self, step: int, metrics: dict[str, Any]) -> None:
        record = {"step": int(step), **{k: jsonable(v) for k, v in metrics.items()}}
        self.records.append(record)
        if self._file is not None:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
        scalars = tensorboard_scalars(record)
        for sink in self._sinks:
            sink.scalars(step, scalars)

    def image(self, step: int, tag: str, path: str) -> None:
        """Hands the image file at `path` (an eval figure) to the sinks that take images."""
        for sink in self._sinks:
            if hasattr(sink, "image"):
                sink.image(step, tag, path)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        for sink in self._sinks:
            sink.close()


class Progress:
    """Prints `step N/T  S steps/s  ETA h:mm:ss  name value ...` lines.

    Steps/s is measured on training time alone (the caller's clock, without compilation and
    evaluation), and the ETA adds the evaluations still to come at their measured cost, so
    neither the first compilation nor an evaluation distorts them.
    """

    def __init__(self, total_steps: int, start_step: int = 0, stream: TextIO | None = None):
        self.total = total_steps
        self.stream = stream  # None: whatever sys.stdout is when printing
        self._last_step = start_step
        self._last_train_s = 0.0
        self._announced_compile = False

    def update(self, step: int, metrics: dict[str, float], train_s: float,
               eval_s_left: float = 0.0, compile_s: float = 0.0) -> float:
        """Prints one line; returns the steps/s since the previous call.

        `train_s`: cumulative seconds spent training (compilation excluded); `eval_s_left`: the
        expected seconds of the evaluations still to run; `compile_s`: seconds spent compiling
        so far, shown once on the first line.
        """
        elapsed = max(train_s - self._last_train_s, 1e-9)
        rate = (step - self._last_step) / elapsed
        self._last_step, self._last_train_s = step, train_s
        eta = (self.total - step) / rate + eval_s_left if rate > 0 else float("inf")
        eta_text = _clock_text(eta) if math.isfinite(eta) else "?"
        values = "  ".join(f"{k.split('/')[-1]} {v:.4g}" for k, v in metrics.items())
        width = len(str(self.total))
        extra = ""
        if compile_s and not self._announced_compile:
            extra, self._announced_compile = f"  (compiled in {compile_s:.1f} s)", True
        print(f"step {step:>{width}}/{self.total}  {rate:8.1f} steps/s  ETA {eta_text}  "
              f"{values}{extra}", file=self.stream or sys.stdout, flush=True)
        return rate


def _clock_text(seconds: float) -> str:
    """h:mm:ss, with days in hours beyond 24 h (time.strftime would wrap them)."""
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
