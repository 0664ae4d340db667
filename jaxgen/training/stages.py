"""Stage schedules: a run whose model, data or batch size change at given steps.

``config.stages`` is a tuple of dicts, each a stage that runs until step ``until``
(the last one may leave it out: it runs to ``num_steps``)::

    c.stages = ({'until': 100, 'model': {'depth': 1}, 'batch_size': 32},
                {'model': {'depth': 2, 'fade_start': 100, 'fade_steps': 50}})

A stage's ``model`` and ``data`` entries override ``config.model`` and ``config.data``
(each stage against the base config, not the stage before), ``batch_size`` overrides
``config.batch_size``, and ``reset_optimizer: True`` starts the optimizers afresh at
the stage's first step. Stage ``i`` runs steps ``[until[i-1], until[i])``.

The trainer knows no model. Each stage is a run of ``loop.train`` with that stage's
config (its own data, experiment and compiled step), over its steps. At a boundary the
state is *carried*: the new stage's state is initialised as usual, then the model
bundle's optional ``grow(old_variables, new_variables) -> variables`` (each player's
Linen variables) says what the new parameters and model state are; without it,
every variable whose path and shape match is kept and the rest stay initialised.
Optimizer state, weight averages and health follow by path and shape too. A
continuous parameter of a stage (a fade-in alpha) is computed by the model from
``batch['step']``, an input of the compiled step, so it never retraces.

Which stage a checkpoint belongs to derives from its step: the state after step ``s``
was made by the stage that ran step ``s - 1``. A resumed run restores a checkpoint
into that stage's template, and grows it when the stage has changed since: a run
killed anywhere resumes bit-exactly, since initialisation and growth are functions
of the seed and the checkpoint.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Sequence

import jax
from absl import logging

from jaxgen.errors import JaxgenError
from jaxgen.models.layers import split_variables
from jaxgen.training import experiment as experiment_lib
from jaxgen.training import parallel
from jaxgen.training import workdir as workdir_lib
from jaxgen.training.checkpoint import Checkpoints
from jaxgen.training.lock import WorkdirLock


@dataclasses.dataclass
class Stage:
    """What ``loop.train`` needs of one stage: the whole config (for config.json) and
    the state grown from the stage before, else None (restore or initialise as usual)."""
    config: Any
    state: Any = None


KEYS = frozenset({'until', 'model', 'data', 'batch_size', 'reset_optimizer'})


def parse(config) -> tuple[dict, ...]:
    """``config.stages`` as plain dicts, each with its ``until``; () without stages."""
    stages = tuple(dict(s) for s in (config.get('stages') or ()))
    previous = 0
    for i, stage in enumerate(stages):
        unknown = sorted(set(stage) - KEYS)
        if unknown:
            raise JaxgenError(f'config.stages[{i}] has unknown entries {unknown}; a stage '
                              f'takes {sorted(KEYS)}')
        last = i == len(stages) - 1
        # the last stage runs to the end, even when num_steps ends the run earlier
        until = stage.get('until', max(config.num_steps, previous + 1) if last else None)
        if not isinstance(until, int) or until <= previous:
            raise JaxgenError(f'config.stages[{i}].until must be a step after {previous} '
                              f'(only the last stage may leave it out), got {until!r}')
        if last and until < config.num_steps:
            raise JaxgenError(f'config.stages ends at step {until}, before config.num_steps='
                              f'{config.num_steps}; extend the last stage (or leave out its '
                              'until)')
        stage['until'] = previous = until
    return stages


def index(stages: Sequence[dict], step: int) -> int:
    """The stage that runs step ``step`` (the state's step before it runs)."""
    return next((i for i, s in enumerate(stages) if step < s['until']), len(stages) - 1)


def of_checkpoint(stages: Sequence[dict], step: int) -> int:
    """The stage whose structure the state after ``step`` steps has."""
    return index(stages, max(step - 1, 0))


def stage_config(config, i: int):
    """The config of stage ``i``: the base config with its overrides, no stages, and
    ``num_steps`` ending with the stage (or the run)."""
    stages = parse(config)
    stage = stages[i]
    c = copy.deepcopy(config)
    with c.unlocked():
        del c['stages']
        for part in ('model', 'data'):
            for key, value in dict(stage.get(part) or {}).items():
                c[part][key] = value
        if 'batch_size' in stage:
            c.batch_size = stage['batch_size']
        c.num_steps = min(stage['until'], config.num_steps)
    return c


def checkpoint_config(config, step: int):
    """The config whose experiment fits the checkpoint at ``step`` (for sampling)."""
    stages = parse(config)
    return stage_config(config, of_checkpoint(stages, step)) if stages else config


def carry_leaves(old: Any, new: Any) -> Any:
    """``new`` with every leaf whose path, shape and dtype match ``old``'s taken from it."""
    found = {jax.tree_util.keystr(p): x for p, x in jax.tree_util.tree_flatten_with_path(old)[0]}

    def pick(path, x):
        o = found.get(jax.tree_util.keystr(path))
        fits = o is not None and o.shape == x.shape and o.dtype == x.dtype
        return o if fits else x
    return jax.tree_util.tree_map_with_path(pick, new)


def grow(old_exp, old_state, new_exp, new_state, reset_optimizer: bool = False):
    """The state of ``new_exp`` carried over from ``old_state``: the model's ``grow``
    (default :func:`carry_leaves`) on each player's variables and on the averaged
    ones, the rest by path and shape."""
    model_grow = getattr(new_exp.model, 'grow', carry_leaves)

    def grown(ema: bool) -> tuple[dict, dict]:
        variables = model_grow(old_exp.variables(old_state, ema=ema),
                               new_exp.variables(new_state, ema=ema))
        split = {p: split_variables(v) for p, v in variables.items()}
        return {p: s[0] for p, s in split.items()}, {p: s[1] for p, s in split.items()}
    params, model_state = grown(ema=False)
    averaged, _ = grown(ema=True)
    carried = carry_leaves(old_state, new_state)
    rule_state = new_state.rule_state if reset_optimizer else carried.rule_state
    return carried.replace(params=params, model_state=model_state, rule_state=rule_state,
                           ema={p: averaged[p] for p in new_state.ema})


def _experiment(config, i: int):
    from jaxgen import data  # pylint: disable=import-outside-toplevel
    c = stage_config(config, i)
    return experiment_lib.build(c, data.load(c.data, 'train').info)


def _restored(config, stages, checkpoints: Checkpoints, step: int, mesh):
    """``(experiment, state)`` of the checkpoint at ``step``, in its own stage's template."""
    exp = _experiment(config, of_checkpoint(stages, step))
    template = exp.abstract_state(parallel.replicated(mesh))
    checkpoints.check_fits(step, template)
    return exp, checkpoints.restore(step, template)


def train(config, workdir: str, hooks=()):
    """``loop.train`` of each stage in turn, from the stage of the workdir's latest
    checkpoint; the state is grown at each boundary. Returns the last stage's result."""
    from jaxgen.training import loop  # pylint: disable=import-outside-toplevel
    stages = parse(config)
    workdir_lib.check(workdir)  # e.g. gs:// without its packages: one line, before any read
    if parallel.is_main_process():  # before reading checkpoints a live run may be deleting
        WorkdirLock(workdir).check_free()
    checkpoints = Checkpoints(workdir, max_to_keep=config.keep_checkpoints)
    latest = checkpoints.latest_step() or 0
    mesh = parallel.make_mesh(config.get('num_devices', 0))
    old = None  # (experiment, state) of the previous stage, to grow from
    if latest and of_checkpoint(stages, latest) != index(stages, latest):
        old = _restored(config, stages, checkpoints, latest, mesh)
    checkpoints.close()
    result = None
    for i in range(index(stages, latest), len(stages)):
        start = None
        if old is not None:
            new_exp = _experiment(config, i)
            new_state = parallel.put_replicated(new_exp.init_state(), mesh)
            start = grow(*old, new_exp, new_state,
                         reset_optimizer=bool(stages[i].get('reset_optimizer', False)))
        logging.info('stage %d of %d: steps %d to %d%s', i + 1, len(stages),
                     stages[i - 1]['until'] if i else 0, min(stages[i]['until'], config.num_steps),
                     ', grown from the stage before' if start is not None else '')
        result = loop.train(stage_config(config, i), workdir, hooks,
                            stage=Stage(config=config, state=start))
        if result.preempted or result.step >= config.num_steps:
            break
        old = (_experiment(config, i), result.state)
    return result

