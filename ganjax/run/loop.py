"""`train`: a Session composed with file hooks; the thin host loop around the compiled step.

Steps run in compiled chunks of `train.scan_steps` (a lax.scan); the session only touches the
host at chunk boundaries, which are aligned with the logging, evaluation and checkpoint
intervals. Chunk boundaries depend on the step alone, so a resumed run replays exactly the
chunks of an uninterrupted one and ends with bit-identical parameters.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from typing import Any, Callable

import jax
import ml_collections
import numpy as np

from ganjax import config as config_lib
from ganjax.config.validation import check_installed
from ganjax.engine.state import TrainState
from ganjax.errors import ConfigError, DivergenceError
from ganjax.evaluation.evaluator import EvalResult
from ganjax.outputs.figures import plot_curves
from ganjax.outputs.wandb_writer import open_wandb
from ganjax.outputs.writers import MetricWriter, Progress, jsonable, write_text_atomically
from ganjax.parallel import (assert_same_config, check_batch_divisible, data_mesh,
                             is_main_process, replicate)
from ganjax.run.checkpoint import Checkpointer
from ganjax.run.experiment import build_experiment
from ganjax.run.hooks import CheckpointHook, EvalHook, LogHook, StopSignals
from ganjax.run.session import Session
from ganjax.run.workdir import prepare_workdir


def _quiet(message: str) -> None:
    del message


def _resume(checkpointer: Checkpointer, state: TrainState, steps: int,
            log: Callable[[str], None]) -> tuple[TrainState, int, list[dict[str, np.ndarray]]]:
    """(state, its step, the unlogged per-step metrics) of the newest good checkpoint."""
    restored = checkpointer.restore_latest(state)
    if restored is None:
        return state, 0, []
    window = restored.meta.get("log_window") or {}
    pending = [{k: np.asarray(v, np.float32) for k, v in window.items()}] if window else []
    log(f"ganjax: resuming from the checkpoint of step {restored.step} in "
        f"{checkpointer.directory}")
    if restored.step >= steps:
        log(f"ganjax: the run is already complete ({restored.step} steps); evaluating it again "
            f"(raise train.steps to train longer)")
    return restored.state, restored.step, pending


def train(config: ml_collections.ConfigDict, workdir: str, name: str = "experiment",
          tensorboard: bool = True, verbose: bool = True, overwrite: bool = False,
          stop_at: int | None = None,
          announce: Callable[[], None] | None = None) -> dict[str, Any]:
    """Trains `config` to `train.steps` in `workdir`, resuming its checkpoints; returns the summary.

    `stop_at` saves a checkpoint at that step and raises Interrupted, as SIGTERM does, so that
    long runs can be cut into slices (and tests can interrupt a run at an exact step).
    `announce` is called once the data, model and config have passed their checks, before the
    workdir is touched (the CLI prints its "training ..." line there). Resuming a finished run
    evaluates it again and updates only the evaluation in its summary.json.
    """
    config_lib.validate(config)
    check_installed(config)  # e.g. wandb for train.wandb_project, before the workdir is touched
    main = is_main_process()
    log = print if verbose and main else _quiet
    mesh = data_mesh()
    try:
        check_batch_divisible(config.train.batch_size, mesh)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    assert_same_config(config_lib.to_json(config))
    # Data, model and first state are built before the workdir is touched, so that a data error
    # leaves nothing behind that would block the corrected command.
    experiment = build_experiment(config, mesh)
    if announce is not None:
        announce()
    resume = prepare_workdir(workdir, config, overwrite, log)
    t = config.train
    checkpointer = Checkpointer(workdir, keep=t.keep_checkpoints,
                                keep_every=t.keep_checkpoint_every, log=log)
    state, start_step, pending = replicate(experiment.state, mesh), 0, []
    if resume:
        state, start_step, pending = _resume(checkpointer, state, t.steps, log)
    if main:
        write_run_config(workdir, config)

    session = Session(experiment, state, mesh)
    if resume and start_step >= t.steps:
        try:
            return _evaluate_finished_run(session, workdir, name, mesh.size)
        finally:
            session.close()
            checkpointer.close()
    writer = MetricWriter(workdir, tensorboard=tensorboard, resume_step=start_step, enabled=main,
                          sinks=open_wandb(config, workdir, name) if main else ())
    progress = Progress(t.steps, start_step) if verbose and main else None
    # log_window: per-step metrics since the last log, so a resumed run logs the same means.
    meta = checkpoint_meta(name, config)
    log_hook = LogHook(config, writer, progress, pending)
    eval_hook = EvalHook(config, writer, os.path.join(workdir, "figures") if main else None,
                         name)
    start = time.perf_counter()
    checkpoint_hook = None
    try:
        with StopSignals(log) as signals:
            checkpoint_hook = CheckpointHook(config, checkpointer, log_hook, meta, signals,
                                             stop_at, start_step if resume else None)
            session.run(t.steps, [log_hook, eval_hook, checkpoint_hook])
        wall = time.perf_counter() - start
    except DivergenceError as e:
        saved = checkpoint_hook.saved_step if checkpoint_hook else None
        if saved is not None:
            raise DivergenceError(f"{e} (last good checkpoint: step {saved} in "
                                  f"{checkpointer.directory}, kept intact)") from None
        raise
    finally:
        writer.close()
        session.close()
        checkpointer.close()

    result = eval_hook.result
    step = session.step
    summary = run_summary(workdir, name, step, result, wall, session.clock,
                          session.first_chunk_s, start_step if resume else None, mesh.size)
    if main:
        write_final_outputs(workdir, name, step, result, writer.records, summary)
    return summary


def write_run_config(workdir: str, config: ml_collections.ConfigDict) -> None:
    """The run's resolved config as workdir/config.json (what resuming and `ganjax eval` read)."""
    with open(os.path.join(workdir, "config.json"), "w", encoding="utf-8") as f:
        f.write(config_lib.to_json(config))


