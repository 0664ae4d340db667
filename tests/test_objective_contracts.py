"""The objectives' contracts: scheduled terms get the step from the batch or fail, GAN
games read the outputs they are told to and fill the losses they are told to, an
option a loss family ignores is an error, and the relativistic losses (Jolicoeur-
Martineau, 2018) against values worked out by hand."""

import importlib
import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from jaxgen import objectives
from jaxgen.errors import JaxgenError
from jaxgen.losses import gan as gan_losses
from jaxgen.objectives import gan, infogan, vae
from jaxgen.objectives.base import empty
from tests.test_objective_values import CODES, FixedModel, close, infogan_outputs, run, \
    vae_outputs


def softplus(x):
    return math.log1p(math.exp(x))


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# -- the step ------------------------------------------------------------------------------

def scheduled_objectives():
    vae_model = FixedModel(vae_outputs(), players=('encoder', 'decoder'))
    info_model = FixedModel(infogan_outputs(), players=('generator', 'discriminator', 'q'),
                            codes=CODES)
    return [(vae.vae_objective(vae_model, warmup_steps=100), vae_model, ['kl']),
            (infogan.infogan_objective(info_model, info_start=10), info_model,
             ['info_cat', 'info_cont'])]


@pytest.mark.parametrize('index', [0, 1])
def test_a_scheduled_term_without_a_step_is_a_one_line_error(index):
    objective, model, names = scheduled_objectives()[index]
    with pytest.raises(JaxgenError, match="scheduled by the training step") as info:
        run(objective, model)
    assert str(names) in str(info.value) and '\n' not in str(info.value)


def test_the_schedule_reads_the_batch_step_and_unscheduled_terms_need_none():
    """Warm-up 100 at batch step 50: half the KL, whatever step the outputs carry."""
    o = {**vae_outputs(), 'step': np.asarray(1000)}
    model = FixedModel(o, players=('encoder', 'decoder'))
    _, metrics = run(vae.vae_objective(model, beta=2.0, warmup_steps=100), model,
                     {'step': np.asarray(50)})
    assert close(metrics['kl/scale'], 0.5) and close(metrics['kl'], metrics['kl/KL'])
    _, metrics = run(vae.vae_objective(model, beta=2.0), model)  # no schedule, no step
    assert 'kl/scale' not in metrics and close(metrics['kl'], 2.0 * metrics['kl/KL'])


def test_a_custom_schedule_gets_the_step_and_scales_the_value_only():
    model, seen = FixedModel({}), []
    objective = empty(model).with_term(
        'x', lambda o: (jnp.float32(3.0), {'raw': jnp.float32(3.0)}),
        lambda step: seen.append(step) or step / 4.0, generator=1.0)
    losses, metrics = run(objective, model, {'step': np.asarray(2)})
    assert [int(s) for s in seen] == [2]
    assert metrics == {'x': 1.5, 'x/raw': 3.0, 'x/scale': 0.5} and losses['generator'] == 1.5


# -- games ---------------------------------------------------------------------------------

R = np.array([1.0, 3.0])   # mean 2
F = np.array([-1.0, 1.0])  # mean 0


def test_games_read_their_named_outputs_and_fill_their_named_losses():
    model = FixedModel({'real_a': R, 'fake_a': F, 'real_b': F, 'fake_b': R},
                       players=('d_a', 'd_b', 'g'))
    objective = gan.with_game(empty(model), gan.Game('a', 'real_a', 'fake_a', 'd_a', 'g'),
                              loss='wasserstein')
    objective = gan.with_game(objective, gan.Game('b', 'real_b', 'fake_b', 'd_b', 'g'),
                              loss='hinge')
    losses, metrics = run(objective, model)
    assert close(losses['d_a'], np.mean(F - R))                      # -2
    assert close(losses['d_b'], np.mean(np.maximum(0, 1 - F) + np.maximum(0, 1 + R)))
    assert close(losses['g'], np.mean(-F) + np.mean(-R))             # both games' G losses
    assert close(metrics['d_loss_a/critic_gap'], 2.0)
    assert close(metrics['d_loss_b/real_logit'], 0.0) and close(metrics['d_loss_b/fake_logit'], 2.0)


def test_a_game_on_latent_codes_needs_no_renaming_and_the_default_game_keeps_its_names():
    model = FixedModel({'prior_logits': R, 'code_logits': F},
                       players=('encoder', 'decoder', 'discriminator'))
    game = gan.Game(real_logits='prior_logits', fake_logits='code_logits', generator='encoder')
    losses, metrics = run(gan.gan_objective(model, game=game), model)
    assert close(losses['encoder'], np.mean([softplus(1.0), softplus(-1.0)]))
    assert set(metrics) == {'d_loss', 'd_loss/D(x)', 'd_loss/D(G(z))', 'g_loss'}


# -- relativistic losses, by hand ----------------------------------------------------------

def test_relativistic_losses_by_hand():
    """RSGAN pairs (1, -1) and (3, 1): D's loss softplus(f - r) = softplus(-2) for both,
    G's softplus(r - f) = softplus(2); D_rel = sigmoid(2)."""
    d = gan_losses.relativistic_discriminator_loss(real_logits=R, fake_logits=F)
    g = gan_losses.relativistic_generator_loss(real_logits=R, fake_logits=F)
    np.testing.assert_allclose(d, [softplus(-2.0)] * 2, rtol=1e-6)
    np.testing.assert_allclose(g, [softplus(2.0)] * 2, rtol=1e-6)
    model = FixedModel({'real_logits': R, 'fake_logits': F})
    losses, metrics = run(gan.gan_objective(model, loss='relativistic'), model)
    assert close(losses['generator'], softplus(2.0))
    assert close(metrics['d_loss/D_rel(x_r,x_f)'], sigmoid(2.0))


