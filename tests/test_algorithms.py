"""One test matrix for every training algorithm (optax-style): whatever an algorithm does inside
its step, it must jit, vmap over replicas and over hyperparameters, scan, run over a device
mesh and resume from a checkpoint, with the same numbers every way.

Each case is built from a config, as `ganjax train` builds it: "adversarial" from the MLP model
with an R1 penalty; "generator_only" from a test model registered here (an MLP generator, no
discriminator, trained by a Gaussian-kernel MMD^2 plus a weighted mean-matching term), for
which the build picks the generator-only algorithm by itself.

The 8-device run is one subprocess for all algorithms (XLA_FLAGS must be set before JAX starts);
when that test is selected, the subprocess starts with the module's first test and runs beside
the others (most of the time here is XLA compiling: every test shares the compiled programs it
can).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import subprocess
import sys
import tempfile
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import config as config_lib
from ganjax import registry
from ganjax.data import make_source
from ganjax.engine.build import build_gan
from ganjax.engine.hparams import replace_hparams
from ganjax.engine.objectives import Term
from ganjax.engine.steps import make_train_n_steps
from ganjax.models.mlp import MLPGenerator
from ganjax.parallel import to_host
from ganjax.run.checkpoint import Checkpointer
from ganjax.run.experiment import build_experiment, initial_state
from ganjax.run.session import Session
from ganjax.types import Networks

ALGORITHMS = ("adversarial", "generator_only")
MMD_MODEL = "test_mmd_mlp"  # the generator-only model this file registers
NUM_STEPS = 3  # steps of every comparison
SEEDS = (0, 1, 2)  # replicas of the vmap test
# Per algorithm: one hyperparameter of its objective, and one of its optimizer.
SWEEPS = {
    "adversarial": {"objective": ("penalty.weight", (0.0, 0.1, 1.0, 10.0)),
                    "optimizer": ("optim.g_lr", (1e-4, 3e-4, 1e-3, 3e-3))},
    "generator_only": {"objective": ("model.mean_weight", (0.0, 0.1, 1.0, 10.0)),
                       "optimizer": ("optim.g_lr", (1e-4, 3e-4, 1e-3, 3e-3))},
}
# Same program, different compilation (jit vs op by op, vmap, scan): states allclose at this
# tolerance. Metrics are float32 means over a batch (the MMD over B^2 kernel entries), whose
# summation order vmap may change: about sqrt(B^2) * 6e-8 relative, so vmapped ones get 1e-5.
RTOL, ATOL = 1e-6, 1e-7
METRIC_RTOL = 1e-5
# Different values of a hyperparameter must move some parameter by at least this much.
DISTINCT = 1e-5


# ---------------------------------------------------------------------------------------------
# The generator-only test model: an MLP G trained by MMD^2 + mean_weight * |mean difference|^2


def gaussian_mmd2(x: jax.Array, y: jax.Array, bandwidths=(0.25, 1.0, 4.0)) -> jax.Array:
    """Biased MMD^2 between samples x [N, D] and y [M, D], sum of Gaussian kernels.

    Squared distances from differences, not |a|^2 + |b|^2 - 2ab, whose cancellation would
    amplify the rounding differences between compilations (vmap, jit) far beyond 1e-6.
    """
    xy = jnp.concatenate([x, y])
    d2 = jnp.sum((xy[:, None, :] - xy[None, :, :]) ** 2, axis=-1)
    k = sum(jnp.exp(-d2 / (2.0 * s ** 2)) for s in bandwidths)
    n = x.shape[0]
    return jnp.mean(k[:n, :n]) + jnp.mean(k[n:, n:]) - 2.0 * jnp.mean(k[:n, n:])


def mmd_term(inputs) -> jax.Array:
    assert inputs.fake is None  # a generator-only G term sees no discriminator
    return gaussian_mmd2(inputs.fake_x, inputs.batch["x"])


def mean_term(inputs) -> jax.Array:
    return jnp.sum((jnp.mean(inputs.fake_x, 0) - jnp.mean(inputs.batch["x"], 0)) ** 2)


def _mmd_check(config) -> None:
    config_lib.require(config_lib.is_toy(config), "model.name", "a toy model", config)


def _mmd_build(config, data_shape) -> Networks:
    m = config.model
    return Networks(MLPGenerator(hidden=tuple(m.g_hidden), out_dim=int(np.prod(data_shape))),
                    None,
                    g_terms=(Term("mmd", mmd_term), Term("mean", mean_term, "model.mean_weight")),
                    hparam_values={"model.mean_weight": float(m.mean_weight)})


MMD_PIECES = types.SimpleNamespace(CONFIG={"g_hidden": (16,), "mean_weight": 1.0},
                                   check=_mmd_check, build=_mmd_build)


def register_test_model() -> None:
    registry.register("model", MMD_MODEL, MMD_PIECES)


# ---------------------------------------------------------------------------------------------
# Cases


def make_config(algorithm: str):
    """A tiny validated toy config (ring data, MLP width 16, batch 32) for `algorithm`."""
    c = config_lib.base_config("mlp" if algorithm == "adversarial" else MMD_MODEL)
    c.data.source = "ring"
    c.model.g_hidden = (16,)  # one hidden layer: every compile here is of a small program
    if algorithm == "adversarial":
        c.model.d_hidden = (16,)
        c.penalty.name = "r1"
        c.penalty.weight = 1.0
    c.optim.g_lr = c.optim.d_lr = 1e-3
    c.train.batch_size = 32
    c.train.steps = 2 * NUM_STEPS
    c.train.scan_steps = NUM_STEPS
    c.train.log_every = c.train.eval_every = NUM_STEPS
    return config_lib.validate(c)


@dataclasses.dataclass
class Case:
    """One algorithm built from its config (as `ganjax train` builds it), its jitted step and the
    batches of NUM_STEPS steps."""

    name: str
    config: object
    experiment: object  # ganjax.run.experiment.Experiment
    step: object  # jax.jit(algorithm.step)
    batches: list  # NUM_STEPS batches {"x": [d_steps, B, 2], "y": [d_steps, B]}

    @property
    def algorithm(self):
        return self.experiment.algorithm

    def init(self, seed: int):
        """The first state of a run with `seed` (one compiled init, shared by every test)."""
        return initial_state(self.algorithm, seed)


def ring_batches(source, config) -> list[dict[str, np.ndarray]]:
    """NUM_STEPS batches from the config's ring, drawn with numpy (no compilation), shaped as
    the runners' batches: {"x": [d_steps, B, 2] float32, "y": [d_steps, B] int32}."""
    rng = np.random.default_rng(config.seed)
    shape = (config.train.d_steps, config.train.batch_size)
    batches = []
    for _ in range(NUM_STEPS):
        y = rng.integers(0, len(source.centers), shape)
        x = source.centers[y] + source.std * rng.standard_normal(shape + (source.dim,))
        batches.append({"x": x.astype(np.float32), "y": y.astype(np.int32)})
    return batches


