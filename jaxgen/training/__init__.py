"""Experiment assembly, the jitted step, checkpoints and the training loop."""

from jaxgen.training.checkpoint import Checkpoints
from jaxgen.training.experiment import Experiment, TrainState, build, root_keys
from jaxgen.training.loop import Result, prepare, train

__all__ = ['Checkpoints', 'Experiment', 'Result', 'TrainState', 'build', 'prepare',
           'root_keys', 'train']
