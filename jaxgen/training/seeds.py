"""Many seeds in one program: ``config.num_seeds = N`` trains seeds ``seed`` ..
``seed + N - 1`` at once, the train state carrying a leading seed axis.

Seed ``i`` is the run with ``config.seed = seed + i``: its keys are that run's
``root_keys``, traced instead of constant, so its initial parameters (``jax.vmap``
of the initialisation), its data draws and every step's randomness are that run's.
``config.seeds_program`` says how the seeds run:

* ``'loop'`` (the default): the separate run's own compiled step, whose seed is an
  argument of the program (:mod:`jaxgen.training.seeded`), called for each seed in
  turn. Each seed equals its separate run bit for bit by construction, under any
  compiler flags; one process and one compilation serve N seeds, with N dispatches
  per call (fuse steps with ``config.steps_per_call`` to make them cheap).
* ``'map'``: one program, ``lax.map`` of the step over the seeds. It equals the
  separate runs to the last bits only (XLA:CPU compiles the step inside the loop
  differently from the step alone: one ulp in one of 16 biases after 6 steps of the
  ring GAN under XLA's default flags, which training amplifies).
* ``'vmap'`` (or ``config.vmap_seeds=True``): one batched program, ``jax.vmap`` of
  the step (what a small model may need to fill an accelerator), which on XLA:CPU sums
  gradients in another order (~1e-7 relative, amplified by training).

The state is checkpointed as one state with the leading axis, so a many-seed run
resumes like any other.

Each seed has its own outputs in ``<workdir>/seed_<i>/``: pictures, TensorBoard
scalars, ``eval.jsonl``, exactly what its separate run writes to its workdir
(same latents, same examples). Checkpoints and ``config.json`` stay in the
workdir. :func:`select` takes one seed's experiment and state out of a
many-seed checkpoint: ``restore.load(workdir, seed_index=i)``, and so
``python -m jaxgen.sample`` / ``jaxgen.evaluate`` with ``--seed_index i``.

Not combined with the streaming data path (each seed's batches would need their
own host pipeline) nor with a stage schedule.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Callable

import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError
from jaxgen.training import experiment as experiment_lib
from jaxgen.training import parallel
from jaxgen.training import periodic as periodic_lib
from jaxgen.training import seeded
from jaxgen.training import workdir as workdir_lib


def seed_config(config, i: int):
    """The config of seed ``i``'s separate run: ``seed + i``, one seed."""
    config = config.copy_and_resolve_references()
    config.seed = int(config.seed) + i
    config.num_seeds = 1
    return config


def take(tree: Any, i: int) -> Any:
    """Seed ``i``'s slice of a tree with a leading seed axis."""
    return jax.tree.map(lambda x: x[i], tree)


@dataclasses.dataclass(frozen=True)
class ManySeeds(experiment_lib.Experiment):
    """An experiment whose state and step carry a leading axis of ``num_seeds`` seeds."""

    @property
    def num_seeds(self) -> int:
        return int(self.config.num_seeds)

    @property
    def program(self) -> str:
        """'loop', 'map' or 'vmap' (module docstring)."""
        return program(self.config)

    def seeds(self) -> jax.Array:
        return self.seed + jnp.arange(self.num_seeds, dtype=jnp.int32)

    def seed_experiment(self, i: int) -> experiment_lib.Experiment:
        """Seed ``i``'s own experiment, the one its separate run builds."""
        return experiment_lib.Experiment(
            config=seed_config(self.config, i), data_info=self.data_info, model=self.model,
            objective=self.objective, rule=self.rule)

    def init_state(self) -> experiment_lib.TrainState:
        return jax.jit(jax.vmap(self._init_state))(self.seeds())

    def make_train_step(self, draw: Callable | None, batch_size: int, mesh=None,
                        steps: int = 1, unroll: int = 1,
                        transform: Callable | None = None, schedule=None) -> Callable:
        if self.program != 'loop':  # one program over the seed axis (train_step_fn)
            return super().make_train_step(draw, batch_size, mesh, steps, unroll, transform,
                                           schedule)
        # a separate run's program
        one = self.seed_experiment(0).make_train_step(draw, batch_size, mesh, steps, unroll,
                                                      transform, schedule)
        return seeded.SeedLoop(one.fn, [self.seed + i for i in range(self.num_seeds)])

    def train_step_fn(self, draw: Callable | None, batch_size: int, mesh=None,
                      transform: Callable | None = None, seed=None,
                      schedule=None) -> Callable:
        """The step of all seeds as one program (``'map'`` or ``'vmap'``)."""
        del seed  # each seed of the axis is its own
        single = super().train_step_fn
        seeds = self.seeds()

        def train_step(state, data):
            def one(s, seed):
                return single(draw, batch_size, mesh, transform, seed=seed,
                              schedule=schedule)(s, data)
            if self.program == 'vmap':  # vectorised: XLA may reorder sums
                return jax.vmap(one)(state, seeds)
            return jax.lax.map(lambda args: one(*args), (state, seeds))  # each seed in turn
        return train_step


