"""Configs as code: the schema (`base`), loading and overrides (`loading`), checks, validation.

Every experiment starts from `base_config(model=...)` so that all of them read the same way,
then changes what it needs. Validation runs once, before anything is compiled, and fails with
one line that names the key and what is allowed. Nothing here imports JAX; a model's own fields
and checks are read from its module when a config names it.
"""

import ml_collections

from ganjax.config.base import RESUMABLE_CHANGES, base_config, model_defaults
from ganjax.config.checks import (check_same_keys, layer_widths, one_of, positive_numbers,
                                  require, suggest)
from ganjax.config.loading import (apply_overrides, check_resumable, config_diff, from_dict,
                                   load_config, to_json)
from ganjax.config.validation import is_image_source, is_toy, validate
from ganjax.errors import ConfigError

ConfigDict = ml_collections.ConfigDict

__all__ = ["ConfigDict", "ConfigError", "RESUMABLE_CHANGES", "apply_overrides", "base_config",
           "check_resumable", "check_same_keys", "config_diff", "from_dict", "is_image_source",
           "is_toy", "layer_widths", "load_config", "model_defaults", "one_of",
           "positive_numbers", "require", "suggest", "to_json", "validate"]
