"""Sampling, completion, the NLL objective, the trainer's step and the test NLL of the
autoregressive models (jaxgen/models/autoregressive/, objectives/nll.py,
metrics/own/autoregressive.py)."""

import dataclasses
import math

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from configs import nade as nade_config
from jaxgen import metrics, models, objectives
from jaxgen.visualisation import pictures
from jaxgen.objectives import nll as nll_objective
from jaxgen.data.pixels import binarize_static
from jaxgen.errors import JaxgenError
from jaxgen.models.autoregressive.base import draw, log_prob_from_logits
from jaxgen.training import experiment
from tests.test_autoregressive import BINARY, built


def test_cached_pixelcnn_sampler_draws_what_the_naive_one_draws():
    cached, variables = built('pixelcnn', (2, 3, 3), 'categorical')
    naive = dataclasses.replace(cached, cached=False)
    a = cached.generate(variables, {'num': 6}, jax.random.key(1))
    b = naive.generate(variables, {'num': 6}, jax.random.key(1))
    chex.assert_shape(a, (6, 2, 3, 3))
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(np.asarray(a))) > 20  # drawn, not constant
    np.testing.assert_allclose(cached.images(cached.values(a)), a)  # on the 8-bit grid
    # Completions (the same compiled programs): the upper row and the red of the next
    # pixel kept, the rest drawn alike by both samplers.
    known = np.zeros((2, 3, 3), bool)
    known[0], known[1, 0, 0] = True, True
    c = cached.generate(variables, {'image': b[::-1], 'known': known}, jax.random.key(3))
    np.testing.assert_array_equal(c, naive.generate(variables, {'image': b[::-1], 'known': known},
                                                    jax.random.key(3)))
    np.testing.assert_array_equal(c[:, known], b[::-1][:, known])
    assert not np.array_equal(c[:, ~known], b[::-1][:, ~known])


@pytest.mark.parametrize('name', ['nade', 'nade_random'])
def test_nade_running_sampler_draws_what_the_naive_one_draws(name):
    model, variables = built(name)
    rng = np.random.default_rng(5)
    variables = jax.tree.map(lambda a: 3 * a + rng.normal(size=a.shape).astype(np.float32),
                             variables)
    fast = model.generate(variables, {'num': 8}, jax.random.key(1))
    logits = jax.jit(model.logits)
    values = jnp.zeros((8, 3, 3, 1), jnp.int32)
    for d in model.order():  # the whole network for every pixel, in the model's order
        value = draw(jax.random.key(1), d, logits(variables, values).reshape(8, 9, 1)[:, d])
        values = values.reshape(8, 9).at[:, d].set(value).reshape(values.shape)
    np.testing.assert_array_equal(fast, values)
    assert 0 < float(fast.mean()) < 1


def test_a_completion_must_be_a_prefix_in_the_model_order():
    model, variables = built('pixelcnn')
    x = np.zeros((2, 3, 3, 1), np.float32)
    for known in (np.arange(3)[:, None] >= 1, np.eye(3, dtype=bool)):  # lower rows, diagonal
        with pytest.raises(JaxgenError, match='prefix in the model'):
            model.generate(variables, {'image': x, 'known': known}, jax.random.key(0))
    shuffled, shuffled_vars = built('nade_random')
    with pytest.raises(JaxgenError, match='prefix in the model'):  # upper rows: not its order
        shuffled.complete_lower_half(shuffled_vars, x, jax.random.key(0))
    with pytest.raises(JaxgenError, match='does not read label'):
        model.generate(variables, {'label': np.zeros(2)}, jax.random.key(0))


def tiny_experiment():
    """NADE trained order-agnostically (its initialisers compile in a second; a
    PixelCNN's took five)."""
    c = nade_config.get_config('orderless')
    c.model.hidden_units = 4
    c.batch_size = 4
    return experiment.build(c, {**BINARY, 'shape': [3, 3, 1]})


def draw_images(arrays, key, step, batch_size):
    del arrays
    return {'image': jax.random.bernoulli(jax.random.fold_in(key, step), 0.5,
                                          (batch_size, 3, 3, 1)).astype(jnp.float32)}


def test_the_train_step_traces_once_and_logs_the_nll_in_nats():
    exp = tiny_experiment()
    chex.clear_trace_counter()
    step = jax.jit(chex.assert_max_traces(exp.train_step_fn(draw_images, 4), n=1))
    state = exp.init_state()
    for _ in range(3):
        state, logged = step(state, {})
    assert 0 < float(logged['nll']) < 9 * math.log(2) * 1.5
    assert 'nll/bits_per_dim' not in logged  # binary data: nats only
    chex.assert_tree_all_finite(state.params)
    # The term: -mean log p(x) in nats, and for 8-bit data in bits per dimension.
    value, metrics_ = nll_objective.nll_term(True)({'log_prob': jnp.array([-1.0, -3.0]),
                                                    'num_dims': 9})
    np.testing.assert_allclose([value, metrics_['bits_per_dim']], [2.0, 2 / (9 * math.log(2))],
                               rtol=1e-6)
    assert [t.weights for t in exp.objective.terms] == [(('model', 1.0),)]
    with pytest.raises(JaxgenError, match='no effect'):
        objectives.build(ml_collections.ConfigDict({'name': 'nll', 'beta': 2.0}), exp.model)
    vae = models.build(ml_collections.ConfigDict(dict(
        name='vae', architecture='mlp', hidden=(4,), latent_dim=2, likelihood='bernoulli',
        stochastic=True, num_samples=1, eval_samples=1)), {**BINARY, 'shape': [3, 3, 1]})
    with pytest.raises(JaxgenError, match='exact likelihood'):
        objectives.build(ml_collections.ConfigDict({'name': 'nll'}), vae)


def test_the_test_nll_is_exact_on_the_test_set_binarised_once_with_seed_0():
    model, variables = built('nade')
    images = np.asarray(jax.random.randint(jax.random.key(6), (7, 3, 3, 1), 0, 256), np.uint8)
    evaluate = metrics.own.for_model(model)
    out = evaluate(variables, {'image': images}, jax.random.key(0))
    binary = binarize_static(images, seed=0) / 255.0
    np.testing.assert_allclose(out['nll_nats'], -model.log_prob(variables, binary).mean(),
                               rtol=1e-6)
    # EoNADE: log of the mean of p(x | ordering) over the fixed and two seeded orderings.
    ensemble = evaluate(variables, {'image': images}, jax.random.key(0), orderings=3)
    values = jnp.asarray(binary, jnp.int32)
    lls = jax.jit(lambda v: [log_prob_from_logits(model.logits(v, values, o), values)
                             for o in model.orderings(3)])(variables)
    np.testing.assert_allclose(ensemble['nll_nats_ensemble3'],
                               -np.mean(jax.nn.logsumexp(jnp.stack(lls), 0) - np.log(3)),
                               rtol=1e-6)
    assert not np.allclose(lls[0], lls[1])


def test_pictures_are_samples_and_lower_half_completions():
    model, variables = built('pixelcnn')
    examples = {'image': np.asarray(jax.random.bernoulli(jax.random.key(7), 0.5,
                                                         (20, 3, 3, 1)), np.float32)}
    out = pictures.pictures(model, variables, jax.random.key(0), examples)
    assert set(out) == {'samples', 'completions'}
    assert all(p.dtype == np.uint8 and p.ndim in (2, 3) for p in out.values())
    shuffled, shuffled_vars = built('nade_random')  # no upper-half prefix in its order
    assert set(pictures.pictures(shuffled, shuffled_vars, jax.random.key(0), examples)) == {
        'samples'}