def make_case(name: str) -> Case:
    config = make_config(name)
    experiment = build_experiment(config)
    algorithm = experiment.algorithm
    assert algorithm.name == name  # the build picks the algorithm from the networks
    assert config.train.nan_policy == "stop"  # so experiment steps are the algorithm's own
    batches = ring_batches(make_source(config.data), config)
    return Case(name, config, experiment, jax.jit(algorithm.step), batches)


def run_steps(step, state, batches):
    """`step` applied to `state` once per batch: (final state, last metrics)."""
    metrics = None
    for batch in batches:
        state, metrics = step(state, batch)
    return state, metrics


def stack(trees):
    """Trees stacked on a new leading axis (on the host: no op-by-op compiles)."""
    return jax.tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *trees)


def unstack(tree, i):
    return jax.tree.map(lambda x: np.asarray(x)[i], tree)


def assert_trees_close(actual, expected, rtol=RTOL, atol=ATOL, what=""):
    a_leaves, a_def = jax.tree.flatten(actual)
    e_leaves, e_def = jax.tree.flatten(expected)
    assert a_def == e_def, f"{what}: different tree structures\n{a_def}\n{e_def}"
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(actual)[0]]
    for path, a, e in zip(paths, a_leaves, e_leaves):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=rtol, atol=atol,
                                   err_msg=f"{what}{path}")


