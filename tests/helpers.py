"""Helpers shared by tests."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import rules
from jaxgen.models.layers import split_variables


def player_grads(objective, phase, *args, **kwargs):
    """``rules.player_grads`` as one compiled program (op by op, a test would spend
    most of its time compiling every operation of the step on its own)."""
    return jax.jit(lambda *a: rules.player_grads(objective, phase, *a, **kwargs))(*args)


def init_players(model, seed: int = 0):
    """``(params, state)`` per player of ``model.init(key(seed))``."""
    params, state = {}, {}
    for player, variables in model.init(jax.random.key(seed)).items():
        params[player], state[player] = split_variables(variables)
    return params, state


def apply_phase(objective, optimizers, phase, *args, **kwargs):
    """``rules.apply_phase`` as one compiled program."""
    return jax.jit(lambda *a: rules.apply_phase(objective, optimizers, phase, *a, **kwargs))(
        *args)


def assert_layer_matches_flax(flax_layer, ours, x):
    """``ours`` has ``flax_layer``'s parameter shapes, its forward pass exactly, and
    its gradients (parameters and input) to float rounding."""
    variables = flax_layer.init(jax.random.key(1), x)
    assert (jax.tree.map(jnp.shape, ours.init(jax.random.key(1), x))
            == jax.tree.map(jnp.shape, variables))  # checkpoints load either way
    y = flax_layer.apply(variables, x)
    np.testing.assert_array_equal(ours.apply(variables, x), y)

    cotangent = jax.random.normal(jax.random.key(2), y.shape)

    def grads(layer):
        return jax.grad(lambda v, x: jnp.sum(layer.apply(v, x) * cotangent), (0, 1))(
            variables, x)
    expected, got = grads(flax_layer), grads(ours)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(jnp.abs(b).max()))
