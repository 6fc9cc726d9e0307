"""Generator and discriminator networks, one module per architecture, plus heads.

Each architecture module declares `CONFIG` (its `model.*` fields), `check(config)` and
`build(config, data_shape) -> Networks`, and is registered by name in `ganjax.registry`.
`ganjax.models.heads` wraps any of them with conditioning or auxiliary outputs.
"""

from __future__ import annotations

from ganjax import registry
from ganjax.models.conditioning import condition
from ganjax.types import Networks


def build_networks(config, data_shape: tuple[int, ...]) -> Networks:
    """The networks of the registered model `config.model.name` for examples of `data_shape`,
    wrapped in the conditioning and code heads the config asks for."""
    nets = registry.resolve("model", config.model.name).build(config, tuple(data_shape))
    return condition(nets, config)


__all__ = ["Networks", "build_networks"]
