"""The streaming path: batches gathered on the host by grain, for sets that do not fit.

Element ``s`` of the grain pipeline is the raw (stored, untransformed) rows of train step
``s``: the same :func:`jaxgen.data.draw.indices` as the on-device path, computed on the
host's CPU, gathered from random-access sources by grain's reader threads and prefetched.
The step applies the dataset's ``transform`` to them, so both paths give identical
batches for the same seed. Each process gathers only its own share of the global batch
(the rows its devices hold) and the shares are assembled into one global array.

The pipeline's position is grain's iterator state (``{'next_index': step}``); the trainer
saves it in the Orbax checkpoint beside the train state (:data:`ITEM`) and restores it on
resume, and a state that disagrees with the checkpoint's step is refused.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Mapping, Protocol

import grain
import jax
import numpy as np

from jaxgen.data import draw as draw_lib
from jaxgen.errors import JaxgenError

ITEM = 'data'  # the name of the iterator-state item in an Orbax checkpoint
THREADS = 4
PREFETCH = 8


class Source(Protocol):
    """A random-access source of one stream: ``len`` and ``gather(rows) -> {field: array}``."""
    def __len__(self) -> int: ...
    def gather(self, rows: np.ndarray) -> dict: ...


class ArraySource:
    """A stream's fields held as (possibly memory-mapped) numpy arrays."""

    def __init__(self, arrays: Mapping[str, np.ndarray]):
        self.arrays = dict(arrays)

    def __len__(self) -> int:
        return int(next(iter(self.arrays.values())).shape[0])

    def gather(self, rows: np.ndarray) -> dict:
        return {f: a[rows] for f, a in self.arrays.items()}


def array_sources(dataset) -> dict[str, Source]:
    """One :class:`ArraySource` per stream of a loaded dataset."""
    streams = draw_lib.stream_fields(dataset.info, dataset.arrays)
    return {s: ArraySource({f: dataset.arrays[f] for f in fields})
            for s, fields in streams.items()}


@functools.lru_cache(maxsize=None)
def _host_indices(sizes: tuple, batch_size: int):
    """:func:`draw_lib.indices` compiled once for the host CPU."""
    cpu = jax.devices('cpu')[0]
    fn = jax.jit(lambda key, step: draw_lib.indices(key, step, dict(sizes), batch_size))
    return fn, cpu


def host_rows(key_data: np.ndarray, step: int, sizes: Mapping[str, int],
              batch_size: int) -> dict[str, np.ndarray]:
    """The rows of draw ``step`` per stream, exactly as the on-device path draws them."""
    fn, cpu = _host_indices(tuple(sorted(sizes.items())), batch_size)
    key = jax.device_put(jax.random.wrap_key_data(key_data), cpu)  # runs where its inputs are
    return {s: np.asarray(r) for s, r in fn(key, jax.device_put(np.int32(step), cpu)).items()}


class Stream:
    """Per-step raw batches ``{field: [num_batches, rows_here, ...]}`` from step ``start``.

    Args:
      sources: one :class:`Source` per stream (:func:`array_sources`).
      data_key: the run's data key (the one the on-device path passes to ``draw``).
      batch_size: the global batch size; this process gathers rows
        ``[lo, hi)`` of it (``share``).
      num_batches: draws per train step (the update rule's ``num_batches``).
    """

    def __init__(self, sources: Mapping[str, Source], data_key: jax.Array, batch_size: int,
                 num_batches: int = 1, share: tuple[int, int] | None = None,
                 threads: int = THREADS, prefetch: int = PREFETCH):
        self.sources = dict(sources)
        self.sizes = {s: len(src) for s, src in self.sources.items()}
        for s, n in self.sizes.items():
            if n // batch_size < 1:
                raise JaxgenError(f'batch size {batch_size} is larger than the {n} examples '
                                  f'of this split; use a batch size of at most {n}')
        self.key_data = np.asarray(jax.random.key_data(data_key))
        self.batch_size, self.num_batches = batch_size, num_batches
        self.share = share or (0, batch_size)
        self.dataset = grain.MapDataset.range(0, 2 ** 31 - 1).map(self.element)
        self.options = grain.ReadOptions(num_threads=threads, prefetch_buffer_size=prefetch)
        self.iterator = iter(self.dataset.to_iter_dataset(self.options))

    def element(self, step: int) -> dict:
        """The raw rows of train step ``step`` (all its draws, stacked)."""
        lo, hi = self.share
        draws = []
        for i in range(self.num_batches):
            rows = host_rows(self.key_data, step * self.num_batches + i, self.sizes,
                             self.batch_size)
            raw = {}
            for s, src in self.sources.items():
                raw.update(src.gather(rows[s][lo:hi]))
            draws.append(raw)
        return {f: np.stack([d[f] for d in draws]) for f in draws[0]}

    def seek(self, step: int) -> None:
        """Positions the stream so that the next element is train step ``step``."""
        self.iterator.set_state({'next_index': int(step)})

    @property
    def position(self) -> int:
        return int(self.iterator.get_state()['next_index'])

    def next(self, steps: int = 1) -> dict:
        """The next ``steps`` elements; stacked on a leading axis when ``steps > 1``."""
        if steps == 1:
            return next(self.iterator)
        elements = [next(self.iterator) for _ in range(steps)]
        return {f: np.stack([e[f] for e in elements]) for f in elements[0]}

    def abstract(self, steps: int = 1) -> dict:
        """Shapes and dtypes of :meth:`next` for the GLOBAL batch, without reading."""
        lo, hi = self.share
        one = self.element(0)
        lead = (steps,) if steps > 1 else ()
        return {f: jax.ShapeDtypeStruct(lead + (x.shape[0], x.shape[1] * self.batch_size
                                                // (hi - lo)) + x.shape[2:], x.dtype)
                for f, x in one.items()}


def process_share(batch_size: int) -> tuple[int, int]:
    """Rows ``[lo, hi)`` of the global batch that this process's devices hold."""
    count, index = jax.process_count(), jax.process_index()
    per = batch_size // count
    return index * per, (index + 1) * per


def to_global(local: dict, sharding: jax.sharding.Sharding, steps: int) -> dict:
    """This process's rows as one global array per field, sharded on the batch axis."""
    def put(x):
        lead = 2 if steps > 1 else 1  # [steps,] num_batches, batch, ...
        shape = list(x.shape)
        shape[lead] *= jax.process_count()
        return jax.make_array_from_process_local_data(sharding, x, tuple(shape))
    return {f: put(x) for f, x in local.items()}


class Snapshot:
    """The stream's position frozen at save time, for grain's Orbax handler (an
    asynchronous save must not see the iterator move on)."""

    def __init__(self, stream: 'Stream'):
        self.state = json.dumps(stream.iterator.get_state(), indent=4).encode()

    def get_state(self) -> bytes:
        return self.state


def check_state(state: Any, step: int, where: str) -> None:
    """A restored iterator state must sit at the checkpoint's step."""
    position = int(state['next_index']) if isinstance(state, Mapping) else None
    if position != step:
        raise JaxgenError(f'{where} holds a data stream at step {position}, but the train '
                          f'state at step {step}; the checkpoint is inconsistent: delete it '
                          f'to resume from the one before, or start a new --workdir')
