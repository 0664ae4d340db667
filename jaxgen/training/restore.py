"""Rebuild a run from its workdir: config, model and the checkpointed state.

Needs neither the training data nor TensorFlow: the model is rebuilt from the
data description stored in ``config.json``.
"""

from __future__ import annotations

from jaxgen import config as config_lib
from jaxgen.errors import JaxgenError
from jaxgen.training import health, stages
from jaxgen.training import workdir as workdir_lib
from jaxgen.training.checkpoint import Checkpoints
from jaxgen.training.experiment import build


def load(workdir: str, step: int | None = None, seed_index: int | None = None):
    """``(experiment, state, step)`` restored from a workdir's checkpoint.

    A many-seed run (``config.num_seeds`` > 1) gives seed ``seed_index``'s experiment
    and state, as its separate run would have them; it must be named.
    """
    path = workdir_lib.resolve(workdir) / 'config.json'
    if not path.is_file():
        raise JaxgenError(f'{path} not found; pass the --workdir of a training run')
    config, extra = config_lib.from_json(path.read_text())
    checkpoints = Checkpoints(workdir)
    latest = checkpoints.latest_step()
    if latest is None:
        raise JaxgenError(f'{workdir} has no checkpoint yet; train first or wait for one')
    step = latest if step is None else step
    exp = build(stages.checkpoint_config(config, step), extra['data'])  # its stage, if staged
    template = exp.abstract_state()
    checkpoints.check_fits(step, template)
    state = checkpoints.restore(step, template)
    others = [s for s in checkpoints.all_steps() if s != step]
    checkpoints.close()
    health.check_restored(state, f'{checkpoints.directory}/{step}',
                          f'pass --step with another checkpoint (this workdir has {others})'
                          if others else 'it is the only one; train again')
    num_seeds = int(config.get('num_seeds', 1))
    if num_seeds > 1:
        if seed_index is None:
            raise JaxgenError(f'{workdir} trained {num_seeds} seeds in one program; pass '
                              f'--seed_index 0..{num_seeds - 1} to pick one')
        from jaxgen.training import seeds  # pylint: disable=import-outside-toplevel
        exp, state = seeds.select(exp, state, seed_index)
    elif seed_index not in (None, 0):
        raise JaxgenError(f'--seed_index {seed_index}: {workdir} trained one seed')
    return exp, state, step
