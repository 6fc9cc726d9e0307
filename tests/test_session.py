"""The Session without files: chunks, hyperparameters between chunks, state in and out, hooks."""

import jax
import numpy as np
import pytest

from ganjax import config as config_lib
from ganjax.run.experiment import build_experiment
from ganjax.run.hooks import window_means
from ganjax.run.session import Session


def small_ring(**overrides):
    return config_lib.validate(config_lib.apply_overrides(config_lib.base_config(), {
        "train.batch_size": "32", "model.g_hidden": "16,16", "model.d_hidden": "16,16",
        "train.steps": "40", "train.scan_steps": "10", "eval.num_samples": "200",
        **overrides}))


def g_kernel(session):
    return np.asarray(session.state.params["g"]["Dense_0"]["kernel"])


@pytest.fixture(scope="module")
def experiment():
    return build_experiment(small_ring())


def test_advance_in_chunks_equals_one_chunk(experiment):
    a, b = Session(experiment), Session(experiment)
    a.advance(10)
    a.advance(10)
    b.advance(20)
    assert a.step == b.step == 20
    jax.tree.map(np.testing.assert_array_equal, a.state.params, b.state.params)


def test_hyperparameters_change_between_chunks_without_recompiling(experiment):
    session = Session(experiment)
    session.advance(10)
    compiled = len(session._runner._compiled)  # noqa: SLF001 (one program per chunk length)
    session.set_hparams({"optim.g_lr": 0.0})
    assert session.hparams["optim.g_lr"] == 0.0
    before = g_kernel(session)
    metrics = session.advance(10)
    np.testing.assert_array_equal(g_kernel(session), before)  # G frozen: lr 0
    assert metrics["g_loss"].shape == (10,)
    assert len(session._runner._compiled) == compiled  # noqa: SLF001
    session.set_hparams({"optim.g_lr": 1e-3})
    session.advance(10)
    assert not np.array_equal(g_kernel(session), before)
    with pytest.raises(KeyError, match="unknown hyperparameter.*optim.glr"):
        session.set_hparams({"optim.glr": 1.0})


def test_state_can_be_taken_out_and_put_back(experiment):
    session = Session(experiment)
    session.advance(10)
    saved = jax.tree.map(np.asarray, session.state)
    session.advance(10)
    after = g_kernel(session)
    session.set_state(saved)
    assert session.step == 10
    session.advance(10)  # the same batches again: data depends on the step alone
    np.testing.assert_array_equal(g_kernel(session), after)


def test_run_stops_where_hooks_ask_and_calls_them(experiment):
    class Every7:
        def __init__(self):
            self.steps = []

        def next_stop(self, step):
            return (step // 7 + 1) * 7

        def after_chunk(self, session, metrics):
            self.steps.append(session.step)

    hook = Every7()
    session = Session(experiment)
    session.run(until=30, hooks=[hook], chunk=10)
    assert hook.steps == [7, 14, 21, 28, 30]  # chunks of at most 10 steps end at the stops
    result = session.evaluate()
    assert 0 <= result.metrics["hq_fraction"] <= 1


def test_window_means_keep_one_value_per_replica():
    stacked = {"d_loss": np.array([[1.0, 10.0], [3.0, 30.0]]),
               "skipped": np.array([[0.0, 1.0], [0.0, 0.0]])}
    means = window_means(stacked)
    assert means["train/d_loss"] == [2.0, 30.0]  # replica 1's first step was skipped
    assert means["train/skipped"] == [0.0, 1.0]
    assert window_means({"d_loss": np.array([1.0, 2.0])}) == {"train/d_loss": 1.5}


def test_per_replica_metrics_reach_tensorboard_as_one_scalar_each():
    from ganjax.outputs.writers import tensorboard_scalars

    record = {"step": 5, "train/d_loss": [0.5, 0.25], "train/g_loss": 1.0,
              "eval/protocol": {"generator": "ema"}}
    assert tensorboard_scalars(record) == {"train/d_loss/replica_0": 0.5,
                                           "train/d_loss/replica_1": 0.25, "train/g_loss": 1.0}
