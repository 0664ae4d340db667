"""Game dynamics: the unrolled GAN rule, optimistic and extragradient play."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.objectives.base import Objective
from jaxgen.rules.alternating import alternating
from jaxgen.rules.extragradient import extragradient
from jaxgen.rules.optimistic import optimistic
from jaxgen.rules.simultaneous import simultaneous
from jaxgen.rules.unrolled import unrolled, unrolled_grads
from tests.test_rules import setup, tree_equal


def bilinear():
    """min_x max_y x * y: player x minimises x*y, player y minimises -x*y."""
    def forward(variables, batch, key, train=True):
        del batch, key, train
        return {'x': variables['x']['params'], 'y': variables['y']['params']}, {'x': {}, 'y': {}}
    objective = Objective(forward=forward, players=('x', 'y')).with_term(
        'xy', lambda o: (o['x'] * o['y'], {}), x=1.0, y=-1.0)
    params = {'x': jnp.asarray(1.0), 'y': jnp.asarray(1.0)}
    return objective, params


def play(rule, steps=300):
    objective, params = bilinear()
    state, model_state = rule.init(params), {'x': {}, 'y': {}}
    batches = {'step': jnp.zeros((rule.num_batches,))}
    update = jax.jit(lambda p, s: rule.update(objective, p, model_state, s, batches,
                                              jax.random.key(0))[::2])
    for _ in range(steps):
        params, state = update(params, state)
    return float(jnp.hypot(params['x'], params['y']))


def test_bilinear_game_simultaneous_spirals_out_optimistic_and_extragradient_converge():
    opts = {'x': optax.sgd(0.2), 'y': optax.sgd(0.2)}
    start = float(np.hypot(1.0, 1.0))
    # Simultaneous steps multiply the distance to (0, 0) by sqrt(1 + lr^2) each step.
    assert play(simultaneous(opts)) == pytest.approx(start * 1.04 ** 150, rel=1e-3)
    assert play(optimistic(opts)) < 0.01 * start
    assert play(extragradient(opts)) < 0.01 * start
    # Alternating (Gauss-Seidel) steps neither spiral out nor converge: they cycle.
    assert 0.5 * start < play(alternating(opts, first=('x',))) < 2 * start


def run_rule(rule, objective, params, state, batches):
    return rule.update(objective, params, state, rule.init(params), batches, jax.random.key(3))


def test_unrolled_with_zero_steps_is_the_plain_rule_exactly():
    _, objective, params, state, batches = setup()
    opts = {'generator': optax.adam(1e-2), 'discriminator': optax.adam(1e-2)}
    plain = run_rule(alternating(opts), objective, params, state, batches)
    zero = run_rule(unrolled(opts, unroll_steps=0), objective, params, state, batches)
    assert tree_equal(plain[0], zero[0])
    assert tree_equal(plain[3], zero[3])


def test_unrolled_rejects_bad_settings():
    opts = {'generator': optax.sgd(1.0), 'discriminator': optax.sgd(1.0)}
    with pytest.raises(JaxgenError, match='unroll_steps'):
        unrolled(opts, unroll_steps=-1)
    with pytest.raises(JaxgenError, match="'critic' player"):
        unrolled(opts, discriminator='critic')


def test_simultaneous_unrolled_with_zero_steps_is_the_simultaneous_rule():
    _, objective, params, state, batches = setup()
    opts = {'generator': optax.adam(1e-2), 'discriminator': optax.adam(1e-2)}
    plain = run_rule(simultaneous(opts), objective, params, state, batches)
    zero = run_rule(unrolled(opts, unroll_steps=0, simultaneous=True), objective, params,
                    state, batches)
    assert tree_equal(plain[0], zero[0])
    assert tree_equal(plain[3], zero[3])


def test_simultaneous_unrolled_unrolls_from_the_discriminator_before_its_step():
    _, objective, params, state, batches = setup()
    batch = jax.tree.map(lambda x: x[0], batches)
    # SGD for the generator, so its step is its gradient (Adam's first is its sign).
    opts = {'generator': optax.sgd(0.5), 'discriminator': optax.adam(1e-2, eps_root=1e-8)}
    step = run_rule(unrolled(opts, unroll_steps=3, simultaneous=True), objective, params,
                    state, batches)
    plain = run_rule(simultaneous(opts), objective, params, state, batches)
    # The discriminator moves exactly as in simultaneous play ...
    assert tree_equal(step[0]['discriminator'], plain[0]['discriminator'])
    assert not tree_equal(step[0]['generator'], plain[0]['generator'])

    # ... and the generator by its gradient through 3 discriminator steps unrolled
    # from the *initial* discriminator, not from the one after this step's update.
    def generator_after(d_params):
        point = {**params, 'discriminator': d_params}
        d_state = {'discriminator': opts['discriminator'].init(d_params)}
        grads = unrolled_grads(opts['discriminator'], 3)(
            objective, {'generator': 'generator'}, point, state, d_state, batch,
            jax.random.fold_in(jax.random.fold_in(jax.random.key(3), 0), 0))[0]
        return jax.tree.map(lambda p, g: p - 0.5 * g, params['generator'],
                            grads['generator'])
    chex.assert_trees_all_close(step[0]['generator'],
                                generator_after(params['discriminator']),
                                rtol=1e-6, atol=1e-7)
    moved = generator_after(step[0]['discriminator'])
    assert max(float(jnp.max(jnp.abs(a - b))) for a, b in
               zip(jax.tree.leaves(moved), jax.tree.leaves(step[0]['generator']))) > 1e-4


def test_simultaneous_unrolled_rejects_several_discriminator_steps():
    opts = {'generator': optax.sgd(1.0), 'discriminator': optax.sgd(1.0)}
    with pytest.raises(JaxgenError, match='d_steps must be 1 with rule.simultaneous'):
        unrolled(opts, unroll_steps=2, d_steps=2, simultaneous=True)
    with pytest.raises(JaxgenError, match='rule.simultaneous must be true or false'):
        unrolled(opts, simultaneous='yes')
