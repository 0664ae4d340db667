"""Every model's output shapes, BatchNorm in train vs sampling mode, and a bundle's
init and sample compiled whole."""

import logging
import re

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from jaxgen import models
from jaxgen.errors import JaxgenError
from jaxgen.models.layers import apply

MLP = ml_collections.ConfigDict(dict(name='mlp', latent_dim=16, g_hidden=(32, 32),
                                     d_hidden=(32,)))
DCGAN = ml_collections.ConfigDict(dict(name='dcgan', latent_dim=8, features=8))


@pytest.mark.parametrize('config,shape', [
    (MLP, (2,)),
    (DCGAN, (28, 28, 1)),
    (DCGAN, (32, 32, 3)),
    (DCGAN, (64, 64, 3)),
])
def test_generator_and_discriminator_shapes(config, shape):
    model = models.build(config, {'shape': list(shape)})
    variables = model.init(jax.random.key(0))
    assert set(variables) == {'generator', 'discriminator'}
    batch = 3
    z = model.sample_latent(jax.random.key(1), batch)
    chex.assert_shape(z, (batch, config.latent_dim))
    data = {'x' if len(shape) == 1 else 'image': jnp.zeros((batch, *shape))}

    def run(variables, z, key):  # one compiled program, not op by op
        players = {}
        for train in (True, False):
            x, _ = apply(model.generator, variables['generator'], z, train=train)
            logits, _ = apply(model.discriminator, variables['discriminator'], x, train=train)
            players[train] = (x, logits)
        outputs, new_state = model.forward(variables, data, key, train=True)
        return players, [outputs[k] for k in ('real_logits', 'fake_logits', 'fake')], new_state

    players, (real_logits, fake_logits, fake), new_state = jax.jit(run)(
        variables, z, jax.random.key(2))
    for x, logits in players.values():
        chex.assert_shape(x, (batch, *shape))
        chex.assert_shape(logits, (batch,))
        chex.assert_tree_all_finite((x, logits))
    if len(shape) == 3:  # tanh output
        assert float(jnp.max(jnp.abs(x))) <= 1.0
    chex.assert_shape([real_logits, fake_logits], (batch,))
    chex.assert_shape(fake, (batch, *shape))
    assert set(new_state) == {'generator', 'discriminator'}
    samples = model.sample(variables, jax.random.key(3), 5)
    chex.assert_shape(samples, (5, *shape))


def test_dcgan_rejects_sizes_it_cannot_build():
    with pytest.raises(JaxgenError, match='28, 32 or 64'):
        models.build(DCGAN, {'shape': [100, 100, 3]}).init(jax.random.key(0))
    with pytest.raises(JaxgenError, match='image data'):
        models.build(DCGAN, {'shape': [2]})


def test_unknown_model_names_the_choices():
    with pytest.raises(JaxgenError, match="unknown model 'dcgam'.*dcgan.*mlp"):
        models.build(ml_collections.ConfigDict({'name': 'dcgam'}), {'shape': [2]})


def test_batchnorm_train_updates_statistics_and_sampling_uses_them():
    model = models.build(DCGAN, {'shape': [28, 28, 1]})
    variables = model.init(jax.random.key(0))
    g_vars = variables['generator']
    z = model.sample_latent(jax.random.key(1), 16)
    _, new_state = apply(model.generator, g_vars, z, train=True)
    before = jax.tree.leaves(g_vars['batch_stats'])
    after = jax.tree.leaves(new_state['batch_stats'])
    assert any(not np.allclose(a, b) for a, b in zip(before, after)), 'train mode must update'
    _, same = apply(model.generator, g_vars, z, train=False)
    chex.assert_trees_all_equal(same['batch_stats'], g_vars['batch_stats'])

    # Sampling normalises with the running averages: a sample does not depend
    # on what else is in its batch, whereas in train mode it does.
    trained = {**g_vars, **new_state}
    sample_alone = model.generator.apply(trained, z[:1], train=False)
    sample_in_batch = model.generator.apply(trained, z, train=False)[:1]
    np.testing.assert_allclose(sample_alone, sample_in_batch, atol=1e-5)
    train_alone, _ = apply(model.generator, trained, z[:2], train=True)
    train_in_batch, _ = apply(model.generator, trained, z, train=True)
    assert not np.allclose(train_alone[:1], train_in_batch[:1], atol=1e-3)


def _lowered(caplog, fn):
    """``fn()`` and the names of the programs JAX lowered (compiled) while it ran."""
    caplog.clear()
    with jax.log_compiles(True), caplog.at_level(logging.DEBUG):
        out = jax.block_until_ready(fn())
    return out, re.findall(r'MLIR module conversion jit\((\w+)\)', caplog.text)


def test_init_and_sample_run_as_one_compiled_program_per_model(caplog):
    """From the host, a bundle's init and sample are one program each, not one per
    operation of every layer, and compile once per model and shape."""
    model = models.build(DCGAN, {'shape': [28, 28, 1]})
    key = jax.random.key(0)
    variables, names = _lowered(caplog, lambda: model.init(key))
    assert names == ['init']
    assert _lowered(caplog, lambda: model.init(jax.random.key(1)))[1] == []
    _, names = _lowered(caplog, lambda: model.sample(variables, key, 5))
    assert names == ['sample']
    assert _lowered(caplog, lambda: model.sample(variables, jax.random.key(2), 5))[1] == []
    chex.assert_shape(model.sample(variables, key, num=5), (5, 28, 28, 1))  # still static
    assert _lowered(caplog, lambda: model.sample(variables, key, 6))[1] == ['sample']


@pytest.mark.parametrize('name', ['dcgan', 'cgan'])
def test_tanh_generators_refuse_unit_pixels(name):
    """A tanh generator against data in [0, 1] would train on mismatched ranges."""
    config = ml_collections.ConfigDict({'name': name, 'features': 8, 'latent_dim': 4})
    info = {'shape': [28, 28, 1], 'num_classes': 10}
    models.build(config, {**info, 'scale': 'tanh'})
    with pytest.raises(JaxgenError, match=f"{name}'s generator draws pixels in \\[-1, 1\\]"):
        models.build(config, {**info, 'scale': 'unit'})
