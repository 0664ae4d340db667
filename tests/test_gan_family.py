"""The GAN family: loss families, penalties, spectral norm, EMA, conditional GAN,
f-GAN and the mode-coverage metrics."""

import dataclasses
import json

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from configs import cgan, fgan, unrolled_gan
from configs import dcgan as dcgan_config
from jaxgen import models
from jaxgen.objectives import fgan as fgan_objective, gan as gan_objective
from jaxgen.errors import JaxgenError
from jaxgen.losses import fgan as fgan_losses
from jaxgen.metrics.modes import mode_coverage
from jaxgen.data.sources.mixtures import mixture_centers
from jaxgen.training import experiment, train
from jaxgen.visualisation.pictures import pictures
from tests import helpers
from tests.test_rules import setup, tree_equal
from tests.test_train import ring_config

RING = mixture_centers('ring', 2.0, 8)


def test_mode_metrics_on_hand_made_samples():
    rng = np.random.default_rng(0)
    std = 0.02

    def near(modes):  # within 2 std of the given modes: all high quality
        angle = rng.uniform(0, 2 * np.pi, len(modes))
        radius = 2 * std * np.sqrt(rng.uniform(0, 1, len(modes)))
        return RING[modes] + radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
    one = near(np.full(2500, 3))
    spread = near(np.arange(2400) % 8)   # 300 per mode
    far = rng.uniform(-0.5, 0.5, (2500, 2))   # the ring's centre: far from every mode
    m = mode_coverage(one, RING, std)
    assert m == {'modes_covered': 1.0, 'high_quality': 1.0,
                 'reverse_kl': pytest.approx(np.log(8), rel=1e-6)}
    m = mode_coverage(spread, RING, std)
    assert m == {'modes_covered': 8.0, 'high_quality': 1.0,
                 'reverse_kl': pytest.approx(0.0, abs=1e-9)}
    m = mode_coverage(far, RING, std)
    assert m['modes_covered'] == 0 and m['high_quality'] == 0.0
    half = np.concatenate([near(np.arange(1250) % 2), far[:1250]])
    m = mode_coverage(half, RING, std)
    assert m['modes_covered'] == 2 and m['high_quality'] == 0.5
    # 3 std is the line: a point at 2.9 std counts, one at 3.1 std does not.
    edge = RING[:2] + np.array([[2.9 * std, 0.0], [0.0, 3.1 * std]])
    assert mode_coverage(edge, RING, std)['high_quality'] == 0.5
    with pytest.raises(ValueError, match='samples'):
        mode_coverage(np.zeros((5, 3)), RING, std)


@pytest.mark.parametrize('loss,extra', [('hinge', {}), ('least_squares', {}),
                                        ('wasserstein', {'gradient_penalty': 10.0}),
                                        ('minimax', {'r1': 1.0})])
def test_loss_families_and_penalties_train_the_right_player(loss, extra):
    model, _, params, state, batches = setup()
    objective = gan_objective.gan_objective(model, loss=loss, **extra)
    batch = jax.tree.map(lambda x: x[0], batches)
    phase = {'generator': 'generator', 'discriminator': 'discriminator'}
    grads, losses, aux = helpers.player_grads(objective, phase, params, state, batch,
                                            jax.random.key(2))
    chex.assert_tree_all_finite((grads, losses))
    for name in extra:  # penalties: weighted for the discriminator alone, and non-zero
        assert float(aux.metrics[name]) > 0
        pen = gan_objective.gan_objective(model, loss=loss)
        g0, _, _ = helpers.player_grads(pen, phase, params, state, batch, jax.random.key(2))
        assert tree_equal(g0['generator'], grads['generator'])
        assert not tree_equal(g0['discriminator'], grads['discriminator'])


