"""A GAN on points with known modes: the VEEGAN mode coverage of its samples."""

from __future__ import annotations

from jaxgen.data import kinds
from jaxgen.metrics.modes import mode_coverage


def evaluation(model):
    """Mode coverage for ``points`` data (whose ``info`` holds ``centers`` and ``std``);
    nothing of its own for other data."""
    if kinds.kind(model.data_info) != 'points':
        return None

    def evaluate(variables, arrays, key, num_samples: int = 2500) -> dict[str, float]:
        del arrays  # the modes are in data_info
        samples = model.generate(variables, {'num': num_samples}, key)
        return mode_coverage(samples, model.data_info['centers'], model.data_info['std'])
    return evaluate
