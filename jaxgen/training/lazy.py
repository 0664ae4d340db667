"""Lazy phases chosen inside the step or by the host: ``config.lazy_phases``.

A phase of the rule that runs every k steps (``config.rule.every``: StyleGAN's lazy
R1 every 16 steps, StarGAN's generator every 5th, Puzzle-GAN's every 2nd) can be
chosen in two ways, with the same steps run in the same order:

* ``'cond'``: inside the compiled step, by ``lax.cond`` on the step number. One
  program, compiled once, whatever the step; fused calls (``config.steps_per_call``)
  need it, since their steps are one program.
* ``'host'``: one single-step program per *schedule*, the set of phases that run on a
  step (:func:`jaxgen.rules.base.schedules`: two for StyleGAN, with and without R1),
  and the host calls the one for the step (:func:`jaxgen.rules.base.lazy_schedule`).
  All are traced before training starts, so a mistake in any of them is one line
  before the workdir is touched; each is compiled when first needed (a run that
  ends before StyleGAN's 16th step never compiles R1's); a compiler failure then
  (out of memory, say) is one line too, and the workdir keeps its last checkpoint.
* ``'auto'`` (the default): ``'host'`` on a CPU backend, ``'cond'`` elsewhere.

Why the host on a CPU: inside a conditional XLA:CPU does not re-lay out the
convolutions of gradients into the form its fast kernels run, and runs them on a
generic loop. On an Intel Xeon StyleGAN's R1 step took 140 s there against 3.7 s as a
program of its own (2.2 s for the other steps; 73 s on an AMD EPYC), and StarGAN and
Puzzle-GAN trained 7.5x and 3.5x faster the host's way
(docs/results/scale_and_speed.md). On GPUs and TPUs the one program that compiles
once is kept; the host's way is not measured there.

Either way every random draw derives from the step, so a resumed run is bit-exact;
the two ways may differ from each other in the last bits (XLA fuses them apart).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import jax
from absl import logging

from jaxgen.errors import JaxgenError, first_line
from jaxgen.rules.base import lazy_schedule, schedules


def mode(config) -> str:
    """``config.lazy_phases`` (checked by :func:`jaxgen.config.check`) as ``'host'`` or
    ``'cond'`` on this backend."""
    value = config.get('lazy_phases', 'auto')
    if value == 'auto':
        return 'host' if jax.default_backend() == 'cpu' else 'cond'
    return value


class SingleSteps:
    """A run's single-step programs, by schedule: ``steps(step)`` is the compiled
    program that runs ``step`` (0-based), compiled when first asked for.

    ``lowered`` maps each schedule (``None`` for the one program of ``'cond'`` or of
    a rule without lazy phases) to its lowered program; ``every`` is the rule's
    periods, empty when the program chooses for itself."""

    def __init__(self, lowered: dict, every: Sequence[int] = ()):
        self.every = tuple(every)
        self.lowered = dict(lowered)
        self.compiled: dict = {}

    @classmethod
    def build(cls, make: Callable[[Any], Any], every: Sequence[int], host: bool
              ) -> 'SingleSteps':
        """``make(schedule)`` lowers the program of a schedule (None: ``lax.cond``)."""
        if host and any(k > 1 for k in every):
            return cls({s: make(s) for s in schedules(every)}, every)
        steps = cls({None: make(None)})
        steps.compile_all()  # the one program, compiled ahead as every other program
        return steps

    def schedule(self, step: int):
        return lazy_schedule(self.every, step) if self.every else None

    def _compiled(self, key):
        if key in self.compiled:
            return self.compiled[key]
        if key is None:  # the one program: compiled before the workdir exists, timed
            self.compiled[key] = self.lowered[key].compile()  # by the trainer
            return self.compiled[key]
        phases = f'phases {[i for i, runs in enumerate(key) if runs]}'
        started = time.perf_counter()
        try:
            self.compiled[key] = self.lowered[key].compile()
        except Exception as e:  # pylint: disable=broad-except
            # traced before the workdir was touched; a failure of XLA's compiler here
            # (out of memory, say) may come mid-run: one line all the same
            raise JaxgenError(
                f'the train step running {phases} cannot be compiled ({first_line(e)}); '
                'the workdir keeps its last checkpoint (--verbosity=1 prints the '
                'traceback)') from e
        logging.info('compiled the train step running %s in %.1fs', phases,
                     time.perf_counter() - started)
        return self.compiled[key]

    def __call__(self, step: int):
        return self._compiled(self.schedule(step))

    def compile_all(self) -> None:
        """Compiles every program now (a benchmark times none of them later)."""
        for key in self.lowered:
            self._compiled(key)
