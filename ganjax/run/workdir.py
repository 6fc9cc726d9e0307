"""Deciding what to do with a workdir before training: start, resume, refuse or move aside.

Nothing a user wrote is ever deleted: `--overwrite` renames the old run.
"""

from __future__ import annotations

import json
import os
import time
from typing import Callable

import ml_collections

from ganjax import config as config_lib
from ganjax.errors import WorkdirError
from ganjax.parallel import is_main_process, sync_processes
from ganjax.run.checkpoint import latest_step_on_disk


def holds_files(workdir: str) -> bool:
    """Whether anything but empty folders is under `workdir` (a start that failed before
    training, e.g. on a data error, leaves at most empty folders, which must not block)."""
    return any(files for _, _, files in os.walk(workdir))


def plan_workdir(workdir: str, config: ml_collections.ConfigDict, overwrite: bool,
                 log: Callable[[str], None]) -> tuple[bool, str | None]:
    """(resume?, where to move the old run or None), decided from the files alone.

    A workdir with checkpoints is resumed when `train.resume` (the default) and the config differs
    only in the fields that may change. Any other non-empty workdir is refused, or with
    `overwrite` renamed to `<workdir>.replaced-<time>`: nothing a user wrote is deleted. Reads
    only, so that every process of a multi-process run reaches the same decision.
    """
    if not holds_files(workdir):  # absent, empty, or only empty folders of a failed start
        return False, None
    has_checkpoints = latest_step_on_disk(workdir) is not None
    if has_checkpoints and config.train.resume and not overwrite:
        saved_path = os.path.join(workdir, "config.json")
        if os.path.exists(saved_path):
            with open(saved_path, encoding="utf-8") as f:
                changes = config_lib.check_resumable(json.load(f), config)
            for key, old, new in changes:
                log(f"ganjax: resuming with {key} changed from {old!r} to {new!r}")
        return True, None
    if not overwrite:
        what = ("checkpoints, and train.resume=false" if has_checkpoints
                else "files but no checkpoint to resume from")
        raise WorkdirError(f"workdir {workdir} already holds {what}; pass --overwrite to move "
                           f"the old run to {workdir.rstrip('/')}.replaced-<time>, or choose a "
                           f"new --workdir")
    return False, f"{workdir.rstrip('/')}.replaced-{time.strftime('%Y%m%d-%H%M%S')}"


def prepare_workdir(workdir: str, config: ml_collections.ConfigDict, overwrite: bool,
                    log: Callable[[str], None]) -> bool:
    """Plans (every process), then moves and creates folders (process 0); True to resume."""
    # Every process reads the folder before process 0 changes it, and sees the result after.
    sync_processes("ganjax: before planning the workdir")
    resume, move_to = plan_workdir(workdir, config, overwrite, log)
    sync_processes("ganjax: workdir planned")
    if is_main_process():
        if move_to:
            os.rename(workdir, move_to)
            log(f"ganjax: --overwrite: moved the previous run to {move_to}")
        os.makedirs(os.path.join(workdir, "figures"), exist_ok=True)
    sync_processes("ganjax: workdir ready")
    return resume
