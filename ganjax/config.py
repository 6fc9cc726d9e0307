"""Configs as code: the common fields, loading experiment files, command-line overrides, validation.

Every experiment starts from `base_config()` so that all of them read the same way, then changes
what it needs. Validation runs before anything is compiled and fails with one line that names the
key and what is allowed.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
import json
import os
from typing import Any, Iterable

import ml_collections

ConfigDict = ml_collections.ConfigDict


class ConfigError(ValueError):
    """A config is unusable; the message names the key and what is allowed."""


# Names the engine knows. Kept here (not imported from the modules) so that validation never
# needs JAX; tests check that these lists equal the registries.
LOSSES = ("minimax", "non_saturating", "least_squares", "wasserstein", "hinge")
PENALTIES = ("none", "wgan_gp", "r1", "r2", "dragan")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "linear", "warmup_cosine")
TOY_SOURCES = ("gaussian_1d", "ring", "grid")
IMAGE_SOURCES = ("digits", "tfds:<name>", "mnist_idx:<dir>", "npz:<path>", "folder:<dir>")
MODELS = ("mlp", "dcgan", "sngan")
FITS = ("pad", "resize", "crop")
RESOLUTIONS = (8, 16, 28, 32, 64)
NOISE = ("normal", "uniform")
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "elu", "softplus")
D_GROUP_FEATURES = ("concat", "sorted", "moments")
NAN_POLICIES = ("stop", "skip")
# Fields a resumed run may change: they steer how long and how visibly it runs, not what it learns.
RESUMABLE_CHANGES = ("train.steps", "train.log_every", "train.eval_every", "train.scan_steps",
                     "train.checkpoint_every", "train.keep_checkpoints",
                     "train.keep_checkpoint_every", "train.resume", "train.nan_policy", "eval.")


def base_config() -> ConfigDict:
    """Every field an experiment may set, with neutral defaults."""
    c = ConfigDict()
    c.seed = 0

    c.data = ConfigDict()
    # Toys: gaussian_1d | ring | grid. Images: digits | tfds:<name> | mnist_idx:<dir> |
    # npz:<path> | folder:<dir>.
    c.data.source = "ring"
    c.data.num_modes = 8  # ring: modes on the circle; grid: a square number
    c.data.radius = 1.0  # ring radius
    c.data.spacing = 2.0  # distance between neighbouring grid modes
    c.data.mean = 4.0  # gaussian_1d
    c.data.std = 0.01  # std of each mixture component (gaussian_1d: of the Gaussian)
    c.data.split = "train"  # images
    c.data.data_dir = ""  # tfds data_dir; "" = TFDS's default
    c.data.resolution = 32  # images are brought to resolution x resolution
    c.data.channels = 1
    c.data.fit = "pad"  # pad | resize | crop (centre square, then resize)
    c.data.random_flip = False

    c.model = ConfigDict()
    c.model.name = "mlp"  # mlp (toys) | dcgan | sngan (32x32)
    c.model.noise = "normal"  # normal | uniform (on [-1, 1])
    c.model.noise_dim = 2
    c.model.g_hidden = (128, 128)
    c.model.d_hidden = (128, 128)
    c.model.g_activation = "relu"
    c.model.d_activation = "relu"
    # D may judge groups of samples instead of single ones: PacGAN packing ("concat"), the
    # sorted group ("sorted"), or the group's mean and std ("moments", the seed's variant).
    c.model.d_group = 1
    c.model.d_group_features = "concat"
    # Image models.
    c.model.width = 64  # base channel count (G)
    c.model.d_width = 0  # D's base channel count; 0 = model.width
    c.model.g_batch_norm = True
    c.model.d_batch_norm = True
    c.model.d_spectral_norm = False
    # Convs whose gradients are again canonical-layout convs (same function and parameters as
    # flax's Conv/ConvTranspose); XLA:CPU runs autodiff's layouts 20-100x slower inside scans.
    c.model.fast_conv = True

    c.loss = ConfigDict()
    c.loss.name = "non_saturating"

    c.penalty = ConfigDict()
    c.penalty.name = "none"
    c.penalty.weight = 0.0  # r1/r2: gamma (penalty = gamma/2 E|grad|^2); wgan_gp/dragan: lambda

    c.optim = ConfigDict()
    c.optim.name = "adam"
    c.optim.g_lr = 1e-4
    c.optim.d_lr = 1e-4
    c.optim.b1 = 0.5
    c.optim.b2 = 0.999
    c.optim.momentum = 0.0  # sgd
    c.optim.g_schedule = "constant"
    c.optim.d_schedule = "constant"
    c.optim.warmup_steps = 0
    c.optim.d_weight_clip = 0.0  # WGAN weight clipping of D's params to [-c, c]; 0 = off
    c.optim.ema_decay = 0.0  # EMA of G's params; 0 = off

    c.train = ConfigDict()
    c.train.steps = 1000
    c.train.batch_size = 64  # global, per D update
    c.train.d_steps = 1  # D updates per G update: the k of Goodfellow et al. 2014, Algorithm 1
    c.train.scan_steps = 100  # steps fused into one compiled lax.scan call
    c.train.log_every = 100
    c.train.eval_every = 1000
    c.train.checkpoint_every = 0  # 0 = only at the end (and when stopped by a signal)
    c.train.keep_checkpoints = 3  # the newest N checkpoints are kept
    c.train.keep_checkpoint_every = 0  # also keep every checkpoint whose step is a multiple; 0 = off
    c.train.resume = True  # continue from the workdir's latest checkpoint when there is one
    # A step whose losses or parameters turn NaN/Inf: "stop" the run (the last checkpoint stays
    # intact) or "skip" the update (the step counter still advances, so the next batch differs).
    c.train.nan_policy = "stop"

    c.eval = ConfigDict()
    c.eval.num_samples = 2500  # VEEGAN/PacGAN protocol for the 2-D mixtures
    c.eval.use_ema = True  # evaluate the EMA generator when there is one
    c.eval.grid_size = 64  # images: samples in the PNG grid written at every eval
    # Images: pytorch-fid's FID Inception weights file (pt_inception-2015-12-05-6726825d.pth);
    # when set, every eval also reports FID, KID and IS of eval.num_samples samples. "" = off.
    c.eval.fid_weights = ""
    return c


def _experiments_dir() -> str:
    from ganjax import experiments

    return list(experiments.__path__)[0]


def load_config(spec: str | None = None) -> ConfigDict:
    """Loads `path/to/file.py[:arg]` or a bundled experiment name (`ring8`, `ring8:vanilla`)."""
    spec = spec or "ring8"
    path, _, arg = spec.partition(":")
    if not path.endswith(".py"):
        bundled = os.path.join(_experiments_dir(), path + ".py")
        if not os.path.exists(bundled):
            names = sorted(f[:-3] for f in os.listdir(_experiments_dir())
                           if f.endswith(".py") and not f.startswith("_"))
            raise ConfigError(f"--config {spec}: no experiment named {path!r}; bundled "
                              f"experiments: {', '.join(names)} (or give a path to a .py file)")
        path = bundled
    if not os.path.exists(path):
        raise ConfigError(f"--config {spec}: file {path} does not exist")
    module_spec = importlib.util.spec_from_file_location("_ganjax_experiment", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise ConfigError(f"--config {spec}: {path} defines no get_config()")
    config = module.get_config(arg) if arg else module.get_config()
    _check_same_keys(config, base_config())
    return config


def _check_same_keys(config: ConfigDict, reference: ConfigDict, prefix: str = "config") -> None:
    """Experiments may change values, not invent keys: a typo in a config file fails here."""
    for key in config.keys():
        if key not in reference:
            raise ConfigError(f"{prefix}.{key}: unknown key; {_suggest(key, reference.keys())}")
        if isinstance(config[key], ConfigDict):
            _check_same_keys(config[key], reference[key], f"{prefix}.{key}")


def _suggest(key: str, options: Iterable[str]) -> str:
    options = sorted(options)
    close = difflib.get_close_matches(key, options, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}valid keys: {', '.join(options)}"


def _parse_value(text: str, current: Any, key: str) -> Any:
    """Parses a command-line value to the type of the field it replaces."""
    if isinstance(current, bool):
        lowered = text.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ConfigError(f"--config.{key}={text}: expected a bool (true/false)")
    if isinstance(current, str):
        return text
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if isinstance(current, (tuple, list)):
            value = tuple(ast.literal_eval(v) for v in text.split(",") if v)
        else:
            raise ConfigError(f"--config.{key}={text}: expected a {type(current).__name__}, "
                              f"got an unparsable value") from None
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(current, (tuple, list)):
        value = tuple(value) if isinstance(value, (tuple, list)) else (value,)
        return value
    if current is not None and type(value) is not type(current):
        raise ConfigError(f"--config.{key}={text}: expected a {type(current).__name__}, "
                          f"got {type(value).__name__}")
    return value


def apply_overrides(config: ConfigDict, overrides: dict[str, str]) -> ConfigDict:
    """Applies `{"optim.g_lr": "1e-4"}` to a copy of `config`, typed like the fields they replace."""
    config = ml_collections.ConfigDict(config.to_dict())
    for dotted, text in overrides.items():
        *parents, leaf = dotted.split(".")
        node, path = config, "config"
        for part in parents:
            if part not in node or not isinstance(node[part], ConfigDict):
                raise ConfigError(f"--config.{dotted}: unknown key {path}.{part}; "
                                  f"{_suggest(part, node.keys())}")
            node, path = node[part], f"{path}.{part}"
        if leaf not in node or isinstance(node[leaf], ConfigDict):
            raise ConfigError(f"--config.{dotted}: unknown key; {_suggest(leaf, node.keys())}")
        node[leaf] = _parse_value(text, node[leaf], dotted)
    return config


def one_of(options: Iterable[str]) -> str:
    return f"must be one of {', '.join(options)}"


def _require(ok: bool, key: str, allowed: str, config: ConfigDict) -> None:
    if not ok:
        value = config
        for part in key.split("."):
            value = value[part]
        raise ConfigError(f"config.{key}={value!r}: {allowed}")


def validate(config: ConfigDict) -> ConfigDict:
    """Checks every field the engine reads; raises ConfigError naming the first bad one."""
    _check_same_keys(config, base_config())
    c = config
    _require(isinstance(c.seed, int) and c.seed >= 0, "seed", "must be an integer >= 0", c)
    _require(is_toy(c) or is_image_source(c.data.source), "data.source",
             one_of(TOY_SOURCES + IMAGE_SOURCES), c)
    _require(c.data.num_modes >= 1, "data.num_modes", "must be >= 1", c)
    if c.data.source == "grid":
        side = round(c.data.num_modes ** 0.5)
        _require(side * side == c.data.num_modes, "data.num_modes",
                 "must be a square number for the grid (e.g. 25)", c)
    _require(c.data.std > 0, "data.std", "must be > 0", c)
    _require(c.data.radius > 0, "data.radius", "must be > 0", c)
    _require(c.data.spacing > 0, "data.spacing", "must be > 0", c)

    _require(c.model.name in MODELS, "model.name", one_of(MODELS), c)
    if is_toy(c):
        _require(c.model.name == "mlp", "model.name", "toy data needs model.name=mlp", c)
    else:
        _validate_images(c)
    _require(c.model.noise in NOISE, "model.noise", one_of(NOISE), c)
    _require(c.model.noise_dim >= 1, "model.noise_dim", "must be >= 1", c)
    for key in ("g_hidden", "d_hidden"):
        widths = c.model[key]
        _require(all(isinstance(w, int) and w >= 1 for w in widths), f"model.{key}",
                 "must be a tuple of positive layer widths, e.g. (128, 128)", c)
    for key in ("g_activation", "d_activation"):
        _require(c.model[key] in ACTIVATIONS, f"model.{key}", one_of(ACTIVATIONS), c)
    _require(c.model.d_group >= 1, "model.d_group", "must be >= 1", c)
    _require(c.model.d_group_features in D_GROUP_FEATURES, "model.d_group_features",
             one_of(D_GROUP_FEATURES), c)
    _require(c.model.d_group == 1 or c.train.batch_size % c.model.d_group == 0, "model.d_group",
             f"must divide train.batch_size={c.train.batch_size}", c)
    _require(c.model.d_group >= 2 or c.model.d_group_features == "concat",
             "model.d_group_features", "sorted/moments need model.d_group >= 2", c)

    _require(c.loss.name in LOSSES, "loss.name", one_of(LOSSES), c)
    _require(c.penalty.name in PENALTIES, "penalty.name", one_of(PENALTIES), c)
    _require(c.penalty.weight >= 0, "penalty.weight", "must be >= 0", c)
    _require(c.penalty.name == "none" or c.model.d_group == 1, "penalty.name",
             "gradient penalties need a per-sample D (model.d_group=1)", c)

    _require(c.optim.name in OPTIMIZERS, "optim.name", one_of(OPTIMIZERS), c)
    for key in ("g_lr", "d_lr"):
        _require(c.optim[key] > 0, f"optim.{key}", "must be > 0", c)
    for key in ("b1", "b2"):
        _require(0 <= c.optim[key] < 1, f"optim.{key}", "must be in [0, 1)", c)
    _require(c.optim.momentum >= 0, "optim.momentum", "must be >= 0", c)
    for key in ("g_schedule", "d_schedule"):
        _require(c.optim[key] in SCHEDULES, f"optim.{key}", one_of(SCHEDULES), c)
    _require(0 <= c.optim.warmup_steps < c.train.steps, "optim.warmup_steps",
             f"must be in [0, train.steps={c.train.steps})", c)
    _require(c.optim.d_weight_clip >= 0, "optim.d_weight_clip", "must be >= 0 (0 = off)", c)
    _require(0 <= c.optim.ema_decay < 1, "optim.ema_decay", "must be in [0, 1) (0 = off)", c)

    _require(c.train.steps >= 1, "train.steps", "must be >= 1", c)
    _require(c.train.batch_size >= 1, "train.batch_size", "must be >= 1", c)
    _require(c.train.d_steps >= 1, "train.d_steps", "must be >= 1 (D updates per G update)", c)
    _require(c.train.scan_steps >= 1, "train.scan_steps", "must be >= 1", c)
    for key in ("log_every", "eval_every"):
        _require(c.train[key] >= 1, f"train.{key}", "must be >= 1", c)
    _require(c.train.checkpoint_every >= 0, "train.checkpoint_every", "must be >= 0", c)
    _require(c.train.keep_checkpoints >= 1, "train.keep_checkpoints", "must be >= 1", c)
    _require(c.train.keep_checkpoint_every >= 0, "train.keep_checkpoint_every",
             "must be >= 0 (0 = off)", c)
    _require(c.train.nan_policy in NAN_POLICIES, "train.nan_policy", one_of(NAN_POLICIES), c)
    _require(c.eval.num_samples >= 2, "eval.num_samples", "must be >= 2", c)
    _require(isinstance(c.eval.fid_weights, str), "eval.fid_weights",
             "must be a path string (\"\" = no FID during training)", c)
    _require(not c.eval.fid_weights or not is_toy(c), "eval.fid_weights",
             "toy runs need no feature network; leave it empty", c)
    _require(not c.eval.fid_weights or c.eval.num_samples >= 10, "eval.num_samples",
             "must be >= 10 with eval.fid_weights (IS splits and KID subsets)", c)
    return config


def is_toy(config: ConfigDict) -> bool:
    """True for the synthetic distributions sampled on device."""
    return config.data.source in TOY_SOURCES


def is_image_source(source: str) -> bool:
    """True for a well-formed image source spec (the loader checks that it exists)."""
    kind, colon, arg = source.partition(":")
    if kind == "digits":
        return not colon
    return kind in ("tfds", "mnist_idx", "npz", "folder") and bool(arg)


def _validate_images(c: ConfigDict) -> None:
    _require(c.model.name != "mlp", "model.name", "image data needs dcgan or sngan", c)
    _require(c.data.resolution in RESOLUTIONS, "data.resolution",
             f"must be one of {', '.join(map(str, RESOLUTIONS))}", c)
    _require(c.model.name != "sngan" or c.data.resolution == 32, "data.resolution",
             "the SNGAN ResNets are built for 32", c)
    _require(c.data.channels in (1, 3), "data.channels", "must be 1 or 3", c)
    _require(c.data.fit in FITS, "data.fit", one_of(FITS), c)
    _require(c.model.width >= 1, "model.width", "must be >= 1", c)
    _require(c.model.d_width >= 0, "model.d_width", "must be >= 0 (0 = model.width)", c)
    _require(c.model.d_group == 1, "model.d_group", "image discriminators judge single images", c)
    _require(c.penalty.name == "none" or not c.model.d_batch_norm, "penalty.name",
             "gradient penalties need per-sample D outputs; set model.d_batch_norm=false", c)
    _require(c.eval.grid_size >= 1, "eval.grid_size", "must be >= 1", c)


def to_json(config: ConfigDict) -> str:
    """The resolved config as stable, human-readable JSON (written to workdir/config.json)."""
    return json.dumps(config.to_dict(), indent=2, sort_keys=True, default=list)


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return flat


def config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, old value, new value) for every field that differs between two config dicts."""
    a, b = _flatten(old), _flatten(new)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def check_resumable(old: dict[str, Any], new: ConfigDict) -> list[tuple[str, Any, Any]]:
    """The allowed differences of `new` from the run's saved config; ConfigError for any other."""
    diff = config_diff(old, new.to_dict())
    unsafe = [d for d in diff if not d[0].startswith(RESUMABLE_CHANGES)]
    if unsafe:
        changes = "; ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in unsafe)
        raise ConfigError(f"cannot resume with a different config ({changes}); only "
                          f"{', '.join(RESUMABLE_CHANGES)}* may change. Use the run's "
                          f"config.json, or start a new --workdir")
    return diff


def from_dict(values: dict[str, Any]) -> ConfigDict:
    """A config from its JSON form (a run's config.json): lists become tuples where the base has
    tuples; unknown keys are refused as in experiment files."""
    config = base_config()
    _check_same_keys(ml_collections.ConfigDict(values), config)

    def fill(node: ConfigDict, new: dict[str, Any]) -> None:
        for key, value in new.items():
            if isinstance(value, dict):
                fill(node[key], value)
            else:
                node[key] = tuple(value) if isinstance(node[key], tuple) else value

    fill(config, values)
    return config
