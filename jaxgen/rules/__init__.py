"""Update rules over named players, each with its own optax optimizer."""

from jaxgen import registry
from jaxgen.errors import JaxgenError
from jaxgen.rules.alternating import alternating
from jaxgen.rules.base import UpdateRule, apply_phase, player_grads, sequential
from jaxgen.rules.simultaneous import simultaneous


def build(rule_config, optimizers) -> UpdateRule:
    """The rule named ``rule_config.name`` over ``optimizers`` ({player: optax}, plus
    ``'player:loss'`` entries from ``config.optimizers.<player>.per_loss``)."""
    module = registry.lookup('jaxgen.rules', rule_config.name, 'update rule')
    per_loss = sorted(k for k in optimizers if ':' in k)
    if per_loss and rule_config.name != 'phased':
        raise JaxgenError(f'config.optimizers gives {per_loss} an optimizer per loss, which only '
                          f"rule 'phased' uses (a player moving for several losses); rule "
                          f'{rule_config.name!r} moves each player for its own loss')
    if rule_config.get('every') and rule_config.name != 'phased':
        raise JaxgenError(f'config.rule.every runs phases every k steps, which only rule '
                          f"'phased' reads (config.rule.phases); rule {rule_config.name!r} "
                          'would ignore it')
    return module.build(rule_config, optimizers)


__all__ = ['UpdateRule', 'alternating', 'apply_phase', 'build', 'player_grads',
           'sequential', 'simultaneous']
