"""Adversarial autoencoder: phases scheduled by the rule, the latent
discriminator's update touching nothing else, priors that are only sampled."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs import aae as aae_config
from jaxgen import models, objectives, rules
from jaxgen.errors import JaxgenError
from jaxgen.models.autoencoders import priors
from jaxgen.visualisation.pictures import autoencoders as drawn
from jaxgen.visualisation.pictures import pictures
from jaxgen.rules.phased import parse_phases, phased
from jaxgen.training import train
from jaxgen.training.experiment import build_optimizers
from tests import helpers

INFO = {'shape': [28, 28, 1], 'scale': 'unit', 'binarize': 'dynamic'}
BATCHES = {'image': (jax.random.uniform(jax.random.key(1), (1, 8, 28, 28, 1)) > 0.5).astype(
    jnp.float32)}


def setup(prior='mixture10'):
    config = aae_config.get_config(prior)
    config.model.hidden = (32,)
    config.model.d_hidden = (16,)
    model = models.build(config.model, INFO)
    params, state = helpers.init_players(model)
    return config, model, objectives.build(config.objective, model), params, state


def changed(a, b):
    return not all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_latent_discriminator_update_leaves_encoder_and_decoder_unchanged():
    _, model, objective, params, state = setup()
    opts = {p: optax.adam(1e-3) for p in model.players}
    opt_state = {p: opts[p].init(params[p]) for p in opts}
    batch = jax.tree.map(lambda x: x[0], BATCHES)
    new_params, new_state, new_opt, _ = helpers.apply_phase(
        objective, opts, {'discriminator': 'discriminator'}, params, state, opt_state, batch,
        jax.random.key(2))
    assert changed(new_params['discriminator'], params['discriminator'])
    for player in ('encoder', 'decoder'):
        chex.assert_trees_all_equal(new_params[player], params[player])
        chex.assert_trees_all_equal(new_opt[player], opt_state[player])


def test_three_phases_move_the_encoder_twice_and_the_decoder_once():
    config, model, objective, params, state = setup()
    opts = {p: optax.sgd(1e-2) for p in model.players}
    rule = rules.build(config.rule, opts)
    new_params, _, _, metrics = rule.update(objective, params, state, rule.init(params),
                                            BATCHES, jax.random.key(3))
    assert all(changed(new_params[p], params[p]) for p in model.players)
    assert {'loss/reconstruction', 'loss/discriminator', 'loss/generator', 'reconstruction',
            'd_loss', 'g_loss'} <= set(metrics)

    # The same by hand: reconstruction phase, discriminator phase, generator phase.
    p = dict(params)
    o = {q: opts[q].init(p[q]) for q in opts}
    batch = jax.tree.map(lambda x: x[0], BATCHES)
    for i, phase in enumerate(parse_phases(config.rule.phases)):
        key = jax.random.fold_in(jax.random.fold_in(jax.random.key(3), i), 0)
        p, _, o, _ = helpers.apply_phase(objective, opts, phase, p, state, o, batch, key)
    chex.assert_trees_all_close(new_params, p, rtol=1e-5, atol=1e-7)
    # Without the generator phase the encoder would end elsewhere.
    two = phased(opts, config.rule.phases[:2])
    partial, _, _, _ = two.update(objective, params, state, two.init(params), BATCHES,
                                  jax.random.key(3))
    assert changed(partial['encoder'], new_params['encoder'])


def test_the_training_latents_picture_is_framed_at_the_prior_s_frame(monkeypatch):
    framed = []
    real_scatter = drawn.latent_scatter  # the AAE's scatter over its prior has a frame
    monkeypatch.setattr(drawn, 'latent_scatter', lambda *a, **kw: (
        'prior' in kw and framed.append(kw['lim'])) or real_scatter(*a, **kw))
    model = setup('swiss_roll')[1]
    examples = {'image': BATCHES['image'][0], 'label': jnp.arange(8) % 10}
    assert 'latents' in pictures(model, model.init(jax.random.key(0)), jax.random.key(1),
                                 examples)
    assert framed == [priors.frame('swiss_roll')] == [1.5 * priors.EXTENTS['swiss_roll']]


def test_a_player_loss_optimizer_gives_the_encoder_s_generator_phase_its_own_state():
    """Shared, the encoder's Adam scales its generator steps by the second moments of
    the reconstruction gradients too (about 50 times larger in a trained AAE); with
    ``encoder:generator`` the generator phase is a fresh optimizer of its own."""
    config, model, objective, params, state = setup()
    opts = {p: optax.adam(1e-3) for p in model.players}
    shared = rules.build(config.rule, opts)
    after = shared.update(objective, params, state, shared.init(params), BATCHES,
                          jax.random.key(3))[2]
    assert set(after) == set(model.players) and int(after['encoder'][0].count) == 2
    opts['encoder:generator'] = optax.adam(2e-4)
    rule = rules.build(config.rule, opts)
    new_params, _, after, _ = rule.update(objective, params, state, rule.init(params),
                                          BATCHES, jax.random.key(3))
    assert set(after) == {*model.players, 'encoder:generator'}
    assert int(after['encoder'][0].count) == 1 and int(after['encoder:generator'][0].count) == 1

    # By hand: phases 1 and 2 as before, then one step of a fresh Adam(2e-4) on the
    # generator gradient alone.
    p, batch = dict(params), jax.tree.map(lambda x: x[0], BATCHES)
    o = {q: opts[q].init(p[q]) for q in model.players}
    phases = parse_phases(config.rule.phases)
    keys = [jax.random.fold_in(jax.random.fold_in(jax.random.key(3), i), 0) for i in range(3)]
    for phase, key in zip(phases[:2], keys):
        p, _, o, _ = helpers.apply_phase(objective, opts, phase, p, state, o, batch, key)
    grads, _, _ = helpers.player_grads(objective, phases[2], p, state, batch, keys[2])
    updates, _ = optax.adam(2e-4).update(grads['encoder'], optax.adam(2e-4).init(p['encoder']))
    chex.assert_trees_all_close(new_params['encoder'], optax.apply_updates(p['encoder'], updates),
                                rtol=1e-5, atol=1e-7)


def test_player_loss_optimizers_must_name_a_player_and_a_phase():
    config, model, _, _, _ = setup()
    opts = {p: optax.adam(1e-3) for p in model.players}
    with pytest.raises(JaxgenError, match=r"optimizers for \['encoder:generatr'\] \(config"
                       r".optimizers.<player>.per_loss.<loss>\), but no phase .* its phases "
                       r"move encoder:reconstruction"):
        rules.build(config.rule, {**opts, 'encoder:generatr': optax.adam(1e-3)})
    built = build_optimizers(config.optimizers, tuple(model.players))
    assert set(built) == {*model.players, 'encoder:generator'}
    config.rule.name = 'simultaneous'
    with pytest.raises(JaxgenError, match=r"gives \['encoder:generator'\] an optimizer per "
                       r"loss, which only rule 'phased' uses"):
        rules.build(config.rule, built)
    config.optimizers.encoder.per_loss.generator.name = 'adamm'
    with pytest.raises(JaxgenError, match=r"config.optimizers.encoder.per_loss.generator.name="
                       r"'adamm' is not an optax optimizer"):
        build_optimizers(config.optimizers, tuple(model.players))


def test_reconstruction_gradient_skips_the_discriminator_and_gan_losses_skip_the_decoder():
    _, model, objective, params, state = setup()
    batch = jax.tree.map(lambda x: x[0], BATCHES)
    phase = {'encoder': 'generator', 'decoder': 'generator', 'discriminator': 'reconstruction'}
    grads, _, _ = helpers.player_grads(objective, phase, params, state, batch, jax.random.key(4))
    assert all(float(jnp.max(jnp.abs(g))) == 0 for g in jax.tree.leaves(grads['decoder']))
    assert all(float(jnp.max(jnp.abs(g))) == 0 for g in jax.tree.leaves(grads['discriminator']))
    assert any(float(jnp.max(jnp.abs(g))) > 0 for g in jax.tree.leaves(grads['encoder']))


@pytest.mark.parametrize('name', priors.PRIORS)
def test_priors_are_sampled_with_the_right_shape_and_spread(name):
    z = np.asarray(priors.sample(name, jax.random.key(0), 5000, 2))
    assert z.shape == (5000, 2) and np.isfinite(z).all()
    if name == 'mixture10':
        angles = np.round(np.arctan2(z[:, 1], z[:, 0]) / (2 * np.pi / 10)) % 10
        assert len(np.unique(angles)) == 10
        np.testing.assert_allclose(np.median(np.linalg.norm(z, axis=1)), 4.0, atol=0.2)
    if name == 'gaussian':
        np.testing.assert_allclose(z.std(axis=0), [1, 1], atol=0.05)
        assert priors.sample(name, jax.random.key(0), 3, 8).shape == (3, 8)
    with pytest.raises(JaxgenError):
        priors.sample('uniform_disc', jax.random.key(0), 3, 2)


@pytest.mark.parametrize('name', priors.PRIORS)
def test_the_manifold_picture_spans_where_the_prior_s_draws_lie(name, monkeypatch):
    z = np.asarray(priors.sample(name, jax.random.key(0), 20000, 2))
    extent = priors.EXTENTS[name]
    assert np.mean(np.abs(z).max(axis=1) <= extent) >= 0.9
    assert np.mean(np.abs(z).max(axis=1) <= extent / 2) < 0.9  # not a needlessly wide box
    asked = []
    real_codes = drawn.manifold_codes
    monkeypatch.setattr(drawn, 'manifold_codes',
                        lambda **kw: asked.append(kw) or real_codes(**kw))
    model = setup(name)[1]
    assert 'manifold' in pictures(model, model.init(jax.random.key(0)), jax.random.key(1))
    assert asked == [{'extent': extent}]


def test_bad_phase_specs_and_priors_are_one_line_errors():
    with pytest.raises(JaxgenError, match='no optimizer'):
        phased({'encoder': optax.sgd(1.0)}, [('encoder',), ('critic',)])
    config = aae_config.get_config('swiss_roll')
    config.model.latent_dim = 8
    with pytest.raises(JaxgenError, match='2-D'):
        models.build(config.model, INFO)


def test_aae_config_trains_and_draws_latents_over_the_prior(tmp_path):
    config = aae_config.get_config()
    config.data.name = 'digits'
    config.model.hidden = (32,)
    config.model.d_hidden = (16,)
    config.num_steps = 2
    config.batch_size = 16
    config.log_every = config.sample_every = config.checkpoint_every = 2
    result = train(config, str(tmp_path / 'run'))
    assert result.step == 2 and {'d_loss', 'g_loss', 'reconstruction'} <= set(result.metrics)
    for name in ('latents.png', 'reconstructions.png', 'samples.png'):
        assert (tmp_path / 'run' / name).stat().st_size > 1000
