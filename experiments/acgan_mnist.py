"""ACGAN on MNIST (Odena et al. 2017): D has an auxiliary classifier on its features.

G gets one_hot(y) beside its 100-d noise; D's adversarial logit is unconditional and a
linear head on its features predicts the class; G minimises that head's cross-entropy for the
labels it was asked for (weight model.class_loss_weight = 1). The paper's D also minimises the
class loss on generated digits (`:paper`); here D's classifier learns real digits only
(model.class_loss_on_fake=false), because with both D and G learn class cues that only D's
head reads: on the 10k MNIST subset the paper's version reached a conditional accuracy of 0.68
by the evaluation CNN after 5k steps (D's own head: 0.99 on the same samples), the real-only one
0.93 after 5k and 0.957 after 10k steps (the default; benchmarks/model_family.py). DCGAN at
width 32, Adam(2e-4, b1=0.5), batch 64, EMA of G. Logged: d_class_accuracy_real / _fake (D's own classifier) besides the evaluation
CNN's conditional accuracy.

  ganjax train --config experiments/acgan_mnist.py            # TFDS mnist, 10k steps (~9 min)
  ganjax train --config experiments/acgan_mnist.py \\
      --config.data.source=npz:/path/to/mnist-train.npz       # offline: numpy.savez(x=, y=)
  ganjax train --config experiments/acgan_mnist.py:paper      # class loss on fakes, 5k (~5 min)
  ganjax train --config experiments/acgan_mnist.py:digits     # embedded 8x8 digits (~45 s)
  ganjax train --config experiments/acgan_mnist.py:quick      # 20 steps on digits (~20 s)

Times: the 10k-digit offline subset, 2-core CPU, evaluations included, measured alone (the
default: 8.6 min; :paper is half its steps).
"""

from ganjax.experiments._conditional import conditional, quick, schedule

VARIANTS = ("default", "paper", "digits", "quick")


def get_config(variant: str = "default"):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    data = "mnist" if variant in ("default", "paper") else "digits"
    c = conditional("concat", "acgan", data)
    c.model.class_loss_on_fake = variant == "paper"
    if data == "mnist":
        c.model.width = 32
    schedule(c, 5_000 if variant == "paper" else 10_000)
    return quick(c) if variant == "quick" else c