def assert_trees_equal(actual, expected, what=""):
    assert jax.tree.structure(actual) == jax.tree.structure(expected), what
    for (path, a), e in zip(jax.tree_util.tree_flatten_with_path(actual)[0],
                            jax.tree.leaves(expected)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(e),
                                      err_msg=f"{what}{jax.tree_util.keystr(path)}")


def max_param_change(a, b) -> float:
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y))))
               for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params)))


_CASES: dict[str, Case] = {}


@pytest.fixture(scope="module", autouse=True)
def module_setup(request):
    """Registers the generator-only test model for this module and, when the 8-device test is
    selected, starts its subprocess (to run beside the other tests); yields the MeshRun or None,
    unregisters the model after."""
    register_test_model()
    wanted = any(getattr(item, "originalname", None) == "test_eight_devices_equal_one"
                 for item in request.session.items)
    mesh_run = MeshRun() if wanted else None
    yield mesh_run
    if mesh_run is not None:
        mesh_run.stop()
    _CASES.clear()
    registry.unregister("model", MMD_MODEL)
    assert MMD_MODEL not in registry.names("model")


@pytest.fixture(scope="module", params=ALGORITHMS)
def case(request) -> Case:
    if request.param not in _CASES:
        _CASES[request.param] = make_case(request.param)
    return _CASES[request.param]


# ---------------------------------------------------------------------------------------------
# jit


def test_jitted_step_equals_unjitted_step(case):
    state = case.init(0)
    jitted, jitted_metrics = case.step(state, case.batches[0])
    eager, eager_metrics = case.algorithm.step(state, case.batches[0])
    assert_trees_close(jitted, eager, what="state")
    assert_trees_close(jitted_metrics, eager_metrics, what="metrics")
    assert int(jitted.step) == 1 and int(state.step) == 0
    assert set(jitted.params) == ({"g", "d"} if case.name == "adversarial" else {"g"})
    assert max_param_change(jitted, state) > DISTINCT  # the step trained something
    assert float(jitted_metrics["g_grad_norm"]) > 0
    assert all(np.all(np.isfinite(np.asarray(m))) for m in jax.tree.leaves(jitted_metrics))


# ---------------------------------------------------------------------------------------------
# vmap over replicas (seeds)


_VMAPPED: dict[str, object] = {}


def vmapped_step(case: Case):
    """The step vmapped over a stacked state, one batch shared by every replica (jitted)."""
    if case.name not in _VMAPPED:
        _VMAPPED[case.name] = jax.jit(jax.vmap(case.algorithm.step, in_axes=(0, None)))
    return _VMAPPED[case.name]


def test_vmap_over_seeds_equals_separate_runs(case):
    states = [case.init(seed) for seed in SEEDS]
    stacked, stacked_metrics = run_steps(vmapped_step(case), stack(states), case.batches)
    assert stacked.step.shape == (len(SEEDS),)
    finals = []
    for i, state in enumerate(states):
        alone, alone_metrics = run_steps(case.step, state, case.batches)
        assert_trees_close(unstack(stacked, i), alone, what=f"seed {SEEDS[i]} state")
        assert_trees_close(unstack(stacked_metrics, i), alone_metrics,
                           rtol=METRIC_RTOL, what=f"seed {SEEDS[i]} metrics")
        finals.append(alone)
    # Different seeds really are different runs.
    assert max_param_change(finals[0], finals[1]) > DISTINCT
    assert max_param_change(finals[1], finals[2]) > DISTINCT


# ---------------------------------------------------------------------------------------------
# vmap over a numeric hyperparameter


