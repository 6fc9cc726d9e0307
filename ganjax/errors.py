"""Every failure ganjax reports to a user, and the one table of exit codes the CLI returns.

Each error's message is one line that names the problem and the fix. The CLI prints
`ganjax: <label>: <message>` and exits with the code below; library code raises these and never
exits, except for the one case JAX leaves no other way out (`ganjax.parallel.processes`).
Nothing here imports JAX, so every layer may use it.
"""

from __future__ import annotations


class GanjaxError(Exception):
    """Base of the errors a ganjax command reports as one line and an exit code."""


class ConfigError(GanjaxError, ValueError):
    """A config is unusable; the message names the key and what is allowed."""


class DataError(GanjaxError, RuntimeError):
    """The dataset of `data.source` cannot be read as configured."""


class DivergenceError(GanjaxError, RuntimeError):
    """A loss or a parameter became NaN or Inf."""


class WorkdirError(GanjaxError, RuntimeError):
    """The workdir already holds a run that this one would mix with."""


class CheckpointError(GanjaxError, RuntimeError):
    """No checkpoint in the workdir can be restored."""


class DistributedError(GanjaxError, RuntimeError):
    """Processes of a multi-process run cannot start together or do not agree."""


class WeightsError(GanjaxError, ValueError):
    """The weights file is missing, unreadable, or not pytorch-fid's FID Inception."""


class Interrupted(GanjaxError, RuntimeError):
    """Training stopped early on request (a signal or `stop_at`) after saving a checkpoint."""

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


EXIT_OK = 0
EXIT_CONFIG_ERROR = 2  # bad config, data or arguments
EXIT_DIVERGED = 3  # NaN/Inf in a loss or a parameter
EXIT_WORKDIR = 4  # the workdir holds a run that this one must not mix with
EXIT_CHECKPOINT = 5  # no checkpoint can be restored
EXIT_DISTRIBUTED = 6  # the processes of a multi-process run cannot start together or disagree
EXIT_INTERRUPTED = 75  # stopped by SIGTERM/SIGINT or --stop_at after a checkpoint: rerun to resume

# (error type, label printed before the message, exit code), most specific first.
FAILURES: tuple[tuple[type[Exception], str, int], ...] = (
    (ConfigError, "config error", EXIT_CONFIG_ERROR),
    (DataError, "data error", EXIT_CONFIG_ERROR),
    (WeightsError, "weights error", EXIT_CONFIG_ERROR),
    (DivergenceError, "error", EXIT_DIVERGED),
    (WorkdirError, "error", EXIT_WORKDIR),
    (CheckpointError, "checkpoint error", EXIT_CHECKPOINT),
    (DistributedError, "distributed error", EXIT_DISTRIBUTED),
    (Interrupted, "interrupted", EXIT_INTERRUPTED),
)


def describe_failure(error: BaseException) -> tuple[str, int] | None:
    """(label, exit code) of a ganjax error, or None for anything else."""
    for kind, label, code in FAILURES:
        if isinstance(error, kind):
            return label, code
    return None
