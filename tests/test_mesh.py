"""The step runs unchanged as one SPMD program over a device mesh (8 fake CPU devices)."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    from ganjax import config as config_lib
    from ganjax.engine.algorithm import init_state
    from ganjax.engine.build import build_gan
    from ganjax.engine.adversarial import make_train_step

    assert jax.device_count() == 8
    config = config_lib.apply_overrides(config_lib.base_config(), {
        "train.batch_size": "64", "model.g_hidden": "32,32", "model.d_hidden": "32,32",
        "penalty.name": "r1", "penalty.weight": "1.0"})
    gan = build_gan(config, (2,))
    step = make_train_step(gan)
    batches = jax.random.normal(jax.random.PRNGKey(1), (5, 1, 64, 2))

    def run(jitted):
        state = init_state(gan, jax.random.PRNGKey(0))
        for i in range(5):
            state, metrics = jitted(state, {"x": batches[i]})
        return state, metrics

    mesh = Mesh(np.array(jax.devices()), ("data",))
    replicated = NamedSharding(mesh, P())
    data = {"x": NamedSharding(mesh, P(None, "data"))}
    sharded = jax.jit(step, in_shardings=(replicated, data), out_shardings=replicated)
    single_state, single_metrics = run(jax.jit(step))
    mesh_state, mesh_metrics = run(sharded)
    assert len(mesh_state.params["g"]["Dense_0"]["kernel"].sharding.device_set) == 8
    for a, b in zip(jax.tree.leaves((single_state, single_metrics)),
                    jax.tree.leaves((mesh_state, mesh_metrics))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    print("MESH_OK")
""")


def test_sharded_step_over_8_devices_matches_one_device():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0 and "MESH_OK" in result.stdout, result.stderr[-3000:]