PROGRAMS = ('loop', 'map', 'vmap')


def program(config) -> str:
    """``config.seeds_program``, or ``'vmap'`` under the older ``config.vmap_seeds``."""
    chosen = config.get('seeds_program', 'loop')
    if config.get('vmap_seeds', False):
        if chosen not in ('loop', 'vmap'):
            raise JaxgenError(f'config.vmap_seeds=True contradicts config.seeds_program='
                              f'{chosen!r}; set only config.seeds_program=vmap')
        return 'vmap'
    if chosen not in PROGRAMS:
        raise JaxgenError(f'config.seeds_program must be one of {", ".join(PROGRAMS)}, '
                          f'got {chosen!r}')
    return chosen


def many(exp: experiment_lib.Experiment) -> ManySeeds:
    """``exp`` as a :class:`ManySeeds` experiment, after checking the config allows it."""
    c = exp.config
    n = c.get('num_seeds', 1)
    if not isinstance(n, int) or n < 1:
        raise JaxgenError(f'config.num_seeds must be a positive integer, got {n!r}')
    if c.data.get('path', 'device') == 'stream':
        raise JaxgenError(f'config.num_seeds={n} needs the on-device data path; set '
                          'config.data.path=device or train the seeds separately')
    if c.get('stages'):
        raise JaxgenError(f'config.num_seeds={n} cannot train a stage schedule '
                          '(config.stages); train the seeds separately')
    program(c)  # a bad seeds_program is one line, before anything is built
    return ManySeeds(**{f.name: getattr(exp, f.name) for f in dataclasses.fields(exp)})


def select(exp: ManySeeds, state: Any, i: int):
    """``(experiment, state)`` of seed ``i``, as its separate run would have them."""
    if not 0 <= i < exp.num_seeds:
        raise JaxgenError(f'seed index {i} is not one of this run\'s {exp.num_seeds} seeds')
    return exp.seed_experiment(i), take(state, i)


def seed_workdir(workdir: str, i: int) -> str:
    return str(workdir_lib.resolve(workdir) / f'seed_{i}')


class Periodic(periodic_lib.Periodic):
    """The loop's events for N seeds: each seed logs, draws and evaluates into its own
    ``seed_<i>/`` through its own ``periodic.Periodic``; the whole state is saved here."""

    def __init__(self, config, exp: ManySeeds, workdir: str, test, checkpoints,
                 examples: Callable[[int], Any], began: float):
        super().__init__(config, exp, workdir, test, checkpoints, None, began)
        self.seeds = []
        for i in range(exp.num_seeds):
            one = exp.seed_experiment(i)
            periodic = periodic_lib.Periodic(
                one.config, one, seed_workdir(workdir, i), test, checkpoints,
                examples(one.seed), began)
            periodic.periods.pop('checkpoint')  # the whole state is saved once, here
            self.seeds.append(periodic)

    def after_step(self, step: int, state, step_metrics, started: float) -> None:
        first = self.progress is None
        self.progress = self.progress or True
        due = self.due(step)
        if due:
            self.check_health(state)
        if due or first:  # slices only when something happens
            for i, periodic in enumerate(self.seeds):
                periodic.after_step(step, take(state, i), take(step_metrics, i), started)
            self.metrics = {f'seed_{i}/{k}': v for i, periodic in enumerate(self.seeds)
                            for k, v in periodic.metrics.items()}
        if 'checkpoint' in due:
            self.save(step, state)

    def write_pictures(self, step: int, state) -> None:
        for i, periodic in enumerate(self.seeds):
            periodic.write_pictures(step, take(state, i))

    def check_health(self, state) -> None:
        """Each seed's health; the first diverged seed stops the run, named."""
        health = parallel.to_host(state.health)
        for i, periodic in enumerate(self.seeds):
            try:
                periodic.check_health(types.SimpleNamespace(health=take(health, i)))
            except JaxgenError as e:
                raise JaxgenError(f'seed {i} (config.seed={periodic.exp.seed}): {e}') from e

    def close(self) -> None:
        for periodic in self.seeds:
            periodic.writer.close()
        super().close()
