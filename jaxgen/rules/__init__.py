"""Update rules over named players, each with its own optax optimizer."""

from jaxgen import registry
from jaxgen.rules.alternating import alternating
from jaxgen.rules.base import UpdateRule, apply_phase, player_grads, sequential
from jaxgen.rules.simultaneous import simultaneous


def build(rule_config, optimizers) -> UpdateRule:
    """The rule named ``rule_config.name`` over ``optimizers`` ({player: optax})."""
    module = registry.lookup('jaxgen.rules', rule_config.name, 'update rule')
    return module.build(rule_config, optimizers)


__all__ = ['UpdateRule', 'alternating', 'apply_phase', 'build', 'player_grads',
           'sequential', 'simultaneous']
