"""ganjax.parallel: mesh, shardings and batches on 8 fake CPU devices, and a 2-process run
(2 local processes x 4 fake CPU devices, gloo collectives, coordinator on localhost)."""

import socket
import subprocess
import sys
import textwrap
import time

import pytest

from multiprocess import assert_all_ok, child_env, describe, free_port, launch

from ganjax import parallel
from ganjax.errors import EXIT_DISTRIBUTED

# A few SGD steps of a linear model, replicated params and a batch [n, k, B, 2] split over
# "data" on axis 2: the gradient mean over the global batch needs the cross-device all-reduce.
# (tests/test_mesh.py checks the GAN step itself under a mesh.)
_SGD = """
    import jax.numpy as jnp

    def sgd(w, batches):
        def step(w, x):
            grad = jax.grad(lambda w: jnp.mean((x @ w - 1.0) ** 2))(w)
            return w - 0.1 * grad, jnp.abs(grad).sum()
        return jax.lax.scan(step, w, batches["x"])

    def sgd_reference(w, batches):
        w, grads = np.asarray(w, np.float64), []
        for x in batches:
            grad = 2 * np.einsum("kbi,kbj->ij", x, x @ w - 1.0) / (x.shape[0] * x.shape[1])
            w, grads = w - 0.1 * grad, grads + [np.abs(grad).sum()]
        return w, np.array(grads)

    w0 = np.array([[0.5], [-0.25]], np.float32)
    batches = np.random.default_rng(0).normal(size=(3, 2, 16, 2)).astype(np.float32)

    def check_sharded_steps(local_batches):
        sharded = jax.jit(sgd, in_shardings=(parallel.replicated(mesh),
                                             parallel.batch_sharding(mesh, 2)),
                          out_shardings=parallel.replicated(mesh))
        got = parallel.to_host(sharded(parallel.replicate(w0, mesh),
                                       parallel.global_batch({"x": local_batches}, mesh, 2)))
        for a, b in zip(sgd_reference(w0, batches), got):
            np.testing.assert_allclose(a, b, rtol=1e-5)
"""

EIGHT_DEVICES = textwrap.dedent("""
    import jax, numpy as np
    from jax.sharding import PartitionSpec as P
    from ganjax import parallel

    assert jax.device_count() == 8
    mesh = parallel.data_mesh()
    assert mesh.axis_names == ("data",) and mesh.devices.size == 8
    sweep = parallel.data_mesh(replicas=2)
    assert sweep.axis_names == ("replica", "data") and dict(sweep.shape) == {"replica": 2,
                                                                             "data": 4}
    print("OK mesh")

    assert parallel.batch_sharding(mesh).spec == P(None, "data")
    assert parallel.batch_sharding(mesh, 2).spec == P(None, None, "data")
    assert parallel.replicated(mesh).spec == P()
    for axis, shape in ((1, (3, 16, 5)), (2, (2, 3, 16, 4, 4, 1))):
        local = {"x": np.random.default_rng(axis).normal(size=shape).astype(np.float32),
                 "label": np.arange(np.prod(shape[:axis + 1])).reshape(shape[:axis + 1])}
        batch = parallel.global_batch(local, mesh, axis)
        for key, value in batch.items():
            assert value.shape == local[key].shape and value.sharding.spec[axis] == "data"
            np.testing.assert_array_equal(parallel.to_host(value), local[key])
            for shard in value.addressable_shards:  # device i holds rows 2i:2i+2
                i = mesh.devices.tolist().index(shard.device)
                assert shard.index[axis] == slice(2 * i, 2 * i + 2), (shard.index, i)
    print("OK global_batch")

    parallel.check_batch_divisible(96, mesh)
    errors = []
    for batch_size in (100, 4):
        try:
            parallel.check_batch_divisible(batch_size, mesh)
        except ValueError as e:
            errors.append(str(e))
    assert errors == [
        "train.batch_size=100 is not divisible by the 8 devices of the mesh; use a multiple of "
        "8 (e.g. 96 or 104)",
        "train.batch_size=4 is not divisible by the 8 devices of the mesh; use a multiple of 8 "
        "(e.g. 8)"], errors
    print("OK check_batch_divisible")

    tree = {"w": jax.numpy.arange(6.0).reshape(2, 3), "step": jax.numpy.int32(7),
            "typed_key": jax.random.key(3), "host": np.ones(4, np.int8)}
    out = parallel.replicate(tree, mesh)
    for leaf in jax.tree.leaves(out):
        assert leaf.sharding.is_fully_replicated and len(leaf.sharding.device_set) == 8
    assert out["typed_key"].dtype == tree["typed_key"].dtype
    host = parallel.to_host({k: v for k, v in out.items() if k != "typed_key"})
    np.testing.assert_array_equal(host["w"], np.arange(6.0).reshape(2, 3))
    assert host["step"] == 7 and host["host"].dtype == np.int8
    np.testing.assert_array_equal(jax.random.key_data(out["typed_key"]),
                                  jax.random.key_data(tree["typed_key"]))
    print("OK replicate")
""") + textwrap.dedent(_SGD) + textwrap.dedent("""
    check_sharded_steps(batches)
    parallel.assert_same_config("{}")  # one process: nothing to compare
    assert parallel.is_main_process()
    print("OK sharded_steps")
""")

