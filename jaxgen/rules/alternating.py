"""Alternating play: the discriminator moves first (``k`` steps, each on a fresh
batch), then every other player moves against the updated discriminator."""

from __future__ import annotations

from typing import Mapping, Sequence

import optax

from jaxgen.rules.base import UpdateRule, sequential


def alternating(optimizers: Mapping[str, optax.GradientTransformation], *,
                d_steps: int = 1,
                first: Sequence[str] = ('discriminator',),
                losses: Mapping[str, str] | None = None) -> UpdateRule:
    """``first`` players for ``d_steps`` steps, then all other players once.

    Args:
      optimizers: one optax transformation per player.
      d_steps: steps of the ``first`` phase per step of the second.
      first: the players of the first phase.
      losses: the loss each player minimises, by default its own name.
    """
    losses = dict(losses or {})
    def phase(players):
        return {p: losses.get(p, p) for p in players}
    rest = [p for p in optimizers if p not in first]
    return sequential(optimizers, [phase(first), phase(rest)], [d_steps, 1])


def build(rule_config, optimizers) -> UpdateRule:
    return alternating(optimizers, d_steps=rule_config.get('d_steps', 1),
                       first=tuple(rule_config.get('first', ('discriminator',))))
