"""Helpers shared by tests."""

import jax

from jaxgen import rules


def player_grads(objective, phase, *args, **kwargs):
    """``rules.player_grads`` as one compiled program (op by op, a test would spend
    most of its time compiling every operation of the step on its own)."""
    return jax.jit(lambda *a: rules.player_grads(objective, phase, *a, **kwargs))(*args)


def apply_phase(objective, optimizers, phase, *args, **kwargs):
    """``rules.apply_phase`` as one compiled program."""
    return jax.jit(lambda *a: rules.apply_phase(objective, optimizers, phase, *a, **kwargs))(
        *args)
