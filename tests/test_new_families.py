"""Two new model families, added from a test file alone.

Both families below are written only against the public interfaces (`ganjax.registry`,
`ganjax.types.Networks`, `ganjax.engine.objectives.Term`, `ganjax.models.heads`) and train
through the session, checkpoint, resume and sample without touching the step
(ganjax/engine/adversarial.py, generator_only.py), session (ganjax/run/session.py),
checkpoint (ganjax/run/checkpoint.py) or CLI code (ganjax/cli/):

1. "cond_mlp_test", a conditional toy GAN (cGAN, Mirza & Osindero 2014) on the ring of 8
   Gaussians whose labels are the mixture components (`batch["y"]`): G is
   `ConditionedG(MLPGenerator)`, D a small module written here that concatenates
   one_hot(y) to x before an MLP trunk (zeros when y is None, as evaluation probes call it).
   It must learn the conditioning: samples of label k land at mode k.
2. "mmd_mlp_test", a generator-only toy algorithm (generative moment matching; Li et al. 2015,
   Dziugaite et al. 2015): no discriminator, one G term, the biased MMD^2 between the samples
   and the real batch under a sum of Gaussian kernels of several bandwidths, weighted by the
   hyperparameter `model.mmd_weight`.

Each trains with `ganjax.run.loop.train`, is interrupted (`stop_at`) and resumed bit for bit,
reopened with `load_run` and sampled with `generate`; the conditional run is resumed by
`ganjax.cli.main(["train", "--config", <experiment file>, ...])` in this process (which sees the
registration), and the MMD one is evaluated by `evaluate_run` without a D.
"""

import json

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import cli, registry
from ganjax import config as config_lib
from ganjax.config import base_config, is_toy, require
from ganjax.data import make_source
from ganjax.engine.objectives import Term
from ganjax.errors import Interrupted
from ganjax.metrics.mmd import mmd2 as library_mmd2
from ganjax.models.heads import ConditionedG
from ganjax.models.mlp import MLPDiscriminator, MLPGenerator
from ganjax.run.evaluate import evaluate_run
from ganjax.run.loop import train
from ganjax.run.reopen import load_run
from ganjax.run.sampling import generate
from ganjax.types import DOut, Networks

NUM_CLASSES = 8


# --- family 1: a conditional GAN by one-hot concatenation ---------------------------------------

class ConcatConditionedD(nn.Module):
    """D(x, y) = trunk([x, one_hot(y)]); y=None (an unconditional probe) reads as zeros."""

    trunk: nn.Module
    num_classes: int

    @nn.compact
    def __call__(self, x, y=None, train=True):
        x = x.reshape(x.shape[0], -1)
        if y is None:
            onehot = jnp.zeros((x.shape[0], self.num_classes), x.dtype)
        else:
            onehot = jax.nn.one_hot(y, self.num_classes, dtype=x.dtype)
        out = self.trunk(jnp.concatenate([x, onehot], axis=-1), None, train=train)
        return DOut(out.logit, out.features)


class CondMLP:
    """The model piece: its `model.*` fields, its checks and its networks."""

    CONFIG = {"g_hidden": (64, 64), "d_hidden": (64, 64)}

    @staticmethod
    def check(c):
        require(c.data.source == "ring" and c.data.num_modes == NUM_CLASSES, "data.source",
                f"cond_mlp_test conditions on the {NUM_CLASSES} components of the ring", c)

    @staticmethod
    def build(c, data_shape):
        m = c.model
        generator = ConditionedG(
            inner=MLPGenerator(hidden=tuple(m.g_hidden), out_dim=int(np.prod(data_shape))),
            num_classes=NUM_CLASSES)
        discriminator = ConcatConditionedD(MLPDiscriminator(hidden=tuple(m.d_hidden)),
                                           NUM_CLASSES)
        return Networks(generator, discriminator, num_classes=NUM_CLASSES)


# --- family 2: generator-only moment matching -------------------------------------------------

BANDWIDTHS = (0.25, 0.5, 1.0, 2.0, 4.0)


def mmd2(x, y):
    """Biased MMD^2 of two samples [n, d], [m, d] under sum_s exp(-|a - b|^2 / (2 s^2)), from
    the library (`ganjax.metrics.mmd`, which ganjax's own gmmn model uses too)."""
    return library_mmd2(x, y, BANDWIDTHS)


def mmd_loss(inputs):
    """G's term: MMD^2 between its samples and the real minibatch (`GInputs`)."""
    assert inputs.fake is None  # the generator-only algorithm has no D to show the term
    return mmd2(inputs.fake_x, inputs.batch["x"])


MMD_TERM = Term("mmd", mmd_loss, weight_key="model.mmd_weight")


