"""The Dirac-GAN of Mescheder et al. 2018: which training methods converge to the equilibrium.

A point-mass data distribution at 0, a generator that is a point mass at theta and a linear
discriminator D(x) = psi * x, trained with ganjax's own losses and penalties
(`ganjax.reproduce.dirac`) in the authors' setting: step 0.2, the authors' start (1, 1), 500
steps, simultaneous and alternating gradient descent (G first, as in the authors' notebook).
The paper's finding: unregularised GAN training does not converge (simultaneous GD spirals out,
alternating GD cycles), nor do WGAN and WGAN-GP; instance noise and the R1 penalty do.
Deterministic: one "seed" (instance noise is integrated exactly by quadrature, where the
authors' notebook samples it).
"""

PAPER = ("Mescheder, Geiger & Nowozin 2018, Which Training Methods for GANs do actually "
         "Converge?, Sec. 2-3 and Fig. 1-3")
COMPARES = ("distance to the equilibrium after 500 steps, per method and update rule, "
            "against the paper's converges / does not converge")
FULL_TIME = "~20 s"
QUICK_TIME = "~20 s"
SEEDS = 1

# What the paper finds for each method (Sec. 2-3; Fig. 1-3).
PAPER_FINDING = {
    "gan": "does not converge (simultaneous: spirals out; alternating: cycles)",
    "nsgan": "does not converge",
    "wgan_clip": "does not converge",
    "wgan_gp": "does not converge",
    "instance_noise": "converges",
    "r1_0.3": "converges",
    "r1_1.0": "converges (critical damping)",
}
CONVERGED = 1e-3  # a final distance below this counts as converged (the start is at sqrt 2)


def run(ctx) -> None:
    from ganjax.outputs.dirac_figures import plot_dirac
    from ganjax.reproduce import dirac

    results = ctx.cached("dirac", dirac.run_all)  # 500 steps either way: it takes seconds
    rows = []
    for name, entry in results["methods"].items():
        for rule in dirac.RULES:
            distance = entry[rule]["final_distance"]
            verdict = "converges" if distance < CONVERGED else "does not converge"
            ctx.compare("Distance to the equilibrium after 500 steps", f"{entry['label']}, "
                        f"{rule}", "final distance", distance, PAPER_FINDING[name],
                        f"ours: {verdict}")
            ctx.number(f"{name}/{rule}", distance)
        rows.append([entry["label"], *(f"{entry[r]['final_distance']:.3g}"
                                       for r in dirac.RULES)])
    ctx.table("Final distance, method x update rule", ["method", *dirac.RULES], rows)
    path = plot_dirac(results, ctx.path("figures", "dirac.png"),
                      "Dirac-GAN: vector fields and 500 steps of gradient descent (h = 0.2)")
    ctx.figure(path, "Each method's vector field with its simultaneous (blue) and alternating "
                     "(orange) gradient-descent paths from the authors' start")
    ctx.protocol("final distance", f"Euclidean distance of (theta, psi) to (0, 0) after 500 "
                 f"steps of size 0.2 from theta = 1 and the authors' psi = 1; float32; "
                 f"'converges' when below {CONVERGED}")
    ctx.text("Sign convention: ganjax's logit is positive on data, so psi here is minus the "
             "paper's; the figure is the paper's mirrored in psi.")
