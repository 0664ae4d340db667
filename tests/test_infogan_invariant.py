"""InfoGAN's invariant information term: the image transforms it reads through, and
where the term's gradients go."""

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from configs import infogan as infogan_config
from jaxgen import models, objectives
from jaxgen.errors import JaxgenError
from jaxgen.models.layers.augment import RandomAffine, affine
from jaxgen.objectives.gan import gan_objective
from jaxgen.objectives.infogan import infogan_objective
from tests import helpers

INFO = {'shape': [28, 28, 1], 'scale': 'tanh'}
MODEL = dict(name='infogan', noise_dim=62, categorical=(10,), continuous=2)
AUGMENT = dict(augment_rotate=15.0, augment_scale=0.1, augment_shift=2.0)


def _images(n=3):
    return jax.random.uniform(jax.random.key(0), (n, 28, 28, 1), minval=-1, maxval=1)


def _transform(images, angle=0.0, scale=1.0, shift=(0.0, 0.0), fill=-1.0):
    n = images.shape[0]
    return jax.jit(affine, static_argnums=4)(
        images, jnp.full((n,), angle), jnp.full((n,), scale), jnp.tile(jnp.array([shift]), (n, 1)),
        fill)


def test_affine_is_the_identity_a_quarter_turn_and_a_pixel_shift_exactly():
    x = _images()
    np.testing.assert_allclose(_transform(x), x, atol=1e-6)
    quarter = np.rot90(np.asarray(x), k=1, axes=(1, 2))   # anticlockwise on screen
    np.testing.assert_allclose(_transform(x, angle=np.pi / 2), quarter, atol=1e-5)
    down = _transform(x, shift=(1.0, 0.0), fill=-0.5)
    np.testing.assert_allclose(down[:, 1:], x[:, :-1], atol=1e-6)   # content one row down
    np.testing.assert_array_equal(down[:, 0], -0.5)                # the new row reads fill
    half = _transform(x, scale=0.5, fill=-1.0)                     # shrunk about the centre:
    np.testing.assert_array_equal(half[:, :6], -1.0)               # the border is empty


def test_affine_passes_gradients_back_to_the_image():
    x = _images(2)
    weights = jax.random.normal(jax.random.key(1), x.shape)
    grad = jax.jit(jax.grad(lambda im: jnp.sum(weights * affine(
        im, jnp.array([0.2, -0.1]), jnp.array([1.1, 0.9]), jnp.array([[0.5, -1.2], [1.0, 0.3]]),
        -1.0))))(x)
    chex.assert_tree_all_finite(grad)
    assert float(jnp.mean(jnp.abs(grad) > 0)) > 0.5


def test_random_affine_is_a_function_of_its_key_and_a_bad_range_is_a_one_line_error():
    t = RandomAffine(rotate=15.0, scale=0.1, shift=2.0)
    x = _images(4)
    a, b = jax.jit(t)(jax.random.key(3), x), jax.jit(t)(jax.random.key(3), x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, jax.jit(t)(jax.random.key(4), x))
    assert not RandomAffine().active and t.active
    for bad in (dict(rotate=-1.0), dict(rotate=200.0), dict(scale=1.0), dict(shift='2'),
                dict(scale=True)):
        with pytest.raises(JaxgenError, match=r'config\.model\.augment_') as info:
            RandomAffine(**bad)
        assert '\n' not in str(info.value)


@pytest.fixture(scope='module')
def setup():
    model = models.build(ml_collections.ConfigDict({**MODEL, **AUGMENT}), INFO)
    params, state = helpers.init_players(model)
    return model, params, state, {'image': _images(16)}


