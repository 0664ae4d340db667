"""CycleGAN (models/translation/cyclegan.py, objectives/cyclegan.py,
configs/cyclegan.py): shapes, the players each term reaches, cycle and identity
terms that vanish for identity generators, per-discriminator pools saved with the
run, one trace, a restored run continuing bit-exactly, one-line errors."""

import dataclasses

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import cyclegan as cyclegan_config
from jaxgen import models
from jaxgen.errors import JaxgenError
from jaxgen.models.layers import split_variables
from jaxgen.objectives.cyclegan import cyclegan_objective
from jaxgen.training import experiment
from tests import helpers

SHAPE = (16, 16, 1)  # small: these tests are compile-bound
INFO = {'kind': 'unpaired', 'shape': list(SHAPE), 'scale': 'tanh'}
BATCH = 3


def tiny_config():
    c = cyclegan_config.get_config()
    c.model.features, c.model.blocks, c.model.history_size = 4, 1, 5
    c.model.receptive_field = 16
    c.batch_size = BATCH
    return c


def draw(arrays, key, step, batch_size):
    del arrays
    ka, kb = jax.random.split(jax.random.fold_in(key, step))
    return {'image_a': jnp.tanh(jax.random.normal(ka, (batch_size, *SHAPE))),
            'image_b': jnp.tanh(jax.random.normal(kb, (batch_size, *SHAPE)) + 1.0)}


def split(variables):
    params, state = {}, {}
    for player, v in variables.items():
        params[player], state[player] = split_variables(v)
    return params, state


def test_shapes_and_the_players_each_term_reaches():
    exp = experiment.build(tiny_config(), INFO)
    variables = exp.model.init(jax.random.key(0))
    batch = draw(None, jax.random.key(1), 0, BATCH)
    outputs = jax.jit(lambda v, b, k: {n: x for n, x in exp.model.forward(v, b, k)[0].items()
                                       if not n.startswith('critic')})(
        variables, batch, jax.random.key(2))
    for x in 'ab':
        chex.assert_shape([outputs[f'{kind}_{x}'] for kind in ('fake', 'cycle', 'identity')],
                          (BATCH, *SHAPE))
        assert outputs[f'real_logits_{x}'].ndim == 3  # patch maps
    reach = helpers.term_reach(exp.objective, *split(variables), batch, jax.random.key(2))
    assert reach == {
        'd_loss_a': {'discriminator_a'}, 'd_loss_b': {'discriminator_b'},  # pooled fakes
        'g_loss_a': {'generator_ba', 'discriminator_a'},
        'g_loss_b': {'generator_ab', 'discriminator_b'},
        'cycle_a': {'generator_ab', 'generator_ba'}, 'cycle_b': {'generator_ab', 'generator_ba'},
        'identity_a': {'generator_ba'}, 'identity_b': {'generator_ab'}}


class Identity(nn.Module):
    @nn.compact
    def __call__(self, x, train=False):
        del train
        return x + 0.0 * self.param('unused', nn.initializers.zeros, ())


def test_cycle_and_identity_terms_vanish_for_identity_generators():
    model = models.build(tiny_config().model, INFO)
    model = dataclasses.replace(model, generator=Identity())
    objective = cyclegan_objective(model)
    variables = model.init(jax.random.key(0))
    _, aux = jax.jit(objective)(*split(variables), draw(None, jax.random.key(1), 0, BATCH),
                                jax.random.key(2))
    for name in ('cycle_a', 'cycle_b', 'identity_a', 'identity_b'):
        assert float(aux.metrics[name]) == 0.0, name
    assert float(aux.metrics['g_loss_a']) > 0


def test_pools_fill_trace_once_and_a_restored_run_continues_bit_exactly(tmp_path):
    straight = helpers.traced_once_and_resumed(experiment.build(tiny_config(), INFO), draw,
                                               BATCH, tmp_path)
    for x in 'ab':  # one push of BATCH fakes per discriminator phase: full after two
        pool = straight[-1][0].model_state[f'discriminator_{x}']['history']
        assert int(pool['count']) == 5 and float(np.abs(pool['images']).min()) > 0


def test_generate_translates_either_way_and_refuses_what_it_cannot_take():
    model = models.build(tiny_config().model, INFO)
    variables = model.init(jax.random.key(0))
    x = np.tanh(np.random.default_rng(0).normal(size=(2, *SHAPE))).astype(np.float32)
    ab = model.generate(variables, {'image_a': x}, jax.random.key(0))
    ba = model.generate(variables, {'image_b': x}, jax.random.key(0))
    chex.assert_shape([ab, ba], (2, *SHAPE))
    assert not np.array_equal(ab, ba)  # two generators
    with pytest.raises(JaxgenError, match='one domain at a time'):
        model.generate(variables, {'image_a': x, 'image_b': x}, jax.random.key(0))
    with pytest.raises(JaxgenError, match='16x16 images with 1 channel'):
        model.generate(variables, {'image_a': np.zeros((2, 16, 16, 3))}, jax.random.key(0))
    with pytest.raises(JaxgenError, match='two unpaired domains .* holds paired'):
        models.build(tiny_config().model, {**INFO, 'kind': 'paired'})
