"""The benchmark scripts' own logic that CI can check cheaply: mode_coverage.py's
``--set KEY=VALUE`` overrides (used for the ring ablation in docs/RESULTS.md) and
latent_prior_match.py's codes and statistics."""

import jax
import numpy as np
import pytest

from benchmarks import latent_prior_match
from benchmarks.mode_coverage import override
from configs import aae as aae_config
from configs import unrolled_gan
from configs import vae as vae_config
from jaxgen import models
from jaxgen.errors import JaxgenError
from jaxgen.models.autoencoders import priors


def test_set_parses_each_value_as_the_type_it_replaces():
    c = unrolled_gan.get_config('paper')
    override(c, 'rule.simultaneous', 'false')
    override(c, 'num_steps', '123')
    override(c, 'optimizers.generator.learning_rate', '3e-4')
    override(c, 'objective.generator_loss', 'non_saturating')
    assert c.rule.simultaneous is False and c.num_steps == 123
    assert c.optimizers.generator.learning_rate == 3e-4
    assert c.objective.generator_loss == 'non_saturating'
    override(c, 'rule.simultaneous', 'TRUE')
    assert c.rule.simultaneous is True


@pytest.mark.parametrize('key, value, message', [
    ('rule.simultanous', 'true', "the config has no key 'rule.simultanous'"),
    ('optimizers', 'adam', 'only numbers, booleans and strings can be set, not ConfigDict'),
    ('rule.simultaneous', 'yes', 'expected true or false'),
    ('num_steps', '1.5', "expected an integer, got '1.5'"),
])
def test_set_refuses_bad_keys_and_values_with_one_line(key, value, message):
    c = unrolled_gan.get_config('paper')
    with pytest.raises(SystemExit, match=message):
        override(c, key, value)


def _tiny(module, arg):
    config = module.get_config(arg)
    config.model.hidden = (8,)
    if 'd_hidden' in config.model:
        config.model.d_hidden = (8,)
    model = models.build(config.model, {'shape': [28, 28, 1], 'scale': 'unit',
                                        'binarize': 'dynamic'})
    return model, model.init(jax.random.key(0))


def test_latent_match_takes_the_aae_s_prior_and_a_draw_from_the_vae_s_posterior():
    aae, aae_vars = _tiny(aae_config, 'swiss_roll')
    vae, vae_vars = _tiny(vae_config, 'latent2')
    assert latent_prior_match.autoencoder_and_prior(aae)[1] == 'swiss_roll'
    assert latent_prior_match.autoencoder_and_prior(vae) == (vae, 'gaussian')
    with pytest.raises(JaxgenError, match='has no encoder'):
        latent_prior_match.autoencoder_and_prior(object())
    images = np.asarray(jax.random.uniform(jax.random.key(1), (5, 28, 28, 1)) > 0.5, np.float32)
    deterministic = latent_prior_match.codes_of(aae.autoencoder, aae_vars, images,
                                                jax.random.key(2), chunk=2)
    np.testing.assert_allclose(deterministic, aae.autoencoder.encode_means(aae_vars, images),
                               rtol=1e-5, atol=1e-6)  # chunks of 2: other BLAS blocking
    drawn = [latent_prior_match.codes_of(vae, vae_vars, images, jax.random.key(k), chunk=2)
             for k in (2, 2, 3)]
    means = np.asarray(vae.encode_means(vae_vars, images))
    assert drawn[0].shape == (5, 2) and np.array_equal(drawn[0], drawn[1])
    assert not np.allclose(drawn[0], means) and not np.allclose(drawn[0], drawn[2])


def test_prior_draws_match_their_prior_and_fill_every_mode():
    key = jax.random.key(0)
    draws = np.asarray(priors.sample('mixture10', jax.random.key(1), 10_000, 2))
    mean, error = latent_prior_match.mmd_against_prior(draws, 'mixture10', key)
    assert abs(mean) < 3 * error
    shifted = latent_prior_match.mmd_against_prior(draws + 1.0, 'mixture10', key)
    assert shifted[0] > 20 * shifted[1]
    centers = np.asarray(priors.mixture10_centers())
    modes = np.argmin(((draws[:, None] - centers[None]) ** 2).sum(-1), axis=1)
    stats = latent_prior_match.mixture_statistics(draws, (modes + 3) % 10)
    assert stats['modes_covered'] == 10 and stats['high_quality'] > 0.98
    assert stats['digit_accuracy_of_nearest_mode'] == 1.0 and stats['reverse_kl'] < 0.01
