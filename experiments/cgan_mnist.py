"""Conditional DCGAN on MNIST (Mirza & Osindero 2014), and the projection variant.

"Draw a 5": G gets one_hot(y) beside its 100-d noise, D gets it as ten constant extra input
channels. The projection variant (Miyato & Koyama 2018) conditions D by the projection
<embed(y), features> added to its logit (G as before). Class-conditional BatchNorm in G
(`--config.model.g_conditioning=batch_norm`) is built for deep generators (BigGAN, the SNGAN
ResNet: a gain and shift per class in every block); in this two-block DCGAN it can only reweight
channels and did not learn the labels (conditional accuracy 0.20 after 5k steps on MNIST, chance
on digits), so the variants use concatenation in G. DCGAN at width 32,
Adam(2e-4, b1=0.5), batch 64, EMA of G. Evaluations report the conditional accuracy (does the
evaluation CNN see the class G was asked for) and a Fréchet distance in that CNN's features.

  ganjax train --config experiments/cgan_mnist.py            # TFDS mnist, 10k steps (~10 min)
  ganjax train --config experiments/cgan_mnist.py \\
      --config.data.source=npz:/path/to/mnist-train.npz       # offline: numpy.savez(x=, y=)
  ganjax train --config experiments/cgan_mnist.py:projection # projection D (~13 min)
  ganjax train --config experiments/cgan_mnist.py:digits     # embedded 8x8 digits (~40 s)
  ganjax train --config experiments/cgan_mnist.py:projection_digits  # projection, digits (~40 s)
  ganjax train --config experiments/cgan_mnist.py:quick      # 20 steps on digits (~20 s)
  ganjax sample --workdir W --num 100 --labels 0,1,2,3,4,5,6,7,8,9   # ten of each digit

Times: the 10k-digit offline subset, 2-core CPU, evaluations included; measured alone for the
default and digits (warm compilation cache), under load 4-10 for :projection (alone it is faster).
"""

from ganjax.experiments._conditional import conditional, quick, schedule

VARIANTS = {"default": ("concat", "concat", "mnist"),
            "projection": ("concat", "projection", "mnist"),
            "digits": ("concat", "concat", "digits"),
            "projection_digits": ("concat", "projection", "digits"),
            "quick": ("concat", "concat", "digits")}


def get_config(variant: str = "default"):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    g, d, data = VARIANTS[variant]
    c = conditional(g, d, data)
    if data == "mnist":
        c.model.width = 32
    # Concatenated labels are learnt slowly: 0.89 conditional accuracy after 5k steps on MNIST,
    # 0.95 after 10k; the projection D is there after 5k.
    schedule(c, 10_000 if (variant, d) == ("default", "concat") else 5_000)
    return quick(c) if variant == "quick" else c