@pytest.mark.parametrize("which", ["objective", "optimizer"])
def test_vmap_over_hyperparameter_equals_separate_runs(case, which):
    key, values = SWEEPS[case.name][which]
    base = case.init(0)
    assert key in base.hparams
    # A config with the value gives that value to the state: the separate runs below are
    # what a run configured with each value starts from (same seed, same networks).
    for value in values:
        config = make_config(case.name)
        section, field = key.split(".")
        config[section][field] = value
        assert build_gan(config, (2,)).hparam_values[key] == np.float32(value)
    stacked = replace_hparams(stack([base] * len(values)), {key: jnp.asarray(values)})
    np.testing.assert_array_equal(stacked.hparams[key], np.float32(values))
    for other in set(base.hparams) - {key}:  # the others: the base value in every replica
        np.testing.assert_array_equal(stacked.hparams[other],
                                      np.full(len(values), base.hparams[other]))
    swept, swept_metrics = run_steps(vmapped_step(case), stacked, case.batches)
    finals = []
    for i, value in enumerate(values):
        alone, alone_metrics = run_steps(case.step, replace_hparams(base, {key: value}),
                                         case.batches)
        assert float(alone.hparams[key]) == np.float32(value)
        assert_trees_close(unstack(swept, i), alone, what=f"{key}={value} state")
        assert_trees_close(unstack(swept_metrics, i), alone_metrics,
                           rtol=METRIC_RTOL, what=f"{key}={value} metrics")
        finals.append(alone)
    # Every value trains differently: the hyperparameter reaches the update.
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            change = max_param_change(finals[i], finals[j])
            assert change > DISTINCT, (f"{key}={values[i]} and {key}={values[j]} give the same "
                                       f"parameters (max difference {change:.3g})")


# ---------------------------------------------------------------------------------------------
# scan


def test_scanned_steps_equal_a_loop_of_steps(case):
    state = case.init(0)
    scanned, scanned_metrics = jax.jit(make_train_n_steps(case.algorithm.step))(
        state, stack(case.batches))
    looped, per_step = state, []
    for batch in case.batches:
        looped, metrics = case.step(looped, batch)
        per_step.append(metrics)
    assert int(scanned.step) == NUM_STEPS
    assert_trees_close(scanned, looped, what="state")
    assert_trees_close(scanned_metrics, stack(per_step), what="metrics")  # [n] per metric
    assert max_param_change(scanned, state) > DISTINCT


# ---------------------------------------------------------------------------------------------
# interrupted and resumed through a checkpoint == uninterrupted, bit for bit


def test_resumed_from_checkpoint_equals_uninterrupted(case, tmp_path):
    """Session to step k, checkpoint, on to 2k; then restore step k into a fresh first state and
    a new Session, on to 2k: the same state, bit for bit.

    A toy runner draws each step's batch from the step alone (no host-side data position), so
    both sessions share one runner, i.e. one compiled chunk; a fresh runner would only compile
    the same program again.
    """
    runner = case.experiment.make_runner(0)
    experiment = dataclasses.replace(case.experiment, make_runner=lambda start: runner)
    checkpointer = Checkpointer(str(tmp_path), async_save=False, log=lambda _: None)
    try:
        session = Session(experiment)
        session.advance(NUM_STEPS)
        checkpointer.save(session.state, {"note": "interrupted here"})
        at_interrupt = to_host(session.state)
        session.advance(NUM_STEPS)
        uninterrupted = to_host(session.state)
        session.close()
        assert session.step == int(uninterrupted.step) == 2 * NUM_STEPS

        # A new process would do this: a fresh first state as the target, then the checkpoint.
        target = initial_state(experiment.algorithm, case.config.seed)
        restored = checkpointer.restore(NUM_STEPS, target)
        assert restored.step == NUM_STEPS and restored.meta["note"] == "interrupted here"
        assert_trees_equal(restored.state, at_interrupt, what="restored ")
        resumed = Session(experiment, restored.state)
        assert resumed.step == NUM_STEPS
        resumed.advance(NUM_STEPS)
        final = to_host(resumed.state)
        resumed.close()
    finally:
        checkpointer.close()
    assert max_param_change(final, at_interrupt) > DISTINCT  # the second half trained
    assert_trees_equal(final, uninterrupted, what="resumed ")