def test_gradient_penalty_is_zero_for_a_unit_slope_critic():
    """D(x) = x . w with |w| = 1 has |grad| = 1 everywhere: the penalty vanishes."""
    w = jnp.array([0.6, 0.8])
    outputs = {'real': jnp.ones((4, 2)), 'fake': jnp.zeros((4, 2)), 'mix': jnp.full((4,), 0.3),
               'critic': lambda x: x @ w}
    value, metrics = gan_objective.gradient_penalty_term()(outputs)
    assert float(value) == pytest.approx(0.0, abs=1e-6)
    assert float(metrics['grad_norm']) == pytest.approx(1.0, rel=1e-5)
    r1, _ = gan_objective.r1_term()(outputs)
    assert float(r1) == pytest.approx(0.5, rel=1e-5)


def test_bad_gan_objective_settings_are_one_line_errors():
    model, *_ = setup()
    with pytest.raises(JaxgenError, match='unknown objective.loss'):
        gan_objective.gan_objective(model, loss='nope')
    with pytest.raises(JaxgenError, match='gradient_penalty must be >= 0'):
        gan_objective.gan_objective(model, loss='wasserstein', gradient_penalty=-1.0)
    with pytest.raises(JaxgenError, match='unknown objective.divergence'):
        fgan_objective.fgan_objective(model, divergence='nope')


def test_spectral_norm_bounds_the_discriminator_and_trains(tmp_path):
    c = ring_config(num_steps=30)
    c.model.spectral_norm = True
    exp = experiment.build(c, {'shape': [2], 'centers': RING.tolist(), 'std': 0.02})
    layer = exp.model.discriminator
    x = jax.random.normal(jax.random.key(0), (64, 2))
    variables = layer.init(jax.random.key(1), x)
    # Power iteration converges to each weight's top singular value.
    for _ in range(50):
        _, state = layer.apply(variables, x, train=True, mutable=['batch_stats'])
        variables = {**variables, **state}
    checked = 0
    for stats in variables['batch_stats'].values():
        for name, sigma in stats.items():
            if name.endswith('/kernel/sigma'):
                kernel = variables['params'][name.split('/')[0]]['kernel']
                top = np.linalg.svd(np.asarray(kernel), compute_uv=False)[0]
                assert float(sigma) == pytest.approx(top, rel=1e-3)
                checked += 1
    assert checked == len(c.model.d_hidden) + 1
    # With the estimate converged, each normalised layer is 1-Lipschitz, so the
    # network (ReLU between layers) is too.
    grads = jax.vmap(jax.grad(lambda p: layer.apply(variables, p[None])[0]))(x)
    assert float(jnp.max(jnp.linalg.norm(grads, axis=-1))) <= 1.0 + 1e-3
    assert train(c, str(tmp_path / 'sn')).step == 30


def test_ema_of_generator_weights_follows_its_formula_and_is_used_for_sampling():
    c = ring_config(num_steps=3)
    c.ema.decay = 0.9   # asymmetric: swapping the two weights shows
    info = {'shape': [2], 'centers': RING.tolist(), 'std': 0.02}
    exp = experiment.build(c, info)
    from jaxgen import data
    ds = data.load(c.data, 'train')
    step = jax.jit(exp.train_step_fn(ds.draw, c.batch_size))
    s0 = exp.init_state()
    s1, _ = step(s0, ds.arrays)
    expected = jax.tree.map(lambda a, b: 0.9 * a + 0.1 * b, s0.params['generator'],
                            s1.params['generator'])
    chex.assert_trees_all_close(s1.ema['generator'], expected, rtol=1e-6)
    assert set(s1.ema) == {'generator'}
    v = exp.variables(s1)
    assert tree_equal(v['generator']['params'], s1.ema['generator'])
    assert tree_equal(exp.variables(s1, ema=False)['generator']['params'],
                      s1.params['generator'])
    c.ema.decay = 1.5
    with pytest.raises(JaxgenError, match='ema.decay'):
        experiment.build(c, info)


