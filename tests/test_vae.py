"""AE / VAE / IWAE models and objectives: shapes, gradient paths, the ELBO's
pieces, and a short training run of each config."""

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from configs import ae as ae_config
from configs import iwae as iwae_config
from configs import vae as vae_config
from jaxgen import models, objectives
from jaxgen.objectives import vae as vae_objectives
from jaxgen.errors import JaxgenError
from jaxgen.losses import vae as vae_losses
from jaxgen.training import experiment, train
from tests import helpers

INFO = {'shape': [28, 28, 1], 'scale': 'unit', 'binarize': 'dynamic'}


def model_config(**overrides):
    c = ml_collections.ConfigDict(dict(name='vae', architecture='mlp', hidden=(32, 32),
                                       latent_dim=5, likelihood='bernoulli', stochastic=True,
                                       num_samples=1, eval_samples=8))
    c.update(overrides)
    return c


BATCH = {'image': (jax.random.uniform(jax.random.key(1), (6, 28, 28, 1)) > 0.5).astype(
    jnp.float32), 'step': jnp.asarray(0)}


@pytest.mark.parametrize('overrides', [
    {}, {'architecture': 'conv'}, {'likelihood': 'gaussian'}, {'num_samples': 4},
    {'stochastic': False},
])
def test_encoder_decoder_and_sample_shapes(overrides):
    info = dict(INFO, scale='tanh' if overrides.get('likelihood') == 'gaussian' else 'unit')
    model = models.build(model_config(**overrides), info)
    variables = model.init(jax.random.key(0))
    encoded = model.encoder.apply(variables['encoder'], BATCH['image'])
    if model.stochastic:
        mean, log_var = encoded
        chex.assert_shape([mean, log_var], (6, 5))
    else:
        chex.assert_shape(encoded, (6, 5))
    outputs, _ = jax.jit(model.forward)(variables, BATCH, jax.random.key(2))
    k = model.num_samples
    chex.assert_shape(outputs['z'], (k, 6, 5))
    per_pixel = 2 if model.likelihood == 'gaussian' else 1
    chex.assert_shape(outputs['decoded'], (k, 6, 28, 28, per_pixel))
    chex.assert_shape(outputs['log_px_z'], (k, 6))
    chex.assert_tree_all_finite(outputs['log_px_z'])
    samples = model.sample(variables, jax.random.key(3), 7)
    chex.assert_shape(samples, (7, 28, 28, 1))


def test_bernoulli_decoder_needs_unit_pixels_and_autoencoder_one_sample():
    with pytest.raises(JaxgenError, match="scale='unit'"):
        models.build(model_config(), dict(INFO, scale='tanh'))
    with pytest.raises(JaxgenError, match='num_samples'):
        models.build(model_config(stochastic=False, num_samples=3), INFO)
    with pytest.raises(JaxgenError, match='Gaussian encoder'):
        objectives.build(ml_collections.ConfigDict({'name': 'vae', 'beta': 1.0,
                                                    'warmup_steps': 0}),
                         models.build(model_config(stochastic=False), INFO))


def test_reparameterised_gradients_reach_the_encoder_through_the_reconstruction():
    model = models.build(model_config(), INFO)
    params, state = helpers.init_players(model)
    recon_only = objectives.empty(model).with_term(
        'reconstruction', vae_objectives.reconstruction_term, encoder=1.0, decoder=1.0)
    grads, _, _ = helpers.player_grads(recon_only, {'encoder': 'encoder', 'decoder': 'decoder'},
                                     params, state, BATCH, jax.random.key(4))
    chex.assert_tree_all_finite(grads)
    # Both encoder heads (mean and log-variance) receive gradient through z = mu + sigma * eps.
    for name, g in grads['encoder'].items():
        assert float(jnp.max(jnp.abs(g['kernel']))) > 0, name


def test_vae_objective_is_reconstruction_plus_kl_and_logs_both():
    model = models.build(model_config(), INFO)
    params, state = helpers.init_players(model)
    objective = vae_objectives.vae_objective(model)
    losses, aux = objective(params, state, BATCH, jax.random.key(5))
    m = aux.metrics
    np.testing.assert_allclose(losses['encoder'], m['reconstruction'] + m['kl'], rtol=1e-6)
    np.testing.assert_allclose(losses['decoder'], losses['encoder'], rtol=0)
    np.testing.assert_allclose(m['elbo'], -(m['reconstruction'] + m['kl/KL']), rtol=1e-5)
    variables = {p: {'params': params[p], **state[p]} for p in params}
    mean, log_var = model.encoder.apply(variables['encoder'], BATCH['image'])
    expected_kl = jnp.mean(vae_losses.gaussian_kl_standard_normal(mean=mean, log_var=log_var))
    np.testing.assert_allclose(m['kl/KL'], expected_kl, rtol=1e-5)


def test_beta_and_linear_kl_warmup():
    model = models.build(model_config(), INFO)
    params, state = helpers.init_players(model)
    objective = vae_objectives.vae_objective(model, beta=4.0, warmup_steps=100)
    for step, factor in [(0, 0.0), (25, 1.0), (100, 4.0), (400, 4.0)]:
        _, aux = objective(params, state, dict(BATCH, step=jnp.asarray(step)), jax.random.key(6))
        np.testing.assert_allclose(aux.metrics['kl/beta'], 4.0, rtol=1e-6)
        np.testing.assert_allclose(aux.metrics['kl/scale'], factor / 4.0, rtol=1e-6)
        np.testing.assert_allclose(aux.metrics['kl'], factor * aux.metrics['kl/KL'], rtol=1e-6)


