"""Extragradient play (Korpelevich, 1976; Gidel et al., 2019).

Every player moves at once, in two stages per step: from ``theta``, each
player takes a look-ahead step with its optax optimizer to ``theta_half``
(the optimizer state is not committed); then every player's gradient is taken
at ``theta_half`` and applied, with its optimizer, from ``theta``. The
look-ahead anticipates the other players' response, so extragradient converges
on bilinear games where simultaneous gradient steps spiral outward. It
composes with any optax optimizer per player (Adam gives Extra-Adam).
"""

from __future__ import annotations

from typing import Mapping

import optax

from jaxgen.rules.base import UpdateRule, default_grads, sequential


def extragradient_grads(optimizers: Mapping[str, optax.GradientTransformation]):
    """A phase gradient function: the players' gradients at the look-ahead point."""
    def grads_fn(objective, phase, params, model_state, opt_state, batch, key):
        grads, _, _ = default_grads(objective, phase, params, model_state, opt_state,
                                    batch, key)
        half = dict(params)
        for player in phase:
            updates, _ = optimizers[player].update(grads[player], opt_state[player],
                                                   params[player])
            half[player] = optax.apply_updates(params[player], updates)
        return default_grads(objective, phase, half, model_state, opt_state, batch, key)
    return grads_fn


def extragradient(optimizers: Mapping[str, optax.GradientTransformation]) -> UpdateRule:
    return sequential(optimizers, [{p: p for p in optimizers}],
                      grads_fns=[extragradient_grads(optimizers)])


def build(rule_config, optimizers) -> UpdateRule:
    del rule_config
    return extragradient(optimizers)
