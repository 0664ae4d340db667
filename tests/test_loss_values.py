"""Every GAN loss family and every f-divergence, value and derivative, against
references written here from the papers' formulas in numpy (float64), never
by calling the code under test.

* minimax / label smoothing / (non-)saturating: Goodfellow et al. (2014),
  Salimans et al. (2016): ``-[t log D(x) + (1 - t) log(1 - D(x))] - log(1 - D(G(z)))``;
* hinge: Lim & Ye (2017); least squares: Mao et al. (2017) with a=0, b=c=1;
  Wasserstein: Arjovsky et al. (2017);
* f-GAN: Nowozin et al. (2016), Table 1 (``f``) and Table 2 (``g_f``, ``f*``), as
  copied into docs/GUIDE section 4;
* InfoGAN's ``log Q(c | x)``: SciPy's ``log_softmax`` and ``norm.logpdf``.

Derivatives are compared with central differences of the same numpy formulas,
so a ``stop_gradient`` that leaves the value alone still shows.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from jaxgen.losses import fgan, gan, info

# Logits on both sides of every kink (hinge at +-1) and of 0; real and fake differ.
REAL = np.array([-2.5, -1.2, -0.3, 0.0, 0.7, 1.5, 3.0])
FAKE = np.array([1.7, -0.6, 0.4, -3.0, 2.2, -1.4, 0.05])


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def log(x):
    return np.log(x)


# -- references, from the papers ---------------------------------------------------

def ref_minimax_d(r, f, s=0.0):
    t = 1.0 - s
    return -(t * log(sigmoid(r)) + (1.0 - t) * log(1.0 - sigmoid(r))) - log(1.0 - sigmoid(f))


REFERENCE = {
    # family: (D loss (real, fake), G loss (fake))
    'minimax': (ref_minimax_d, lambda f: -log(sigmoid(f))),
    'hinge': (lambda r, f: np.maximum(0.0, 1.0 - r) + np.maximum(0.0, 1.0 + f),
              lambda f: -f),
    'least_squares': (lambda r, f: 0.5 * (r - 1.0) ** 2 + 0.5 * (f - 0.0) ** 2,
                      lambda f: 0.5 * (f - 1.0) ** 2),
    'wasserstein': (lambda r, f: f - r, lambda f: -f),
}

# Nowozin et al., Table 2: g_f (output activation) and f* (Fenchel conjugate).
F_GAN = {
    'kl': (lambda v: v, lambda t: np.exp(t - 1.0)),
    'reverse_kl': (lambda v: -np.exp(-v), lambda t: -1.0 - np.log(-t)),
    'pearson': (lambda v: v, lambda t: 0.25 * t ** 2 + t),
    'squared_hellinger': (lambda v: 1.0 - np.exp(-v), lambda t: t / (1.0 - t)),
    'jensen_shannon': (lambda v: math.log(2.0) - np.log1p(np.exp(-v)),
                       lambda t: -np.log(2.0 - np.exp(t))),
    'gan': (lambda v: -np.log1p(np.exp(-v)), lambda t: -np.log(1.0 - np.exp(t))),
    'total_variation': (lambda v: 0.5 * np.tanh(v), lambda t: t),
}

# Nowozin et al., Table 1: the generator functions f(u).
F_OF_U = {
    'kl': lambda u: u * np.log(u),
    'reverse_kl': lambda u: -np.log(u),
    'pearson': lambda u: (u - 1.0) ** 2,
    'squared_hellinger': lambda u: (np.sqrt(u) - 1.0) ** 2,
    'jensen_shannon': lambda u: -(u + 1.0) * np.log((1.0 + u) / 2.0) + u * np.log(u),
    'gan': lambda u: u * np.log(u) - (u + 1.0) * np.log(u + 1.0),
    'total_variation': lambda u: 0.5 * np.abs(u - 1.0),
}


def numeric_grad(fn, x, h=1e-6):
    """Central differences of an elementwise numpy function, in float64."""
    return (fn(x + h) - fn(x - h)) / (2.0 * h)


def check(ours, reference, *args):
    """``ours`` (jax, float32) against ``reference`` (numpy, float64): the values,
    and the derivative with respect to every argument."""
    args64 = [np.asarray(a, np.float64) for a in args]
    np.testing.assert_allclose(ours(*[jnp.asarray(a, jnp.float32) for a in args]),
                               reference(*args64), rtol=2e-6, atol=2e-6)
    for i in range(len(args)):
        def ours_i(x, i=i):
            return jnp.sum(ours(*[x if j == i else jnp.asarray(a, jnp.float32)
                                  for j, a in enumerate(args)]))
        got = jax.grad(ours_i)(jnp.asarray(args[i], jnp.float32))
        expected = numeric_grad(lambda x, i=i: reference(*[x if j == i else a for j, a in
                                                           enumerate(args64)]), args64[i])
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=f'd/d arg {i}')


# -- the GAN families --------------------------------------------------------------

LIBRARY = {
    'minimax': (gan.discriminator_loss, gan.generator_nonsaturating_loss),
    'hinge': (gan.hinge_discriminator_loss, gan.hinge_generator_loss),
    'least_squares': (gan.least_squares_discriminator_loss, gan.least_squares_generator_loss),
    'wasserstein': (gan.wasserstein_critic_loss, gan.wasserstein_generator_loss),
}


@pytest.mark.parametrize('family', sorted(REFERENCE))
def test_each_loss_family_matches_its_paper_formula(family):
    d_ours, g_ours = LIBRARY[family]
    d_ref, g_ref = REFERENCE[family]
    check(lambda r, f: d_ours(real_logits=r, fake_logits=f), d_ref, REAL, FAKE)
    check(lambda f: g_ours(fake_logits=f), g_ref, FAKE)


def test_the_registry_pairs_each_family_with_its_own_losses():
    for family, (d_loss, g_loss) in LIBRARY.items():
        registered = gan.LOSS_FAMILIES[family]
        assert registered.discriminator is d_loss
        assert registered.label_smoothing == (family == 'minimax')
        # every generator loss takes both logits; these read only the fake ones
        got = registered.generators['non_saturating'](real_logits=REAL, fake_logits=FAKE)
        np.testing.assert_array_equal(got, g_loss(fake_logits=FAKE))
        assert set(registered.generators) == (
            {'saturating', 'non_saturating'} if family == 'minimax' else {'non_saturating'})
    saturating = gan.LOSS_FAMILIES['minimax'].generators['saturating']
    np.testing.assert_array_equal(saturating(real_logits=REAL, fake_logits=FAKE),
                                  gan.generator_saturating_loss(fake_logits=FAKE))
    assert gan.GENERATOR_LOSSES == {'saturating': gan.generator_saturating_loss,
                                    'non_saturating': gan.generator_nonsaturating_loss}


def test_saturating_generator_loss_is_log_one_minus_d():
    check(lambda f: gan.generator_saturating_loss(fake_logits=f),
          lambda f: log(1.0 - sigmoid(f)), FAKE)


@pytest.mark.parametrize('smoothing', [0.1, 0.3])
def test_one_sided_label_smoothing_matches_the_smoothed_cross_entropy(smoothing):
    check(lambda r, f: gan.discriminator_loss(real_logits=r, fake_logits=f,
                                              label_smoothing=smoothing),
          lambda r, f: ref_minimax_d(r, f, smoothing), REAL, FAKE)


def test_hand_computed_values():
    """A few numbers worked out with pencil and ``math``: D(x) = D(G(z)) = 1/2 costs
    the discriminator 2 log 2; hinge and least squares at round logits."""
    zero = jnp.zeros(1)
    assert float(gan.discriminator_loss(real_logits=zero, fake_logits=zero)[0]) == \
        pytest.approx(2.0 * math.log(2.0), rel=1e-6)
    # -log sigmoid(2) = log(1 + e^-2)
    assert float(gan.generator_nonsaturating_loss(fake_logits=jnp.array([2.0]))[0]) == \
        pytest.approx(math.log1p(math.exp(-2.0)), rel=1e-6)
    # s = 0.2, real logit 0: -(0.8 + 0.2) log(1/2), fake logit log 3: -log(1 - 3/4) = log 4
    value = gan.discriminator_loss(real_logits=zero, fake_logits=jnp.array([math.log(3.0)]),
                                   label_smoothing=0.2)
    assert float(value[0]) == pytest.approx(math.log(2.0) + math.log(4.0), rel=1e-6)
    hinge = gan.hinge_discriminator_loss(real_logits=jnp.array([0.5, 2.0]),
                                         fake_logits=jnp.array([-0.25, -2.0]))
    np.testing.assert_allclose(hinge, [0.5 + 0.75, 0.0], atol=1e-7)
    ls = gan.least_squares_discriminator_loss(real_logits=jnp.array([3.0]),
                                              fake_logits=jnp.array([-2.0]))
    assert float(ls[0]) == pytest.approx(0.5 * 4.0 + 0.5 * 4.0)
    assert float(gan.least_squares_generator_loss(fake_logits=jnp.array([3.0]))[0]) == 2.0
    w = gan.wasserstein_critic_loss(real_logits=jnp.array([3.0]), fake_logits=jnp.array([1.0]))
    assert float(w[0]) == -2.0


# -- f-GAN -----------------------------------------------------------------------

V_REAL = np.array([-2.0, -0.7, 0.0, 0.4, 1.1, 2.5])
V_FAKE = np.array([0.9, -1.6, 0.3, -0.2, 2.0, -2.4])


@pytest.mark.parametrize('name', sorted(F_GAN))
def test_f_gan_critic_and_generator_losses_match_table_2(name):
    g, conjugate = F_GAN[name]
    check(lambda r, f: fgan.critic_loss(real_logits=r, fake_logits=f, divergence=name),
          lambda r, f: -g(r) + conjugate(g(f)), V_REAL, V_FAKE)
    check(lambda f: fgan.generator_loss(fake_logits=f, divergence=name),
          lambda f: -g(f), V_FAKE)
    check(lambda f: fgan.generator_loss(fake_logits=f, divergence=name, kind='saturating'),
          lambda f: -conjugate(g(f)), V_FAKE)


@pytest.mark.parametrize('name', sorted(F_GAN))
def test_f_gan_table_entries_f_conjugate_activation_and_its_inverse(name):
    d = fgan.DIVERGENCES[name]
    g, conjugate = F_GAN[name]
    u = np.array([0.05, 0.3, 0.9, 1.0, 1.7, 4.0, 12.0])
    np.testing.assert_allclose(d.f(jnp.asarray(u, jnp.float32)), F_OF_U[name](u),
                               rtol=1e-5, atol=1e-6)
    # f(1) = 0, except the GAN's, whose divergence is 2 JSD - log 4
    expected = -math.log(4.0) if name == 'gan' else 0.0
    assert float(d.f(jnp.float32(1.0))) == pytest.approx(expected, abs=1e-6)
    t = g(V_REAL)   # points of f*'s domain
    np.testing.assert_allclose(d.activation(jnp.asarray(V_REAL, jnp.float32)), t,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d.conjugate(jnp.asarray(t, jnp.float32)), conjugate(t),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d.inverse_activation(jnp.asarray(t, jnp.float32)), V_REAL,
                               rtol=1e-4, atol=1e-4)


def test_f_gan_hand_computed_values():
    """KL at v = 1: the critic pays -1 + e^0 = 0; Pearson at v = 2: 1 + 2 = 3 for the fake
    term; squared Hellinger at v = log 2: g = 1/2, f*(1/2) = 1; GAN at v = 0: 2 log 2."""
    one, two = jnp.array([1.0]), jnp.array([2.0])
    log2 = jnp.array([math.log(2.0)])
    assert float(fgan.critic_loss(real_logits=one, fake_logits=one, divergence='kl')[0]) == \
        pytest.approx(0.0, abs=1e-6)
    assert float(fgan.generator_loss(fake_logits=two, divergence='pearson',
                                     kind='saturating')[0]) == pytest.approx(-3.0)
    assert float(fgan.critic_loss(real_logits=log2, fake_logits=log2,
                                  divergence='squared_hellinger')[0]) == \
        pytest.approx(-0.5 + 1.0, rel=1e-6)
    zero = jnp.zeros(1)
    assert float(fgan.critic_loss(real_logits=zero, fake_logits=zero, divergence='gan')[0]) == \
        pytest.approx(2.0 * math.log(2.0), rel=1e-6)
    with pytest.raises(ValueError, match="'saturating' or 'non_saturating'"):
        fgan.generator_loss(fake_logits=zero, divergence='gan', kind='minimax')


# -- InfoGAN's log-likelihoods ------------------------------------------------------------

def test_code_log_likelihoods_match_scipy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 4)) * 3.0
    labels = np.array([0, 3, 1, 1, 2])
    got = info.categorical_log_likelihood(logits=jnp.asarray(logits), labels=jnp.asarray(labels))
    np.testing.assert_allclose(got, special.log_softmax(logits, axis=1)[np.arange(5), labels],
                               rtol=1e-5, atol=1e-6)
    mean, log_std = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)) * 0.7
    targets = rng.uniform(-1, 1, size=(5, 3))
    got = info.gaussian_log_likelihood(mean=jnp.asarray(mean), log_std=jnp.asarray(log_std),
                                       targets=jnp.asarray(targets))
    expected = stats.norm.logpdf(targets, loc=mean, scale=np.exp(log_std)).sum(axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