TWO_PROCESSES = textwrap.dedent("""
    import sys, jax, numpy as np
    from jax.sharding import Mesh
    from ganjax import parallel

    address, pid = sys.argv[1], int(sys.argv[2])
    parallel.initialize(address, 2, pid, timeout_s=60)
    assert (jax.process_count(), jax.process_index(), jax.local_device_count()) == (2, pid, 4)
    assert parallel.is_main_process() == (pid == 0)
    mesh = parallel.data_mesh()
    assert mesh.devices.size == 8 and not parallel.replicated(mesh).is_fully_addressable
    print("OK initialize")

    # Process p gives global rows 4p..4p+3 (as BatchSampler would); row r holds the value r.
    rows = pid * 4 + np.arange(4, dtype=np.float32)
    local = {"x": np.broadcast_to(rows[None, :, None], (3, 4, 2)).copy()}
    batch = parallel.global_batch(local, mesh, 1)
    assert batch["x"].shape == (3, 8, 2)
    sums = jax.jit(lambda x: x.sum(axis=(0, 2)), out_shardings=parallel.replicated(mesh))(
        batch["x"])
    np.testing.assert_array_equal(parallel.to_host(sums), 6 * np.arange(8))
    np.testing.assert_array_equal(parallel.to_host(batch["x"])[0, :, 0], np.arange(8))
    # With the processes' devices in the other order, process 0 would own rows 4:8.
    reversed_mesh = Mesh(mesh.devices[::-1], ("data",))
    try:
        parallel.global_batch(local, reversed_mesh, 1)
        raise AssertionError("a mesh not ordered by process was accepted")
    except parallel.DistributedError as e:
        assert f"devices hold global rows {4 - 4 * pid}:{8 - 4 * pid} of the batch" in str(e), e
    print("OK global_batch")

    parallel.assert_same_config('{"seed": 1}')
    try:
        parallel.assert_same_config('{"seed": %d}' % pid)
        raise AssertionError("different configs were accepted")
    except parallel.DistributedError as e:
        print("CONFIG_ERROR", e)
    try:
        parallel.replicate({"w": np.full(3, pid)}, mesh)
        raise AssertionError("different states were accepted")
    except parallel.DistributedError as e:
        print("STATE_ERROR", e)
    print("OK assert_same_config")
""") + textwrap.dedent(_SGD) + textwrap.dedent("""
    check_sharded_steps(batches[:, :, pid * 8:(pid + 1) * 8])
    print("OK sharded_steps")
""")

PROCESS_ALONE = textwrap.dedent("""
    import sys, time
    from ganjax import parallel

    address, pid = sys.argv[1], int(sys.argv[2])
    start = time.monotonic()
    try:
        parallel.initialize(address, 2, pid, timeout_s=5)
    except parallel.DistributedError as e:
        print(f"DISTRIBUTED_ERROR after {time.monotonic() - start:.1f} s: {e}")
""")


@pytest.fixture(scope="module")
def eight_devices():
    env = child_env(8)
    return subprocess.run([sys.executable, "-c", EIGHT_DEVICES], capture_output=True,
                          text=True, env=env, timeout=240)


@pytest.fixture(scope="module")
def two_processes():
    results = launch(lambda pid, address: [sys.executable, "-c", TWO_PROCESSES, address,
                                           str(pid)], num_processes=2, devices_per_process=4,
                     timeout_s=240)
    assert_all_ok(results)
    return results


@pytest.mark.parametrize("check", ["mesh", "global_batch", "check_batch_divisible",
                                   "replicate", "sharded_steps"])
