"""pix2pix (models/translation/pix2pix.py, objectives/pix2pix.py, configs/pix2pix.py):
shapes, which players each term reaches, one trace per run, a resumed run equal to
an uninterrupted one, and one-line errors for input it cannot take."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import pix2pix as pix2pix_config
from jaxgen import models
from jaxgen.errors import JaxgenError
from jaxgen.models.layers import split_variables
from jaxgen.training import experiment
from tests import helpers

SHAPE = (16, 16, 1)  # small: these tests are compile-bound
INFO = {'kind': 'paired', 'shape': list(SHAPE), 'scale': 'tanh'}
BATCH = 4


def tiny_config():
    c = pix2pix_config.get_config()
    c.model.features = 4
    c.model.receptive_field = 16
    c.batch_size = BATCH
    return c


def draw(arrays, key, step, batch_size):
    """Pairs whose target is a fixed function of the input (its negative)."""
    del arrays
    a = jnp.tanh(jax.random.normal(jax.random.fold_in(key, step), (batch_size, *SHAPE)))
    return {'image_a': a, 'image_b': -a}


def test_forward_shapes_and_the_players_each_term_reaches():
    exp = experiment.build(tiny_config(), INFO)
    variables = exp.model.init(jax.random.key(0))
    params, state = {}, {}
    for player, v in variables.items():
        params[player], state[player] = split_variables(v)
    batch = draw(None, jax.random.key(1), 0, BATCH)
    outputs = jax.jit(lambda v, b, k: {n: x for n, x in exp.model.forward(v, b, k)[0].items()
                                       if n != 'critic'})(variables, batch, jax.random.key(2))
    chex.assert_shape(outputs['translation'], (BATCH, *SHAPE))
    chex.assert_shape([outputs['real'], outputs['fake']], (BATCH, *SHAPE[:2], 2))  # the pairs
    chex.assert_equal_shape([outputs['real_logits'], outputs['fake_logits']])
    assert outputs['real_logits'].ndim == 3  # a patch map [B, h, w]
    reach = helpers.term_reach(exp.objective, params, state, batch, jax.random.key(2))
    assert reach == {'d_loss': {'generator', 'discriminator'},  # D(x, G(x)) depends on G
                     'g_loss': {'generator', 'discriminator'},
                     'l1': {'generator'}}
    # ... and each loss is given to its own player only.
    weights = {t.name: dict(t.weights) for t in exp.objective.terms}
    assert weights == {'d_loss': {'discriminator': 0.5}, 'g_loss': {'generator': 1.0},
                       'l1': {'generator': 100.0}}


def test_the_step_traces_once_and_a_restored_run_continues_bit_exactly(tmp_path):
    straight = helpers.traced_once_and_resumed(experiment.build(tiny_config(), INFO), draw,
                                               BATCH, tmp_path)
    assert float(straight[-1][1]['l1']) > 0
    straight = [s for s, _ in straight]
    stats = straight[-1].model_state['generator']['batch_stats']  # BatchNorm moved
    assert any(float(jnp.abs(x).sum()) > 0 for x in jax.tree.leaves(stats))


def test_generate_translates_deterministically_and_refuses_what_it_cannot_take():
    model = models.build(tiny_config().model, INFO)
    variables = model.init(jax.random.key(0))
    x = np.zeros((3, *SHAPE), np.float32)
    a = model.generate(variables, {'image': x}, jax.random.key(1))
    b = model.generate(variables, {'image': x}, jax.random.key(2))
    chex.assert_shape(a, (3, *SHAPE))
    np.testing.assert_array_equal(a, b)  # dropout off when sampling by default
    with pytest.raises(JaxgenError, match=r'16x16 images with 1 channel.*shape \(3, 32, 32, 1\)'):
        model.generate(variables, {'image': np.zeros((3, 32, 32, 1))}, jax.random.key(1))
    with pytest.raises(JaxgenError, match='translates images: pass'):
        model.generate(variables, {'num': 3}, jax.random.key(1))
    with pytest.raises(JaxgenError, match='aligned pairs .* holds images'):
        models.build(tiny_config().model, {'kind': 'images', 'shape': list(SHAPE)})
