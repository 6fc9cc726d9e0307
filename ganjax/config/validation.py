"""Validation of a whole config, once, at the boundaries (the CLI, loading a saved run).

The common fields are checked here; the model's own fields by the `check(config)` of its module
(found through `ganjax.registry`), so a new model brings its checks with it. Every failure is
one ConfigError line naming the key and what is allowed; the lists of allowed names come from
the registry.
"""

from __future__ import annotations

import importlib.util

import ml_collections

from ganjax import registry
from ganjax.config.base import base_config
from ganjax.config.checks import check_same_keys, one_of, positive_numbers, require
from ganjax.errors import ConfigError

ConfigDict = ml_collections.ConfigDict

IMAGE_SOURCES = ("digits", "tfds:<name>", "mnist_idx:<dir>", "npz:<path>", "folder:<dir>")
FITS = ("pad", "resize", "crop")
RESOLUTIONS = (8, 16, 28, 32, 64)
NOISE = ("normal", "uniform")
NAN_POLICIES = ("stop", "skip")
WANDB_MODES = ("online", "offline", "disabled")
G_CONDITIONING = ("none", "concat", "batch_norm")
D_CONDITIONING = ("none", "concat", "projection", "acgan")
WANDB_FORBIDDEN = '/\\#?%:'  # characters W&B refuses in project and entity names


def is_toy(config: ConfigDict) -> bool:
    """True for the synthetic distributions sampled on device."""
    return config.data.source in registry.names("toy")


def is_image_source(source: str) -> bool:
    """True for a well-formed image source spec (the loader checks that it exists)."""
    kind, colon, arg = source.partition(":")
    if kind == "digits":
        return not colon
    return kind in ("tfds", "mnist_idx", "npz", "folder") and bool(arg)


def validate(config: ConfigDict) -> ConfigDict:
    """Checks every field; raises ConfigError naming the first bad one. Returns `config`."""
    c = config
    if c.get("model") is None or "name" not in c.model:
        raise ConfigError("config.model.name: missing; start the experiment from "
                          "ganjax.config.base_config(model=...)")
    require(c.model.name in registry.names("model"), "model.name",
            one_of(registry.names("model")), c)
    check_same_keys(config, base_config(c.model.name))
    require(isinstance(c.seed, int) and c.seed >= 0, "seed", "must be an integer >= 0", c)
    _check_data(c)
    require(c.model.noise in NOISE, "model.noise", one_of(NOISE), c)
    require(c.model.noise_dim >= 1, "model.noise_dim", "must be >= 1", c)
    require(c.loss.name in registry.names("loss"), "loss.name", one_of(registry.names("loss")), c)
    require(c.penalty.name in registry.names("penalty"), "penalty.name",
            one_of(registry.names("penalty")), c)
    require(c.penalty.weight >= 0, "penalty.weight", "must be >= 0", c)
    require(c.loss.g_mmd_weight >= 0, "loss.g_mmd_weight", "must be >= 0 (0 = off)", c)
    require(positive_numbers(c.loss.g_mmd_bandwidths), "loss.g_mmd_bandwidths",
            "must be a tuple of positive kernel widths, e.g. (0.1, 1.0)", c)
    _check_conditioning(c)
    _check_optim(c)
    _check_train(c)
    _check_eval(c)
    registry.resolve("model", c.model.name).check(c)
    return config


def _check_data(c: ConfigDict) -> None:
    require(is_toy(c) or is_image_source(c.data.source), "data.source",
            one_of(registry.names("toy") + IMAGE_SOURCES), c)
    require(c.data.num_modes >= 1, "data.num_modes", "must be >= 1", c)
    if c.data.source == "grid":
        side = round(c.data.num_modes ** 0.5)
        require(side * side == c.data.num_modes, "data.num_modes",
                "must be a square number for the grid (e.g. 25)", c)
    require(c.data.std > 0, "data.std", "must be > 0", c)
    require(c.data.radius > 0, "data.radius", "must be > 0", c)
    require(c.data.spacing > 0, "data.spacing", "must be > 0", c)
    if not is_toy(c):
        require(c.data.resolution in RESOLUTIONS, "data.resolution",
                f"must be one of {', '.join(map(str, RESOLUTIONS))}", c)
        require(c.data.channels in (1, 3), "data.channels", "must be 1 or 3", c)
        require(c.data.fit in FITS, "data.fit", one_of(FITS), c)


