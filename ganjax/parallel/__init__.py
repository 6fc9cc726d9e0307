"""Running one program over many devices and hosts: processes (`processes`) and the mesh (`mesh`)."""

from ganjax.parallel.mesh import (DATA_AXIS, REPLICA_AXIS, batch_sharding, check_batch_divisible,
                                  data_mesh, global_batch, replicate, replicated, to_host)
from ganjax.parallel.processes import (assert_same_config, describe_devices, detected_cluster,
                                       initialize, is_main_process, sync_processes)
from ganjax.errors import DistributedError

__all__ = ["DATA_AXIS", "REPLICA_AXIS", "DistributedError", "assert_same_config",
           "batch_sharding", "check_batch_divisible", "data_mesh", "describe_devices",
           "detected_cluster", "global_batch", "initialize", "is_main_process", "replicate",
           "replicated", "sync_processes", "to_host"]