def test_the_transformed_reading_adds_outputs_and_leaves_the_codes_as_they_were(setup):
    model, params, state, batch = setup
    plain = models.build(ml_collections.ConfigDict(MODEL), INFO)
    assert plain.augment is None and model.augment == RandomAffine(15.0, 0.1, 2.0, fill=-1.0)
    variables = {p: {'params': params[p], **state[p]} for p in params}
    run = lambda m: jax.jit(lambda v, b, k: m.forward(v, b, k)[0])(  # noqa: E731
        variables, batch, jax.random.key(7))
    out, ref = run(model), run(plain)
    chex.assert_shape(out['q_aug_cat_logits'], (16, 10))
    chex.assert_shape(out['q_aug_cont_mean'], (16, 2))
    assert 'q_aug_cat_logits' not in ref
    for name in ('fake', 'q_cat_logits', 'real_logits'):
        np.testing.assert_array_equal(out[name], ref[name])   # the plain pass is unchanged
    np.testing.assert_array_equal(out['codes']['cat'], ref['codes']['cat'])
    assert not np.allclose(out['q_aug_cat_logits'], out['q_cat_logits'])


@pytest.mark.parametrize('train_trunk', [False, True])
def test_invariant_term_is_a_bound_and_reaches_g_and_q_and_the_trunk_only_if_configured(
        setup, train_trunk):
    model, params, state, batch = setup
    invariant = infogan_objective(model, lambda_categorical=0.0, lambda_continuous=0.0,
                                  lambda_invariant=1.0, train_trunk=train_trunk)
    phase = {'generator': 'generator', 'discriminator': 'discriminator', 'q': 'q'}
    key = jax.random.key(5)
    grads, _, aux = helpers.player_grads(invariant, phase, params, state, batch, key)
    without, _, _ = helpers.player_grads(gan_objective(model), phase, params, state, batch, key)
    metrics = aux.metrics
    assert float(metrics['info_cat_inv/L_I']) <= float(metrics['info_cat_inv/H(c)']) + 1e-6
    chex.assert_tree_all_finite(grads)
    diff = jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b))), grads, without)
    assert all(d > 0 for d in jax.tree.leaves(diff['generator']))
    assert all(float(jnp.max(jnp.abs(g))) > 0 for g in jax.tree.leaves(grads['q']))
    d = diff['discriminator']
    assert all(v == 0 for v in jax.tree.leaves(d.pop('Dense_1')))   # the real/fake head
    trunk = jax.tree.leaves(d)
    assert all((v > 0) == train_trunk for v in trunk)


def test_the_config_switches_the_term_on_and_without_transforms_it_is_a_one_line_error():
    config = infogan_config.get_config()
    assert config.objective.lambda_invariant == 0.0 and config.model.augment_rotate == 0.0
    model = models.build(config.model, INFO)
    assert 'info_cat_inv' not in [t.name for t in objectives.build(config.objective, model).terms]
    config.objective.lambda_invariant = 1.0
    with pytest.raises(JaxgenError, match='lambda_invariant needs transformed fakes') as info:
        objectives.build(config.objective, model)
    assert '\n' not in str(info.value)
    config.model.augment_rotate = 15.0
    model = models.build(config.model, INFO)
    terms = objectives.build(config.objective, model).terms
    weights = dict(next(t.weights for t in terms if t.name == 'info_cat_inv'))
    assert weights == {'generator': 1.0, 'q': 1.0, 'discriminator': 1.0}


def test_the_invariant_config_is_the_paper_s_plus_the_measured_changes_and_nothing_else():
    paper, invariant = infogan_config.get_config(), infogan_config.get_config('invariant')
    changed = {k for k, v in invariant.model.items() if paper.model[k] != v}
    assert changed == {'noise_scale', 'augment_rotate', 'augment_scale', 'augment_shift'}
    assert {k for k, v in invariant.objective.items()
            if paper.objective[k] != v} == {'lambda_invariant'}
    assert invariant.optimizers == paper.optimizers and invariant.num_steps == paper.num_steps
    both = infogan_config.get_config('invariant,fashion_mnist')
    assert both.data.name == 'fashion_mnist'
    assert both.objective == invariant.objective and both.model == invariant.model
    with pytest.raises(JaxgenError, match=r'\[authors,\]\[invariant,\]<dataset>'):
        infogan_config.get_config('invariant,cifar10')


def test_transformed_fakes_are_filled_with_the_data_scale_s_background():
    config = ml_collections.ConfigDict({**MODEL, **AUGMENT})
    assert models.build(config, {'shape': [28, 28, 1], 'scale': 'tanh'}).augment.fill == -1.0
    assert models.build(config, {'shape': [28, 28, 1], 'scale': 'unit'}).augment.fill == 0.0