def checkpoint_meta(name: str, config: ml_collections.ConfigDict) -> dict[str, Any]:
    """What every checkpoint of a run saves beside its state (the hooks add the log window)."""
    return {"experiment": name, "config": config.to_dict(),
            "data_position": "the batches of step s are a pure function of (seed, s)"}


def run_summary(workdir: str, name: str, step: int, result: EvalResult, wall_s: float,
                clock: Any, first_chunk_s: float | None, resumed_from: int | None,
                devices: int) -> dict[str, Any]:
    """summary.json of a run that trained to `step`: final eval, times, where it ran."""
    return {
        "experiment": name,
        "step": step,
        **{f"eval/{k}": v for k, v in result.metrics.items()},
        "wall_time_s": wall_s,
        # Training alone: compilation and evaluation are counted apart.
        "steps_per_s": clock.steps_per_s,
        "train_time_s": clock.train_s,
        "compile_time_s": clock.compile_s,
        "eval_time_s": clock.eval_s,
        "time_to_first_chunk_s": first_chunk_s,
        "resumed_from_step": resumed_from,
        "devices": devices,
        "processes": jax.process_count(),
        "figure": final_figure(workdir),
    }


def final_figure(workdir: str) -> str:
    """The absolute path of a run's figure to look at first (summary.json's "figure")."""
    return os.path.abspath(os.path.join(workdir, "figures", "final.png"))


def _evaluate_finished_run(session: Session, workdir: str, name: str,
                           devices: int) -> dict[str, Any]:
    """A re-run of a finished run: evaluate again, keep the training record.

    Only the `eval/*` fields of summary.json change (with `reevaluated_at`); its times, figure and
    the run's metrics.jsonl and TensorBoard events stay as training left them. A run that ended
    before writing its summary (killed after its last checkpoint) gets one, without times.
    """
    result = session.evaluate()
    path = os.path.join(workdir, "summary.json")
    summary: dict[str, Any] = {}
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                summary = json.load(f)
        except (OSError, json.JSONDecodeError):
            summary = {}  # unreadable: rebuilt below, as for a run that never wrote one
    if not summary:
        summary = {"experiment": name, "step": session.step, "wall_time_s": None,
                   "steps_per_s": None, "resumed_from_step": session.step, "devices": devices,
                   "processes": jax.process_count(),
                   "figure": final_figure(workdir)}
    fresh = {f"eval/{k}": v for k, v in result.metrics.items()}
    kept = [(k, v) for k, v in summary.items() if not k.startswith("eval/")]
    at = next((i for i, k in enumerate(summary) if k.startswith("eval/")), 2)
    summary = dict(kept[:at] + list(fresh.items()) + kept[at:])  # eval/* where they were
    summary["reevaluated_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if is_main_process():
        if not os.path.exists(summary["figure"]):
            os.makedirs(os.path.dirname(summary["figure"]), exist_ok=True)
            result.draw(summary["figure"], f"{name}, step {session.step}")
        write_text_atomically(path, json.dumps(jsonable(summary), indent=2))
    return summary


def write_final_outputs(workdir: str, name: str, step: int, result: EvalResult,
                        records: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """Curves, the final figure and summary.json (process 0 only)."""
    plot_curves(records, os.path.join(workdir, "figures", "curves.png"),
                references=result.curve_references(), title=f"{name}: training curves")
    step_figure = os.path.join(workdir, "figures", f"step_{step:07d}.png")
    if not os.path.exists(step_figure):
        result.draw(step_figure, f"{name}, step {step}")
    shutil.copyfile(step_figure, summary["figure"])
    write_text_atomically(os.path.join(workdir, "summary.json"),
                          json.dumps(jsonable(summary), indent=2))
