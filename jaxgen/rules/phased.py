"""Any schedule of phases, written in the config.

    config.rule.name = 'phased'
    config.rule.phases = (('encoder:reconstruction', 'decoder:reconstruction'),
                          ('discriminator',),
                          ('encoder:generator',))

Each phase lists ``player`` or ``player:loss`` entries (a bare player
minimises the loss of its own name); phases run in order, each against the
parameters the previous ones produced. ``config.rule.repeats`` optionally
repeats phases; ``config.rule.every`` (one integer per phase, default all 1)
runs phase ``i`` only on the last step of each block of ``every[i]`` steps (lazy
regularisation: StyleGAN2's R1 as a phase ``discriminator:r1`` every 16 steps,
with the term's weight multiplied by 16 in the objective). This is how the
adversarial autoencoder alternates its reconstruction and regularisation
phases, with no special-case trainer code.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import optax

from jaxgen.errors import JaxgenError
from jaxgen.rules.base import UpdateRule, sequential


def parse_phases(spec: Sequence[Sequence[str]]) -> list[dict[str, str]]:
    phases = []
    for entries in spec:
        if isinstance(entries, str):
            entries = (entries,)
        phase = {}
        for entry in entries:
            player, _, loss = str(entry).partition(':')
            phase[player] = loss or player
        if not phase:
            raise JaxgenError(f'config.rule.phases has an empty phase: {spec!r}')
        phases.append(phase)
    return phases


def phased(optimizers: Mapping[str, optax.GradientTransformation],
           phases: Sequence[Sequence[str]],
           repeats: Sequence[int] | None = None,
           every: Sequence[int] | None = None) -> UpdateRule:
    parsed = parse_phases(phases)
    unknown = sorted({p for phase in parsed for p in phase} - set(optimizers))
    if unknown:
        raise JaxgenError(f'config.rule.phases moves {unknown}, which have no optimizer '
                          f'(frozen, or not players); players with optimizers are '
                          f'{sorted(k for k in optimizers if ":" not in k)}')
    return sequential(optimizers, parsed, repeats, every=every)


def build(rule_config, optimizers) -> UpdateRule:
    repeats, every = rule_config.get('repeats'), rule_config.get('every')
    return phased(optimizers, rule_config.phases, tuple(repeats) if repeats else None,
                  tuple(every) if every else None)
