"""Rebuild a run from its workdir: config, model and the checkpointed state.

Needs neither the training data nor TensorFlow: the model is rebuilt from the
data description stored in ``config.json``.
"""

from __future__ import annotations

import os

from jaxgen import config as config_lib
from jaxgen.errors import JaxgenError
from jaxgen.training.checkpoint import Checkpoints
from jaxgen.training.experiment import build


def load(workdir: str, step: int | None = None):
    """``(experiment, state, step)`` restored from a workdir's checkpoint."""
    path = os.path.join(workdir, 'config.json')
    if not os.path.isfile(path):
        raise JaxgenError(f'{path} not found; pass the --workdir of a training run')
    with open(path) as f:
        config, extra = config_lib.from_json(f.read())
    exp = build(config, extra['data'])
    checkpoints = Checkpoints(workdir)
    latest = checkpoints.latest_step()
    if latest is None:
        raise JaxgenError(f'{workdir} has no checkpoint yet; train first or wait for one')
    step = latest if step is None else step
    template = exp.abstract_state()
    checkpoints.check_fits(step, template)
    state = checkpoints.restore(step, template)
    checkpoints.close()
    return exp, state, step
