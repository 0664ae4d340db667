"""Data parallelism over a ``('data',)`` mesh, on one process or many.

The train step is one ``jax.jit`` program over a mesh of every device of every
process: the train state is replicated, the batch is sharded along ``'data'``.
XLA inserts the gradient all-reduce and the BatchNorm statistics all-reduce,
so a step computes what the same step computes on one device, for the global
batch, up to float reassociation. Nothing in a model or objective knows.

Data stays where it is: each device holds the (small) training arrays and the
step draws the global batch from them, the draw being constrained to the batch
sharding, so each device gathers only its own rows: each host feeds its own
share of the global batch and no example crosses the network.

Several processes (a TPU pod slice, a GPU cluster, or two processes on this
machine) run the same program after :func:`initialize`; only process 0 writes
logs and pictures, and every process takes part in an Orbax checkpoint.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from absl import logging
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec as P

from jaxgen.errors import JaxgenError

AXIS = 'data'


def initialize(coordinator: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> None:
    """Starts JAX's multi-controller runtime; call before any other JAX call.

    With no arguments JAX detects the cluster (TPU pod slice, SLURM, Open MPI,
    Kubernetes). On CPU the collectives run over gloo.
    """
    jax.config.update('jax_cpu_collectives_implementation', 'gloo')
    try:
        jax.distributed.initialize(coordinator_address=coordinator,
                                   num_processes=num_processes, process_id=process_id)
    except (RuntimeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise JaxgenError(f'cannot start multi-process training ({first}); on a cluster '
                          'JAX finds its peers itself, elsewhere pass --coordinator=host:port '
                          '--num_processes=N --process_id=i') from e
    logging.info('process %d of %d: %d local of %d devices', jax.process_index(),
                 jax.process_count(), jax.local_device_count(), jax.device_count())


def is_main_process() -> bool:
    """Whether this process writes logs, pictures and config files."""
    return jax.process_index() == 0


def make_mesh(num_devices: int = 0) -> Mesh:
    """A 1-D ``('data',)`` mesh over the first ``num_devices`` devices (0: all)."""
    available = jax.device_count()
    n = num_devices or available
    if not 0 < n <= available:
        raise JaxgenError(f'config.num_devices={num_devices} but {available} device(s) are '
                          'visible; use 0 for all of them or a number up to '
                          f'{available}')
    if jax.process_count() > 1 and n != available:
        raise JaxgenError('config.num_devices must be 0 (all) in a multi-process run, got '
                          f'{num_devices} of {available}')
    return jax.make_mesh((n,), (AXIS,), axis_types=(AxisType.Auto,),
                         devices=jax.devices()[:n])


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def batch_sharding(mesh: Mesh, leading: int = 0) -> NamedSharding:
    """Sharded along the batch axis, after ``leading`` unsharded axes."""
    return NamedSharding(mesh, P(*([None] * leading), AXIS))


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
    if batch_size % mesh.size:
        raise JaxgenError(f'config.batch_size={batch_size} does not split over '
                          f'{mesh.size} devices; use a multiple of {mesh.size}')


def put_replicated(tree: Any, mesh: Mesh) -> Any:
    """Host values (the same on every process) as global arrays replicated on ``mesh``."""
    sharding = replicated(mesh)

    def put(x):
        x = np.asarray(jax.device_get(x))
        return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

    return jax.tree.map(put, tree)


def to_host(tree: Any) -> Any:
    """Replicated global arrays as numpy, on every process (no collective)."""
    return jax.tree.map(lambda x: np.asarray(x.addressable_data(0))
                        if isinstance(x, jax.Array) else x, tree)


def describe(mesh: Mesh) -> str:
    kinds = sorted({d.platform for d in mesh.devices.flat})
    return (f'{mesh.size} {"/".join(kinds)} device(s) over {jax.process_count()} '
            f'process(es), batch sharded along {AXIS!r}')