@pytest.mark.parametrize('conditioning', ['projection', 'concat'])
def test_conditional_gan_shapes_gradients_and_label_dependence(conditioning):
    c = cgan.get_config()
    c.model.features, c.model.latent_dim, c.model.conditioning = 4, 8, conditioning
    model = models.build(c.model, {'shape': [28, 28, 1], 'num_classes': 10})
    variables = model.init(jax.random.key(0))
    images = jax.random.uniform(jax.random.key(5), (6, 28, 28, 1), minval=-1.0)
    labels = jnp.arange(6) % 10
    logits = model.discriminator.apply(variables['discriminator'], images, labels)
    chex.assert_shape(logits, (6,))
    other = model.discriminator.apply(variables['discriminator'], images, labels + 1)
    assert not np.allclose(logits, other)      # D reads the label
    z = jnp.zeros((6, 8))
    x0, x1 = (model.generate(variables, {'z': z, 'label': y}, jax.random.key(4))
              for y in (labels, labels + 1))
    chex.assert_shape(x0, (6, 28, 28, 1))
    assert not np.allclose(x0, x1)              # so does G
    logits = jax.jit(lambda v, b, k: [model.forward(v, b, k)[0][name] for name in
                                      ('real_logits', 'fake_logits')])(
        variables, {'image': images, 'label': labels}, jax.random.key(1))
    chex.assert_shape(logits, (6,))
    picture = pictures(model, variables, jax.random.key(2))['samples']
    assert picture.ndim == 3 and picture.dtype == np.uint8
    with pytest.raises(JaxgenError, match='conditioning'):
        c.model.conditioning = 'nope'
        models.build(c.model, {'shape': [28, 28, 1], 'num_classes': 10})


def test_cgan_fgan_and_unrolled_configs_train(tmp_path):
    c = cgan.get_config()
    c.data.name, c.num_steps, c.batch_size = 'digits', 2, 8
    c.log_every, c.sample_every, c.checkpoint_every = 1, 2, 2
    c.model.features, c.model.latent_dim = 4, 8
    assert train(c, str(tmp_path / 'cgan')).step == 2
    assert (tmp_path / 'cgan' / 'samples.png').exists()
    for name, config in (('fgan', fgan.get_config('ring')),
                         ('unrolled', unrolled_gan.get_config()),
                         ('unrolled_paper', unrolled_gan.get_config('paper'))):
        config.num_steps, config.batch_size = 4, 16
        config.log_every = config.sample_every = config.checkpoint_every = 2
        config.eval_every = 4
        config.model.latent_dim, config.model.g_hidden, config.model.d_hidden = 4, (16,), (16,)
        if name == 'fgan':
            config.objective.divergence = 'reverse_kl'
        assert train(config, str(tmp_path / name)).step == 4
        lines = (tmp_path / name / 'eval.jsonl').read_text().splitlines()
        assert 'modes_covered' in lines[-1]


@pytest.mark.parametrize('divergence', sorted(fgan_losses.DIVERGENCES))
def test_every_f_divergence_gives_finite_gradients_to_both_players(divergence):
    model, _, params, state, batches = setup()
    objective = fgan_objective.fgan_objective(model, divergence=divergence)
    phase = {'generator': 'generator', 'discriminator': 'discriminator'}
    grads, losses, aux = helpers.player_grads(objective, phase, params, state,
                                            jax.tree.map(lambda x: x[0], batches),
                                            jax.random.key(2))
    chex.assert_tree_all_finite((grads, losses, aux.metrics))
    assert 'd_loss/bound' in aux.metrics


