"""Simultaneous play: every player's gradient at the same point, then all move."""

from __future__ import annotations

from typing import Mapping

import optax

from jaxgen.rules.base import UpdateRule, sequential


def simultaneous(optimizers: Mapping[str, optax.GradientTransformation], *,
                 losses: Mapping[str, str] | None = None) -> UpdateRule:
    losses = dict(losses or {})
    return sequential(optimizers, [{p: losses.get(p, p) for p in optimizers}])


def build(rule_config, optimizers) -> UpdateRule:
    del rule_config
    return simultaneous(optimizers)
