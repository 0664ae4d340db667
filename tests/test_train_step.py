"""The trainer's step against the same step written out by hand: root keys, the step's
key ``fold_in(step_key, step)``, the data indices ``step * num_batches + i``, the step
that travels with the batch, the counter, and the weight average at an asymmetric
decay (0.9 of the old average, 0.1 of the new weights), so that swapping the two
weights, or averaging from the raw weights instead of the average, shows."""

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import data
from jaxgen.models.layers import split_variables
from jaxgen.training import experiment
from tests.test_train import ring_config

SEED, DECAY = 3, 0.9


@pytest.fixture(scope='module')
def setup():
    c = ring_config()            # d_steps = 2: two batches per step
    c.seed = SEED
    c.ema.decay = DECAY
    dataset = data.load(c.data, 'train')
    exp = experiment.build(c, dataset.info)
    # A metric term that reports the step the objective sees in its batch.
    forward = exp.objective.forward

    def forward_with_step(variables, batch, key, train=True):
        outputs, state = forward(variables, batch, key, train=train)
        return {**outputs, 'step': batch['step']}, state
    objective = dataclasses.replace(exp.objective, forward=forward_with_step).with_term(
        'seen_step', lambda o: (jnp.asarray(o['step'], jnp.float32), {}))
    return c, dataset, dataclasses.replace(exp, objective=objective)


def keys():
    """The run's root keys, written out: split(key(seed), 3) = init, data, step."""
    init_key, data_key, step_key = jax.random.split(jax.random.key(SEED), 3)
    return init_key, data_key, step_key


def test_initial_state_is_the_model_init_under_the_init_key(setup):
    _, _, exp = setup
    state = exp.init_state()
    expected = {p: split_variables(v) for p, v in exp.model.init(keys()[0]).items()}
    chex.assert_trees_all_equal(state.params, {p: v[0] for p, v in expected.items()})
    chex.assert_trees_all_equal(state.model_state, {p: v[1] for p, v in expected.items()})
    assert int(state.step) == 0
    chex.assert_trees_all_equal(state.ema, {'generator': state.params['generator']})
    chex.assert_trees_all_equal(state.rule_state, exp.rule.init(state.params))


def test_train_step_is_the_rule_update_on_the_step_s_key_and_batches_then_the_average(setup):
    c, dataset, exp = setup
    assert exp.rule.num_batches == 2
    start = exp.init_state()
    # Step 5, with an average that is not the current weights.
    start = start.replace(step=jnp.int32(5),
                          ema={'generator': jax.tree.map(lambda p: p + 1.0,
                                                         start.params['generator'])})

    def by_hand(state, arrays):
        _, data_key, step_key = keys()
        batches = [dataset.draw(arrays, data_key, 5 * 2 + i, c.batch_size) for i in range(2)]
        batches = jax.tree.map(lambda *xs: jnp.stack(xs), *batches)
        batches['step'] = jnp.array([5, 5])
        params, model_state, rule_state, metrics = exp.rule.update(
            exp.objective, state.params, state.model_state, state.rule_state, batches,
            jax.random.fold_in(step_key, 5))
        ema = jax.tree.map(lambda e, p: DECAY * e + (1.0 - DECAY) * p,
                           state.ema['generator'], params['generator'])
        return params, model_state, rule_state, ema, metrics

    params, model_state, rule_state, ema, metrics = jax.jit(by_hand)(start, dataset.arrays)
    got, got_metrics = jax.jit(exp.train_step_fn(dataset.draw, c.batch_size))(
        start, dataset.arrays)
    assert int(got.step) == 6
    tight = dict(rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(got.params, params, **tight)
    chex.assert_trees_all_close(got.model_state, model_state, **tight)
    chex.assert_trees_all_close(got.rule_state, rule_state, **tight)
    chex.assert_trees_all_close(got.ema, {'generator': ema}, **tight)
    assert set(got_metrics) == set(metrics)
    chex.assert_trees_all_close(got_metrics, metrics, **tight)
    assert float(got_metrics['seen_step']) == 5.0
    # Sampling and evaluation read the average for the generator, the raw discriminator.
    variables = exp.variables(got)
    chex.assert_trees_all_equal(variables['generator']['params'], got.ema['generator'])
    chex.assert_trees_all_equal(variables['discriminator']['params'],
                                got.params['discriminator'])


def test_fused_steps_are_single_steps_in_a_row_and_report_the_last(setup):
    c, dataset, exp = setup
    state = exp.init_state()
    single = jax.jit(exp.train_step_fn(dataset.draw, c.batch_size))
    expected = state
    for _ in range(3):
        expected, metrics = single(expected, dataset.arrays)
    fused = exp.make_train_step(dataset.draw, c.batch_size, steps=3)
    got, got_metrics = fused(exp.init_state(), dataset.arrays)
    assert int(got.step) == 3 and float(got_metrics['seen_step']) == 2.0
    chex.assert_trees_all_close(jax.device_get(got), jax.device_get(expected), rtol=1e-5,
                                atol=1e-6)
    chex.assert_trees_all_close(got_metrics, metrics, rtol=1e-5, atol=1e-6)


def test_without_a_decay_nothing_is_averaged():
    c = ring_config()
    assert tuple(c.ema.players) == ('generator',) and c.ema.decay == 0.0
    exp = experiment.build(c, data.load(c.data, 'train').info)
    assert exp.ema == (0.0, ())
    state = exp.init_state()
    assert state.ema == {}
    np.testing.assert_array_equal(
        jax.tree.leaves(exp.variables(state)['generator']['params'])[0],
        jax.tree.leaves(state.params['generator'])[0])
