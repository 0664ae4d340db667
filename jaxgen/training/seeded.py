"""A train step whose seed is an argument of the compiled program, not a constant in it.

:meth:`jaxgen.training.experiment.Experiment.make_train_step` jits
``(state, data, seed) -> (state, metrics)`` and hands it out bound to the run's seed,
callable as ``(state, data)`` at each of jit's stages (jitted, lowered, compiled), so
the trainer and the benchmarks use it as any jitted step. Every seed's run therefore
compiles the very same program, and :class:`SeedLoop` (``config.seeds_program='loop'``,
:mod:`jaxgen.training.seeds`) runs N seeds in one process through that one compiled
program, seed after seed: each seed equals its separate run bit for bit by
construction, under any compiler flags, where a ``lax.map`` or ``jax.vmap`` of the step
is a different program that XLA may compile to other last bits.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

SEED = jax.ShapeDtypeStruct((), jnp.uint32)  # the seed's abstract value, for lowering


def seed_value(seed: int) -> np.uint32:
    """``seed`` as the program's argument: the 32 bits ``jax.random.key(seed)`` reads
    from a Python int (-1 and 2**32 - 1 give the same key), so the keys are the same."""
    return np.uint32(int(seed) % 2**32)


class Bound:
    """``fn(state, data, seed)`` (jitted, lowered or compiled) called as ``(state, data)``.
    Other attributes (``cost_analysis``, ``as_text``) are ``fn``'s."""

    def __init__(self, fn, seed: int):
        self.fn, self.seed = fn, seed_value(seed)

    def __call__(self, state, data):
        return self.fn(state, data, self.seed)

    def lower(self, state, data) -> 'Bound':
        return Bound(self.fn.lower(state, data, SEED), self.seed)

    def compile(self) -> 'Bound':
        return Bound(self.fn.compile(), self.seed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fn, name)


def _one_seed(x):
    """A stacked leaf's abstract value for one seed (its sharding kept, if any)."""
    return jax.ShapeDtypeStruct(x.shape[1:], x.dtype, sharding=getattr(x, 'sharding', None))


@jax.jit
def _stack(trees):
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


class SeedLoop:
    """N seeds' states, stacked on a leading axis, each stepped in turn by one seed's
    program ``fn(state, data, seed)``: jitted, lowered or compiled, as :class:`Bound`.
    A call slices the state per seed, runs each seed's step (the program donates the
    slice), and stacks the new states and metrics again."""

    def __init__(self, fn, seeds: Sequence[int]):
        self.fn, self.seeds = fn, [seed_value(s) for s in seeds]
        n = len(self.seeds)
        self._unstack = jax.jit(lambda t: [jax.tree.map(lambda x, i=i: x[i], t)
                                           for i in range(n)])

    def __call__(self, state, data):
        outs = [self.fn(s, data, seed) for s, seed in zip(self._unstack(state), self.seeds)]
        return _stack([o[0] for o in outs]), _stack([o[1] for o in outs])

    def lower(self, state, data) -> 'SeedLoop':
        return SeedLoop(self.fn.lower(jax.tree.map(_one_seed, state), data, SEED), self.seeds)

    def compile(self) -> 'SeedLoop':
        return SeedLoop(self.fn.compile(), self.seeds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fn, name)