class MMDMLP:
    """The model piece: a G, no D, the MMD term and the starting value of its weight."""

    CONFIG = {"mmd_weight": 1.0}

    @staticmethod
    def check(c):
        require(is_toy(c), "model.name", "mmd_mlp_test is for the toy sources", c)
        require(c.model.mmd_weight > 0, "model.mmd_weight", "must be > 0", c)

    @staticmethod
    def build(c, data_shape):
        generator = MLPGenerator(hidden=(64,), out_dim=int(np.prod(data_shape)))
        return Networks(generator, None, g_terms=(MMD_TERM,),
                        hparam_values={"model.mmd_weight": float(c.model.mmd_weight)})


@pytest.fixture(scope="module", autouse=True)
def registered():
    registry.register("model", "cond_mlp_test", CondMLP)
    registry.register("model", "mmd_mlp_test", MMDMLP)
    yield
    registry.unregister("model", "cond_mlp_test")
    registry.unregister("model", "mmd_mlp_test")


# --- configs and helpers --------------------------------------------------------------------

# Steps cost ~1 ms, compiling costs seconds: every chunk has one length (so one program per
# run), and each interruption falls on a chunk boundary inside a log window, so the resumed run
# must also restore the window's unlogged per-step metrics.
COND_STEPS, COND_STOP = 300, 150
MMD_STEPS, MMD_STOP = 200, 125

# The conditional experiment as a file, for `ganjax train --config <file>` (in-process, so it
# sees the registration above).
COND_EXPERIMENT = f'''
from ganjax.config import base_config


def get_config():
    c = base_config(model="cond_mlp_test")
    c.data.source = "ring"
    c.data.num_modes = {NUM_CLASSES}
    c.optim.g_lr = 1e-3
    c.optim.d_lr = 1e-3
    c.train.steps = {COND_STEPS}
    c.train.batch_size = 128
    c.train.scan_steps = 50
    c.train.log_every = 100
    c.train.eval_every = {COND_STEPS}
    c.eval.num_samples = 500
    return c
'''


def mmd_config():
    c = base_config(model="mmd_mlp_test")
    c.data.source, c.data.mean, c.data.std = "gaussian_1d", 4.0, 1.5
    c.optim.g_lr = 3e-3
    c.train.steps, c.train.batch_size = MMD_STEPS, 128
    c.train.scan_steps, c.train.log_every = 25, 50
    c.train.eval_every = MMD_STEPS
    c.eval.num_samples = 500
    return c


def run(config, workdir, **kwargs):
    return train(config, str(workdir), tensorboard=False, verbose=False, **kwargs)


def leaves(loaded):
    return [np.asarray(x) for x in jax.tree.leaves(loaded.state)]


