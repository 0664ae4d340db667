"""Optimistic gradient play (Popov, 1980; Daskalakis et al., 2018).

Every player moves at once, and each extrapolates from its last move: with
``u_t`` what the player's optax optimizer proposes this step, the applied
update is ``(1 + alpha) u_t - alpha u_{t-1}`` (``alpha = 1``: ``2 u_t - u_{t-1}``).
With ``optax.sgd`` this is optimistic gradient descent-ascent, which converges
on bilinear games where simultaneous gradient steps spiral outward; with Adam
it is Optimistic Adam. It composes with any optax optimizer per player.
"""

from __future__ import annotations

from typing import Mapping

import optax

from jaxgen.errors import JaxgenError
from jaxgen.rules.base import UpdateRule, sequential


def optimistic(optimizers: Mapping[str, optax.GradientTransformation], *,
               alpha: float = 1.0) -> UpdateRule:
    if not alpha >= 0.0:
        raise JaxgenError(f'config.rule.alpha must be >= 0, got {alpha}')
    wrapped = {p: optax.chain(opt, optax.scale_by_optimistic_gradient(alpha=1.0, beta=alpha))
               for p, opt in optimizers.items()}
    return sequential(wrapped, [{p: p for p in optimizers}])


def build(rule_config, optimizers) -> UpdateRule:
    return optimistic(optimizers, alpha=rule_config.get('alpha', 1.0))
