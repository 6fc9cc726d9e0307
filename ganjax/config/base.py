"""The fields every experiment shares, and the model's own fields from its module.

`base_config(model)` is the full schema of an experiment with that model: the common sections
(data, model's noise, loss, penalty, optim, train, eval) plus the fields the model's module
declares in its `CONFIG` (found through `ganjax.registry`). Experiments start from it and change
values; they cannot invent keys.
"""

from __future__ import annotations

from typing import Any

import ml_collections

from ganjax import registry
from ganjax.errors import ConfigError

ConfigDict = ml_collections.ConfigDict
# Fields a resumed run may change: they steer how long and how visibly it runs, not what it learns.
RESUMABLE_CHANGES = ("train.steps", "train.log_every", "train.eval_every", "train.scan_steps",
                     "train.checkpoint_every", "train.checkpoint_every_minutes",
                     "train.keep_checkpoints",
                     "train.keep_checkpoint_every", "train.resume", "train.nan_policy",
                     "train.wandb_", "eval.")


def model_defaults(model: str) -> dict[str, Any]:
    """The `model.*` fields the registered model `model` declares (its module's CONFIG)."""
    if model not in registry.names("model"):
        raise ConfigError(f"config.model.name={model!r}: must be one of "
                          f"{', '.join(registry.names('model'))}")
    return dict(registry.resolve("model", model).CONFIG)


def base_config(model: str = "mlp") -> ConfigDict:
    """Every field an experiment with `model` may set, with neutral defaults."""
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
    c.model.name = model  # a registered model: mlp (toys) | dcgan | sngan (32x32) | ...
    c.model.noise = "normal"  # normal | uniform (on [-1, 1])
    c.model.noise_dim = 2
    # Conditioning, for any architecture (ganjax.models.conditioning): labels y in [0, K) fed to
    # G and D. K = model.num_classes (0 = unconditional; 10 for digits and MNIST; the toy ring
    # and grid label each point by its mixture component).
    c.model.num_classes = 0
    # none | concat (one_hot(y) joins z) | batch_norm (class-conditional BatchNorms in G)
    c.model.g_conditioning = "none"
    # none | concat (one_hot(y) joins D's input) | projection (Miyato & Koyama 2018) |
    # acgan (an auxiliary classifier on D's features, Odena et al. 2017)
    c.model.d_conditioning = "none"
    c.model.class_loss_weight = 1.0  # ACGAN: weight of the class cross-entropy, for D and G
    # ACGAN: D's classifier also learns the generated images' labels (the paper); false = real
    # images only.
    c.model.class_loss_on_fake = True
    # InfoGAN (Chen et al. 2016): codes beside z, and Q (on D's features) that recovers them.
    c.model.info_categorical = ()  # sizes of the categorical codes, e.g. (10,)
    c.model.info_continuous = 0  # number of continuous codes, each U(-1, 1)
    c.model.info_weight = 1.0  # lambda of the categorical codes' mutual-information bound
    c.model.info_continuous_weight = 1.0  # lambda of the continuous codes' bound
    c.model.info_q_hidden = 128  # width of Q's hidden layer
    c.model.info_q_batch_norm = False  # BatchNorm after Q's hidden layer (the paper's Q)
    # The model's own fields (widths, activations, normalisation, ...) come from its module's
    # CONFIG (ganjax.models.<name>), added by base_config(model=...).
    c.model.update(model_defaults(model))

    c.loss = ConfigDict()
    c.loss.name = "non_saturating"
    # Moment matching beside the adversary: G also minimises the MMD between its batch and the
    # real batch (ganjax.metrics.mmd.mmd_loss, a sum of Gaussian kernels of these bandwidths, in
    # data units), times this weight; 0 = off. It pulls G's samples towards the data's law at
    # length scales a discriminator resolves poorly (e.g. the width of a toy mode), where the
    # adversarial gradient alone lets modes shrink.
    c.loss.g_mmd_weight = 0.0
    c.loss.g_mmd_bandwidths = (1.0,)

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
    # Checkpoints: every `checkpoint_every` steps and every `checkpoint_every_minutes` of
    # training, whichever comes first (0 = off for either), and always at the end and when
    # stopped by a signal, so that a crash or `kill -9` loses at most that much work.
    c.train.checkpoint_every = 0
    c.train.checkpoint_every_minutes = 10.0
    c.train.keep_checkpoints = 3  # the newest N checkpoints are kept
    c.train.keep_checkpoint_every = 0  # also keep every checkpoint whose step is a multiple; 0 = off
    c.train.resume = True  # continue from the workdir's latest checkpoint when there is one
    # A step whose losses or parameters turn NaN/Inf: "stop" the run (the last checkpoint stays
    # intact) or "skip" the update (the step counter still advances, so the next batch differs).
    c.train.nan_policy = "stop"
    # Weights & Biases, beside metrics.jsonl and TensorBoard (pip install 'ganjax[wandb]'): the
    # config, the logged scalars and the eval figures go to this project. "" = off.
    c.train.wandb_project = ""
    c.train.wandb_entity = ""  # the W&B user or team; "" = the account's default entity
    # online | offline (files in <workdir>/wandb, uploaded later by `wandb sync`) | disabled.
    c.train.wandb_mode = "online"

    c.eval = ConfigDict()
    c.eval.num_samples = 2500  # VEEGAN/PacGAN protocol for the 2-D mixtures
    c.eval.use_ema = True  # evaluate the EMA generator when there is one
    c.eval.grid_size = 64  # images: samples in the PNG grid written at every eval
    # Images: pytorch-fid's FID Inception weights file (pt_inception-2015-12-05-6726825d.pth);
    # when set, every eval also reports FID, KID and IS of eval.num_samples samples. "" = off.
    c.eval.fid_weights = ""
    # Images with labels: every eval also reports classes_covered and class_kl of
    # eval.num_samples samples, labelled by a small classifier fitted once on the training data
    # and cached (no download; ganjax.evaluation.training_classes).
    c.eval.class_metrics = True
    # Images with labels: every eval also classifies those samples with a small CNN trained once
    # on the training data and cached (ganjax.evaluation.training_cnn; the first eval trains it,
    # ~1-2 min for MNIST on 2 CPUs): conditional_accuracy (conditional G), code_accuracy
    # (InfoGAN), classifier_fd (Frechet distance in the CNN's features) and its class histogram.
    c.eval.cnn_metrics = False
    return c