def _check_conditioning(c: ConfigDict) -> None:
    m = c.model
    require(isinstance(m.num_classes, int) and m.num_classes >= 0, "model.num_classes",
            "must be an integer >= 0 (0 = unconditional)", c)
    require(m.g_conditioning in G_CONDITIONING, "model.g_conditioning", one_of(G_CONDITIONING), c)
    require(m.d_conditioning in D_CONDITIONING, "model.d_conditioning", one_of(D_CONDITIONING), c)
    conditioned = m.g_conditioning != "none" or m.d_conditioning != "none"
    if m.num_classes:
        require(m.num_classes >= 2, "model.num_classes", "must be >= 2 for a conditional model", c)
        require(m.g_conditioning != "none", "model.g_conditioning",
                f"model.num_classes={m.num_classes} needs a conditional generator: concat or "
                f"batch_norm", c)
        require(m.d_conditioning != "none", "model.d_conditioning",
                f"model.num_classes={m.num_classes} needs a conditional discriminator: concat, "
                f"projection or acgan", c)
        if is_toy(c):
            require(c.data.source in ("ring", "grid") and m.num_classes == c.data.num_modes,
                    "model.num_classes", f"a conditional toy model is conditioned on the mixture "
                    f"components: use data.source=ring or grid with model.num_classes = "
                    f"data.num_modes", c)
    else:
        require(not conditioned, "model.num_classes",
                "must be >= 2 (the number of labels) when g_/d_conditioning is set", c)
    require(m.class_loss_weight >= 0, "model.class_loss_weight", "must be >= 0", c)
    require(isinstance(m.class_loss_on_fake, bool), "model.class_loss_on_fake",
            "must be true or false", c)
    categories = m.info_categorical
    require(isinstance(categories, tuple) and all(isinstance(k, int) and k >= 2
                                                  for k in categories),
            "model.info_categorical", "must be a tuple of code sizes >= 2, e.g. (10,)", c)
    require(isinstance(m.info_continuous, int) and m.info_continuous >= 0,
            "model.info_continuous", "must be an integer >= 0", c)
    for key in ("info_weight", "info_continuous_weight"):
        require(m[key] >= 0, f"model.{key}", "must be >= 0", c)
    require(m.info_q_hidden >= 1, "model.info_q_hidden", "must be >= 1", c)
    if conditioned or categories or m.info_continuous:
        require(m.get("d_group", 1) == 1, "model.d_group",
                "conditional and InfoGAN models need a per-sample D (model.d_group=1)", c)


def _check_optim(c: ConfigDict) -> None:
    require(c.optim.name in registry.names("optimizer"), "optim.name",
            one_of(registry.names("optimizer")), c)
    for key in ("g_lr", "d_lr"):
        require(c.optim[key] > 0, f"optim.{key}", "must be > 0", c)
    for key in ("b1", "b2"):
        require(0 <= c.optim[key] < 1, f"optim.{key}", "must be in [0, 1)", c)
    require(c.optim.momentum >= 0, "optim.momentum", "must be >= 0", c)
    for key in ("g_schedule", "d_schedule"):
        require(c.optim[key] in registry.names("schedule"), f"optim.{key}",
                one_of(registry.names("schedule")), c)
    require(0 <= c.optim.warmup_steps < c.train.steps, "optim.warmup_steps",
            f"must be in [0, train.steps={c.train.steps})", c)
    require(c.optim.d_weight_clip >= 0, "optim.d_weight_clip", "must be >= 0 (0 = off)", c)
    require(0 <= c.optim.ema_decay < 1, "optim.ema_decay", "must be in [0, 1) (0 = off)", c)


def _check_train(c: ConfigDict) -> None:
    require(c.train.steps >= 1, "train.steps", "must be >= 1", c)
    require(c.train.batch_size >= 1, "train.batch_size", "must be >= 1", c)
    require(c.train.d_steps >= 1, "train.d_steps", "must be >= 1 (D updates per G update)", c)
    require(c.train.scan_steps >= 1, "train.scan_steps", "must be >= 1", c)
    for key in ("log_every", "eval_every"):
        require(c.train[key] >= 1, f"train.{key}", "must be >= 1", c)
    require(c.train.checkpoint_every >= 0, "train.checkpoint_every", "must be >= 0", c)
    require(c.train.checkpoint_every_minutes >= 0, "train.checkpoint_every_minutes",
            "must be >= 0 (0 = no time-based checkpoints)", c)
    require(c.train.keep_checkpoints >= 1, "train.keep_checkpoints", "must be >= 1", c)
    require(c.train.keep_checkpoint_every >= 0, "train.keep_checkpoint_every",
            "must be >= 0 (0 = off)", c)
    require(c.train.nan_policy in NAN_POLICIES, "train.nan_policy", one_of(NAN_POLICIES), c)
    for key, off in (("wandb_project", "no W&B logging"), ("wandb_entity", "the default entity")):
        value = c.train[key]
        require(isinstance(value, str) and value == value.strip()
                and not any(ch in value for ch in WANDB_FORBIDDEN), f"train.{key}",
                f"must be a W&B name without spaces around it or any of {WANDB_FORBIDDEN} "
                f"(\"\" = {off})", c)
    require(c.train.wandb_mode in WANDB_MODES, "train.wandb_mode", one_of(WANDB_MODES), c)


def _check_eval(c: ConfigDict) -> None:
    require(c.eval.num_samples >= 2, "eval.num_samples", "must be >= 2", c)
    require(isinstance(c.eval.fid_weights, str), "eval.fid_weights",
            "must be a path string (\"\" = no FID during training)", c)
    require(not c.eval.fid_weights or not is_toy(c), "eval.fid_weights",
            "toy runs need no feature network; leave it empty", c)
    require(not c.eval.fid_weights or c.eval.num_samples >= 10, "eval.num_samples",
            "must be >= 10 with eval.fid_weights (IS splits and KID subsets)", c)
    require(is_toy(c) or c.eval.grid_size >= 1, "eval.grid_size", "must be >= 1", c)


def wandb_enabled(config: ConfigDict) -> bool:
    """Whether `config` asks for W&B logging (a project, and a mode other than disabled)."""
    return bool(config.train.wandb_project) and config.train.wandb_mode != "disabled"


def check_installed(config: ConfigDict) -> None:
    """Raises ConfigError when `config` needs an optional package that is not installed.

    Training calls it before touching its workdir; `validate` does not, so that a saved run
    which logged to W&B can be reopened and evaluated where wandb is not installed.
    """
    if wandb_enabled(config) and importlib.util.find_spec("wandb") is None:
        raise ConfigError(f"config.train.wandb_project={config.train.wandb_project!r} is set but "
                          f"wandb is not installed: pip install 'ganjax[wandb]'")
