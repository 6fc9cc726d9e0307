"""Where a run's time goes: compiling, training steps, evaluating.

Steps/s and the ETA must count training steps only. The first chunk of every new length pays
XLA's compilation, and evaluation runs between chunks; counted as training they made the first
ETA about 2.5x too high and steps/s swing tenfold. JAX reports the time it spends tracing,
lowering and compiling through `jax.monitoring`; one process-wide listener adds those seconds
up, and a session subtracts them from the wall time of the chunks that paid them.
"""

from __future__ import annotations

import dataclasses
import threading

import jax

# The three stages of turning a jitted function into an executable (jax._src.dispatch names).
COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration",
                  "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration")

_lock = threading.Lock()
_compile_seconds = 0.0
_listening = False


def _on_duration(event: str, duration_s: float, **_: object) -> None:
    global _compile_seconds
    if event in COMPILE_EVENTS:
        with _lock:
            _compile_seconds += duration_s


def compile_seconds() -> float:
    """Seconds this process has spent compiling JAX programs since the first call."""
    global _listening
    with _lock:
        if not _listening:
            jax.monitoring.register_event_duration_secs_listener(_on_duration)
            _listening = True
        return _compile_seconds


@dataclasses.dataclass
class RunClock:
    """Seconds spent in each kind of work, and the steps trained, of one session."""

    train_s: float = 0.0  # running compiled steps (and waiting for their input), compiles excluded
    compile_s: float = 0.0
    eval_s: float = 0.0
    evals: int = 0
    steps: int = 0

    def add_chunk(self, wall_s: float, compile_s: float, steps: int) -> None:
        self.compile_s += compile_s
        self.train_s += max(wall_s - compile_s, 0.0)
        self.steps += steps

    def add_eval(self, wall_s: float) -> None:
        self.eval_s += wall_s
        self.evals += 1

    @property
    def steps_per_s(self) -> float | None:
        return self.steps / self.train_s if self.train_s > 0 and self.steps else None

    @property
    def seconds_per_eval(self) -> float | None:
        return self.eval_s / self.evals if self.evals else None
