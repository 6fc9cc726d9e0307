"""The registry is the one list of names: every entry resolves, validation and errors use it."""

import types

import pytest

from ganjax import config as config_lib
from ganjax import errors, registry
from ganjax.engine import losses


def test_every_registered_piece_resolves_to_what_its_kind_needs():
    for kind in registry.kinds():
        for name in registry.names(kind):
            piece = registry.resolve(kind, name)
            if kind == "model":
                assert isinstance(piece.CONFIG, dict) and callable(piece.check)
                assert callable(piece.build)
            elif kind == "loss":
                assert isinstance(piece, losses.GANLoss)
            else:  # penalty, algorithm, toy, optimizer, schedule: functions
                assert callable(piece), (kind, name)


def test_unknown_names_list_the_registered_ones():
    with pytest.raises(KeyError, match="unknown loss 'hing'; known: minimax, non_saturating"):
        registry.resolve("loss", "hing")
    with pytest.raises(config_lib.ConfigError, match="model.name='mpl': must be one of mlp, "
                                                     "dcgan, sngan"):
        config_lib.validate(config_lib.apply_overrides(config_lib.base_config(),
                                                       {"model.name": "mpl"}))


def test_a_registered_loss_is_accepted_by_validation_and_built():
    config = config_lib.apply_overrides(config_lib.base_config(), {"loss.name": "mine"}) \
        if "mine" in registry.names("loss") else None
    assert config is None  # not there before registering
    registry.register("loss", "mine", losses.HINGE)
    try:
        config = config_lib.validate(config_lib.apply_overrides(config_lib.base_config(),
                                                                {"loss.name": "mine"}))
        assert losses.get_loss(config.loss.name) is losses.HINGE
    finally:
        registry.unregister("loss", "mine")
    with pytest.raises(config_lib.ConfigError, match="loss.name='mine': must be one of"):
        config_lib.validate(config)


def test_a_model_owns_its_config_fields_and_checks():
    toy, image = config_lib.base_config(), config_lib.base_config(model="dcgan")
    assert "g_hidden" in toy.model and "width" not in toy.model
    assert "width" in image.model and "g_hidden" not in image.model
    # A field of another model is an unknown key, with the model's own keys listed.
    with pytest.raises(config_lib.ConfigError, match="model.width: unknown key"):
        config_lib.apply_overrides(toy, {"model.width": "32"})
    # Switching the model on the command line brings the new model's fields.
    switched = config_lib.apply_overrides(toy, {"model.name": "dcgan", "model.width": "32",
                                                "data.source": "digits",
                                                "data.resolution": "8"})
    assert switched.model.width == 32 and "g_hidden" not in switched.model
    config_lib.validate(switched)
    # The model's own check runs from validate.
    with pytest.raises(config_lib.ConfigError, match="model.d_group=3: must divide"):
        config_lib.validate(config_lib.apply_overrides(toy, {"model.d_group": "3"}))
    # A registered model brings its fields with it.
    piece = types.SimpleNamespace(CONFIG={"depth": 2}, check=lambda c: None, build=None)
    registry.register("model", "with_depth", piece)
    try:
        assert config_lib.base_config(model="with_depth").model.depth == 2
    finally:
        registry.unregister("model", "with_depth")


def test_every_error_has_one_label_and_exit_code():
    kinds = [kind for kind, _, _ in errors.FAILURES]
    subclasses = {c for c in vars(errors).values()
                  if isinstance(c, type) and issubclass(c, errors.GanjaxError)
                  and c is not errors.GanjaxError}
    assert set(kinds) == subclasses and len(kinds) == len(set(kinds))
    assert errors.describe_failure(errors.WorkdirError("x")) == ("error", errors.EXIT_WORKDIR)
    assert errors.describe_failure(ValueError("x")) is None
