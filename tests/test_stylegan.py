"""StyleGAN (models/progressive/stylegan.py, layers/style.py, objectives/stylegan.py,
configs/stylegan.py): AdaIN's output statistics, truncation, style mixing at the
crossover, noise that vanishes with zero strengths, w_avg as persistent state, StyleGAN2's
demodulation, the players each term reaches, one-line errors."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import stylegan as stylegan_config
from jaxgen import models
from jaxgen.errors import JaxgenError
from jaxgen.metrics import perceptual, ppl
from jaxgen.models.layers import split_variables
from jaxgen.models.layers.equalized import he_scale, upscale2d
from jaxgen.models.layers.style import AdaIN, ModulatedConv
from jaxgen.models.progressive import stylegan
from jaxgen.training import experiment, stages
from jaxgen.visualisation import pictures as pictures_lib
from jaxgen.visualisation.pictures import progressive
from tests.test_progan import term_reach

SHAPE = (8, 8, 1)
INFO = {'kind': 'images', 'shape': list(SHAPE), 'scale': 'tanh'}
BATCH, LAYERS = 4, 4  # 8x8: two style layers at 4x4 and two at 8x8


def tiny_config(**model):
    c = stylegan_config.get_config('mnist32,resolution=8,batch=4')
    c.model.fmap_base, c.model.fmap_max, c.model.latent_dim, c.model.w_dim = 16, 8, 8, 8
    c.model.mapping_layers = 2
    c.model.update(model)
    return c


@pytest.fixture(scope='module')
def built():  # 8x8 fading in over steps 0..4 (the growth option); alpha 1 when sampling
    exp = experiment.build(tiny_config(fade_start=0, fade_steps=4), INFO)
    variables = exp.model.init(jax.random.key(0))
    params = jax.tree_util.tree_map_with_path(  # noise strengths away from their zero init
        lambda p, x: x + 0.3 if 'strength' in jax.tree_util.keystr(p) else x,
        variables['generator']['params'])
    return exp, {**variables, 'generator': {**variables['generator'], 'params': params}}


def test_adain_output_statistics_are_the_style_scale_and_bias():
    layer = AdaIN()
    x = jax.random.normal(jax.random.key(0), (2, 4, 4, 3)) * 3.0 + 1.0
    w = jax.random.normal(jax.random.key(1), (2, 5))

    @jax.jit
    def run():
        v = layer.init(jax.random.key(2), x, w)
        v = {'params': {'style': {**v['params']['style'],
                                  'bias': jnp.arange(6.0) / 4.0}}}  # a non-zero bias too
        return v, layer.apply(v, x, w)
    v, y = run()
    p = v['params']['style']
    style = w @ (p['kernel'] * he_scale(5, 1.0)) + p['bias']
    scale, bias = style[:, :3] + 1.0, style[:, 3:]
    np.testing.assert_allclose(jnp.mean(y, axis=(1, 2)), bias, atol=1e-5)
    np.testing.assert_allclose(jnp.std(y, axis=(1, 2)), jnp.abs(scale), rtol=1e-4)


def test_truncation_gives_w_avg_at_psi_0_and_changes_nothing_at_psi_1(built):
    exp, variables = built
    w_avg = jnp.linspace(-1.0, 1.0, 8)
    variables = {**variables, 'generator': {**variables['generator'],
                                            'buffers': {'w_avg': w_avg}}}
    z = jax.random.normal(jax.random.key(3), (BATCH, 8))
    none, full = exp.model.styles(variables, z, 1.0), exp.model.styles(variables, z, 0.0)
    w = jax.jit(lambda v, z: exp.model.call(v, 'map', z))(variables, z)
    chex.assert_shape(none, (BATCH, LAYERS, 8))
    np.testing.assert_allclose(none, jnp.broadcast_to(w[:, None], none.shape), atol=1e-6)
    np.testing.assert_allclose(full, jnp.broadcast_to(w_avg, full.shape), atol=1e-6)
    ws = none
    np.testing.assert_array_equal(stylegan.truncate(ws, w_avg, 1.0, 8), ws)
    cut = stylegan.truncate(ws, w_avg, 0.5, 2)  # only the first two layers
    np.testing.assert_allclose(cut[:, :2], w_avg + 0.5 * (ws[:, :2] - w_avg), rtol=1e-6)
    np.testing.assert_array_equal(cut[:, 2:], ws[:, 2:])
    for psi in (-0.1, 1.5, 'x'):
        with pytest.raises(JaxgenError, match='truncation psi must be a number in') as error:
            exp.model.truncated(variables, z, jax.random.key(0), psi)
        assert '\n' not in str(error.value)
    with pytest.raises(JaxgenError, match='truncation psi'):
        models.build(tiny_config(truncation_psi=1.2).model, INFO)


def test_style_mixing_switches_styles_at_the_crossover_layer(built):
    exp, variables = built
    w, w2 = jnp.ones((2, 3)), -jnp.ones((2, 3))
    mixed = stylegan.mix(w, w2, 3, 5)
    np.testing.assert_array_equal(mixed[:, :3], 1.0)
    np.testing.assert_array_equal(mixed[:, 3:], -1.0)
    z = jax.random.normal(jax.random.key(4), (BATCH, 8))
    generator = exp.model.generator

    @functools.partial(jax.jit, static_argnums=1)
    def styles(key, probability):
        g = generator.clone(style_mixing=probability)
        _, state = g.apply(variables['generator'], z, train=True, key=key,
                           mutable=['intermediates'])
        return state['intermediates']['ws'][0], g.apply(variables['generator'], z,
                                                        method=g.map)
    cutoffs = set()
    for seed in range(6):
        ws, w = styles(jax.random.key(seed), 1.0)
        same = np.all(np.isclose(ws, w[:, None]), axis=(0, 2))
        cutoff = int(np.argmin(same))  # the first layer with the second latent's style
        assert 1 <= cutoff < LAYERS and not same[cutoff:].any() and same[:cutoff].all()
        assert np.all(ws[:, cutoff:] == ws[:, -1:])  # one second style for all later layers
        cutoffs.add(cutoff)
    assert len(cutoffs) > 1


def test_the_grown_generator_at_alpha_0_is_the_lower_resolution_upsampled(built):
    exp, variables = built
    old = models.build(tiny_config(resolution=4).model, INFO)
    old_vars = stages.carry_leaves(variables, old.init(jax.random.key(1)))  # shared layers
    ws = exp.model.styles(variables, jax.random.normal(jax.random.key(2), (2, 8)), 1.0)

    @jax.jit
    def run(key):
        new = exp.model.generator.clone(alpha=0.0)
        return (new.apply(variables['generator'], ws, key, method=new.synthesize),
                old.generator.apply(old_vars['generator'], ws[:, :2], key,
                                    method=old.generator.synthesize))
    grown, before = run(jax.random.key(3))
    chex.assert_shape([grown, before], [(2, 8, 8, 1), (2, 4, 4, 1)])
    np.testing.assert_allclose(grown, upscale2d(before), atol=1e-6)
    assert 'to_rgb_4' in variables['generator']['params']


def test_with_zero_noise_strengths_stochastic_variation_vanishes_exactly(built):
    exp, variables = built
    ws = exp.model.styles(variables, jax.random.normal(jax.random.key(5), (2, 8)), 1.0)

    def with_strength(value):
        params = jax.tree_util.tree_map_with_path(
            lambda p, x: jnp.full_like(x, value) if 'strength' in jax.tree_util.keystr(p)
            else x, variables['generator']['params'])
        v = {**variables, 'generator': {**variables['generator'], 'params': params}}
        return [exp.model.synthesize(v, ws, jax.random.key(k)) for k in (6, 7)]
    a, b = with_strength(0.0)
    np.testing.assert_array_equal(a, b)
    a, b = with_strength(0.5)
    assert not np.allclose(a, b)
    chex.assert_shape(a, (2, *SHAPE))
    # at given latents the images are a function of z alone, one noise for all (PPL's path)
    z = jax.random.normal(jax.random.key(5), (1, 8))
    images = [exp.model.generate(variables, {'z': jnp.concatenate([z, z])}, jax.random.key(k))
              for k in (6, 7)]
    np.testing.assert_array_equal(images[0], images[1])
    np.testing.assert_array_equal(images[0][0], images[0][1])


def test_ppl_in_w_walks_w_on_every_layer_with_decode_s_fixed_noise(built):
    exp, variables = built
    mapping, synthesis = exp.model.w_path(variables)
    z = jax.random.normal(jax.random.key(5), (3, 8))
    w = mapping(z)
    chex.assert_shape(w, (3, 8))
    np.testing.assert_allclose(synthesis(w), exp.model.decode(variables, z), atol=1e-6)
    half = synthesis(0.5 * (w[:1] + w[1:2]))  # lerp in W is not the image of a lerp in Z
    assert not np.allclose(half, exp.model.decode(variables, 0.5 * (z[:1] + z[1:2])), atol=1e-4)
    distance = lambda a, b: jnp.mean(jnp.square(a - b), axis=(1, 2, 3))  # noqa: E731
    out = perceptual.model_ppl(exp.model, variables, distance, jax.random.key(6), 16)
    in_w = ppl.perceptual_path_length(distance, jax.random.key(6), 16, latent_dim=8,
                                      space='w', mapping=mapping, synthesis=synthesis)
    assert out['ppl_w'] == in_w['ppl'] and out['ppl'] != out['ppl_w']


def test_w_avg_follows_the_batch_mean_of_w_in_training(built):
    exp, variables = built
    z = jax.random.normal(jax.random.key(8), (BATCH, 8))

    @jax.jit
    def step(v):  # the generator's training pass: its new state and its styles
        _, state = exp.model.generator.apply(v, z, train=True, key=jax.random.key(8),
                                             mutable=['buffers', 'intermediates'])
        return state['buffers']['w_avg'], state['intermediates']['ws'][0][:, 0]
    w_avg, w = step(variables['generator'])  # layer 0 always has the first latent's w
    np.testing.assert_allclose(w_avg, 0.005 * jnp.mean(w, axis=0), rtol=1e-5, atol=1e-8)
    assert float(jnp.abs(w_avg).sum()) > 0


def test_demodulation_removes_the_style_scale():
    x = jax.random.normal(jax.random.key(9), (2, 4, 4, 3))
    w = jax.random.normal(jax.random.key(10), (2, 5))

    @jax.jit
    def run():
        out = []
        for demodulate in (True, False):
            layer = ModulatedConv(4, demodulate)
            v = layer.init(jax.random.key(11), x, w)
            scaled = jax.tree_util.tree_map_with_path(
                lambda p, a: a * 5.0 if "'conv'" in jax.tree_util.keystr(p) or
                jax.tree_util.keystr(p).endswith("['kernel']") and 'style' not in
                jax.tree_util.keystr(p) else a, v)
            out.append((layer.apply(v, x, w), layer.apply(scaled, x, w)))
        return out
    (demod, demod_scaled), (plain, plain_scaled) = run()
    np.testing.assert_allclose(demod_scaled, demod, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(plain_scaled, 5.0 * plain, rtol=1e-4, atol=1e-5)
    model = models.build(tiny_config(demodulate=True).model, INFO)
    images = jax.eval_shape(lambda: model.generate(model.init(jax.random.key(0)), {'num': 2},
                                                   jax.random.key(1)))
    chex.assert_shape(images, (2, *SHAPE))


def test_gradients_reach_their_players_and_r1_is_lazy(built):
    exp, variables = built
    params, state = {}, {}
    for player, v in variables.items():
        params[player], state[player] = split_variables(v)
    batch = {'image': jnp.tanh(jax.random.normal(jax.random.key(12), (BATCH, *SHAPE))),
             'step': jnp.asarray(0)}
    reach, _ = term_reach(exp.objective, params, state, jax.random.key(13))(batch)
    both = {'generator', 'discriminator'}
    assert reach == {'d_loss': both, 'g_loss': both, 'r1': {'discriminator'}}
    weights = {t.name: dict(t.weights) for t in exp.objective.terms}
    assert weights['r1'] == {'r1': 160.0}  # gamma 10 times the interval 16
    assert exp.objective.names == ('generator', 'discriminator', 'r1')
    c = tiny_config()
    assert tuple(c.rule.every) == (1, 1, 16) and c.rule.phases[-1] == ('discriminator:r1',)
    assert 'stages' not in c and stylegan_config.get_config('mnist32,grow=1').stages


def test_bad_input_is_one_line():
    for make, message in (
            (lambda: models.build(tiny_config(style_mixing=2.0).model, INFO), 'probability'),
            (lambda: models.build(tiny_config(resolution=16).model, INFO), 'beyond the final'),
            (lambda: models.build(tiny_config().model, {**INFO, 'shape': [6, 6, 1]}),
             'do not pool down')):
        with pytest.raises(JaxgenError, match=message) as error:
            make()
        assert '\n' not in str(error.value)


def test_pictures_growth_style_mixing_noise_and_truncation(built):
    exp, variables = built
    assert pictures_lib.for_model(exp.model) is progressive.stylegan
    key = jax.random.key(14)
    pictures = {**progressive.growth(exp.model, variables, num=2, drawn=2),
                **progressive.style_mixing(exp.model, variables, key, rows=2, cols=2),
                **progressive.noise_effects(exp.model, variables, key, rows=2, draws=3),
                **progressive.truncation_sweep(exp.model, variables, key, rows=2)}
    assert set(pictures) == {'growth_8px', 'style_mixing_coarse', 'style_mixing_fine', 'noise',
                             'truncation'}
    assert all(p.dtype == np.uint8 and p.ndim == 3 for p in pictures.values())
    assert progressive.layer_ranges(8) == {'coarse': (0, 2), 'middle': (2, 6), 'fine': (6, 8)}
    assert progressive.layer_ranges(4) == {'coarse': (0, 2), 'fine': (2, 4)}
    progan_model = models.build(tiny_config(name='progan').model, INFO)
    for figure in (progressive.style_mixing, progressive.noise_effects,
                   progressive.truncation_sweep):
        with pytest.raises(JaxgenError, match='needs a model with styles') as error:
            figure(progan_model, {}, jax.random.key(0))
        assert '\n' not in str(error.value)