def test_relativistic_average_losses_by_hand():
    """Mean real 2, mean fake 0. D: softplus(0 - r_i) + softplus(f_i - 2) gives
    softplus(-1) + softplus(-3) for both examples; G: softplus(2 - f_i) + softplus(r_i - 0)
    gives softplus(3) + softplus(1); D_ra(x_r) = (sigmoid(1) + sigmoid(3)) / 2."""
    d = gan_losses.relativistic_average_discriminator_loss(real_logits=R, fake_logits=F)
    g = gan_losses.relativistic_average_generator_loss(real_logits=R, fake_logits=F)
    np.testing.assert_allclose(d, [softplus(-1.0) + softplus(-3.0)] * 2, rtol=1e-6)
    np.testing.assert_allclose(g, [softplus(3.0) + softplus(1.0)] * 2, rtol=1e-6)
    column = gan_losses.relativistic_average_generator_loss(real_logits=R[:, None],
                                                            fake_logits=F[:, None])
    np.testing.assert_allclose(column[:, 0], g, rtol=1e-6)  # [B, 1] logits as well
    model = FixedModel({'real_logits': R, 'fake_logits': F})
    losses, metrics = run(gan.gan_objective(model, loss='relativistic_average'), model)
    assert close(losses['discriminator'], softplus(-1.0) + softplus(-3.0))
    assert close(metrics['d_loss/D_ra(x_r)'], (sigmoid(1.0) + sigmoid(3.0)) / 2)
    assert close(metrics['d_loss/D_ra(x_f)'], (sigmoid(-3.0) + sigmoid(-1.0)) / 2)


def ref_relativistic(r, f):
    """The papers' batch losses in numpy (float64): (RSGAN D, G), (RaSGAN D, G)."""
    sp = lambda x: np.log1p(np.exp(x))  # noqa: E731
    return {'relativistic': (np.mean(sp(f - r)), np.mean(sp(r - f))),
            'relativistic_average': (np.mean(sp(np.mean(f) - r)) + np.mean(sp(f - np.mean(r))),
                                     np.mean(sp(np.mean(r) - f)) + np.mean(sp(r - np.mean(f))))}


@pytest.mark.parametrize('family', ['relativistic', 'relativistic_average'])
def test_relativistic_gradients_reach_both_logits_as_central_differences_say(family):
    real, fake = np.array([-1.2, 0.3, 2.0]), np.array([0.5, -0.7, 1.1])
    spec = gan_losses.LOSS_FAMILIES[family]
    for i, loss in enumerate((spec.discriminator, spec.generators['non_saturating'])):
        got = jax.grad(lambda r, f, loss=loss: jnp.mean(loss(real_logits=r, fake_logits=f)),
                       argnums=(0, 1))(jnp.asarray(real, jnp.float32),
                                        jnp.asarray(fake, jnp.float32))
        for arg, g in enumerate(got):
            expected = []
            for j in range(3):
                h = np.zeros(3)
                h[j] = 1e-6
                plus = [real + h, fake] if arg == 0 else [real, fake + h]
                minus = [real - h, fake] if arg == 0 else [real, fake - h]
                expected.append((ref_relativistic(*plus)[family][i]
                                 - ref_relativistic(*minus)[family][i]) / 2e-6)
            np.testing.assert_allclose(g, expected, rtol=1e-4, atol=1e-6)


def test_every_family_logs_named_metrics():
    assert set(gan.FAMILY_METRICS) == set(gan_losses.LOSS_FAMILIES)


# -- options a family ignores --------------------------------------------------------------

OTHERS = sorted(set(gan_losses.LOSS_FAMILIES) - {'minimax'})


@pytest.mark.parametrize('family', OTHERS)
def test_options_a_loss_family_ignores_are_errors(family):
    model = FixedModel({})
    with pytest.raises(JaxgenError, match='label_smoothing applies to loss=minimax only'):
        gan.gan_objective(model, loss=family, label_smoothing=0.1)
    with pytest.raises(JaxgenError, match=f"'saturating' does not exist for loss={family}"):
        gan.gan_objective(model, loss=family, generator_loss='saturating')
    gan.gan_objective(model, loss=family)  # the defaults are fine


@pytest.mark.parametrize('name,players,options,wrong', [
    ('gan', ('generator', 'discriminator'), {'loss': 'hinge'}, {'beta': 4.0}),
    ('fgan', ('generator', 'discriminator'), {'divergence': 'kl'}, {'label_smoothing': 0.1}),
    ('aae', ('encoder', 'decoder', 'discriminator'), {}, {'warmup_steps': 10}),
    ('ae', ('encoder', 'decoder'), {'beta': 1.0}, {'beta': 4.0}),
    ('iwae', ('encoder', 'decoder'), {}, {'loss': 'hinge'}),
    ('vae', ('encoder', 'decoder'), {'beta': 2.0}, {'r1': 1.0}),
    ('infogan', ('generator', 'discriminator', 'q'), {'learn_std': True}, {'fixed_std': 2.0}),
])
def test_an_option_the_objective_does_not_read_is_an_error(name, players, options, wrong):
    defaults = importlib.import_module(f'configs.{name if name != "gan" else "gan_ring"}')
    config = defaults.get_config().objective
    model = FixedModel({}, players=players, codes=CODES, stochastic=True)
    config.update(options)
    objectives.build(config, model)
    config = ml_collections.ConfigDict({**config.to_dict(), **wrong})
    with pytest.raises(JaxgenError, match='has no effect') as info:
        objectives.build(config, model)
    assert '\n' not in str(info.value)
