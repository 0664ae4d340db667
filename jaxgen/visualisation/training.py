"""Pictures of a run's logged scalars: loss terms, and information bounds against
their ceilings."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from jaxgen.visualisation.curves import plot_curves

Series = Mapping[str, Sequence[tuple[int, float]]]


def training_curves(scalars: Series) -> dict[str, np.ndarray]:
    """``losses``: every objective term (top-level names); ``bounds``: each
    ``<term>/L_I`` with its ``<term>/H(c)`` ceiling, when the run logs any."""
    pictures = {}
    terms = {k: v for k, v in scalars.items() if '/' not in k and k != 'steps_per_sec'}
    if terms:
        pictures['losses'] = plot_curves(terms, title='objective terms', ylabel='value')
    bounds = {k: v for k, v in scalars.items() if k.endswith('/L_I')}
    if bounds:
        ceilings = {}
        for name in bounds:
            values = scalars.get(name[:-len('L_I')] + 'H(c)')
            if values:
                ceilings[f'{name[:-len("/L_I")]} H(c) = {values[-1][1]:.3f}'] = values[-1][1]
        pictures['information'] = plot_curves(bounds, hlines=ceilings,
                                              title='information lower bound L_I',
                                              ylabel='nats')
    return pictures
