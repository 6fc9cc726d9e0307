"""Turning the errors of `ganjax.errors` into one line on stderr and the table's exit code."""

from __future__ import annotations

import sys
from typing import Any, Callable

from ganjax.errors import describe_failure


def report(error: BaseException, prefix: str = "") -> int:
    """Prints `ganjax: <label>: <prefix><message>` for a ganjax error; returns its exit code."""
    label, code = describe_failure(error)
    print(f"ganjax: {label}: {prefix}{error}", file=sys.stderr)
    return code


def call_reporting(call: Callable[[], Any],
                   also: tuple[tuple[type, str, int], ...] = ()) -> tuple[Any, int | None]:
    """(call(), None); or, for a ganjax error (or one of `also`: (type, label, code)), one line
    `ganjax: <label>: <message>` on stderr and (None, its exit code)."""
    from ganjax.errors import GanjaxError

    try:
        return call(), None
    except GanjaxError as e:
        return None, report(e)
    except tuple(kind for kind, _, _ in also) as e:
        label, code = next((label, code) for kind, label, code in also if isinstance(e, kind))
        print(f"ganjax: {label}: {e}", file=sys.stderr)
        return None, code


def open_run(workdir: str, step: int | None = None) -> tuple[Any, int | None]:
    """(the run saved in `workdir` at `step`, None); or one line on stderr (a bad saved config
    is named as `<workdir>/config.json`) and (None, its exit code)."""
    from ganjax.errors import CheckpointError, ConfigError
    from ganjax.run.reopen import load_run

    try:
        return load_run(workdir, step), None
    except ConfigError as e:
        return None, report(e, prefix=f"{workdir}/config.json: ")
    except CheckpointError as e:
        return None, report(e)
