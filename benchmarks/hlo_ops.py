"""Size of one compiled train step: HLO instruction counts of the optimized program.

Counts every instruction of XLA's optimized HLO text (fused computations included), and the
fusions and dots/convolutions among them, for the step of each experiment named on the command
line (default: ring8, gaussian_1d, dcgan_digits). Used to check that a change to the engine does
not grow the compiled step: run it before and after on the same machine and flags.

  python benchmarks/hlo_ops.py [EXPERIMENT ...]

Prints one line per experiment and a final JSON line {name: {"ops", "fusions", "dots"}}.
"""

from __future__ import annotations

import json
import re
import sys


def count(name: str) -> dict[str, int]:
    """Instruction counts of the jitted step of experiment `name`."""
    import jax
    import jax.numpy as jnp

    from ganjax import config as config_lib
    from ganjax.data import example_shape
    from ganjax.run.experiment import build_experiment

    config = config_lib.validate(config_lib.load_config(name))
    experiment = build_experiment(config)
    t = config.train
    batch = {"x": jnp.zeros((t.d_steps, t.batch_size) + example_shape(config), jnp.float32)}
    text = jax.jit(experiment.algorithm.step).lower(experiment.state, batch).compile().as_text()
    ops = [line for line in text.splitlines() if re.match(r"\s+(ROOT )?%?[\w.\-]+ = ", line)]
    kinds: dict[str, int] = {}
    for line in ops:
        match = re.search(r"= [^ ]+ ([\w\-]+)\(", line)
        if match:
            kinds[match.group(1)] = kinds.get(match.group(1), 0) + 1
    return {"ops": len(ops), "fusions": kinds.get("fusion", 0),
            "dots": kinds.get("dot", 0) + kinds.get("convolution", 0)}


def main(names: list[str]) -> None:
    from ganjax.run import runtime

    runtime.set_xla_cpu_fusion(False)  # the CLI's default flags
    results = {}
    for name in names:
        results[name] = count(name)
        print(f"{name:14s} {results[name]['ops']:6d} HLO instructions, "
              f"{results[name]['fusions']} fusions, {results[name]['dots']} dots/convolutions")
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:] or ["ring8", "gaussian_1d", "dcgan_digits"])