# ---------------------------------------------------------------------------------------------
# 8 fake devices == 1 device (last: it waits for the subprocess started with the module)


REPO = pathlib.Path(__file__).resolve().parent.parent
MESH_DEVICES = 8
MESH_TIMEOUT_S = 300

_MESH_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import test_algorithms
test_algorithms.mesh_main({out!r})
"""


def mesh_main(out_dir: str) -> None:
    """In the 8-device subprocess: NUM_STEPS sharded steps of every algorithm, saved to npz."""
    from ganjax.parallel import batch_sharding, data_mesh, replicate, replicated, to_host

    assert jax.device_count() == MESH_DEVICES, jax.devices()
    register_test_model()
    mesh = data_mesh()
    assert mesh.size == MESH_DEVICES
    for name in ALGORITHMS:
        case = make_case(name)
        step = jax.jit(case.algorithm.step, in_shardings=(replicated(mesh), batch_sharding(mesh)),
                       out_shardings=replicated(mesh))
        state = replicate(case.init(0), mesh)
        for batch in case.batches:
            sharded = jax.device_put(batch, batch_sharding(mesh))
            assert len(sharded["x"].sharding.device_set) == MESH_DEVICES
            state, metrics = step(state, sharded)
        kernel = jax.tree.leaves(state.params["g"])[0]
        assert len(kernel.sharding.device_set) == MESH_DEVICES
        leaves = jax.tree.leaves(to_host((state, metrics)))
        np.savez(os.path.join(out_dir, f"{name}.npz"), *leaves)
    print("MESH_OK")


class MeshRun:
    """The 8-device subprocess, started now and collected by `result()`."""

    def __init__(self):
        from multiprocess import child_env

        self.dir = tempfile.TemporaryDirectory()
        self.out = open(os.path.join(self.dir.name, "out.txt"), "w+", encoding="utf-8")
        script = _MESH_SCRIPT.format(tests=str(REPO / "tests"), out=self.dir.name)
        self.proc = subprocess.Popen([sys.executable, "-c", script], stdout=self.out,
                                     stderr=subprocess.STDOUT, env=child_env(MESH_DEVICES),
                                     cwd=REPO)

    def result(self) -> str:
        """The subprocess's output; fails the test unless it finished with MESH_OK."""
        try:
            code = self.proc.wait(timeout=MESH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"the {MESH_DEVICES}-device run took over {MESH_TIMEOUT_S} s")
        self.out.seek(0)
        text = self.out.read()
        assert code == 0 and "MESH_OK" in text, text[-4000:]
        return text

    def leaves(self, name: str) -> list[np.ndarray]:
        with np.load(os.path.join(self.dir.name, f"{name}.npz")) as data:
            return [data[f"arr_{i}"] for i in range(len(data.files))]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.out.close()
        self.dir.cleanup()


def test_eight_devices_equal_one(case, module_setup):
    """The step jitted with shardings over data_mesh() of 8 devices (state replicated, batch
    split) == the same steps on one device, state and metrics."""
    mesh_run = module_setup
    mesh_run.result()
    single, metrics = run_steps(case.step, case.init(0), case.batches)
    expected = jax.tree.leaves((single, metrics))
    actual = mesh_run.leaves(case.name)
    assert len(actual) == len(expected)
    paths = [jax.tree_util.keystr(p)
             for p, _ in jax.tree_util.tree_flatten_with_path((single, metrics))[0]]
    for path, a, e in zip(paths, actual, expected):
        np.testing.assert_allclose(a, np.asarray(e), rtol=1e-5, atol=1e-6, err_msg=path)
    assert int(single.step) == NUM_STEPS