def test_iwae_objective_with_one_sample_is_the_elbo_and_tightens_with_more():
    params_model = models.build(model_config(num_samples=1), INFO)
    params, state = helpers.init_players(params_model)
    iwae1 = jax.jit(objectives.build(ml_collections.ConfigDict({'name': 'iwae'}), params_model))
    # L_1 is a one-sample estimate of the ELBO (whose KL part is analytic here):
    # equal in expectation, so their difference averages to zero within MC error.
    diffs = []
    for seed in range(64):
        m = iwae1(params, state, BATCH, jax.random.key(seed))[1].metrics
        diffs.append(float(m['iwae/bound'] - m['elbo']))
    assert abs(np.mean(diffs)) < 3 * np.std(diffs) / np.sqrt(len(diffs))
    assert np.std(diffs) > 0
    bounds = []
    for k in (1, 10, 100):
        model = models.build(model_config(num_samples=k), INFO)
        objective = jax.jit(objectives.build(ml_collections.ConfigDict({'name': 'iwae'}), model))
        values = [float(objective(params, state, BATCH, jax.random.key(s))[1]
                        .metrics['iwae/bound']) for s in range(8)]
        bounds.append(np.mean(values))
    assert bounds[0] < bounds[1] < bounds[2]


@pytest.mark.parametrize('config_module', [ae_config, vae_config, iwae_config])
def test_each_config_trains_on_the_shared_trainer(tmp_path, config_module):
    config = config_module.get_config()
    config.data.name = 'digits'
    config.model.hidden = (32, 32)
    config.model.eval_samples = 4
    config.num_steps = 3
    config.batch_size = 16
    config.log_every = config.sample_every = config.checkpoint_every = 3
    config.eval_every = 3 if config.objective.name != 'ae' else 0
    result = train(config, str(tmp_path / 'run'))
    assert result.step == 3
    assert 'reconstruction' in result.metrics or 'iwae' in result.metrics
    if config.eval_every:
        assert 'eval/nll_iwae_k4' in result.metrics
    assert (tmp_path / 'run' / 'reconstructions.png').exists()


def test_two_d_latents_draw_the_manifold_and_evaluate_cli_gives_the_nll(tmp_path):
    from jaxgen.evaluate import evaluate, parse_settings
    config = vae_config.get_config('latent2')
    config.data.name = 'digits'
    config.model.hidden = (32, 32)
    config.num_steps = 2
    config.batch_size = 16
    config.log_every = config.sample_every = config.checkpoint_every = 2
    config.eval_every = 0
    workdir = tmp_path / 'run'
    train(config, str(workdir))
    for name in ('manifold.png', 'latents.png', 'samples.png', 'reconstructions.png'):
        assert (workdir / name).stat().st_size > 1000, name
    results = evaluate(str(workdir), settings=parse_settings(['num_samples=6',
                                                              'num_examples=40']),
                       samples=0)  # the model's own metrics only
    assert set(results) == {'nll_iwae_k6', 'negative_elbo'}
    assert 0 < results['nll_iwae_k6'] <= results['negative_elbo'] + 1.0
    assert (workdir / 'evaluation_2.json').exists()
    with pytest.raises(JaxgenError, match='name=integer'):
        parse_settings(['k'])


def test_burda_schedule_config_builds_eight_stages_and_rejects_bad_variants():
    """configs/vae.py:burda<E>: Burda et al.'s 3^i-epoch stages at 1e-3 * 10^(-i/7),
    shrunk to E epochs; the optimizer the trainer builds follows it."""
    config = vae_config.get_config('burda328')   # a tenth of 3,280 epochs
    assert config.num_steps == 328 * 600
    schedule = config.optimizers.encoder.learning_rate
    boundaries = sorted(int(b) for b in schedule.boundaries_and_scales)
    expected_epochs = np.cumsum([3 ** i for i in range(7)]) / 10  # 0.1, 0.4, ..., 109.3
    np.testing.assert_allclose(np.array(boundaries) / 600, expected_epochs, atol=1 / 600)
    lr = experiment.build_schedule('encoder', schedule)  # what the trainer builds
    np.testing.assert_allclose(float(lr(config.num_steps - 1)), 1e-3 * 10 ** (-1.0), rtol=1e-5)
    np.testing.assert_allclose(float(lr(0)), 1e-3)
    experiment.build_optimizer('encoder', config.optimizers.encoder)  # with Adam too
    # Their batch of 20: five times the steps, the same stages in epochs.
    b20 = vae_config.get_config('burda328_b20')
    assert b20.batch_size == 20 and b20.num_steps == 328 * 3000
    boundaries = sorted(int(b) for b in b20.optimizers.encoder.learning_rate.boundaries_and_scales)
    np.testing.assert_allclose(np.array(boundaries) / 3000, expected_epochs, atol=1 / 3000)
    assert vae_config.get_config('burda_b20').num_steps == 3280 * 3000
    for bad in ('burda0', 'burdaX', 'mlp2', 'burda_b', 'burda_b0', 'burda10_bx'):
        with pytest.raises(JaxgenError, match='configs/vae.py'):
            vae_config.get_config(bad)