def test_eight_fake_devices(eight_devices, check):
    assert f"OK {check}" in eight_devices.stdout, (eight_devices.stdout
                                                   + eight_devices.stderr[-4000:])


@pytest.mark.parametrize("check", ["initialize", "global_batch", "assert_same_config",
                                   "sharded_steps"])
def test_two_processes(two_processes, check):
    for result in two_processes:
        assert f"OK {check}" in result.stdout, describe(two_processes)


def test_two_processes_name_the_process_that_disagrees(two_processes):
    for result in two_processes:
        lines = [line for line in result.stdout.splitlines() if line.startswith(
            ("CONFIG_ERROR", "STATE_ERROR"))]
        assert len(lines) == 2, result.stdout
        for line in lines:
            assert "process(es) 1 have a different" in line, line
        assert "same command, config file and overrides on every host" in lines[0]


def test_unreachable_coordinator_raises_within_the_timeout():
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    start = time.monotonic()
    [result] = launch(lambda pid, _: [sys.executable, "-c", PROCESS_ALONE, address, "1"],
                      num_processes=1, timeout_s=60)
    elapsed = time.monotonic() - start
    assert result.returncode == 0, describe([result])
    assert "DISTRIBUTED_ERROR" in result.stdout, describe([result])
    assert f"cannot reach the coordinator at {address} within 5 s" in result.stdout
    assert "start process 0 (--process_id 0)" in result.stdout
    assert elapsed < 30, elapsed


def test_missing_processes_end_with_a_message_not_an_abort():
    start = time.monotonic()
    [result] = launch(lambda pid, address: [sys.executable, "-c", PROCESS_ALONE, address, "0"],
                      num_processes=1, timeout_s=60)
    elapsed = time.monotonic() - start
    assert result.returncode == EXIT_DISTRIBUTED, describe([result])
    assert "timed out after 5 s waiting for all 2 processes to connect" in result.stderr
    assert "Terminating process" not in result.stderr  # JAX's abort did not come first
    assert elapsed < 30, elapsed


def test_arguments_are_checked_before_jax_is_touched(monkeypatch):
    for name in ("SLURM_JOB_ID", "OMPI_MCA_orte_hnp_uri", "TPU_WORKER_HOSTNAMES",
                 "TPU_PROCESS_ADDRESSES", "JAX_COORDINATOR_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    assert parallel.detected_cluster() is None
    parallel.initialize(None, None, None)  # a single process: nothing to do
    parallel.initialize(None, 1, 0)
    with pytest.raises(parallel.DistributedError, match="needs a coordinator address"):
        parallel.initialize(None, 2, 1)
    with pytest.raises(parallel.DistributedError, match="also needs --num_processes"):
        parallel.initialize("127.0.0.1:1234", None, None)
    with pytest.raises(parallel.DistributedError, match=r"process_id=2 is not in \[0, "):
        parallel.initialize("127.0.0.1:1234", 2, 2)
    with pytest.raises(parallel.DistributedError, match="is not host:port"):
        parallel.initialize("localhost", 2, 0)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(parallel.DistributedError, match=f"cannot start the coordinator on "
                                                            f"port {port}"):
            parallel.initialize(f"127.0.0.1:{port}", 2, 0)


def test_cluster_detection(monkeypatch):
    slurm = {"SLURM_JOB_ID": "7", "SLURM_STEP_NODELIST": "node[1-2]", "SLURM_NTASKS": "2",
             "SLURM_PROCID": "0", "SLURM_LOCALID": "0"}
    for name, value in slurm.items():
        monkeypatch.setenv(name, value)
    assert parallel.detected_cluster() == "slurm"
    monkeypatch.setenv("SLURM_NTASKS", "1")  # a one-task job runs as a single process
    assert parallel.detected_cluster() is None
    monkeypatch.setenv("TPU_WORKER_HOSTNAMES", "host-0,host-1")
    assert parallel.detected_cluster() == "tpu"


def test_launch_kills_processes_at_the_deadline():
    start = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        launch(lambda pid, _: [sys.executable, "-c",
                               f"print('started {pid}', flush=True); import time; "
                               f"time.sleep(60)"], num_processes=2, timeout_s=3)
    assert time.monotonic() - start < 10
    assert [r.stdout.strip() for r in info.value.results] == ["started 0", "started 1"]
    assert all(r.returncode == -9 for r in info.value.results)
