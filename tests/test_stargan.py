"""StarGAN (models/translation/stargan.py, objectives/stargan.py, configs/stargan.py):
shapes, the players each term reaches, a reconstruction that targets the original
domain, targets that are the batch's domains reshuffled, G moving every 5th step,
one-line errors."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import stargan as stargan_config
from jaxgen import models
from jaxgen.errors import JaxgenError
from jaxgen.models.layers import split_variables
from jaxgen.training import experiment
from tests import helpers

SHAPE = (28, 28, 1)
NAMES = ['none', 'thin', 'thick', 'swell']
INFO = {'kind': 'images', 'shape': list(SHAPE), 'scale': 'tanh', 'domain_names': NAMES}
BATCH = 4


def tiny_config():
    c = stargan_config.get_config()
    c.model.features, c.model.d_features, c.model.blocks = 4, 4, 1
    c.batch_size = BATCH
    return c


def draw(arrays, key, step, batch_size):
    del arrays
    key = jax.random.fold_in(key, step)
    return {'image': jnp.tanh(jax.random.normal(key, (batch_size, *SHAPE))),
            'domain': jnp.arange(batch_size) % len(NAMES)}


def test_shapes_reach_and_a_reconstruction_into_the_original_domain():
    exp = experiment.build(tiny_config(), INFO)
    variables = exp.model.init(jax.random.key(0))
    batch = draw(None, jax.random.key(1), 0, BATCH)
    outputs = jax.jit(lambda v, b, k: {n: x for n, x in exp.model.forward(v, b, k)[0].items()
                                       if n != 'critic'})(variables, batch, jax.random.key(2))
    chex.assert_shape([outputs['fake'], outputs['reconstruction']], (BATCH, *SHAPE))
    chex.assert_shape([outputs['real_class_logits'], outputs['fake_class_logits']],
                      (BATCH, len(NAMES)))
    np.testing.assert_array_equal(outputs['labels'], batch['domain'])
    assert sorted(np.asarray(outputs['target_labels'])) == sorted(np.asarray(batch['domain']))
    # G(G(x, c'), c): the fake translated back into each image's own domain.
    back = exp.model.translate(variables, outputs['fake'], batch['domain'])
    np.testing.assert_allclose(outputs['reconstruction'], back, atol=1e-5)
    fake = exp.model.translate(variables, batch['image'], outputs['target_labels'])
    np.testing.assert_allclose(outputs['fake'], fake, atol=1e-5)
    params, state = {}, {}
    for player, v in variables.items():
        params[player], state[player] = split_variables(v)
    reach = helpers.term_reach(exp.objective, params, state, batch, jax.random.key(2))
    both = {'generator', 'discriminator'}
    # D is piecewise linear in its input (LeakyReLU, no norm): its input gradient does
    # not change with the interpolate, so the penalty reaches D only (the official
    # code detaches the interpolates anyway, x_fake.data).
    assert reach == {'d_loss': both, 'g_loss': both, 'gradient_penalty': {'discriminator'},
                     'classification_real': {'discriminator'},
                     'classification_fake': both, 'reconstruction': {'generator'}}
    weights = {t.name: dict(t.weights) for t in exp.objective.terms}
    assert weights['classification_real'] == {'discriminator': 1.0}
    assert weights['classification_fake'] == {'generator': 1.0}
    assert weights['reconstruction'] == {'generator': 10.0}


def test_the_generator_moves_on_every_fifth_step_only():
    exp = experiment.build(tiny_config(), INFO)
    step = jax.jit(exp.train_step_fn(draw, BATCH))
    state = exp.init_state()
    for i in range(5):
        before = jax.device_get(state.params)
        state, metrics = step(state, {})
        after = jax.device_get(state.params)
        g_moved = not all(np.array_equal(a, b) for a, b in zip(
            jax.tree.leaves(before['generator']), jax.tree.leaves(after['generator'])))
        assert g_moved == (i == 4), i
        assert not all(np.array_equal(a, b) for a, b in zip(
            jax.tree.leaves(before['discriminator']), jax.tree.leaves(after['discriminator'])))
    assert float(metrics['reconstruction']) > 0  # logged on the step G moved


def test_generate_into_a_domain_and_one_line_errors():
    model = models.build(tiny_config().model, INFO)
    variables = model.init(jax.random.key(0))
    x = np.tanh(np.random.default_rng(0).normal(size=(2, *SHAPE))).astype(np.float32)
    thin = model.generate(variables, {'image': x, 'domain': np.array([1, 1])}, None)
    thick = model.generate(variables, {'image': x, 'domain': np.array([2, 2])}, None)
    chex.assert_shape([thin, thick], (2, *SHAPE))
    assert not np.allclose(thin, thick)
    with pytest.raises(JaxgenError, match='integers 0..3: 0 none, 1 thin, 2 thick, 3 swell'):
        model.generate(variables, {'image': x, 'domain': np.array([4, 0])}, None)
    with pytest.raises(JaxgenError, match='into domains: pass'):
        model.generate(variables, {'image': x}, None)
    with pytest.raises(JaxgenError, match='at least 2 named domains'):
        models.build(tiny_config().model, {**INFO, 'domain_names': None})