def test_checkpoints_with_an_ema_resume_and_older_ones_without_it_still_restore(tmp_path):
    from jaxgen.training import Checkpoints
    from jaxgen.training.restore import load
    c = ring_config(num_steps=4)
    c.ema.decay = 0.9
    train(c, str(tmp_path / 'ema'))
    exp, state, step = load(str(tmp_path / 'ema'))
    assert step == 4 and set(state.ema) == {'generator'}
    # python -m jaxgen.evaluate reads the average, and --noema the trained weights
    from jaxgen.evaluate import evaluate
    averaged, trained = (evaluate(str(tmp_path / 'ema'), ema=ema) for ema in (True, False))
    assert averaged != trained
    for name, ema in (('evaluation_4.json', True), ('evaluation_4_raw.json', False)):
        assert json.loads((tmp_path / 'ema' / name).read_text())['ema'] == ema
    # A checkpoint written before TrainState had `ema` (no averaged players).
    c.ema.decay = 0.0
    exp = experiment.build(c, {'shape': [2], 'centers': RING.tolist(), 'std': 0.02})
    old = exp.init_state()
    ckpt = Checkpoints(str(tmp_path / 'old'))
    ckpt.save(0, {'step': old.step, 'params': old.params, 'model_state': old.model_state,
                  'rule_state': old.rule_state}, force=True)
    ckpt.close()
    restored = Checkpoints(str(tmp_path / 'old')).restore(0, exp.abstract_state())
    assert restored.ema == {} and tree_equal(restored.params, old.params)


def test_dcgan_spectral_norm_replaces_batchnorm_and_normalises_every_layer():
    c = dcgan_config.get_config()
    c.model.features, c.model.latent_dim, c.model.spectral_norm = 4, 8, True
    model = models.build(c.model, {'shape': [28, 28, 1]})
    variables = model.discriminator.init(jax.random.key(0), jnp.zeros((2, 28, 28, 1)))
    assert not any('BatchNorm' in k for k in variables['params'])
    sigmas = [k for stats in variables['batch_stats'].values() for k in stats
              if k.endswith('/kernel/sigma')]
    assert len(sigmas) == 3   # two convolutions and the output layer
    x = jax.random.uniform(jax.random.key(1), (4, 28, 28, 1), minval=-1.0)
    logits, state = model.discriminator.apply(variables, x, train=True, mutable=['batch_stats'])
    chex.assert_shape(logits, (4,))
    assert not tree_equal(state['batch_stats'], variables['batch_stats'])  # u, sigma updated


def test_mlp_activations_are_chosen_by_config_and_checked():
    c = unrolled_gan.get_config()
    model = models.build(c.model, {'shape': [2], 'centers': RING.tolist(), 'std': 0.02})
    assert model.generator.activation == model.discriminator.activation == 'tanh'
    c.model.g_activation = 'swish'
    with pytest.raises(JaxgenError, match='unknown model.g_activation'):
        models.build(c.model, {'shape': [2], 'centers': RING.tolist(), 'std': 0.02})


def test_the_papers_ring_networks_scale_the_input_and_initialise_orthogonally():
    c = unrolled_gan.get_config('paper')
    info = {'shape': [2], 'centers': RING.tolist(), 'std': 0.02}
    model = models.build(c.model, info)
    assert (model.generator.activation, model.discriminator.hidden) == ('relu', (128,))
    d = model.discriminator.init(jax.random.key(0), jnp.zeros((1, 2)))
    for name, layer in d['params'].items():
        w = np.asarray(layer['kernel'])
        small = min(w.shape)   # orthonormal rows or columns, times the gain 0.8
        gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        np.testing.assert_allclose(gram, 0.64 * np.eye(small), atol=1e-5, err_msg=name)
    # The input is multiplied by 1/4 before the first layer: D(x) = D_unscaled(x / 4).
    x = jax.random.normal(jax.random.key(1), (5, 2))
    plain = dataclasses.replace(model.discriminator, input_scale=1.0)
    np.testing.assert_array_equal(model.discriminator.apply(d, x),
                                  plain.apply(d, x * 0.25))
    for field, value, message in (('d_input_scale', 0.0, 'a positive number'),
                                  ('d_input_scale', True, 'a positive number'),
                                  ('orthogonal_gain', -1.0, 'a number >= 0'),
                                  ('orthogonal_gain', '0.8', 'a number >= 0')):
        # A plain dict: ConfigDict would refuse a bool or a str in a float field itself.
        bad = {**unrolled_gan.get_config('paper').model.to_dict(), field: value}
        with pytest.raises(JaxgenError, match=f'config.model.{field} must be {message}'):
            models.build(ml_collections.ConfigDict(bad), info)
