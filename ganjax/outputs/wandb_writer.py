"""Weights & Biases beside metrics.jsonl and TensorBoard: the config, the scalars, the eval figures.

Optional (`pip install 'ganjax[wandb]'`) and off unless `train.wandb_project` is set; `wandb` is
imported only then. A `WandbWriter` is one of MetricWriter's sinks, so it receives exactly the
scalars TensorBoard receives (a stacked state's as `<name>/replica_<i>`), plus the eval figures.

The W&B run id is drawn once, at the first start, and kept in `<workdir>/wandb_run_id`: a
resumed run continues the same W&B run, and a run moved aside by `--overwrite` takes its id with
it. W&B writes its own files (the offline logs `wandb sync` uploads) to `<workdir>/wandb/`.
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any

import ml_collections

from ganjax.config.validation import wandb_enabled
from ganjax.errors import ConfigError, describe_failure
from ganjax.outputs.writers import write_text_atomically

RUN_ID_FILE = "wandb_run_id"


def run_id(workdir: str) -> str:
    """The workdir's W&B run id: read from `wandb_run_id`, or drawn and written there."""
    path = os.path.join(workdir, RUN_ID_FILE)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            saved = f.read().strip()
        if saved:
            return saved
    new = secrets.token_hex(4)  # 8 characters of [0-9a-f]; W&B ids are letters and digits
    write_text_atomically(path, new + "\n")
    return new


def run_name(name: str, workdir: str) -> str:
    """The experiment name and the workdir's folder name (once when one starts with the other,
    as default workdirs `runs/<experiment>_<time>` do)."""
    folder = os.path.basename(os.path.normpath(os.path.abspath(workdir)))
    return folder if folder.startswith(name) else f"{name}-{folder}"


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class WandbWriter:
    """One W&B run: `scalars` and `image` at a step, `close` to finish it (process 0 only)."""

    def __init__(self, config: ml_collections.ConfigDict, workdir: str, name: str):
        import wandb  # only here: W&B is optional, and its import takes about a second

        t = config.train
        self._wandb = wandb
        self.run_id = run_id(workdir)
        try:
            self._run = wandb.init(
                project=t.wandb_project, entity=t.wandb_entity or None,
                name=run_name(name, workdir), id=self.run_id, resume="allow",
                dir=os.path.abspath(workdir), mode=t.wandb_mode)
        except wandb.errors.Error as e:
            hint = ("run `wandb login` or set WANDB_API_KEY, or set train.wandb_mode=offline"
                    if t.wandb_mode == "online" else "see the W&B message above")
            raise ConfigError(f"config.train.wandb_project={t.wandb_project!r}: W&B could not "
                              f"start the run ({_first_line(e)}); {hint}") from None
        # A resumed run may have changed the fields RESUMABLE_CHANGES allows: the newest win.
        self._run.config.update(config.to_dict(), allow_val_change=True)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if values:
            self._run.log(values, step=int(step))

    def image(self, step: int, tag: str, path: str) -> None:
        """Logs the PNG at `path` (an eval figure) as the image `tag` at `step`."""
        self._run.log({tag: self._wandb.Image(path)}, step=int(step))

    def close(self) -> None:
        """Finishes the run. Called while an exception propagates (from a `finally`), it marks
        the run failed with the exit code the CLI returns for it (75 for a stop to resume)."""
        if self._run is None:
            return
        error = sys.exc_info()[1]
        code = 0
        if error is not None:
            failure = describe_failure(error)
            code = failure[1] if failure else 1
        run, self._run = self._run, None
        run.finish(exit_code=code)


def open_wandb(config: ml_collections.ConfigDict, workdir: str, name: str) -> list[Any]:
    """MetricWriter's extra sinks for `config`: [a WandbWriter] when W&B is on, else []."""
    return [WandbWriter(config, workdir, name)] if wandb_enabled(config) else []
