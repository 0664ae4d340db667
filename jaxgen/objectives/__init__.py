"""Objectives: a loss per player from weighted, composable terms."""

from jaxgen import registry
from jaxgen.objectives.base import Aux, Objective, WeightedTerm, empty, in_precision


def build(objective_config, model) -> Objective:
    """The objective named ``objective_config.name`` over ``model``."""
    module = registry.lookup('jaxgen.objectives', objective_config.name, 'objective')
    return module.build(objective_config, model)


__all__ = ['Aux', 'Objective', 'WeightedTerm', 'build', 'empty', 'in_precision']
