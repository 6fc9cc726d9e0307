"""What the page may change: the config keys it sets, their types and ranges, the starting setup.

A playground setup is an ordinary ganjax config (so it exports to `ganjax train` as it is) plus,
for drawn data, the points. The page sets values of the keys in `SETTINGS` only; each value is
type-checked and range-checked here, then the whole config goes through `ganjax.config.validate`,
so every refusal is one ConfigError line naming the key, as on the command line. The ranges are
the playground's own (small networks that train live on a CPU); `check_playable` applies them to
imported experiments too.

Nothing here imports JAX (the MLP's activation names are read when asked for).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable, Mapping

import ml_collections

from ganjax import config as config_lib
from ganjax import registry
from ganjax.config.checks import suggest
from ganjax.config.validation import NOISE
from ganjax.errors import ConfigError

ConfigDict = ml_collections.ConfigDict

DRAWN = "drawn"  # data.source of drawn points (the playground's own toy source)
DRAWN_STD = 0.03  # std of the small Gaussian around each drawn point
MAX_LAYERS = 5
MAX_WIDTH = 512
# The bundled experiments whose setups the page can import, and for each toy source the
# experiment (its plain-GAN variant, where it has one) that gives its data settings when the page
# switches to it, and that an exported command starts from.
EXPERIMENTS = ("ring8", "grid25", "gaussian_1d")
DATASET_EXPERIMENT = {"ring": "ring8:vanilla", "grid": "grid25:vanilla",
                      "gaussian_1d": "gaussian_1d"}
DATA_KEYS = ("data.num_modes", "data.std", "data.radius", "data.spacing", "data.mean")


def _activations() -> tuple[str, ...]:
    from ganjax.models.mlp import ACTIVATIONS

    return tuple(ACTIVATIONS)


def _group_features() -> tuple[str, ...]:
    from ganjax.models.packing import GROUP_FEATURES

    return tuple(GROUP_FEATURES)


def _names(kind: str) -> Callable[[], tuple[str, ...]]:
    return lambda: registry.names(kind)


def data_sources() -> tuple[str, ...]:
    """The toy sources of the registry, and drawn points."""
    return tuple(registry.names("toy")) + (DRAWN,)


@dataclasses.dataclass(frozen=True)
class Setting:
    """One config key the page may set: "float", "int", "choice" or "widths" (hidden layers)."""

    key: str
    kind: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # lo itself is not allowed
    hi_open: bool = False
    choices: Callable[[], tuple[str, ...]] | None = None

    def range_text(self) -> str:
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        return f"{left}{self.lo:g}, {self.hi:g}{right}"

    def check(self, value: Any) -> Any:
        """`value` as the config field's type; ConfigError "config.<key>=<value>: ..." if not."""
        given = value

        def fail(problem: str) -> ConfigError:
            return ConfigError(f"config.{self.key}={given!r}: {problem}")

        if self.kind == "choice":
            options = self.choices()
            if not isinstance(value, str) or value not in options:
                raise fail(f"must be one of {', '.join(options)}")
            return value
        if self.kind == "widths":
            if not isinstance(value, (list, tuple)) or len(value) > MAX_LAYERS or not all(
                    isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= MAX_WIDTH
                    for w in value):
                raise fail(f"must be a list of 0 to {MAX_LAYERS} layer widths, each an integer "
                           f"in [1, {MAX_WIDTH}]")
            return tuple(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail("expected a number")
        if not math.isfinite(value):
            raise fail("must be a finite number")
        if self.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise fail("expected an integer")
            value = int(value)
        else:
            value = float(value)
        too_low = value <= self.lo if self.lo_open else value < self.lo
        too_high = value >= self.hi if self.hi_open else value > self.hi
        if too_low or too_high:
            raise fail(f"must be in {self.range_text()} in the playground")
        return value

    def describe(self) -> dict[str, Any]:
        """The setting as the page reads it (to build and limit its controls)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "choice":
            out["choices"] = list(self.choices())
        elif self.kind == "widths":
            out.update(max_layers=MAX_LAYERS, max_width=MAX_WIDTH)
        else:
            out.update(lo=self.lo, hi=self.hi, lo_open=self.lo_open, hi_open=self.hi_open)
        return out


def _settings(*items: Setting) -> dict[str, Setting]:
    return {s.key: s for s in items}


SETTINGS: dict[str, Setting] = _settings(
    Setting("seed", "int", 0, 2 ** 31 - 1),
    Setting("data.source", "choice", choices=data_sources),
    Setting("data.num_modes", "int", 1, 100),
    Setting("data.std", "float", 0, 5, lo_open=True),
    Setting("data.radius", "float", 0, 10, lo_open=True),
    Setting("data.spacing", "float", 0, 10, lo_open=True),
    Setting("data.mean", "float", -20, 20),
    Setting("model.noise", "choice", choices=lambda: NOISE),
    Setting("model.noise_dim", "int", 1, 2),
    Setting("model.g_hidden", "widths"),
    Setting("model.d_hidden", "widths"),
    Setting("model.g_activation", "choice", choices=_activations),
    Setting("model.d_activation", "choice", choices=_activations),
    Setting("model.d_group", "int", 1, 16),
    Setting("model.d_group_features", "choice", choices=_group_features),
    Setting("loss.name", "choice", choices=_names("loss")),
    Setting("penalty.name", "choice", choices=_names("penalty")),
    Setting("penalty.weight", "float", 0, 1000),
    Setting("loss.g_mmd_weight", "float", 0, 100),
    Setting("optim.name", "choice", choices=_names("optimizer")),
    Setting("optim.g_lr", "float", 0, 10, lo_open=True),
    Setting("optim.d_lr", "float", 0, 10, lo_open=True),
    Setting("optim.b1", "float", 0, 1, hi_open=True),
    Setting("optim.b2", "float", 0, 1, hi_open=True),
    Setting("optim.momentum", "float", 0, 1, hi_open=True),
    Setting("optim.g_schedule", "choice", choices=_names("schedule")),
    Setting("optim.d_schedule", "choice", choices=_names("schedule")),
    Setting("optim.ema_decay", "float", 0, 1, hi_open=True),
    Setting("optim.d_weight_clip", "float", 0, 100),
    Setting("train.batch_size", "int", 1, 2048),
    Setting("train.d_steps", "int", 1, 10),
)


def get(config: ConfigDict, key: str) -> Any:
    """config.<dotted key>."""
    node = config
    for part in key.split("."):
        node = node[part]
    return node


def _set(config: ConfigDict, key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[leaf] = value


@functools.lru_cache(maxsize=None)
def _experiment_data(experiment: str) -> tuple[tuple[str, Any], ...]:
    data = config_lib.load_config(experiment).data
    return tuple((key, data[key.split(".")[1]]) for key in DATA_KEYS)


def data_preset(source: str) -> dict[str, Any]:
    """The data.* values the page switches to with `source`: a toy source's come from the
    bundled experiment that trains on it (ring8, grid25, gaussian_1d); drawn points get a
    small std around each point."""
    if source == DRAWN:
        return {"data.std": DRAWN_STD}
    experiment = DATASET_EXPERIMENT.get(source)
    return dict(_experiment_data(experiment)) if experiment else {}


def apply_settings(config: ConfigDict, values: Mapping[str, Any]) -> ConfigDict:
    """A copy of `config` with `values` ({"optim.g_lr": 1e-3, ...}) type- and range-checked.

    Switching data.source also brings that source's data settings (`data_preset`) unless the
    same message sets data.* keys itself. The result still needs `validate_setup`.
    """
    if not isinstance(values, Mapping) or not values:
        raise ConfigError("'values' must be an object of settings, e.g. {\"optim.g_lr\": 0.001}")
    checked = {}
    for key, value in values.items():
        setting = SETTINGS.get(key)
        if setting is None:
            raise ConfigError(f"config.{key}: not a playground setting; {suggest(key, SETTINGS)}")
        checked[key] = setting.check(value)
    new = ConfigDict(config.to_dict())
    source = checked.get("data.source")
    if source is not None and source != config.data.source and not any(
            k in checked for k in DATA_KEYS):
        for key, value in data_preset(source).items():
            _set(new, key, value)
    for key, value in checked.items():
        _set(new, key, value)
    return new


def check_playable(config: ConfigDict) -> ConfigDict:
    """ConfigError unless the playground can train and draw `config`: an unconditional MLP GAN
    on a toy source (or drawn points) with every setting in the playground's ranges."""
    if config.model.name != "mlp":
        raise ConfigError(f"config.model.name={config.model.name!r}: the playground trains the "
                          f"toy MLP GANs (data.source one of {', '.join(data_sources())})")
    model = config.model
    if model.num_classes or model.info_categorical or model.info_continuous:
        raise ConfigError(f"config.model.num_classes={model.num_classes!r}: the playground "
                          f"trains unconditional GANs (no labels or InfoGAN codes)")
    for key, setting in SETTINGS.items():
        setting.check(get(config, key))
    return config


def validate_setup(config: ConfigDict) -> ConfigDict:
    """`ganjax.config.validate` and `check_playable`; drawn points stand in for a toy source
    (the playground builds their source itself). Returns `config`."""
    checked = config
    if config.data.source == DRAWN:
        checked = ConfigDict(config.to_dict())
        checked.data.source = "ring"  # a toy source: the checks of the model and data apply
    config_lib.validate(checked)
    check_playable(config)
    return config


def default_config() -> ConfigDict:
    """The setup a new tab starts with: ring8's plain GAN (8 Gaussians on a ring) with smaller
    MLPs (64, 64) and Adam at 1e-3, which train visibly within seconds."""
    c = config_lib.load_config(DATASET_EXPERIMENT["ring"])
    c.model.g_hidden = (64, 64)
    c.model.d_hidden = (64, 64)
    c.optim.g_lr = 1e-3
    c.optim.d_lr = 1e-3
    return validate_setup(c)


def import_config(spec: str) -> ConfigDict:
    """The config of a bundled experiment (`ring8`, `grid25:vanilla`, ...) for the page."""
    name = spec.partition(":")[0]
    if name not in EXPERIMENTS:
        raise ConfigError(f"--config {spec}: the playground imports {', '.join(EXPERIMENTS)} "
                          f"(and their variants)")
    return validate_setup(config_lib.load_config(spec))


def importable() -> list[dict[str, str]]:
    """[{"spec", "description"}] of every variant of the importable experiments."""
    from ganjax.config.loading import experiment_variants

    return [{"spec": v.spec, "description": v.description}
            for name in EXPERIMENTS for v in experiment_variants(name)]


def values_of(config: ConfigDict) -> dict[str, Any]:
    """The playground settings of `config`, JSON-ready (tuples as lists)."""
    return {key: list(v) if isinstance(v := get(config, key), tuple) else v for key in SETTINGS}
