"""f-GAN conjugates and the GAN loss family."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.losses import fgan

jax.config.update('jax_enable_x64', False)
NAMES = sorted(fgan.DIVERGENCES)


def domain(name, n=401):
    """Points t in the domain of f* (the range of g_f)."""
    v = jnp.linspace(-6.0, 6.0, n)
    return fgan.DIVERGENCES[name].activation(v)


@pytest.mark.parametrize('name', NAMES)
def test_fenchel_inequality(name):
    d = fgan.DIVERGENCES[name]
    t = domain(name)[:, None]
    u = jnp.exp(jnp.linspace(-5.0, 5.0, 301))[None, :]
    gap = d.conjugate(t) - (t * u - d.f(u))
    assert float(jnp.min(gap)) >= -1e-4 * float(jnp.max(jnp.abs(t * u)))


@pytest.mark.parametrize('name', NAMES)
def test_stable_conjugate_of_activation_matches_the_naive_composition(name):
    d = fgan.DIVERGENCES[name]
    v = jnp.linspace(-3.0, 3.0, 61)
    np.testing.assert_allclose(d.conjugate_activation(v), d.conjugate(d.activation(v)),
                               rtol=1e-4, atol=1e-5)
    t = d.activation(v)
    np.testing.assert_allclose(d.activation(d.inverse_activation(t)), t, rtol=1e-4, atol=1e-5)


def gaussian(x, mean, std):
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


P, Q = (0.0, 1.0), (1.0, 1.5)   # two 1-D Gaussians (mean, std)
X = np.linspace(-15.0, 15.0, 60001)
DX = X[1] - X[0]


def closed_forms():
    (mp, sp), (mq, sq) = P, Q
    kl = math.log(sq / sp) + (sp ** 2 + (mp - mq) ** 2) / (2 * sq ** 2) - 0.5
    reverse = math.log(sp / sq) + (sq ** 2 + (mp - mq) ** 2) / (2 * sp ** 2) - 0.5
    bc = (math.sqrt(2 * sp * sq / (sp ** 2 + sq ** 2))
          * math.exp(-(mp - mq) ** 2 / (4 * (sp ** 2 + sq ** 2))))
    return {'kl': kl, 'reverse_kl': reverse, 'squared_hellinger': 2.0 * (1.0 - bc)}


@pytest.mark.parametrize('name', NAMES)
def test_the_bound_at_the_optimal_critic_is_the_divergence(name):
    """E_P[T*] - E_Q[f*(T*)] with T* = f'(p/q), through the critic loss on logits
    v* = g_f^{-1}(T*), equals D_f(P || Q) = E_Q[f(p/q)] (closed form when known)."""
    d = fgan.DIVERGENCES[name]
    p, q = gaussian(X, *P), gaussian(X, *Q)
    ratio = jnp.asarray(p / q, jnp.float32)
    t_star = jax.vmap(jax.grad(lambda u: d.f(u)))(ratio)
    if name == 'total_variation':   # f'(u) = sign(u - 1) / 2, on the domain's edge
        t_star = 0.499 * jnp.sign(ratio - 1.0)
    v_star = d.inverse_activation(t_star)
    real = -np.asarray(fgan.critic_loss(real_logits=v_star, fake_logits=jnp.zeros_like(v_star),
                                        divergence=name)
                       - d.conjugate_activation(jnp.zeros_like(v_star)))
    fake = np.asarray(d.conjugate_activation(v_star))
    bound = np.sum(p * real) * DX - np.sum(q * fake) * DX
    divergence = float(np.sum(q * np.asarray(d.f(ratio))) * DX)
    assert bound == pytest.approx(divergence, rel=2e-3, abs=2e-3)
    if name in closed_forms():
        assert divergence == pytest.approx(closed_forms()[name], rel=1e-3)
    # Any other critic gives a smaller bound.
    worse = v_star + 0.3 * np.sin(X)
    worse_bound = (np.sum(p * np.asarray(d.activation(worse))) * DX
                   - np.sum(q * np.asarray(d.conjugate_activation(worse))) * DX)
    assert worse_bound < bound


def test_gan_divergence_is_twice_jsd_minus_log4_and_matches_the_gan_losses():
    d = fgan.DIVERGENCES['gan']
    p, q = gaussian(X, *P), gaussian(X, *Q)
    m = 0.5 * (p + q)
    jsd = 0.5 * np.sum(p * np.log(p / m) + q * np.log(q / m)) * DX
    value = float(np.sum(q * np.asarray(d.f(jnp.asarray(p / q)))) * DX)
    assert value == pytest.approx(2 * jsd - math.log(4.0), rel=1e-3)
    from jaxgen.losses import gan
    v = jnp.linspace(-4.0, 4.0, 17)
    np.testing.assert_allclose(fgan.critic_loss(real_logits=v, fake_logits=-v, divergence='gan'),
                               gan.discriminator_loss(real_logits=v, fake_logits=-v), rtol=1e-6)
    np.testing.assert_allclose(fgan.generator_loss(fake_logits=v, divergence='gan'),
                               gan.generator_nonsaturating_loss(fake_logits=v), rtol=1e-6)


def test_unknown_divergence_is_a_one_line_error():
    with pytest.raises(ValueError, match='unknown f-divergence'):
        fgan.critic_loss(real_logits=jnp.zeros(2), fake_logits=jnp.zeros(2), divergence='xx')