def assert_bit_identical(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and np.array_equal(x, y)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def nearest_mode(x, centers):
    return np.argmin(((np.asarray(x)[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)


@pytest.fixture(scope="module")
def cond_experiment(tmp_path_factory):
    path = tmp_path_factory.mktemp("experiments") / "cond_experiment.py"
    path.write_text(COND_EXPERIMENT)
    return path


@pytest.fixture(scope="module")
def cond_run(tmp_path_factory, cond_experiment):
    """(workdir, summary, reopened run) of one uninterrupted conditional run."""
    workdir = tmp_path_factory.mktemp("cond") / "full"
    summary = run(config_lib.load_config(str(cond_experiment)), workdir)
    return workdir, summary, load_run(str(workdir))


@pytest.fixture(scope="module")
def mmd_run(tmp_path_factory):
    """(workdir, summary, reopened run) of one uninterrupted MMD run."""
    workdir = tmp_path_factory.mktemp("mmd") / "full"
    summary = run(mmd_config(), workdir)
    return workdir, summary, load_run(str(workdir))


# --- the conditional GAN ----------------------------------------------------------------------

def test_conditional_gan_learns_its_labels(cond_run):
    _, summary, loaded = cond_run
    assert loaded.algorithm.name == "adversarial" and loaded.gan.num_classes == NUM_CLASSES
    assert loaded.state.players == ("d", "g") and loaded.step == COND_STEPS
    assert "eval/d_on_data" in summary  # evaluation probes D without labels (y=None)
    centers = make_source(loaded.config.data).centers
    n = 300
    labels = np.repeat(np.arange(NUM_CLASSES), n)
    latent = loaded.gan.sample_latent(jax.random.PRNGKey(7), len(labels), labels)
    assert np.array_equal(np.asarray(latent["y"]), labels)
    x, _ = loaded.gan.generate(loaded.state.generator_params(), loaded.state.batch_stats["g"],
                               latent, train=False)
    hits = (nearest_mode(x, centers) == labels).reshape(NUM_CLASSES, n).mean(axis=1)
    # Chance is 1/8: a G that ignored its label would put label k at mode k that often.
    assert hits.min() > 0.5, hits


def test_conditional_gan_resumed_by_the_cli_matches_bit_for_bit(tmp_path, cond_run,
                                                                 cond_experiment, capsys):
    reference = cond_run[0]
    workdir = tmp_path / "resumed"
    with pytest.raises(Interrupted, match=f"at step {COND_STOP}/"):
        run(config_lib.load_config(str(cond_experiment)), workdir, stop_at=COND_STOP)
    # `ganjax train` with the experiment file resumes the library's checkpoint.
    code = cli.main(["train", "--config", str(cond_experiment), "--workdir", str(workdir),
                     "--no_compilation_cache"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"resuming from the checkpoint of step {COND_STOP}" in out
    summary = json.loads((workdir / "summary.json").read_text())
    assert summary["resumed_from_step"] == COND_STOP and summary["step"] == COND_STEPS
    assert json.loads((workdir / "config.json").read_text())["model"]["name"] == "cond_mlp_test"
    assert_bit_identical(leaves(load_run(str(workdir))), leaves(cond_run[2]))
    assert (workdir / "metrics.jsonl").read_text() == (reference / "metrics.jsonl").read_text()


def test_conditional_gan_samples_from_the_reopened_run(cond_run):
    loaded = cond_run[2]
    samples = generate(loaded, 400, seed=3)
    assert samples.shape == (400, 2) and samples.dtype == np.float32
    assert np.all(np.isfinite(samples))
    # Labels are drawn uniformly: the samples spread over the ring's modes.
    modes = nearest_mode(samples, make_source(loaded.config.data).centers)
    assert len(set(modes.tolist())) >= 6


# --- the generator-only MMD model -------------------------------------------------------------

def test_mmd_of_a_sample_with_itself_is_zero_and_grows_with_the_shift():
    x = np.random.default_rng(0).normal(size=(64, 1)).astype(np.float32)
    assert abs(float(mmd2(x, x))) < 1e-5
    near, far = float(mmd2(x, x + 0.5)), float(mmd2(x, x + 3.0))
    assert 0 < near < far


def test_mmd_model_trains_without_a_discriminator(mmd_run):
    workdir, summary, loaded = mmd_run
    assert loaded.algorithm.name == "generator_only" and loaded.gan.discriminator is None
    state = loaded.state
    assert state.players == ("g",) and set(state.opt_state) == set(state.batch_stats) == {"g"}
    assert float(state.hparams["model.mmd_weight"]) == 1.0 and "optim.d_lr" not in state.hparams
    records = [r for r in read_jsonl(workdir / "metrics.jsonl") if "train/g_mmd" in r]
    assert [r["step"] for r in records] == list(range(50, MMD_STEPS + 1, 50))
    assert not any(k.startswith("train/d_") for r in records for k in r)
    first, last = records[0]["train/g_mmd"], records[-1]["train/g_mmd"]
    assert last < 0.2 * first, (first, last)
    # The target is N(4, 1.5^2) and G starts near 0: it moved there (the batch MMD's noise
    # leaves the mean a few tenths off at this budget).
    assert abs(summary["eval/mean"] - 4.0) < 0.75 and "eval/d_on_data" not in summary


def test_mmd_model_resumes_bit_for_bit(tmp_path, mmd_run):
    reference, _, loaded = mmd_run
    config = mmd_config()
    with pytest.raises(Interrupted, match=f"at step {MMD_STOP}/"):
        run(config, tmp_path, stop_at=MMD_STOP)
    summary = run(config, tmp_path)
    assert summary["resumed_from_step"] == MMD_STOP and summary["step"] == MMD_STEPS
    assert_bit_identical(leaves(load_run(str(tmp_path))), leaves(loaded))
    assert (tmp_path / "metrics.jsonl").read_text() == (reference / "metrics.jsonl").read_text()


def test_mmd_model_samples_and_evaluates_without_a_discriminator(mmd_run):
    workdir, _, loaded = mmd_run
    samples = generate(loaded, 500, seed=0)
    assert samples.shape == (500, 1) and np.all(np.isfinite(samples))
    assert abs(float(samples.mean()) - 4.0) < 0.75
    result = evaluate_run(str(workdir), num_samples=500)
    assert result["data"] == "toy" and result["step"] == MMD_STEPS
    assert abs(result["metrics"]["mean"] - 4.0) < 0.75 and "d_on_data" not in result["metrics"]
    assert result["protocol"]["num_generated"] == 500
